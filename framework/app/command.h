// The sct_dist command table: every subcommand with its options, whether it needs the MPI
// world, and its entry point; and the parsing of a command line against it, which starts
// nothing (no MPI), so main decides afterwards whether to start the world.
#pragma once

#include <string>
#include <vector>

#include "framework/app/cli.h"
#include "framework/app/options.h"

namespace sct::dist {
class World;
}

namespace sct::app {

// What main hands a command.
struct Env {
  dist::World* world = nullptr;  // null for a command with needs_world = false
  GlobalOptions global;
};

struct Command {
  const char* name;
  const char* summary;  // its line in `sct_dist --help`
  const char* notes;    // printed after its options in `sct_dist NAME --help`; may be ""
  bool needs_world;     // false: runs without starting MPI (Env::world is null)
  void (*define)(cli::Options& options, CommandLine& line);  // declares its options, bound to `line`
  int (*run)(Env& env, const CommandLine& line);              // returns the exit code
};

// The table, in the order --help lists it.
const std::vector<Command>& commands();

// kind, command (null when the line names none), text (help or error) and the options.
using ParsedCommandLine = cli::TableParse<Command, CommandLine>;

// Parses argv without the program name. Never throws on bad input (see cli::parse).
ParsedCommandLine parse_command_line(const std::vector<std::string>& args);

// `sct_dist --help`, or `sct_dist NAME --help` (nullptr: the program's).
std::string help_text(const Command* command = nullptr);

// The entry points, one per cmd_*.cpp (help and version: command.cpp, version.cpp).
int run_command(Env& env, const CommandLine& line);
int saliency_command(Env& env, const CommandLine& line);
int forward_command(Env& env, const CommandLine& line);
int eval_command(Env& env, const CommandLine& line);
int predict_command(Env& env, const CommandLine& line);
int merge_command(Env& env, const CommandLine& line);
int inspect_command(Env& env, const CommandLine& line);
int report_command(Env& env, const CommandLine& line);
int version_command(Env& env, const CommandLine& line);

}  // namespace sct::app
