// sct_dist: parses global flags, starts the world, dispatches to a subcommand, and turns any
// error into one line and an exit code on every rank.
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/core/allocator.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/dist/world.h"

namespace {

using sct::app::Command;

void print_help() {
  fmt::print(
      "sct_dist: distributed Salient Channel Tuning of Vision Transformers\n\n"
      "usage: [mpirun -n N] sct_dist [--verbose] [--threads N] COMMAND [ARGS]\n\n"
      "commands:\n");
  for (const auto& c : sct::app::commands()) fmt::print("  {:<10} {}\n", c.name, c.summary);
  fmt::print(
      "\nglobal options:\n"
      "  --help, -h     this help; `sct_dist COMMAND --help` shows a command's usage\n"
      "  --version      version, git revision, LibTorch, BLAS, MPI and NCCL facts\n"
      "  --verbose      log lines from every rank, not only rank 0\n"
      "  --threads N    intra-op threads per rank (default: the recipe's `threads`, else\n"
      "                 node cores / local ranks)\n\n"
      "exit codes: 0 ok, 1 failure, 2 bad input (recipe, arguments, files), 3 preempted\n");
}

const Command* find_command(const std::string& name) {
  for (const auto& c : sct::app::commands())
    if (name == c.name) return &c;
  return nullptr;
}

int version_command();

// Before MPI starts, the launcher's variables tell whether this process is rank 0, so an error
// in the command line is printed once however many ranks were started.
bool launcher_rank_zero() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var)) return std::atoi(v) == 0;
  return true;
}

void print_early_error(const std::string& message) {
  if (launcher_rank_zero()) sct::app::print_error(message);
}

}  // namespace

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);  // may re-execute this process, so before anything else
  sct::keep_freed_memory();
  std::vector<std::string> args(argv + 1, argv + argc);
  bool verbose = false;
  int threads = 0;
  std::string command;
  std::vector<std::string> rest;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--verbose" || a == "-v") {
        verbose = true;
      } else if (a == "--threads" || a.rfind("--threads=", 0) == 0) {
        std::string v = a == "--threads" ? (i + 1 < args.size() ? args[++i] : "") : a.substr(10);
        char* end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end || n < 1 || n > 4096)
          throw sct::InputError(fmt::format("--threads expects a positive integer, found '{}'", v));
        threads = static_cast<int>(n);
      } else if (command.empty() && (a == "--help" || a == "-h")) {
        print_help();
        return 0;
      } else if (command.empty() && a == "--version") {
        return version_command();
      } else if (command.empty() && a.size() && a[0] != '-') {
        command = a;
      } else {
        rest.push_back(a);
      }
    }
    if (command.empty()) {
      print_help();
      return sct::kExitBadInput;
    }
  } catch (const sct::Error& e) {
    print_early_error(e.what());
    return e.exit_code();
  }

  const Command* cmd = find_command(command);
  if (!cmd) {
    std::vector<std::string> names;
    for (const auto& c : sct::app::commands()) names.push_back(c.name);
    std::string close = sct::closest_match(command, names);
    print_early_error(fmt::format("unknown command '{}'{}; see sct_dist --help", command,
                                      close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close)));
    return sct::kExitBadInput;
  }
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      fmt::print("usage: sct_dist {}\n\n{}\n", cmd->usage, cmd->summary);
      return 0;
    }

  std::unique_ptr<sct::dist::World> world;
  try {
    world = std::make_unique<sct::dist::World>(&argc, &argv);
  } catch (const sct::Error& e) {
    sct::app::print_error(e.what());
    return e.exit_code();
  }
  sct::log::configure(world->rank(), world->size(), verbose);
  sct::app::Env env{*world, verbose, threads};
  try {
    return cmd->fn(env, rest);
  } catch (const sct::app::ReportedError& e) {
    return e.exit_code();  // already printed once; every rank agreed
  } catch (const std::exception& e) {
    // A failure on this rank alone: other ranks may be inside a collective, so abort them.
    const sct::Error* se = dynamic_cast<const sct::Error*>(&e);
    const int code = se ? se->exit_code() : sct::kExitFailure;
    if (world->size() > 1) {
      sct::app::print_error(fmt::format("rank {} of {}: {}", world->rank(), world->size(), e.what()));
      world->abort(code);
    }
    sct::app::print_error(e.what());
    return code;
  }
}

#include "framework/app/version.h"

namespace {
int version_command() {
  fmt::print("{}", sct::app::version_text());
  return 0;
}
}  // namespace
