// Rank-aware logging on top of fmt: "[r3 dist] message". Rank 0 prints info lines;
// with verbose on, every rank does. Warnings and errors print on every rank.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace sct::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Set once in main, after the world is known.
void configure(int rank, int world_size, bool verbose);
int rank();
bool verbose();

void write(Level level, std::string_view tag, const std::string& message);

template <typename... Args>
void info(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kInfo, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  if (verbose()) write(Level::kDebug, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kWarn, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, tag, fmt::format(f, std::forward<Args>(args)...));
}

// A progress line: rewritten in place on a terminal (rank 0 only), printed every
// `period_s` seconds otherwise. `finish` ends the line.
class Progress {
 public:
  explicit Progress(std::string tag, double period_s = 10.0);
  void update(const std::string& text, bool force = false);
  void finish();

 private:
  std::string tag_;
  double period_s_;
  double last_ = -1e30;
  bool tty_;
  bool open_ = false;
};

}  // namespace sct::log
