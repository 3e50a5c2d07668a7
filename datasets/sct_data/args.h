// Option parsing for sct_data subcommands: "--name VALUE" or "--name=VALUE", repeated
// options, flags and positionals; misuse is an InputError naming the subcommand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sct::tools {

class Args {
 public:
  Args(std::string command, std::vector<std::string> args);
  std::optional<std::string> get(const std::string& name);
  std::string option(const std::string& name, const std::string& fallback = "");
  std::string required(const std::string& name);
  std::vector<std::string> options(const std::string& name);
  int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max);
  bool flag(const std::string& name);
  // What remains: positionals only; InputError on unknown options or a wrong count.
  std::vector<std::string> positional(size_t min, size_t max);

 private:
  std::string command_;
  std::vector<std::string> args_;
};

// Parses an integer in [min, max]; InputError naming `what` otherwise.
int64_t parse_int(const std::string& text, const std::string& what, int64_t min, int64_t max);

// "a,b,c" -> {a, b, c}; "@FILE" -> the file's non-empty lines.
std::vector<std::string> parse_name_list(const std::string& text);

}  // namespace sct::tools
