#include "framework/app/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <memory>

#include "framework/core/error.h"
#include "framework/core/strings.h"

namespace sct::cli {
namespace {

constexpr int64_t kMaxInteger = std::numeric_limits<int64_t>::max();

std::string with_default(const std::string& help, const std::string& value) {
  return fmt::format("{} (default: {})", help, value);
}

// Empty when `text` is a decimal integer in [min, max], else what is wrong with it.
std::string integer_problem(const std::string& text, int64_t min, int64_t max) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && !*end && !errno && value >= min && value <= max) return "";
  const std::string expected = min == 1 && max == kMaxInteger   ? "a positive integer"
                               : min == 0 && max == kMaxInteger ? "a non-negative integer"
                                                                : fmt::format("an integer in [{}, {}]", min, max);
  return fmt::format("expected {}, found '{}'", expected, text);
}

// CLI11 words a missing value "--out: 1 required DIR missing" and a repeated option "--out: At
// Most 1 required but received 2"; say both plainly. Anything else keeps CLI11's words.
std::string reword(const CLI::ParseError& error) {
  const std::string what = error.what();
  const size_t colon = what.find(": ");
  if (colon == std::string::npos || !dynamic_cast<const CLI::ArgumentMismatch*>(&error)) return what;
  const std::string name = what.substr(0, colon), rest = what.substr(colon + 2);
  const std::string at_most = "At Most 1 required but received ";
  if (rest.size() > 8 && rest.compare(rest.size() - 8, 8, " missing") == 0)
    return fmt::format("option {} needs a value", name);
  if (rest.rfind(at_most, 0) == 0) return fmt::format("option {} given {} times", name, rest.substr(at_most.size()));
  return what;
}

// The CLI11 app of a program: global options on the top, one subcommand per command. Global
// options fall through from a subcommand to the top, and unknown arguments are kept (not
// thrown) so that parse() can word them itself.
std::unique_ptr<CLI::App> build(const Program& program, std::vector<CLI::App*>& commands) {
  auto app = std::make_unique<CLI::App>(program.description, program.name);
  const auto format = app->get_formatter();
  for (const auto& [key, label] : {std::pair<const char*, const char*>{"Usage", "usage"}, {"SUBCOMMAND", "COMMAND"},
                                   {"Positionals", "Arguments"}})
    format->label(key, label);
  format->column_width(32);
  app->set_help_flag("-h,--help", "print this help and exit");
  app->footer(program.notes);
  app->allow_extras();
  Options global(*app);
  if (program.define) program.define(global);
  if (!program.commands.empty()) app->require_subcommand(0, 1);
  for (const auto& command : program.commands) {
    CLI::App* sub = app->add_subcommand(command.name, command.summary);
    sub->fallthrough()->allow_extras()->footer(command.notes)->group("Commands");
    Options options(*sub);
    if (command.define) command.define(options);
    commands.push_back(sub);
  }
  return app;
}

// Whether CLI11's message is about one of the program's own options ("--threads: ..."), which
// the command's --help does not list.
bool about_global_option(const CLI::App& app, const std::string& what) {
  for (const CLI::Option* option : app.get_options())
    if (what.rfind(option->get_name() + ":", 0) == 0) return true;
  return false;
}

int selected(const CLI::App& app, const std::vector<CLI::App*>& commands) {
  const auto chosen = app.get_subcommands();
  for (size_t i = 0; i < commands.size(); ++i)
    if (!chosen.empty() && chosen.front() == commands[i]) return static_cast<int>(i);
  return -1;
}

Parsed failure(const Program& program, int command, const std::string& message) {
  Parsed parsed;
  parsed.kind = Parsed::Kind::kError;
  parsed.command = command;
  if (command < 0) {
    parsed.text = fmt::format("{} (see {} --help)", message, program.name);
  } else {
    const std::string& name = program.commands[static_cast<size_t>(command)].name;
    parsed.text = fmt::format("{}: {} (see {} {} --help)", name, message, program.name, name);
  }
  return parsed;
}

// What CLI11 left over: arguments no declaration took.
Parsed check_leftovers(const Program& program, const CLI::App& app, int command) {
  const std::vector<std::string> left = app.remaining(true);
  Parsed parsed;
  parsed.command = command;
  if (left.empty()) return parsed;
  if (command < 0 && !program.commands.empty() && left.front()[0] != '-') {
    parsed.kind = Parsed::Kind::kError;
    parsed.text = unknown_command(program, left.front());
    return parsed;
  }
  for (const auto& arg : left)
    if (arg.size() > 1 && arg[0] == '-') return failure(program, command, fmt::format("unknown option '{}'", arg));
  return failure(program, command, fmt::format("unexpected argument '{}'", left.front()));
}

}  // namespace

Option& Option::required() {
  option_->required()->description(help_);
  return *this;
}

