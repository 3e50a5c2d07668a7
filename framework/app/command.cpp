#include "framework/app/command.h"

#include <fmt/format.h>

#include "framework/core/error.h"

namespace sct::app {

static std::vector<Command>& registry() {
  static std::vector<Command> list;
  return list;
}

const std::vector<Command>& commands() { return registry(); }

bool register_command(const Command& command) {
  registry().push_back(command);
  return true;
}

Args::Args(std::string command, std::vector<std::string> args)
    : command_(std::move(command)), args_(std::move(args)) {}

std::string Args::option(const std::string& name, const std::string& fallback) {
  auto all = options(name);
  if (all.size() > 1)
    throw InputError(fmt::format("{}: option {} given {} times", command_, name, all.size()));
  return all.empty() ? fallback : all.front();
}

std::vector<std::string> Args::options(const std::string& name) {
  std::vector<std::string> values, rest;
  for (size_t i = 0; i < args_.size(); ++i) {
    const std::string& a = args_[i];
    if (a == name) {
      if (i + 1 >= args_.size())
        throw InputError(fmt::format("{}: option {} needs a value", command_, name));
      values.push_back(args_[++i]);
    } else if (a.rfind(name + "=", 0) == 0) {
      values.push_back(a.substr(name.size() + 1));
    } else {
      rest.push_back(a);
    }
  }
  args_ = std::move(rest);
  return values;
}

bool Args::flag(const std::string& name) {
  bool found = false;
  std::vector<std::string> rest;
  for (const auto& a : args_) {
    if (a == name) found = true;
    else rest.push_back(a);
  }
  args_ = std::move(rest);
  return found;
}

std::vector<std::string> Args::positional(size_t min, size_t max) {
  for (const auto& a : args_)
    if (a.size() > 1 && a[0] == '-')
      throw InputError(fmt::format("{}: unknown option '{}' (see sct_dist {} --help)", command_, a, command_));
  if (args_.size() < min || args_.size() > max)
    throw InputError(fmt::format("{}: expected {} argument{}, got {} (see sct_dist {} --help)", command_,
                                 min == max ? std::to_string(min) : fmt::format("{} to {}", min, max),
                                 max == 1 ? "" : "s", args_.size(), command_));
  return args_;
}

}  // namespace sct::app
