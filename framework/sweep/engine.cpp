#include "framework/sweep/engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <fstream>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/agree.h"
#include "framework/dist/world.h"
#include "framework/dist/work_queue.h"
#include "framework/model/vit_config.h"
#include "framework/peft/backbone.h"
#include "framework/peft/param_count.h"
#include "framework/sweep/plan.h"
#include "framework/sweep/provenance.h"
#include "framework/report/report.h"
#include "framework/sweep/signals.h"
#include "framework/sweep/unit_runner.h"

namespace sct::sweep {
namespace fs = std::filesystem;
namespace {

enum class Done { kNo, kFinished, kChanged };

Done finished_state(const Unit& u, const std::string& unit_dir) {
  const std::string path = result_path(unit_dir);
  if (!fs::exists(path)) return Done::kNo;
  try {
    nlohmann::json j = nlohmann::json::parse(read_text_file(path));
    return j.at("recipe_hash").get<std::string>() == u.hash ? Done::kFinished : Done::kChanged;
  } catch (const std::exception&) {
    return Done::kNo;  // unreadable: run it again (the atomic write makes this rare)
  }
}

void print_plan(const std::vector<Unit>& units, const std::vector<Done>& done, int groups, int per_group,
                int threads) {
  if (log::rank() != 0) return;  // only rank 0 prints; the counts may read checkpoints
  std::map<std::string, std::pair<model::ViTConfig, std::string>> configs;
  peft::CheckpointCache plan_cache;
  const int size = groups * per_group;
  log::info("sweep", "world: {} rank{}, {} thread{} per rank", size, size == 1 ? "" : "s", threads,
            threads == 1 ? "" : "s");
  log::info("sweep", "plan: {} unit{} in {} group{} of {} rank{}", units.size(), units.size() == 1 ? "" : "s", groups,
            groups == 1 ? "" : "s", per_group, per_group == 1 ? "" : "s");
  log::info("sweep", "  {:<36} {:<7} {:>6} {:>9} {:>9} {:>10}  {}", "unit", "method", "epochs", "batch", "lr", "status",
            "trainable parameters");
  for (size_t i = 0; i < units.size(); ++i) {
    const Unit& u = units[i];
    const Recipe& r = u.recipe;
    std::string params;
    try {
      int64_t classes = r.task.num_classes;
      if (classes == 0) classes = u.data_classes;
      if (classes == 0) throw InputError(u.cost_note.empty() ? "task file has no classes" : u.cost_note);
      const std::string key = fmt::format("{}|{}|{}", r.model.checkpoint, r.model.arch, r.model.image_size);
      if (!configs.count(key)) {
        try {
          configs[key] = {peft::backbone_config(r, 0, &plan_cache), ""};
        } catch (const InputError& e) {
          // A missing checkpoint of a named preset: count from the preset, and say so.
          if (r.model.checkpoint.empty() || r.model.arch == "custom" || std::filesystem::exists(r.model.checkpoint))
            throw;
          model::ViTConfig c = model::vit_preset(r.model.arch);
          c.image_size = r.model.image_size;
          configs[key] = {c, fmt::format(" [counted from model.arch: {} not found]", r.model.checkpoint)};
        }
      }
      const auto& [cfg, note] = configs[key];
      params = peft::format_param_count(peft::count_params(cfg, r.peft, classes), r.peft, cfg.dim) + note;
    } catch (const std::exception& e) {
      params = std::string("? (") + e.what() + ")";
    }
    const char* status = done[i] == Done::kFinished ? "done" : done[i] == Done::kChanged ? "CHANGED" : "todo";
    log::info("sweep", "  {:<36} {:<7} {:>6} {:>9} {:>9g} {:>10}  {}", u.id, u.method, r.train.epochs,
              r.train.batch_size, r.train.lr, status, params);
    if (!u.cost_note.empty()) log::info("sweep", "  {:<36} data: {}", "", u.cost_note);
  }
}

}  // namespace

int run_sweep(dist::World& world, const SweepOptions& o) {
  // From the start: a signal during planning or set-up must not kill the job unrecorded.
  install_stop_handlers();
  dist::Communicator& wcomm = world.comm();
  const int rank = world.rank(), size = world.size();
  Recipe top;
  std::vector<Unit> units;
  int per_group = size;
  dist::agree_or_throw(wcomm, [&] {
    top = load_recipe(o.recipe_path, o.sets);
    PlanOptions po;
    po.sets = o.sets;
    po.only_tasks = o.tasks;
    units = plan_units(o.recipe_path, top, po);
    per_group = top.sweep.ranks_per_task > 0 ? static_cast<int>(top.sweep.ranks_per_task) : size;
    if (per_group > size || size % per_group != 0)
      throw InputError(fmt::format("{}: key 'sweep.ranks_per_task' = {} does not divide the {} ranks of this job",
                                   o.recipe_path, per_group, size));
    for (const auto& u : units)
      if (u.recipe.train.batch_size % per_group != 0)
        throw InputError(fmt::format(
            "{}: unit {}: key 'train.batch_size' = {} does not divide by the {} ranks of a group; the global "
            "batch is fixed, so choose a multiple of {} or another number of ranks",
            o.recipe_path, u.id, u.recipe.train.batch_size, per_group, per_group));
  });
  const int groups = size / per_group;
  const int group = rank / per_group;
  const std::string run_dir = o.out.empty() ? (fs::path(top.out) / top.name).string() : o.out;

  // Which units are finished already (rank 0 looks; everyone learns).
  std::vector<Done> done(units.size(), Done::kNo);
  dist::agree_or_throw(wcomm, [&] {
    std::vector<int64_t> state(units.size(), 0);
    if (rank == 0) {
      for (size_t i = 0; i < units.size(); ++i) {
        done[i] = finished_state(units[i], (fs::path(run_dir) / "units" / units[i].id).string());
        state[i] = static_cast<int64_t>(done[i]);
      }
    }
    wcomm.all_reduce(state, dist::ReduceOp::kMax);
    for (size_t i = 0; i < units.size(); ++i) done[i] = static_cast<Done>(state[i]);
  });

  auto group_comm = wcomm.split(group, rank);
  std::string why;
  std::unique_ptr<dist::Communicator> train_comm;
  dist::agree_or_throw(wcomm, [&] { train_comm = dist::make_training_communicator(*group_comm, top.device, &why, world.info().local_rank); });
  log::info("sweep", "run directory {}; {}", run_dir, why);

  // One unit (e.g. --task X): its own resolved recipe, task file merged in; else the sweep's.
  if (o.dry_run && rank == 0)
    fmt::print("# resolved recipe{}\n{}\n", units.size() == 1 ? " of unit " + units[0].id : std::string(),
               recipe_to_toml(units.size() == 1 ? units[0].recipe : top));
  print_plan(units, done, groups, per_group, o.threads);
  if (o.dry_run) {
    log::info("sweep", "dry run: nothing trained");
    return kExitOk;
  }

  dist::agree_or_throw(wcomm, [&] {
    std::vector<std::string> changed;
    for (size_t i = 0; i < units.size(); ++i)
      if (done[i] == Done::kChanged) changed.push_back(units[i].id);
    if (!changed.empty() && !o.force)
      throw InputError(fmt::format(
          "{}: the recipe of {} finished unit{} changed since {} ran ({}); pass --force to run {} again, or use "
          "another --out",
          o.recipe_path, changed.size(), changed.size() == 1 ? "" : "s", changed.size() == 1 ? "it" : "they",
          changed.size() > 3 ? changed[0] + ", ..." : fmt::format("{}", fmt::join(changed, ", ")),
          changed.size() == 1 ? "it" : "them"));
    if (rank == 0) {
      for (size_t i = 0; i < units.size(); ++i)
        if (done[i] == Done::kChanged) fs::remove_all(fs::path(run_dir) / "units" / units[i].id);
      fs::create_directories(fs::path(run_dir) / "units");
      atomic_write((fs::path(run_dir) / "resolved.toml").string(), recipe_to_toml(top));
    }
  });

  // Provenance: hosts of every rank, backend of every group.
  {
    WorldLayout layout;
    layout.world_size = size;
    layout.ranks_per_group = per_group;
    layout.hosts = wcomm.all_gather(world.info().host);
    std::vector<std::string> backends = wcomm.all_gather(train_comm->backend());
    for (int g = 0; g < groups; ++g) layout.backends.push_back(backends[g * per_group]);
    layout.threads = o.threads;
    if (rank == 0)
      atomic_write((fs::path(run_dir) / "provenance.json").string(),
                   make_provenance(top, units, layout, o.versions).dump(2) + "\n");
  }

  std::vector<int64_t> todo;
  for (int64_t i : schedule_order(units))
    if (done[i] != Done::kFinished) todo.push_back(i);
  const size_t skipped = units.size() - todo.size();
  if (skipped) log::info("sweep", "{} of {} units already finished; skipping them", skipped, units.size());

  std::vector<int> leaders;
  for (int g = 0; g < groups; ++g) leaders.push_back(g * per_group);
  dist::WorkQueue queue(todo, leaders);

  peft::CheckpointCache checkpoints;  // the backbone is read once per process, not per unit
  int64_t failed = 0, preempted = 0, finished = 0;
  int64_t steps_budget = o.stop_after_steps;
  while (true) {
    int64_t item = -1;
    if (group_comm->rank() == 0) item = queue.next();
    group_comm->broadcast(&item, sizeof item, 0);
    if (item < 0) break;
    const Unit& u = units[static_cast<size_t>(item)];
    log::info("sweep", "group {}: unit {} ({})", group, u.id, u.recipe.task.data);
    UnitHooks hooks;
    hooks.backend = train_comm->backend();
    hooks.group = group;
    hooks.force = o.force;
    hooks.checkpoints = &checkpoints;
    hooks.stop_after_steps = steps_budget;
    // Rank 0 answers the other groups' requests between its own steps.
    hooks.stop_requested = [&queue, rank] {
      if (rank == 0) queue.serve_pending();
      return stop_signalled();
    };
    const UnitOutcome out = run_unit(u, *train_comm, (fs::path(run_dir) / "units" / u.id).string(), hooks);
    if (out.status == UnitStatus::kFailed) ++failed;
    if (out.status == UnitStatus::kFinished) ++finished;
    if (out.status == UnitStatus::kPreempted) {
      ++preempted;
      // Stop taking work, but keep asking until the queue says it is empty: rank 0 waits for
      // every leader to hear that before it leaves. The items drawn here are left for the
      // requeued job, which plans again from the result files.
      if (group_comm->rank() == 0)
        while (queue.next() >= 0) {
        }
      break;
    }
  }
  if (rank == 0) queue.drain();

  // Totals over groups (each group's rank 0 counted once).
  std::vector<int64_t> totals{group_comm->rank() == 0 ? finished : 0, group_comm->rank() == 0 ? failed : 0,
                              group_comm->rank() == 0 ? preempted : 0};
  wcomm.all_reduce(totals, dist::ReduceOp::kSum);
  if (rank == 0) {
    std::string table;
    try {
      table = report::summary_table(run_dir);
    } catch (const std::exception& e) {
      table = std::string("(no summary: ") + e.what() + ")\n";
    }
    atomic_write((fs::path(run_dir) / "summary.txt").string(), table);
    fmt::print("\n{}", table);
    log::info("sweep", "{} finished now, {} skipped, {} failed, {} preempted; results in {}", totals[0], skipped,
              totals[1], totals[2], run_dir);
  }
  if (totals[2] > 0) {
    if (rank == 0)
      log::info("sweep", "stopped ({}): checkpoints written; run the same command again to resume",
                stop_signal() ? fmt::format("signal {}", stop_signal()) : std::string("--stop-after-steps"));
    return kExitPreempted;
  }
  return totals[1] > 0 ? kExitFailure : kExitOk;
}

}  // namespace sct::sweep