Option Options::positional(const std::string& name, std::string& target, const std::string& help) {
  return Option(app_.add_option(name, target, help)->type_name(""), help);
}

Option Options::text(const std::string& names, const std::string& metavar, std::string& target,
                     const std::string& help, const std::string& default_text) {
  const std::string shown = !target.empty() ? target : default_text.empty() ? "none" : default_text;
  return Option(app_.add_option(names, target, with_default(help, shown))->type_name(metavar), help);
}

Option Options::list(const std::string& names, const std::string& metavar, std::vector<std::string>& target,
                     const std::string& help) {
  // One value per occurrence: "--set a=1 RECIPE" must leave RECIPE to the positional.
  CLI::Option* option = app_.add_option(names, target, help + " (repeatable; default: none)");
  option->type_name(metavar)->allow_extra_args(false);
  return Option(option, help);
}

Option Options::choice(const std::string& names, std::string& target, const std::vector<std::string>& choices,
                        const std::string& help) {
  const auto check = [choices](std::string& value) {
    for (const auto& c : choices)
      if (value == c) return std::string();
    return fmt::format("expected {}, found '{}'", join(choices, " or "), value);
  };
  CLI::Option* option = app_.add_option(names, target, with_default(help, target));
  option->type_name(join(choices, "|"))->check(CLI::Validator(check, "", "choice"));
  return Option(option, help);
}

Option Options::add_integer(const std::string& names, int64_t initial, std::function<void(int64_t)> store,
                            int64_t min, int64_t max, const std::string& help, const std::string& default_text) {
  // The check runs on the text before the callback, so the callback only sees valid numbers
  // (and CLI11's own conversion, which reads "010" as octal, is never used).
  CLI::Option* option = app_.add_option_function<std::string>(
      names, [store](const std::string& text) { store(std::strtoll(text.c_str(), nullptr, 10)); },
      with_default(help, default_text.empty() ? std::to_string(initial) : default_text));
  option->type_name("N")->check(
      CLI::Validator([min, max](std::string& text) { return integer_problem(text, min, max); }, "", "integer"));
  return Option(option, help);
}

Option Options::integer(const std::string& names, int64_t& target, int64_t min, int64_t max,
                        const std::string& help, const std::string& default_text) {
  return add_integer(names, target, [&target](int64_t v) { target = v; }, min, max, help, default_text);
}

Option Options::integer(const std::string& names, int& target, int64_t min, int64_t max, const std::string& help,
                        const std::string& default_text) {
  return add_integer(names, target, [&target](int64_t v) { target = static_cast<int>(v); }, min, max, help,
                     default_text);
}

Option Options::integer(const std::string& names, uint64_t& target, int64_t min, int64_t max,
                        const std::string& help, const std::string& default_text) {
  return add_integer(names, static_cast<int64_t>(target), [&target](int64_t v) { target = static_cast<uint64_t>(v); },
                     min, max, help, default_text);
}

Option Options::flag(const std::string& names, bool& target, const std::string& help) {
  return Option(app_.add_flag(names, target, with_default(help, target ? "on" : "off")), help);
}

Parsed parse(const Program& program, const std::vector<std::string>& args) {
  std::vector<CLI::App*> commands;
  const auto app = build(program, commands);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return Parsed{Parsed::Kind::kHelp, selected(*app, commands), app->help()};
  } catch (const CLI::CallForAllHelp&) {
    return Parsed{Parsed::Kind::kHelp, selected(*app, commands), app->help()};
  } catch (const CLI::ParseError& e) {
    return failure(program, about_global_option(*app, e.what()) ? -1 : selected(*app, commands), reword(e));
  }
  return check_leftovers(program, *app, selected(*app, commands));
}

std::string help(const Program& program, int command) {
  std::vector<CLI::App*> commands;
  const auto app = build(program, commands);
  if (command < 0) return app->help();
  return commands.at(static_cast<size_t>(command))->help(program.name);
}

std::string help_for(const Program& program, const std::string& name) {
  if (name.empty()) return help(program);
  const int command = find_command(program, name);
  if (command < 0) throw InputError(unknown_command(program, name));
  return help(program, command);
}

int find_command(const Program& program, const std::string& name) {
  for (size_t i = 0; i < program.commands.size(); ++i)
    if (program.commands[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string unknown_command(const Program& program, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& command : program.commands) names.push_back(command.name);
  const std::string close = closest_match(name, names);
  return fmt::format("unknown command '{}'{}; see {} --help", name,
                     close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close), program.name);
}

int64_t parse_integer(const std::string& text, const std::string& what, int64_t min, int64_t max) {
  const std::string problem = integer_problem(text, min, max);
  if (!problem.empty()) throw InputError(fmt::format("{}: {}", what, problem));
  return std::strtoll(text.c_str(), nullptr, 10);
}

}  // namespace sct::cli
