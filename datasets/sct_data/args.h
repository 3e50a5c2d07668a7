// The sct_data command table (every subcommand with its options and entry point) and the
// parsing of a command line against it, plus the list syntax the options share.
#pragma once

#include <string>
#include <vector>

#include "datasets/sct_data/commands.h"
#include "framework/app/cli.h"

namespace sct::tools {

struct Subcommand {
  const char* name;
  const char* summary;  // its line in `sct_data --help`
  const char* notes;    // printed after its options in its --help; may be ""
  void (*define)(cli::Options& options, DataCommandLine& line);  // declares its options, bound to `line`
  int (*run)(const DataCommandLine& line);                        // returns the exit code
};

// The table, in the order --help lists it.
const std::vector<Subcommand>& subcommands();

// kind, command (null when the line names none), text (help or error) and the options.
using ParsedDataCommandLine = cli::TableParse<Subcommand, DataCommandLine>;

// Parses argv without the program name. Never throws on bad input (see cli::parse).
ParsedDataCommandLine parse_command_line(const std::vector<std::string>& args);

// `sct_data --help`, or `sct_data NAME --help` (nullptr: the program's).
std::string help_text(const Subcommand* command = nullptr);

// "a,b,c" -> {a, b, c}; "@FILE" -> the file's non-empty lines.
std::vector<std::string> parse_name_list(const std::string& text);

}  // namespace sct::tools
