#include "framework/sweep/unit_runner.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/data/task_file.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"
#include "framework/model/vit.h"
#include "framework/model/vit_io.h"
#include "framework/peft/adapter_file.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/method.h"
#include "framework/peft/param_count.h"
#include "framework/peft/saliency.h"
#include "framework/peft/trainable.h"
#include "framework/report/unit_result.h"
#include "framework/sweep/inputs.h"
#include "framework/train/task_checkpoint.h"
#include "framework/train/precision.h"
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

// Per layer, the selected channels; qkv mode has two parts per layer, which the report shows
// side by side as one row, the second offset by D.
std::vector<std::vector<int>> channel_rows(const peft::ChannelSelection& selection) {
  std::vector<std::vector<int>> rows;
  for (const auto& layer : selection.layers) {
    std::vector<int> row;
    for (size_t part = 0; part < layer.indices.size(); ++part) {
      const int64_t offset = static_cast<int64_t>(part) * selection.dim;
      for (int64_t c : layer.indices[part]) row.push_back(static_cast<int>(c + offset));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Per layer, the score of every channel, parts side by side (empty rows for the random strategy).
std::vector<std::vector<double>> score_rows(const peft::ChannelSelection& selection) {
  std::vector<std::vector<double>> rows;
  for (const auto& layer : selection.layers) {
    std::vector<double> row;
    for (size_t part = 0; part < layer.indices.size() && part < layer.scores.size(); ++part)
      row.insert(row.end(), layer.scores[part].begin(), layer.scores[part].end());
    rows.push_back(std::move(row));
  }
  return rows;
}

report::CurvePoint curve_point(const train::EpochMetrics& m) {
  report::CurvePoint point;
  point.epoch = static_cast<int>(m.epoch);
  point.lr = m.lr;
  point.loss = m.loss;
  point.train_acc = m.train_acc;
  point.eval_acc = m.eval_acc ? *m.eval_acc : report::kNaN;  // written as null
  point.images_per_s = m.images_per_s;
  point.seconds = m.seconds;
  point.evals = m.evals;
  return point;
}

// One unit on the ranks of its group, step by step, holding what the steps hand on. Every
// step runs inside dist::agree_or_throw: a failure (missing data, bad checkpoint, K > D) is
// thrown as the same sct::Error on every rank, so the group leaves together and the sweep
// goes on.
class UnitRun {
 public:
  UnitRun(const Unit& unit, dist::Communicator& comm, const std::string& unit_dir, const UnitHooks& hooks)
      : start_s_(now_s()),
        unit_(unit),
        recipe_(unit.recipe),
        comm_(comm),
        unit_dir_(unit_dir),
        hooks_(hooks),
        device_(hooks.placement.gpu < 0
                    ? c10::Device(c10::DeviceType::CPU)
                    : c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(hooks.placement.gpu))),
        precision_(train::effective_precision(unit.recipe.train.precision, device_)) {}

  // The unit directory (rank 0), the task data checked against the recipe, the backbone on
  // the group's device.
  void prepare() {
    dist::agree_or_throw(comm_, [&] {
      if (comm_.rank() == 0) prepare_directory();
      open_data();
      model_ = peft::build_backbone(recipe_, num_classes_, hooks_.checkpoints);
      model_->to(device_);
      if (comm_.rank() == 0) record_inputs();
    });
    if (recipe_.train.precision != precision_)
      log::info("sweep", "unit {}: train.precision = {} runs as {} on {}", unit_.id, recipe_.train.precision,
                precision_, device_.str());
  }

  // sct: the channels of the resumed run, else those of peft.channels, else the saliency pass
  // (collective).
  void choose_channels() {
    const double start = now_s();
    dist::agree_or_throw(comm_, [&] {
      // A resumed unit keeps the channels it started with.
      if (fs::exists(channels_path(unit_dir_)) && fs::exists(train::checkpoint_path(unit_dir_))) {
        selection_ = std::make_unique<peft::ChannelSelection>(peft::read_selection(channels_path(unit_dir_)));
      } else if (!recipe_.peft.channels.empty()) {
        selection_ = std::make_unique<peft::ChannelSelection>(given_channels());
        if (comm_.rank() == 0) peft::write_selection(channels_path(unit_dir_), *selection_);
      }
    });
    if (!selection_) {
      dist::agree_or_throw(comm_, [&] {
        const auto agreed = [this](const std::function<void()>& phase) { dist::agree_or_throw(comm_, phase); };
        selection_ = std::make_unique<peft::ChannelSelection>(peft::select_channels(*model_, recipe_, comm_, agreed, hooks_.stop_requested));
        selection_->task = unit_.task;
        if (comm_.rank() == 0) peft::write_selection(channels_path(unit_dir_), *selection_);
      });
    }
    saliency_s_ = now_s() - start;
  }

  // The method's modules on the backbone and the trainable registry.
  void set_up_method() {
    dist::agree_or_throw(comm_, [&] {
      trainable_ = std::make_unique<peft::Trainable>(peft::prepare_method(*model_, recipe_, selection_.get()));
      // The method's new modules join the backbone on the device (parameters keep their
      // identity: the registry's tensors are the moved ones).
      model_->to(device_);
    });
    log::info("sweep", "unit {}: {}", unit_.id, trainable_->describe());
  }

  // Trains (or resumes) the unit; a preempted run returns with its checkpoint written.
  train::TrainOutcome train() {
    train::TrainSetup setup;
    setup.recipe = &recipe_;
    setup.comm = &comm_;
    setup.model = model_.get();
    setup.device = device_;
    setup.trainable = trainable_->named();
    setup.data = file_;
    setup.unit_dir = unit_dir_;
    setup.recipe_hash = unit_.hash;
    if (selection_) setup.checkpoint_meta = {{"channels", channel_rows(*selection_)}};
    setup.stop_requested = hooks_.stop_requested;
    setup.stop_after_steps = hooks_.stop_after_steps;
    train::TrainOutcome trained;
    dist::agree_or_throw(comm_, [&] { trained = train::train_task(setup); });
    return trained;
  }

  // Rank 0 exports the model and the adapter file when the recipe asks and writes result.json; the group then meets.
  // Agreed, so a failed write (a full disk) fails the unit on every rank instead of leaving the
  // others waiting.
  void write_result(const train::TrainOutcome& trained) {
    dist::agree_or_throw(comm_, [&] {
      if (comm_.rank() == 0) write_result_files(trained);
    });
  }

  // After an agreed failure: rank 0 writes error.json when it can (the failure may be a full
  // disk); every rank logs it.
  void record_failure(const std::string& message) const {
    if (comm_.rank() == 0) {
      try {
        write_error_file(message);
      } catch (const std::exception& e) {
        log::error("sweep", "unit {}: {}", unit_.id, e.what());
      }
    }
    log::error("sweep", "unit {} failed: {}", unit_.id, message);
  }

 private:
  void write_result_files(const train::TrainOutcome& trained) {
    report::UnitResult result = make_result(trained);
    if (!recipe_.train.export_model.empty()) {
      // The whole trained model (backbone, SCT modules, head) for reuse as a checkpoint.
      model::save_model(recipe_.train.export_model, *model_);
      result.exported = recipe_.train.export_model;
      log::info("sweep", "unit {}: model written to {}", unit_.id, recipe_.train.export_model);
    }
    if (!recipe_.train.export_adapter.empty()) {
      // Relative to the unit directory: every unit of a sweep writes its own.
      const fs::path path = fs::path(unit_dir_) / recipe_.train.export_adapter;
      fs::create_directories(path.parent_path());
      result.exported_adapter = recipe_.train.export_adapter;  // as given: relative to the unit directory
      peft::write_adapter(path.string(), *model_, *trainable_, recipe_, selection_.get(), unit_.hash,
                          nlohmann::json(result).dump());
      log::info("sweep", "unit {}: adapter written to {}", unit_.id, path.string());
    }
    atomic_write(result_path(unit_dir_), nlohmann::json(result).dump(1) + "\n");
  }

  void write_error_file(const std::string& message) const {
    report::FailedUnit failed;
    failed.unit = unit_.id;
    failed.task = unit_.task;
    failed.method = unit_.method;
    failed.seed = unit_.seed;
    failed.variant = unit_.variant;
    failed.error = message;
    failed.failed_at = utc_now();
    atomic_write(error_path(unit_dir_), nlohmann::json(failed).dump(2) + "\n");
  }

  // A fresh attempt clears the last error and stale temporaries; --force clears the files of
  // another recipe.
  void prepare_directory() const {
    fs::create_directories(unit_dir_);
    fs::remove(error_path(unit_dir_));
    // Half-written files of a killed run (the run lock keeps other processes out).
    if (const int n = remove_stale_temporaries(unit_dir_))
      log::info("sweep", "unit {}: removed {} temporary file{} of an interrupted write", unit_.id, n, n == 1 ? "" : "s");
    const std::string checkpoint = train::checkpoint_path(unit_dir_);
    if (!hooks_.force || !fs::exists(checkpoint)) return;
    std::string why;
    try {
      if (train::load_task_checkpoint(checkpoint).recipe_hash != unit_.hash) why = "the checkpoint of another recipe";
    } catch (const InputError& e) {
      why = std::string("a checkpoint that cannot be resumed (") + e.what() + ")";
    }
    if (!why.empty()) discard_started(why);
  }

  // inputs.json: the content of the files the unit reads. A resumed unit must read the ones it
  // started with (the sweep checked at its start, but a file may have changed since); --force
  // discards the started state instead.
  void record_inputs() const {
    const UnitInputs now = unit_inputs(recipe_);
    const std::string path = inputs_path(unit_dir_);
    if (fs::exists(train::checkpoint_path(unit_dir_)) && fs::exists(path)) {
      std::string why;
      try {
        why = inputs_changed(nlohmann::json::parse(read_text_file(path)), now);
      } catch (const std::exception&) {
        // unreadable (an older or damaged file): nothing recorded to compare with
      }
      if (!why.empty() && !hooks_.force)
        throw InputError(
            fmt::format("unit {}: {}; pass --force to run it again, or use another --out", unit_.id, why));
      if (!why.empty()) discard_started(why);
    }
    atomic_write(path, to_json(now).dump(2) + "\n");
  }

  void discard_started(const std::string& why) const {
    log::info("sweep", "unit {}: --force: discarding {}", unit_.id, why);
    for (const char* f : {"checkpoint.safetensors", "channels.json", "metrics.jsonl"})
      fs::remove(fs::path(unit_dir_) / f);
  }

  // peft.channels, checked against the model and the recipe: one InputError naming the key.
  peft::ChannelSelection given_channels() const {
    const std::string& path = recipe_.peft.channels;
    const std::string where = recipe_.where("peft.channels");
    peft::ChannelSelection selection;
    try {
      selection = peft::read_selection(path);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: key 'peft.channels': {}", where, e.what()));
    }
    const model::ViTConfig& c = model_->config();
    peft::check_selection_fits(selection, path, where, recipe_.peft, c.dim, c.depth);
    if (!selection.task.empty() && selection.task != unit_.task)
      log::info("sweep", "unit {}: using the channels of task '{}' from {}", unit_.id, selection.task, path);
    return selection;
  }

  // The task file must exist and match the recipe's classes and image size.
  void open_data() {
    if (recipe_.task.data.empty())
      throw InputError(
          fmt::format("{}: task '{}' has no data file (key 'task.data')", recipe_.where("task.data"), unit_.task));
    file_ = std::make_shared<data::TaskFile>(recipe_.task.data);
    num_classes_ = recipe_.task.num_classes > 0 ? recipe_.task.num_classes : file_->num_classes();
    if (recipe_.task.num_classes > 0 && recipe_.task.num_classes != file_->num_classes())
      throw InputError(fmt::format("{}: key 'task.num_classes' = {} but {} has {} classes", recipe_.where("task.num_classes"),
                                   recipe_.task.num_classes, recipe_.task.data, file_->num_classes()));
    std::vector<std::string> splits{recipe_.task.train_split};
    for (const auto& s : evaluation_splits(recipe_.task)) splits.push_back(s);
    for (const auto& split : splits) {
      const auto& info = file_->split(split);
      if (info.height != recipe_.model.image_size || info.width != recipe_.model.image_size)
        throw InputError(fmt::format("{}: split '{}' holds {}x{} images but key 'model.image_size' is {}",
                                     recipe_.task.data, split, info.height, info.width, recipe_.model.image_size));
      // Flipped bytes would otherwise train and score silently; one read per split and process.
      file_->verify_split(split);
    }
  }

  // Rank 0, once training has finished: total_s runs until the result is written.
  report::UnitResult make_result(const train::TrainOutcome& trained) const {
    report::UnitResult result;
    result.unit = unit_.id;
    result.task = unit_.task;
    result.group = recipe_.task.group.empty() ? file_->metadata().group : recipe_.task.group;
    result.method = unit_.method;
    result.seed = unit_.seed;
    result.variant = unit_.variant;
    if (selection_) {
      result.mode = recipe_.peft.mode;
      result.k = selection_->k;
      result.channels = channel_rows(*selection_);
      result.channel_scores = score_rows(*selection_);
    }
    result.num_classes = num_classes_;
    result.dim = model_->config().dim;
    result.train_split = recipe_.task.train_split;
    result.eval_split = trained.selection.splits.front().split;
    result.eval_splits = evaluation_splits(recipe_.task);
    result.best = trained.best_acc;
    result.best_epoch = trained.best_epoch;
    result.last = trained.last_acc;
    result.selected_on = trained.selection.selected_on.empty() ? result.eval_split : trained.selection.selected_on;
    for (const auto& s : trained.selection.splits) {
      report::SplitResult r;
      r.split = s.split;
      r.best = s.best;
      r.best_epoch = s.best_epoch;
      r.last = s.last;
      r.scored_classes = static_cast<int64_t>(file_->split(s.split).classes.size());
      result.splits.push_back(r);
    }
    result.trainable = trainable_->numel();
    result.trainable_without_head = trainable_->numel_without_head();
    result.head = trainable_->head_numel();
    result.backbone = peft::count_params(model_->config(), recipe_.peft, num_classes_).backbone;
    for (const auto& m : trained.curve) result.curve.push_back(curve_point(m));
    result.saliency_s = saliency_s_;
    result.train_s = trained.train_s;
    result.eval_s = trained.eval_s;
    result.total_s = now_s() - start_s_;
    result.recipe_hash = unit_.hash;
    result.world_ranks = comm_.size();
    result.world_backend = hooks_.backend;
    result.world_group = hooks_.group;
    result.world_device = device_.str();
    result.world_gpu = hooks_.placement.gpu_name;
    result.world_precision = precision_;
    result.resumed = trained.resumed;
    result.finished_at = utc_now();
    return result;
  }

  const double start_s_;
  const Unit& unit_;
  const Recipe& recipe_;
  dist::Communicator& comm_;
  const std::string& unit_dir_;
  const UnitHooks& hooks_;
  const c10::Device device_;     // the group's: backbone, modules, batches, optimizer
  const std::string precision_;  // what runs of train.precision on device_
  std::shared_ptr<data::TaskFile> file_;
  int64_t num_classes_ = 0;
  model::ViT model_{nullptr};
  std::unique_ptr<peft::ChannelSelection> selection_;  // sct only
  std::unique_ptr<peft::Trainable> trainable_;
  double saliency_s_ = 0;
};

}  // namespace

std::string result_path(const std::string& unit_dir) { return (fs::path(unit_dir) / "result.json").string(); }
std::string error_path(const std::string& unit_dir) { return (fs::path(unit_dir) / "error.json").string(); }

UnitOutcome run_unit(const Unit& unit, dist::Communicator& comm, const std::string& unit_dir,
                     const UnitHooks& hooks) {
  UnitRun run(unit, comm, unit_dir, hooks);
  UnitOutcome outcome;
  try {
    // Only agreed steps in here, so a caught Error was thrown on every rank of the group.
    run.prepare();
    if (peft::needs_selection(unit.recipe.peft.method)) run.choose_channels();
    run.set_up_method();
    const train::TrainOutcome trained = run.train();
    outcome.steps_run = trained.steps_run;
    if (trained.preempted) {
      outcome.status = UnitStatus::kPreempted;
      return outcome;
    }
    run.write_result(trained);
    outcome.best = trained.best_acc;
    outcome.last = trained.last_acc;
  } catch (const Error& e) {
    if (e.exit_code() == kExitPreempted) {
      // An agreed stop before training (the saliency pass): nothing to keep; the unit starts
      // again when the run is resumed.
      log::info("sweep", "unit {}: {}; it starts again on resume", unit.id, e.what());
      outcome = UnitOutcome{};
      outcome.status = UnitStatus::kPreempted;
      return outcome;
    }
    run.record_failure(e.what());
    outcome = UnitOutcome{};
    outcome.status = UnitStatus::kFailed;
    outcome.error = e.what();
    outcome.exit_code = e.exit_code();
  }
  return outcome;
}

}  // namespace sct::sweep
