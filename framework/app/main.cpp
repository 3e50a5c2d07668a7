// sct_dist: parses the command line against the command table, starts the MPI world for the
// commands that need one, runs the command, and turns any error into one line and an exit code
// on every rank.
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/app/runtime.h"
#include "framework/core/allocator.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/world.h"

namespace {

using sct::app::Command;
using sct::app::CommandLine;

int exit_code_of(const std::exception& e) {
  const auto* error = dynamic_cast<const sct::Error*>(&e);
  return error ? error->exit_code() : sct::kExitFailure;
}

// Before MPI starts (or without it), every rank meets the same error: rank 0 says it, so it is
// printed once however many ranks were started.
void print_once(const std::string& message) {
  if (sct::app::launch_place().rank == 0) sct::app::print_error(message);
}

// help, version, inspect, report: no MPI; under a launcher the rank comes from its variables.
int run_alone(const Command& command, const CommandLine& line) {
  const sct::app::LaunchPlace place = sct::app::launch_place();
  sct::log::configure(place.rank, place.size, line.global.verbose);
  sct::app::Env env{nullptr, line.global};
  try {
    return command.run(env, line);
  } catch (const std::exception& e) {
    print_once(e.what());
    return exit_code_of(e);
  }
}

int run_in_world(const Command& command, const CommandLine& line, int* argc, char*** argv) {
  std::unique_ptr<sct::dist::World> world;
  try {
    world = std::make_unique<sct::dist::World>(argc, argv);
  } catch (const sct::Error& e) {
    sct::app::print_error(e.what());
    return e.exit_code();
  }
  sct::log::configure(world->rank(), world->size(), line.global.verbose);
  sct::app::Env env{world.get(), line.global};
  try {
    return command.run(env, line);
  } catch (const sct::app::ReportedError& e) {
    return e.exit_code();  // already printed once; every rank agreed
  } catch (const std::exception& e) {
    // A failure on this rank alone: other ranks may be inside a collective, so abort them.
    const int code = exit_code_of(e);
    if (world->size() > 1) {
      sct::app::print_error(fmt::format("rank {} of {}: {}", world->rank(), world->size(), e.what()));
      world->abort(code);
    }
    sct::app::print_error(e.what());
    return code;
  }
}

const Command* find_command(const std::string& name) {
  for (const auto& c : sct::app::commands())
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);  // may re-execute this process, so before anything else
  sct::keep_freed_memory();
  const sct::app::ParsedCommandLine parsed = sct::app::parse_command_line({argv + 1, argv + argc});
  if (parsed.kind == sct::cli::Parsed::Kind::kHelp) {
    fmt::print("{}", parsed.text);
    return sct::kExitOk;
  }
  if (parsed.kind == sct::cli::Parsed::Kind::kError) {
    print_once(parsed.text);
    return sct::kExitBadInput;
  }
  const Command* command = parsed.line.global.version ? find_command("version") : parsed.command;
  if (!command) {  // only global options, or nothing at all
    fmt::print("{}", sct::app::help_text());
    return sct::kExitBadInput;
  }
  return command->needs_world ? run_in_world(*command, parsed.line, &argc, &argv) : run_alone(*command, parsed.line);
}
