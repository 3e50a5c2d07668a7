#include "framework/sweep/engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/agree.h"
#include "framework/dist/watchdog.h"
#include "framework/dist/world.h"
#include "framework/dist/work_queue.h"
#include "framework/model/vit_config.h"
#include "framework/peft/backbone.h"
#include "framework/peft/param_count.h"
#include "framework/sweep/inputs.h"
#include "framework/sweep/plan.h"
#include "framework/report/report.h"
#include "framework/sweep/provenance.h"
#include "framework/sweep/run_lock.h"
#include "framework/sweep/signals.h"
#include "framework/sweep/unit_runner.h"
#include "framework/train/task_checkpoint.h"

namespace sct::sweep {
namespace fs = std::filesystem;
namespace {

// Where a unit stands before the run. Rank 0 looks and the others learn it through a kMax
// all-reduce, so the values are fixed.
enum class UnitState : int64_t { kTodo = 0, kFinished = 1, kChanged = 2 };

// The planned sweep, the same on every rank.
struct SweepPlan {
  Recipe top;  // the sweep's own recipe
  std::vector<Unit> units;
  int ranks_per_group = 1;
  int groups = 1;
  std::string run_dir;

  std::string unit_dir(const Unit& unit) const { return (fs::path(run_dir) / "units" / unit.id).string(); }
};

// This rank's group of ranks_per_group ranks: the communicator the queue and the counts use,
// and the one (MPI or NCCL) its units train on.
struct GroupComms {
  int index = 0;
  std::unique_ptr<dist::Communicator> group;
  std::unique_ptr<dist::Communicator> training;
  dist::Placement placement;  // this rank's device, chosen with `training`
};

struct UnitCounts {
  int64_t finished = 0, failed = 0, preempted = 0;
  int64_t bad_input = 0;  // failed units whose failure was bad input (data, checkpoint): exit 2
};

// A unit whose recipe changed is refused the same way whether it finished or was interrupted
// (a checkpoint of another recipe): before anything trains, with exit code 2.
UnitState recipe_state(const Unit& unit, const std::string& unit_dir) {
  const std::string path = result_path(unit_dir);
  if (!fs::exists(path)) {
    const std::string checkpoint = train::checkpoint_path(unit_dir);
    if (!fs::exists(checkpoint)) return UnitState::kTodo;
    const std::string hash = train::checkpoint_recipe_hash(checkpoint);
    return hash.empty() || hash == unit.hash ? UnitState::kTodo : UnitState::kChanged;
  }
  try {
    nlohmann::json j = nlohmann::json::parse(read_text_file(path));
    return j.at("recipe_hash").get<std::string>() == unit.hash ? UnitState::kFinished : UnitState::kChanged;
  } catch (const std::exception&) {
    return UnitState::kTodo;  // unreadable: run it again (the atomic write makes this rare)
  }
}

// The recipe's state, and for a started or finished unit of the same recipe whether the files
// it reads (task file, backbone) are still the ones it started with; `why` says what changed.
UnitState finished_state(const Unit& unit, const std::string& unit_dir, std::string* why) {
  const UnitState state = recipe_state(unit, unit_dir);
  if (state == UnitState::kChanged) return state;
  if (state == UnitState::kTodo && !fs::exists(train::checkpoint_path(unit_dir))) return state;
  *why = recorded_inputs_changed(unit_dir, unit.recipe);
  return why->empty() ? state : UnitState::kChanged;
}

// Every unit's global batch must split evenly over the ranks of a group. The errors name the
// file and line each value came from (a task file's batch size, say).
void check_group_size(const Recipe& top, const std::vector<Unit>& units, int per_group, int size) {
  if (per_group > size || size % per_group != 0)
    throw InputError(fmt::format("{}: key 'sweep.ranks_per_task' = {} does not divide the {} ranks of this job",
                                 top.where("sweep.ranks_per_task"), per_group, size));
  for (const auto& u : units)
    if (u.recipe.train.batch_size % per_group != 0)
      throw InputError(fmt::format(
          "{}: unit {}: key 'train.batch_size' = {} does not divide by the {} ranks of a group; the global "
          "batch is fixed, so choose a multiple of {} or another number of ranks",
          u.recipe.where("train.batch_size"), u.id, u.recipe.train.batch_size, per_group, per_group));
}

SweepPlan make_plan(dist::World& world, const SweepOptions& options) {
  SweepPlan plan;
  const int size = world.size();
  plan.ranks_per_group = size;
  dist::agree_or_throw(world.comm(), [&] {
    plan.top = load_recipe(options.recipe_path, options.sets);
    PlanOptions plan_options;
    plan_options.sets = options.sets;
    plan_options.only_tasks = options.tasks;
    plan.units = plan_units(options.recipe_path, plan.top, plan_options);
    const int64_t per_task = plan.top.sweep.ranks_per_task;
    plan.ranks_per_group = per_task > 0 ? static_cast<int>(per_task) : size;
    check_group_size(plan.top, plan.units, plan.ranks_per_group, size);
  });
  plan.groups = size / plan.ranks_per_group;
  plan.run_dir = options.out.empty() ? (fs::path(plan.top.out) / plan.top.name).string() : options.out;
  return plan;
}

// Which units are finished already (rank 0 looks; everyone learns). `inputs_changed` (rank 0
// only) gets, per unit, what changed in its input files ("" for none or a changed recipe).
std::vector<UnitState> finished_states(dist::Communicator& world_comm, const SweepPlan& plan,
                                       std::vector<std::string>* inputs_changed) {
  std::vector<UnitState> states(plan.units.size(), UnitState::kTodo);
  inputs_changed->assign(plan.units.size(), "");
  dist::agree_or_throw(world_comm, [&] {
    std::vector<int64_t> values(plan.units.size(), 0);
    if (world_comm.rank() == 0)
      for (size_t i = 0; i < plan.units.size(); ++i)
        values[i] = static_cast<int64_t>(
            finished_state(plan.units[i], plan.unit_dir(plan.units[i]), &(*inputs_changed)[i]));
    world_comm.all_reduce(values, dist::ReduceOp::kMax);
    for (size_t i = 0; i < plan.units.size(); ++i) states[i] = static_cast<UnitState>(values[i]);
  });
  return states;
}

GroupComms make_group_comms(dist::World& world, const SweepPlan& plan) {
  dist::Communicator& world_comm = world.comm();
  GroupComms comms;
  comms.index = world.rank() / plan.ranks_per_group;
  comms.group = world_comm.split(comms.index, world.rank());
  std::string why;
  dist::agree_or_throw(world_comm, [&] {
    comms.training =
        dist::make_training_communicator(*comms.group, plan.top.device, &why, world.info().local_rank, &comms.placement);
  });
  log::info("sweep", "run directory {}; {}", plan.run_dir, why);
  return comms;
}

// The trainable-parameter column of the plan table, counted from each backbone's config
// (read once per checkpoint, architecture and image size).
class ParamColumn {
 public:
  std::string operator()(const Unit& unit) {
    const Recipe& recipe = unit.recipe;
    try {
      int64_t classes = recipe.task.num_classes;
      if (classes == 0) classes = unit.data_classes;
      if (classes == 0) throw InputError(unit.cost_note.empty() ? "task file has no classes" : unit.cost_note);
      const auto& [config, note] = config_of(recipe);
      return peft::format_param_count(peft::count_params(config, recipe.peft, classes), recipe.peft, config.dim) +
             note;
    } catch (const std::exception& e) {
      return std::string("? (") + e.what() + ")";
    }
  }

