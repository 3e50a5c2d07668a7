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

}  // namespace sct
