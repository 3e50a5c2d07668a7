#include "framework/sweep/unit_runner.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/data/task_file.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"
#include "framework/model/vit.h"
#include "framework/model/vit_io.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/param_count.h"
#include "framework/peft/saliency.h"
#include "framework/peft/trainable.h"
#include "framework/train/task_checkpoint.h"
#include "framework/train/trainer.h"

namespace sct::sweep {
namespace fs = std::filesystem;
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string channels_path(const std::string& unit_dir) { return (fs::path(unit_dir) / "channels.json").string(); }

nlohmann::json channels_json(const peft::ChannelSelection* sel, bool scores) {
  if (!sel) return nullptr;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : sel->layers) {
    // qkv mode has two parts per layer; the report shows them side by side as one row.
    nlohmann::json row = nlohmann::json::array();
    for (size_t p = 0; p < l.indices.size(); ++p) {
      const int64_t offset = static_cast<int64_t>(p) * sel->dim;
      if (scores) {
        for (double v : (p < l.scores.size() ? l.scores[p] : std::vector<double>())) row.push_back(v);
      } else {
        for (int64_t c : l.indices[p]) row.push_back(c + offset);
      }
    }
    layers.push_back(row);
  }
  return layers;
}

}  // namespace

std::string result_path(const std::string& unit_dir) { return (fs::path(unit_dir) / "result.json").string(); }
std::string error_path(const std::string& unit_dir) { return (fs::path(unit_dir) / "error.json").string(); }

