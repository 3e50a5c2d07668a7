#include "datasets/sct_data/args.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/fs.h"

namespace sct::tools {

Args::Args(std::string command, std::vector<std::string> args)
    : command_(std::move(command)), args_(std::move(args)) {}

std::optional<std::string> Args::get(const std::string& name) {
  auto v = options(name);
  if (v.empty()) return std::nullopt;
  if (v.size() > 1) throw InputError(fmt::format("{}: --{} given {} times", command_, name, v.size()));
  return v[0];
}

std::string Args::option(const std::string& name, const std::string& fallback) {
  return get(name).value_or(fallback);
}

std::string Args::required(const std::string& name) {
  auto v = get(name);
  if (!v) throw InputError(fmt::format("{}: --{} is required (see sct_data {} --help)", command_, name, command_));
  return *v;
}

std::vector<std::string> Args::options(const std::string& name) {
  std::vector<std::string> out, rest;
  const std::string key = "--" + name;
  for (size_t i = 0; i < args_.size(); ++i) {
    if (args_[i] == key) {
      if (i + 1 >= args_.size()) throw InputError(fmt::format("{}: {} needs a value", command_, key));
      out.push_back(args_[++i]);
    } else if (args_[i].rfind(key + "=", 0) == 0) {
      out.push_back(args_[i].substr(key.size() + 1));
    } else {
      rest.push_back(args_[i]);
    }
  }
  args_ = rest;
  return out;
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  auto v = get(name);
  return v ? parse_int(*v, command_ + ": --" + name, min, max) : fallback;
}

bool Args::flag(const std::string& name) {
  const std::string key = "--" + name;
  bool found = false;
  std::vector<std::string> rest;
  for (const auto& a : args_) {
    if (a == key) found = true;
    else rest.push_back(a);
  }
  args_ = rest;
  return found;
}

std::vector<std::string> Args::positional(size_t min, size_t max) {
  for (const auto& a : args_)
    if (a.size() > 1 && a[0] == '-')
      throw InputError(fmt::format("{}: unknown option '{}' (see sct_data {} --help)", command_, a, command_));
  if (args_.size() < min || args_.size() > max)
    throw InputError(fmt::format("{}: expected {} argument(s), found {} (see sct_data {} --help)", command_,
                                 min == max ? std::to_string(min) : fmt::format("{}-{}", min, max),
                                 args_.size(), command_));
  return args_;
}

int64_t parse_int(const std::string& text, const std::string& what, int64_t min, int64_t max) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min || v > max)
    throw InputError(fmt::format("{}: expected an integer in [{}, {}], found '{}'", what, min, max, text));
  return v;
}

std::vector<std::string> parse_name_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  if (!text.empty() && text[0] == '@') {
    std::istringstream in(read_text_file(text.substr(1)));
    while (std::getline(in, item)) {
      if (!item.empty() && item.back() == '\r') item.pop_back();
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  std::istringstream in(text);
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

}  // namespace sct::tools
