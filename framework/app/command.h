// Subcommands of `sct_dist`. Each cmd_*.cpp registers one with SCT_REGISTER_COMMAND; main
// parses global flags, builds the environment and dispatches.
#pragma once

#include <string>
#include <vector>

namespace sct::dist {
class World;
}

namespace sct::app {

// What main hands every command: the world and the global options.
struct Env {
  dist::World& world;
  bool verbose = false;
  int threads = 0;  // --threads; 0 = not given on the command line
};

struct Command {
  const char* name;
  const char* usage;    // "run RECIPE [--set key=value]... [--dry-run] [--out DIR]"
  const char* summary;  // one line for --help
  int (*fn)(Env& env, const std::vector<std::string>& args);
  bool needs_world = true;  // false: runs before MPI starts (help-like commands)
};

const std::vector<Command>& commands();
bool register_command(const Command& command);

// Small argument helper shared by commands: throws InputError("<cmd>: ...") on misuse.
class Args {
 public:
  Args(std::string command, std::vector<std::string> args);
  // Consumes "--name VALUE" or "--name=VALUE"; returns fallback when absent.
  std::string option(const std::string& name, const std::string& fallback = "");
  std::vector<std::string> options(const std::string& name);  // repeated option
  bool flag(const std::string& name);
  // Remaining positional arguments; throws on leftover --options.
  std::vector<std::string> positional(size_t min, size_t max);

 private:
  std::string command_;
  std::vector<std::string> args_;
};

}  // namespace sct::app

#define SCT_CONCAT_INNER(a, b) a##b
#define SCT_CONCAT(a, b) SCT_CONCAT_INNER(a, b)
#define SCT_REGISTER_COMMAND(...) \
  static const bool SCT_CONCAT(sct_command_, __LINE__) = ::sct::app::register_command(__VA_ARGS__)
