// `sct_dist run RECIPE`: plan the recipe's units (one task, or a sweep), print the plan, and
// run them in rank groups with resume; ends with the summary table.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

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

int run_command(Env& env, const CommandLine& line) {
  const RunOptions& run = line.run;
  auto& comm = env.world->comm();
  sweep::SweepOptions opts;
  opts.recipe_path = run.recipe;
  opts.sets = run.sets;
  opts.tasks = run.tasks;
  opts.dry_run = run.dry_run;
  opts.force = run.force;
  opts.out = run.out;
  opts.stop_after_steps = run.stop_after_steps;
  Recipe top;
  run_agreed(comm, [&] { top = load_recipe(opts.recipe_path, opts.sets); });
  opts.threads = configure_threads(env, top.threads);
  const BlasInfo blas = blas_info();
  opts.versions = {{"libtorch", torch_version()},
                   {"blas", blas.name},
                   {"blas_kernels", blas.kernels},
                   {"cpu_features", cpu_features().describe()},
                   {"mpi", dist::mpi_library_version()},
                   {"nccl", dist::nccl_compiled() ? "compiled in" : "not compiled in"}};
  try {
    return sweep::run_sweep(*env.world, opts);
  } catch (const Error& e) {
    // run_sweep's set-up errors are agreed: every rank throws the same one.
    if (comm.rank() == 0) print_error(e.what());
    throw ReportedError(e.exit_code());
  }
}

}  // namespace sct::app
