#include "framework/core/fs.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"

namespace sct {
namespace fs = std::filesystem;

std::string temp_path_for(const std::string& path) {
  static std::atomic<int> counter{0};
  return path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
}

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0) continue;
    const std::string tail = name.substr(at + 5);  // "<pid>.<n>"
    const size_t dot = tail.find('.');
    const auto digits = [](const std::string& t) {
      return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (dot == std::string::npos || !digits(tail.substr(0, dot)) || !digits(tail.substr(dot + 1))) continue;
    if (fs::remove(entry.path(), error)) ++removed;
  }
  return removed;
}

void check_write_fault(const std::string& path) {
  static const std::string spec = [] {
    const char* v = std::getenv("SCT_FAULT_WRITE");
    return std::string(v ? v : "");
  }();
  if (spec.empty()) return;
  static std::atomic<int64_t> matches{0};
  const size_t hash = spec.rfind('#');
  const std::string text = spec.substr(0, hash);
  const int64_t from = hash == std::string::npos ? 1 : std::max<int64_t>(1, std::atoll(spec.c_str() + hash + 1));
  if (path.find(text) == std::string::npos) return;
  if (++matches >= from) throw Error(path + ": cannot write (" + std::strerror(ENOSPC) + ")");
}

void append_line(const std::string& path, const std::string& line) {
  check_write_fault(path);
  FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) throw Error(path + ": cannot append (" + std::strerror(errno) + ")");
  const std::string bytes = line + "\n";
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fflush(f) == 0) && ok;
  const int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw Error(path + ": cannot append (" + std::strerror(err ? err : errno) + ")");
}

void atomic_write(const std::string& path, const std::string& content) {
  check_write_fault(path);
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  const std::string tmp = temp_path_for(path);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;  // the rename must not publish a file still in cache only
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw Error(path + ": cannot write (" + std::strerror(err) + ")");
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sct
