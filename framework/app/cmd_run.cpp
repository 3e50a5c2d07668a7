// `sct_dist run RECIPE`: load and validate the recipe on every rank, print the plan, and run it.
#include <fmt/core.h>

#include <filesystem>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/recipe.h"
#include "framework/dist/world.h"

namespace sct::app {
namespace {

struct RunOptions {
  std::string recipe_path;
  std::vector<std::string> sets;
  bool dry_run = false;
  std::string out;
};

RunOptions parse_run_args(const std::vector<std::string>& args) {
  Args a("run", args);
  RunOptions o;
  o.sets = a.options("--set");
  o.dry_run = a.flag("--dry-run");
  o.out = a.option("--out");
  o.recipe_path = a.positional(1, 1)[0];
  return o;
}

// Checks that depend on the world, not only on the recipe.
void check_against_world(const Recipe& r, int group_size) {
  if (r.train.batch_size % group_size != 0)
    throw InputError(fmt::format(
        "{}: key 'train.batch_size' = {} does not divide by the {} ranks of a group; the global "
        "batch is fixed, so choose a multiple of {} or another number of ranks",
        r.source_path, r.train.batch_size, group_size, group_size));
}

void print_plan(const Recipe& r, const dist::WorldInfo& w, int threads, const std::string& backend_why,
                const std::string& run_dir) {
  log::info("run", "recipe {} (resolved hash {})", r.source_path, recipe_hash(r));
  log::info("run", "world: {} rank{} ({} on this host), {} thread{} per rank; {}", w.size,
            w.size == 1 ? "" : "s", w.local_size, threads, threads == 1 ? "" : "s", backend_why);
  log::info("run", "run directory: {}", run_dir);
  log::info("run", "plan: 1 task");
  log::info("run", "  {:<20} {:<8} {:<5} {:>4} {:>7} {:>13} {:>9} {:>10} {:>8}", "task", "method", "mode", "k",
            "epochs", "global batch", "per rank", "lr", "wd");
  const std::string k = r.peft.k > 0 ? std::to_string(r.peft.k) : fmt::format("D/{:g}", 1.0 / r.peft.k_fraction);
  log::info("run", "  {:<20} {:<8} {:<5} {:>4} {:>7} {:>13} {:>9} {:>10g} {:>8g}", r.task.name, r.peft.method,
            r.peft.mode, k, r.train.epochs, r.train.batch_size, r.train.batch_size / w.size, r.train.lr,
            r.train.weight_decay);
  log::info("run", "  data: {}", r.task.data.empty() ? "(none given)" : r.task.data);
}

int run_command(Env& env, const std::vector<std::string>& args) {
  auto& comm = env.world.comm();
  RunOptions opts;
  Recipe recipe;
  run_agreed(comm, [&] {
    opts = parse_run_args(args);
    recipe = load_recipe(opts.recipe_path, opts.sets);
    check_against_world(recipe, comm.size());
  });
  const int threads = configure_threads(env, recipe.threads);
  std::string why;
  std::unique_ptr<dist::Communicator> train_comm;
  run_agreed(comm, [&] { train_comm = dist::make_training_communicator(comm, recipe.device, &why); });
  const std::string run_dir =
      opts.out.empty() ? (std::filesystem::path(recipe.out) / recipe.name).string() : opts.out;

  if (opts.dry_run) {
    if (comm.rank() == 0) fmt::print("# resolved recipe\n{}\n", recipe_to_toml(recipe));
    print_plan(recipe, env.world.info(), threads, why, run_dir);
    log::info("run", "dry run: nothing trained");
    return kExitOk;
  }
  print_plan(recipe, env.world.info(), threads, why, run_dir);
  if (comm.rank() == 0) atomic_write((std::filesystem::path(run_dir) / "resolved.toml").string(),
                                     recipe_to_toml(recipe));
  comm.barrier();
  run_agreed(comm, [&] {
    throw Error("training is not part of this build yet: only `run --dry-run` is available");
  });
  return kExitOk;
}

}  // namespace

SCT_REGISTER_COMMAND(Command{"run", "run RECIPE [--set key=value]... [--dry-run] [--out DIR]",
                             "train every task of a recipe (--dry-run: validate and print the plan)",
                             run_command});

}  // namespace sct::app
