// sct_data: builds and checks task files. Every error is one line on stderr; bad input
// (arguments, files) exits with 2, other failures with 1.
#include <fmt/core.h>

#include <cstdio>
#include <exception>

#include "datasets/sct_data/args.h"
#include "framework/core/error.h"

namespace {

void error_line(const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "sct_data: error: {}\n", message);
  std::fflush(stderr);
}

const sct::tools::Subcommand* find_subcommand(const std::string& name) {
  for (const auto& c : sct::tools::subcommands())
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const sct::tools::ParsedDataCommandLine parsed = sct::tools::parse_command_line({argv + 1, argv + argc});
  if (parsed.kind == sct::cli::Parsed::Kind::kHelp) {
    fmt::print("{}", parsed.text);
    return 0;
  }
  if (parsed.kind == sct::cli::Parsed::Kind::kError) {
    error_line(parsed.text);
    return sct::kExitBadInput;
  }
  const sct::tools::Subcommand* command = parsed.line.version ? find_subcommand("version") : parsed.command;
  if (!command) {
    fmt::print("{}", sct::tools::help_text());
    return sct::kExitBadInput;
  }
  try {
    return command->run(parsed.line);
  } catch (const sct::Error& e) {
    error_line(e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    error_line(e.what());
    return sct::kExitFailure;
  }
}
