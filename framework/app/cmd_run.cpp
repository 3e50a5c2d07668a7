// `sct_dist run RECIPE`: plan the recipe's units (one task, or a sweep), print the plan, and
// run them in rank groups with resume; ends with the summary table.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/app/runtime.h"
#include "framework/app/version.h"
#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/world.h"
#include "framework/sweep/engine.h"

namespace sct::app {
namespace {

sweep::SweepOptions parse_run_args(const std::vector<std::string>& args) {
  Args a("run", args);
  sweep::SweepOptions o;
  o.sets = a.options("--set");
  o.tasks = a.options("--task");
  o.dry_run = a.flag("--dry-run");
  o.force = a.flag("--force");
  o.out = a.option("--out");
  const std::string stop = a.option("--stop-after-steps");
  if (!stop.empty()) {
    char* end = nullptr;
    o.stop_after_steps = std::strtoll(stop.c_str(), &end, 10);
    if (*end || o.stop_after_steps < 1)
      throw InputError(fmt::format("run: --stop-after-steps expects a positive integer, found '{}'", stop));
  }
  o.recipe_path = a.positional(1, 1)[0];
  return o;
}

int run_command(Env& env, const std::vector<std::string>& args) {
  auto& comm = env.world.comm();
  sweep::SweepOptions opts;
  Recipe top;
  run_agreed(comm, [&] {
    opts = parse_run_args(args);
    top = load_recipe(opts.recipe_path, opts.sets);
  });
  opts.threads = configure_threads(env, top.threads);
  const BlasInfo blas = blas_info();
  opts.versions = {{"libtorch", torch_version()},
                   {"blas", blas.name},
                   {"blas_kernels", blas.kernels},
                   {"cpu_features", cpu_features().describe()},
                   {"mpi", dist::mpi_library_version()},
                   {"nccl", dist::nccl_compiled() ? "compiled in" : "not compiled in"}};
  try {
    return sweep::run_sweep(env.world, opts);
  } catch (const Error& e) {
    // run_sweep's set-up errors are agreed: every rank throws the same one.
    if (comm.rank() == 0) print_error(e.what());
    throw ReportedError(e.exit_code());
  }
}

}  // namespace

SCT_REGISTER_COMMAND(Command{
    "run",
    "run RECIPE [--set key=value]... [--task NAME]... [--dry-run] [--out DIR] [--force]\n\n"
    "  --set key=value     override a recipe key (TOML value; repeatable)\n"
    "  --task NAME         only this task of a sweep (repeatable)\n"
    "  --dry-run           validate everything and print the resolved recipe and the plan\n"
    "  --out DIR           run directory (default: <out>/<name> from the recipe)\n"
    "  --force             run again the finished units whose recipe changed\n"
    "  --stop-after-steps N  stop as if preempted after N training steps (testing resume)\n\n"
    "Re-running the same command resumes: finished units are skipped, interrupted ones continue\n"
    "from their last checkpoint. Exit codes: 0 ok, 1 a unit failed, 2 bad input, 3 preempted.",
    "train every task of a recipe or sweep (--dry-run: validate and print the plan)", run_command});

}  // namespace sct::app
