// File helpers: atomic writes (temporary file in the same directory, then rename) and reads
// that fail with an InputError naming the file.
#pragma once

#include <string>

namespace sct {

// Writes `content` to `path` atomically: readers see the old file or the new one, never a
// partial one. Creates parent directories.
void atomic_write(const std::string& path, const std::string& content);

// Whole file as a string; InputError "<path>: cannot read (...)" when missing or unreadable.
std::string read_text_file(const std::string& path);

// A temporary path beside `path` that is unique to this process and call.
std::string temp_path_for(const std::string& path);

// Removes the files directly in `dir` that temp_path_for() names ("<file>.tmp.<pid>.<n>"): left
// by a process killed in the middle of atomic_write. Only for a directory no other process is
// writing (the run lock). Returns how many it removed.
int remove_stale_temporaries(const std::string& dir);

// Appends `line` and a newline to `path` (created when missing); Error naming the file and the
// system's reason when the bytes do not all reach the file.
void append_line(const std::string& path, const std::string& line);

// Fault injection for the tests of write failures, a no-op unless the environment sets
// SCT_FAULT_WRITE=TEXT[#N]: then the N-th (default first) and every later write of this
// process to a path containing TEXT fails as on a full disk. Every writer in the project calls
// it before writing; it throws the same Error a real ENOSPC gives.
void check_write_fault(const std::string& path);

}  // namespace sct