UnitOutcome run_unit(const Unit& unit, dist::Communicator& comm, const std::string& unit_dir,
                     const UnitHooks& hooks) {
  const Recipe& r = unit.recipe;
  const double t0 = now_s();
  UnitOutcome outcome;
  std::shared_ptr<data::TaskFile> file;
  model::ViT model{nullptr};
  std::unique_ptr<peft::ChannelSelection> selection;
  std::unique_ptr<peft::Trainable> trainable;
  int64_t num_classes = 0;
  double saliency_s = 0;

  // Set-up: every failure here (missing data, bad checkpoint, K > D) is the same on every rank
  // or is agreed, so the group leaves together and the sweep goes on.
  auto fail = [&](const dist::Agreement& a) {
    outcome.status = UnitStatus::kFailed;
    outcome.error = a.message;
    if (comm.rank() == 0) {
      nlohmann::json e{{"schema", 1}, {"unit", unit.id}, {"task", unit.task}, {"method", unit.method},
                       {"seed", unit.seed}, {"variant", unit.variant}, {"error", a.message}, {"failed_at", utc_now()}};
      atomic_write(error_path(unit_dir), e.dump(2) + "\n");
    }
    log::error("sweep", "unit {} failed: {}", unit.id, a.message);
    return outcome;
  };

  dist::Agreement a = dist::agree(comm, [&] {
    if (comm.rank() == 0) {
      fs::create_directories(unit_dir);
      fs::remove(error_path(unit_dir));
      const std::string ckpt = train::checkpoint_path(unit_dir);
      if (hooks.force && fs::exists(ckpt) && train::load_task_checkpoint(ckpt).recipe_hash != unit.hash) {
        log::info("sweep", "unit {}: --force: discarding the checkpoint of another recipe", unit.id);
        for (const char* f : {"checkpoint.safetensors", "channels.json", "metrics.jsonl"}) fs::remove(fs::path(unit_dir) / f);
      }
    }
    if (r.task.data.empty())
      throw InputError(fmt::format("{}: task '{}' has no data file (key 'task.data')", r.source_path, unit.task));
    file = std::make_shared<data::TaskFile>(r.task.data);
    num_classes = r.task.num_classes > 0 ? r.task.num_classes : file->num_classes();
    if (r.task.num_classes > 0 && r.task.num_classes != file->num_classes())
      throw InputError(fmt::format("{}: key 'task.num_classes' = {} but {} has {} classes", r.source_path,
                                   r.task.num_classes, r.task.data, file->num_classes()));
    for (const auto& split : {r.task.train_split, r.task.eval_split}) {
      const auto& info = file->split(split);
      if (info.height != r.model.image_size || info.width != r.model.image_size)
        throw InputError(fmt::format("{}: split '{}' holds {}x{} images but key 'model.image_size' is {}",
                                     r.task.data, split, info.height, info.width, r.model.image_size));
    }
    model = peft::build_backbone(r, num_classes, hooks.checkpoints);
  });
  if (a.failed) return fail(a);

  if (r.peft.method == "sct") {
    const double ts = now_s();
    a = dist::agree(comm, [&] {
      // A resumed unit keeps the channels it started with.
      if (fs::exists(channels_path(unit_dir)) && fs::exists(train::checkpoint_path(unit_dir))) {
        selection = std::make_unique<peft::ChannelSelection>(peft::read_selection(channels_path(unit_dir)));
      }
    });
    if (a.failed) return fail(a);
    if (!selection) {
      a = dist::agree(comm, [&] {
        auto phase = [&](const std::function<void()>& fn) {
          const dist::Agreement inner = dist::agree(comm, fn);
          if (inner.failed) throw Error(inner.message, inner.exit_code);
        };
        selection = std::make_unique<peft::ChannelSelection>(peft::select_channels(*model, r, comm, phase));
        selection->task = unit.task;
        if (comm.rank() == 0) peft::write_selection(channels_path(unit_dir), *selection);
      });
      if (a.failed) return fail(a);
    }
    saliency_s = now_s() - ts;
  }

  a = dist::agree(comm, [&] { trainable = std::make_unique<peft::Trainable>(peft::prepare_method(*model, r, selection.get())); });
  if (a.failed) return fail(a);
  log::info("sweep", "unit {}: {}", unit.id, trainable->describe());

  train::TrainSetup setup;
  setup.recipe = &r;
  setup.comm = &comm;
  setup.model = model.get();
  setup.trainable = trainable->named();
  setup.data = file;
  setup.unit_dir = unit_dir;
  setup.recipe_hash = unit.hash;
  if (selection) setup.checkpoint_meta = {{"channels", channels_json(selection.get(), false)}};
  setup.stop_requested = hooks.stop_requested;
  setup.stop_after_steps = hooks.stop_after_steps;
  train::TrainOutcome t;
  a = dist::agree(comm, [&] { t = train::train_task(setup); });
  if (a.failed) return fail(a);
  if (t.preempted) {
    outcome.status = UnitStatus::kPreempted;
    return outcome;
  }

  const peft::ParamCount pc = peft::count_params(model->config(), r.peft, num_classes);
  outcome.best = t.best_acc;
  outcome.last = t.last_acc;
  if (comm.rank() == 0) {
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& m : t.curve) curve.push_back(train::to_json(m));
    nlohmann::json res{
        {"schema", 1},
        {"unit", unit.id},
        {"task", unit.task},
        {"group", r.task.group.empty() ? file->metadata().group : r.task.group},
        {"method", unit.method},
        {"seed", unit.seed},
        {"variant", unit.variant},
        {"mode", selection ? nlohmann::json(r.peft.mode) : nlohmann::json(nullptr)},
        {"k", selection ? nlohmann::json(selection->k) : nlohmann::json(nullptr)},
        {"num_classes", num_classes},
        {"dim", model->config().dim},
        {"train_split", r.task.train_split},
        {"eval_split", r.task.eval_split},
        {"accuracy", {{"best", t.best_acc}, {"best_epoch", t.best_epoch}, {"last", t.last_acc}}},
        {"params",
         {{"trainable", trainable->numel()},
          {"trainable_without_head", trainable->numel_without_head()},
          {"head", trainable->head_numel()},
          {"backbone", pc.backbone}}},
        {"channels", channels_json(selection.get(), false)},
        {"channel_scores", channels_json(selection.get(), true)},
        {"curve", curve},
        {"timings",
         {{"saliency_s", saliency_s}, {"train_s", t.train_s}, {"eval_s", t.eval_s}, {"total_s", now_s() - t0}}},
        {"recipe_hash", unit.hash},
        {"world", {{"ranks", comm.size()}, {"backend", hooks.backend}, {"group", hooks.group}}},
        {"resumed", t.resumed},
        {"finished_at", utc_now()},
    };
    if (!r.train.export_model.empty()) {
      // The whole trained model (backbone, SCT modules, head) for reuse as a checkpoint.
      model::save_model(r.train.export_model, *model);
      res["exported"] = r.train.export_model;
      log::info("sweep", "unit {}: model written to {}", unit.id, r.train.export_model);
    }
    atomic_write(result_path(unit_dir), res.dump(1) + "\n");
  }
  comm.barrier();
  return outcome;
}

}  // namespace sct::sweep