 private:
  const std::pair<model::ViTConfig, std::string>& config_of(const Recipe& recipe) {
    const std::string key =
        fmt::format("{}|{}|{}", recipe.model.checkpoint, recipe.model.arch, recipe.model.image_size);
    if (configs_.count(key)) return configs_[key];
    try {
      configs_[key] = {peft::backbone_config(recipe, 0, &cache_), ""};
    } catch (const InputError& e) {
      // A missing checkpoint of a named preset: count from the preset, and say so.
      if (recipe.model.checkpoint.empty() || recipe.model.arch == "custom" ||
          std::filesystem::exists(recipe.model.checkpoint))
        throw;
      model::ViTConfig config = model::vit_preset(recipe.model.arch);
      config.image_size = recipe.model.image_size;
      configs_[key] = {config, fmt::format(" [counted from model.arch: {} not found]", recipe.model.checkpoint)};
    }
    return configs_[key];
  }

  std::map<std::string, std::pair<model::ViTConfig, std::string>> configs_;
  peft::CheckpointCache cache_;
};

void print_plan(const SweepPlan& plan, const std::vector<UnitState>& states, int threads) {
  if (log::rank() != 0) return;  // only rank 0 prints; the counts may read checkpoints
  const int size = plan.groups * plan.ranks_per_group, per_group = plan.ranks_per_group;
  const size_t n = plan.units.size();
  log::info("sweep", "world: {} rank{}, {} thread{} per rank", size, size == 1 ? "" : "s", threads,
            threads == 1 ? "" : "s");
  log::info("sweep", "plan: {} unit{} in {} group{} of {} rank{}", n, n == 1 ? "" : "s", plan.groups,
            plan.groups == 1 ? "" : "s", per_group, per_group == 1 ? "" : "s");
  size_t mw = 7;  // the method column fits the longest name ("adaptformer")
  for (const Unit& u : plan.units) mw = std::max(mw, u.method.size());
  log::info("sweep", "  {:<36} {:<{}} {:>6} {:>9} {:>9} {:>10}  {}", "unit", "method", mw, "epochs", "batch", "lr",
            "status", "trainable parameters");
  ParamColumn params;
  for (size_t i = 0; i < n; ++i) {
    const Unit& u = plan.units[i];
    const TrainSection& train = u.recipe.train;
    const char* status = states[i] == UnitState::kFinished ? "done"
                         : states[i] == UnitState::kChanged ? "CHANGED"
                                                            : "todo";
    log::info("sweep", "  {:<36} {:<{}} {:>6} {:>9} {:>9g} {:>10}  {}", u.id, u.method, mw, train.epochs,
              train.batch_size, train.lr, status, params(u));
    if (!u.cost_note.empty()) log::info("sweep", "  {:<36} data: {}", "", u.cost_note);
  }
}

// A dry run first prints the resolved recipe: of the one unit (e.g. --task X), task file
// merged in, else the sweep's.
void show_plan(int rank, const SweepPlan& plan, const std::vector<UnitState>& states, const SweepOptions& options) {
  const bool one = plan.units.size() == 1;
  if (options.dry_run && rank == 0)
    fmt::print("# resolved recipe{}\n{}\n", one ? " of unit " + plan.units[0].id : std::string(),
               recipe_to_toml(one ? plan.units[0].recipe : plan.top));
  print_plan(plan, states, options.threads);
}

// The run directory's units/ folder; a path that cannot hold it is bad input naming where the
// path came from (--out, or the recipe's key 'out').
void create_run_dir(const SweepPlan& plan, const SweepOptions& options) {
  const fs::path units = fs::path(plan.run_dir) / "units";
  std::error_code error;
  fs::create_directories(units, error);
  if (error || !fs::is_directory(units)) {
    const std::string origin =
        options.out.empty() ? fmt::format("{}: key 'out' = \"{}\" (run directory {})", plan.top.where("out"),
                                          plan.top.out, plan.run_dir)
                            : fmt::format("--out {}", options.out);
    throw InputError(fmt::format("{}: cannot create the run directory {} ({})", origin, units.string(),
                                 error ? error.message() : "not a directory"));
  }
}

// Rank 0 holds the run directory's lock until the sweep returns; a refusal is every rank's.
std::unique_ptr<RunLock> lock_run_dir(dist::Communicator& world_comm, const SweepPlan& plan,
                                      const SweepOptions& options) {
  std::unique_ptr<RunLock> lock;
  dist::agree_or_throw(world_comm, [&] {
    if (world_comm.rank() != 0) return;
    create_run_dir(plan, options);
    lock = RunLock::acquire(plan.run_dir);
    remove_stale_temporaries(plan.run_dir);  // of a killed run's provenance or summary write
  });
  return lock;
}

// The refusal of started or finished units whose recipe or input files changed: the recipe's
// units by id, then the first unit whose input changed with the file and checksums.
std::string changed_message(const SweepPlan& plan, const std::vector<UnitState>& states,
                            const std::vector<std::string>& inputs_changed, const std::string& recipe_path) {
  std::vector<std::string> recipe, inputs;
  for (size_t i = 0; i < plan.units.size(); ++i) {
    if (states[i] != UnitState::kChanged) continue;
    if (inputs_changed[i].empty()) recipe.push_back(plan.units[i].id);
    else inputs.push_back(fmt::format("unit {}: {}", plan.units[i].id, inputs_changed[i]));
  }
  std::vector<std::string> parts;
  if (!recipe.empty())
    parts.push_back(fmt::format(
        "the recipe of {} started or finished unit{} changed since {} ran ({})", recipe.size(),
        recipe.size() == 1 ? "" : "s", recipe.size() == 1 ? "it" : "they",
        recipe.size() > 3 ? recipe[0] + ", ..." : fmt::format("{}", fmt::join(recipe, ", "))));
  if (!inputs.empty())
    parts.push_back(inputs[0] + (inputs.size() > 1 ? fmt::format(" (and {} more units)", inputs.size() - 1) : ""));
  const bool one = recipe.size() + inputs.size() == 1;
  return fmt::format("{}: {}; pass --force to run {} again, or use another --out", recipe_path,
                     fmt::join(parts, "; "), one ? "it" : "them");
}

// Refuses started or finished units whose recipe or input files changed unless --force (then
// clears them), and writes the run directory's resolved.toml.
void prepare_run_dir(dist::Communicator& world_comm, const SweepPlan& plan, const std::vector<UnitState>& states,
                     const std::vector<std::string>& inputs_changed, const SweepOptions& options) {
  dist::agree_or_throw(world_comm, [&] {
    const bool changed = std::count(states.begin(), states.end(), UnitState::kChanged) > 0;
    // The reasons are rank 0's; the agreement gives its message to every rank.
    if (changed && !options.force && world_comm.rank() == 0)
      throw InputError(changed_message(plan, states, inputs_changed, options.recipe_path));
    if (world_comm.rank() == 0) {
      for (size_t i = 0; i < plan.units.size(); ++i)
        if (states[i] == UnitState::kChanged) fs::remove_all(plan.unit_dir(plan.units[i]));
      create_run_dir(plan, options);
      atomic_write((fs::path(plan.run_dir) / "resolved.toml").string(), recipe_to_toml(plan.top));
    }
  });
}

// provenance.json: this start's record appended (hosts of every rank, backend of every group).
void write_provenance(dist::World& world, const SweepPlan& plan, const GroupComms& comms,
                      const SweepOptions& options) {
  dist::Communicator& world_comm = world.comm();
  WorldLayout layout;
  layout.world_size = world.size();
  layout.ranks_per_group = plan.ranks_per_group;
  layout.hosts = world_comm.all_gather(world.info().host);
  const std::vector<std::string> backends = world_comm.all_gather(comms.training->backend());
  for (int g = 0; g < plan.groups; ++g) layout.backends.push_back(backends[g * plan.ranks_per_group]);
  layout.devices = world_comm.all_gather(comms.placement.device());
  layout.gpus = world_comm.all_gather(comms.placement.gpu_name);
  layout.threads = options.threads;
  dist::agree_or_throw(world_comm, [&] {
    if (world.rank() == 0)
      append_provenance_file((fs::path(plan.run_dir) / "provenance.json").string(),
                             make_provenance(plan.top, plan.units, layout, options.versions));
  });
}

// The units still to run, in hand-out order.
std::vector<int64_t> units_to_run(const SweepPlan& plan, const std::vector<UnitState>& states) {
  std::vector<int64_t> todo;
  for (int64_t i : schedule_order(plan.units))
    if (states[static_cast<size_t>(i)] != UnitState::kFinished) todo.push_back(i);
  const size_t skipped = plan.units.size() - todo.size();
  if (skipped) log::info("sweep", "{} of {} units already finished; skipping them", skipped, plan.units.size());
  return todo;
}

// SCT_FAULT_SLOW_START_S=S (tests): world rank 0 waits S seconds before each of its units, as a
// slow backbone load would, to show that the other groups' requests do not wait on it.
double fault_slow_start_s(int rank) {
  const char* v = std::getenv("SCT_FAULT_SLOW_START_S");
  return rank == 0 && v ? std::atof(v) : 0.0;
}

// Group leaders draw units from rank 0's queue until it is empty or a unit is preempted.
UnitCounts run_queue(dist::World& world, const SweepPlan& plan, const std::vector<int64_t>& todo,
                     const GroupComms& comms, const SweepOptions& options) {
  std::vector<int> leaders;
  for (int g = 0; g < plan.groups; ++g) leaders.push_back(g * plan.ranks_per_group);
  dist::WorkQueue queue(todo, leaders);
  dist::Communicator& group = *comms.group;
  const int rank = world.rank();
  peft::CheckpointCache checkpoints;  // the backbone is read once per process, not per unit
  UnitHooks hooks;
  hooks.backend = comms.training->backend();
  hooks.placement = comms.placement;
  hooks.group = comms.index;
  hooks.force = options.force;
  hooks.checkpoints = &checkpoints;
  hooks.stop_after_steps = options.stop_after_steps;  // what is left of this process's steps
  hooks.stop_requested = [] { return stop_signalled(); };  // the queue has its own server thread
  const double slow_start_s = fault_slow_start_s(rank);
  UnitCounts counts;
  while (true) {
    int64_t item = -1;
    const auto asked = std::chrono::steady_clock::now();
    if (group.rank() == 0) item = queue.next();
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    group.broadcast(&item, sizeof item, 0);
    if (item < 0) break;
    const Unit& unit = plan.units[static_cast<size_t>(item)];
    log::info("sweep", "group {}: unit {} ({}); {:.3f} s waiting for the queue", comms.index, unit.id,
              unit.recipe.task.data, waited);
    if (slow_start_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(slow_start_s));
    const UnitOutcome outcome = run_unit(unit, *comms.training, plan.unit_dir(unit), hooks);
    // A unit stops at the step that uses up the budget, so a finished one leaves at least one.
    if (hooks.stop_after_steps >= 0)
      hooks.stop_after_steps = std::max<int64_t>(0, hooks.stop_after_steps - outcome.steps_run);
    if (outcome.status == UnitStatus::kFailed) {
      ++counts.failed;
      if (outcome.exit_code == kExitBadInput) ++counts.bad_input;
    }
    if (outcome.status == UnitStatus::kFinished) ++counts.finished;
    if (outcome.status == UnitStatus::kPreempted) {
      ++counts.preempted;
      // Stop taking work, but keep asking until the queue says it is empty: rank 0 waits for
      // every leader to hear that before it leaves. The items drawn here are left for the
      // requeued job, which plans again from the result files.
      if (group.rank() == 0)
        while (queue.next() >= 0) {
        }
      break;
    }
  }
  if (rank == 0) queue.drain();
  return counts;
}

// Rank 0: summary.txt and the table on stdout.
void write_summary(const std::string& run_dir) {
  std::string table;
  try {
    table = report::summary_table(run_dir);
  } catch (const std::exception& e) {
    table = std::string("(no summary: ") + e.what() + ")\n";
  }
  atomic_write((fs::path(run_dir) / "summary.txt").string(), table);
  fmt::print("\n{}", table);
}

// Totals over groups (each group's rank 0 counted once), summary.txt and the exit code.
int finish_sweep(dist::World& world, const SweepPlan& plan, const GroupComms& comms, const UnitCounts& counts,
                 size_t skipped) {
  const bool leader = comms.group->rank() == 0;
  std::vector<int64_t> totals{leader ? counts.finished : 0, leader ? counts.failed : 0,
                              leader ? counts.preempted : 0, leader ? counts.bad_input : 0};
  world.comm().all_reduce(totals, dist::ReduceOp::kSum);
  // The signal may have reached some ranks only (a kill of one process): everyone learns it.
  const int64_t signal = world.comm().all_reduce(static_cast<int64_t>(stop_signal()), dist::ReduceOp::kMax);
  dist::agree_or_throw(world.comm(), [&] {
    if (world.rank() == 0) write_summary(plan.run_dir);
  });
  if (world.rank() == 0)
    log::info("sweep", "{} finished now, {} skipped, {} failed, {} preempted; results in {}", totals[0], skipped,
              totals[1], totals[2], plan.run_dir);
  if (totals[2] > 0) {
    if (world.rank() == 0)
      log::info("sweep", "stopped ({}): checkpoints written; run the same command again to resume",
                signal ? fmt::format("signal {}", signal) : std::string("--stop-after-steps"));
    return kExitPreempted;
  }
  // A unit that failed on bad input (a corrupt data file or checkpoint) is the user's to fix.
  return totals[3] > 0 ? kExitBadInput : totals[1] > 0 ? kExitFailure : kExitOk;
}

}  // namespace

int run_sweep(dist::World& world, const SweepOptions& options) {
  // From the start: a signal during planning or set-up must not kill the job unrecorded.
  install_stop_handlers();
  const SweepPlan plan = make_plan(world, options);
  const std::unique_ptr<RunLock> lock = options.dry_run ? nullptr : lock_run_dir(world.comm(), plan, options);
  // From here to the end a stopped or frozen rank ends the job instead of hanging it.
  dist::WatchdogOptions watch;
  watch.timeout_s = plan.top.dist.stall_timeout_s;
  watch.origin = fmt::format("{}: key 'dist.stall_timeout_s'", plan.top.where("dist.stall_timeout_s"));
  const dist::StallWatchdog watchdog(watch);
  std::vector<std::string> inputs_changed;
  const std::vector<UnitState> states = finished_states(world.comm(), plan, &inputs_changed);
  const GroupComms comms = make_group_comms(world, plan);
  show_plan(world.rank(), plan, states, options);
  if (options.dry_run) {
    log::info("sweep", "dry run: nothing trained");
    return kExitOk;
  }
  prepare_run_dir(world.comm(), plan, states, inputs_changed, options);
  write_provenance(world, plan, comms, options);
  const std::vector<int64_t> todo = units_to_run(plan, states);
  const UnitCounts counts = run_queue(world, plan, todo, comms, options);
  return finish_sweep(world, plan, comms, counts, plan.units.size() - todo.size());
}

}  // namespace sct::sweep
