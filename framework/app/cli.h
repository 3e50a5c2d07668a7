// Command-line parsing on CLI11 for sct_dist, sct_data and bench_data: a program is a table of
// commands whose options are bound to fields the caller owns. Parsing runs in-process (no MPI,
// no I/O), so it can be unit-tested, and turns every misuse into one error line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace sct::cli {

// One declared option, so that a declaration can be marked required.
class Option {
 public:
  Option(CLI::Option* option, std::string help) : option_(option), help_(std::move(help)) {}
  // Absent is an error ("--size is required"); --help shows REQUIRED instead of a default.
  Option& required();

 private:
  CLI::Option* option_;
  std::string help_;  // the description without its default
};

// Declares the options of one command, or the program's own. Each option is bound to a field
// the caller owns: the field keeps its value when the option is absent, and that value is the
// default --help prints, or `default_text` when the value alone says nothing (an empty path).
// Options take "--name VALUE" or "--name=VALUE"; single-valued ones at most once.
class Options {
 public:
  explicit Options(CLI::App& app) : app_(app) {}

  // A positional argument; `name` is how --help shows it ("RECIPE").
  Option positional(const std::string& name, std::string& target, const std::string& help);
  // --name VALUE; `names` may add a short form ("-o,--output"), `metavar` names the value.
  Option text(const std::string& names, const std::string& metavar, std::string& target, const std::string& help,
              const std::string& default_text = "");
  // --name VALUE, repeatable: every value, in command-line order.
  Option list(const std::string& names, const std::string& metavar, std::vector<std::string>& target,
              const std::string& help);
  // --name VALUE where VALUE is one of `choices`; --help shows them as the metavar.
  Option choice(const std::string& names, std::string& target, const std::vector<std::string>& choices,
                const std::string& help);
  // --name N: a decimal integer in [min, max].
  Option integer(const std::string& names, int64_t& target, int64_t min, int64_t max, const std::string& help,
                 const std::string& default_text = "");
  Option integer(const std::string& names, int& target, int64_t min, int64_t max, const std::string& help,
                 const std::string& default_text = "");
  Option integer(const std::string& names, uint64_t& target, int64_t min, int64_t max, const std::string& help,
                 const std::string& default_text = "");
  // --name: true when given.
  Option flag(const std::string& names, bool& target, const std::string& help);

 private:
  Option add_integer(const std::string& names, int64_t initial, std::function<void(int64_t)> store, int64_t min,
                     int64_t max, const std::string& help, const std::string& default_text);
  CLI::App& app_;
};

struct Command {
  std::string name;
  std::string summary;  // its line in the program's --help
  std::string notes;    // printed after its options in its own --help; may be empty
  std::function<void(Options&)> define;
};

struct Program {
  std::string name;         // "sct_dist", as in "(see sct_dist run --help)"
  std::string description;  // the first line of --help
  std::string notes;        // printed last in the program's --help
  std::function<void(Options&)> define;  // options valid before or after the command
  std::vector<Command> commands;         // empty for a program without commands
};

struct Parsed {
  enum class Kind { kRun, kHelp, kError };
  Kind kind = Kind::kRun;
  int command = -1;  // index into Program::commands; -1 when none was given
  std::string text;  // kHelp: the help to print; kError: the message, one line
};

// The commands of a table whose rows have `name`, `summary`, `notes` and
// `void (*define)(Options&, Line&)` (may be null), each declaration bound to `line`.
template <typename Row, typename Line>
std::vector<Command> bind_commands(const std::vector<Row>& rows, Line& line) {
  std::vector<Command> commands;
  for (const Row& row : rows)
    commands.push_back({row.name, row.summary, row.notes, [&line, define = row.define](Options& options) {
                          if (define) define(options, line);
                        }});
  return commands;
}

// Parses `args` (argv without the program name) into the bound fields. Never throws on bad
// input: an unknown command or option, a missing or malformed value, a missing required option
// or an extra argument is kError, worded "<command>: <problem> (see <program> <command> --help)"
// and "unknown command 'x' (did you mean 'y'?); see <program> --help". --help or -h is kHelp.
Parsed parse(const Program& program, const std::vector<std::string>& args);

// The --help of the program (command = -1) or of one command. Defaults are the bound fields'
// current values, so call it with fields that hold their defaults.
std::string help(const Program& program, int command = -1);

// What `<program> help NAME` prints: the program's help for an empty name, else the command's;
// InputError (worded as unknown_command) when no command has that name.
std::string help_for(const Program& program, const std::string& name);

// Index of the command called `name`; -1 when there is none.
int find_command(const Program& program, const std::string& name);

// "unknown command 'x' (did you mean 'y'?); see <program> --help"
std::string unknown_command(const Program& program, const std::string& name);

// A command line parsed against a table of rows (see bind_commands) into a `Line` of options.
template <typename Row, typename Line>
struct TableParse {
  Parsed::Kind kind = Parsed::Kind::kRun;
  const Row* command = nullptr;  // kRun: null when the line names no command
  std::string text;              // kHelp: the help; kError: the message
  Line line;                     // kRun: the options
};

// parse() for a table: `make_program` binds the table's declarations to the Line it is given.
template <typename Row, typename Line>
TableParse<Row, Line> parse_table(Program (*make_program)(Line&), const std::vector<Row>& rows,
                                  const std::vector<std::string>& args) {
  TableParse<Row, Line> parsed;
  const Parsed result = parse(make_program(parsed.line), args);
  parsed.kind = result.kind;
  parsed.text = result.text;
  if (result.command >= 0) parsed.command = &rows[static_cast<size_t>(result.command)];
  return parsed;
}

// help() for a table row (nullptr: the program's), with every option at its default.
template <typename Row, typename Line>
std::string table_help(Program (*make_program)(Line&), const std::vector<Row>& rows, const Row* command) {
  Line fresh;
  return help(make_program(fresh), command ? static_cast<int>(command - rows.data()) : -1);
}

// A decimal integer in [min, max]; InputError "<what>: expected an integer in [min, max],
// found '<text>'" otherwise.
int64_t parse_integer(const std::string& text, const std::string& what, int64_t min, int64_t max);

}  // namespace sct::cli
