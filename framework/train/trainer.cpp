#include "framework/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <utility>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/core/torch_compat.h"
#include "framework/data/loader.h"
#include "framework/data/task_file.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"
#include "framework/model/vit.h"
#include "framework/train/checkpointer.h"
#include "framework/train/device_batches.h"
#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/precision.h"
#include "framework/train/schedule.h"

namespace sct::train {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

data::Normalization normalization(const Recipe& recipe) {
  data::Normalization norm;
  for (int c = 0; c < 3; ++c) {
    norm.mean[c] = static_cast<float>(recipe.data.mean[c]);
    norm.std[c] = static_cast<float>(recipe.data.std[c]);
  }
  return norm;
}

// DropPath and AdaptFormer's dropout draw from per-sample keys (drop_path_keys). Anything else
// that draws from LibTorch's default CPU generator is seeded per (seed, epoch, step, rank), so
// every step is reproducible on its own and a run resumed mid-epoch continues bit for bit.
void seed_step(uint64_t seed, int64_t epoch, int64_t step, int rank) {
  uint64_t h = fnv1a64(fmt::format("{}/{}/{}/{}", seed, epoch, step, rank));
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(h);
}

// DropPath keys of a batch: one per sample from (seed, epoch, its index in the split), so each
// sample's masks are the same whichever rank holds it (ViTImpl::set_drop_path_keys).
std::vector<uint64_t> drop_path_keys(uint64_t seed, int64_t epoch, const std::vector<int64_t>& indices) {
  std::vector<uint64_t> keys;
  keys.reserve(indices.size());
  for (int64_t i : indices) keys.push_back(fnv1a64(fmt::format("drop_path/{}/{}/{}", seed, epoch, i)));
  return keys;
}

std::string fmt_time(double s) {
  if (s < 90) return fmt::format("{:.0f}s", s);
  if (s < 5400) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}

// What the training and the evaluation loader share: split, batch, this rank's slice, pixels.
data::LoaderOptions loader_options(const Recipe& recipe, const std::string& split, data::LoaderMode mode,
                                   int64_t batch, const dist::Communicator& comm, const at::Device& device) {
  data::LoaderOptions options;
  options.split = split;
  options.mode = mode;
  options.batch_size = batch;
  options.rank = comm.rank();
  options.world = comm.size();
  options.normalization = normalization(recipe);
  options.prefetch = static_cast<int>(recipe.data.prefetch);
  options.pin_memory = device.is_cuda();
  return options;
}

data::LoaderOptions train_loader_options(const Recipe& recipe, const dist::Communicator& comm,
                                         const at::Device& device) {
  data::LoaderOptions options = loader_options(recipe, recipe.task.train_split, data::LoaderMode::kTrain,
                                               recipe.train.batch_size, comm, device);
  options.seed = static_cast<uint64_t>(recipe.seed);
  options.shuffle = true;
  options.drop_last = recipe.train.drop_last;
  options.augment.hflip = recipe.data.hflip;
  options.augment.randaugment = recipe.data.randaugment;
  return options;
}

ScheduleParams schedule_params(const TrainSection& train, int64_t steps_per_epoch) {
  ScheduleParams schedule;
  schedule.base_lr = train.lr;
  schedule.warmup_lr_init = train.warmup_lr_init;
  schedule.lr_min = train.lr_min;
  schedule.epochs = train.epochs;
  schedule.warmup_epochs = train.warmup_epochs;
  schedule.per_step = train.schedule == "step";
  schedule.steps_per_epoch = steps_per_epoch;
  return schedule;
}

// Every rank starts from rank 0's values; the hash check proves it before any step.
void start_from_rank0_values(dist::Communicator& comm, FlatParams& flat) {
  comm.broadcast(flat.values(), 0);
  const auto hashes = comm.all_gather(flat.values_hash());
  for (int i = 1; i < comm.size(); ++i)
    if (hashes[i] != hashes[0])
      throw Error(fmt::format("initial trainable values differ on rank {} after the broadcast", i));
}

// Rank 0 only. The file restarts from what the checkpoint knows, so epochs run after the last
// checkpoint of a crashed run are not listed twice.
void restart_metrics_file(const std::string& path, const std::vector<EpochMetrics>& curve) {
  std::string lines;
  for (const auto& metrics : curve) lines += to_json(metrics).dump() + "\n";
  atomic_write(path, lines);
}

// A step's outcome on one rank, agreed over the ranks by max: any failure beats any stop.
// kFailed never leaves train_step, which turns it into the agreed error on every rank.
enum class StepOutcome : int64_t { kContinue = 0, kStop = 1, kFailed = 2 };

StepOutcome agree_step(dist::Communicator& comm, StepOutcome local) {
  return static_cast<StepOutcome>(comm.all_reduce(static_cast<int64_t>(local), dist::ReduceOp::kMax));
}

// The forward pass of one step, kept for the epoch's sums and the progress line.
struct StepTensors {
  at::Tensor logits, per_sample;
};

// The loop of one train_task call over the pieces it set up: epochs, steps, epoch ends, stops.
class TaskTrainer {
 public:
  TaskTrainer(TrainSetup& setup, FlatParams& flat, AdamW& optimizer, Checkpointer& checkpointer,
              data::Loader& loader, TrainState& state, std::string metrics_path);
  TaskTrainer(const TaskTrainer&) = delete;
  TaskTrainer& operator=(const TaskTrainer&) = delete;
  // Runs the epochs from `state`; returns early (preempted) when the ranks agree to stop.
  TrainOutcome run();

 private:
  StepOutcome run_epoch();
  StepOutcome train_step(int64_t epoch, int64_t step, data::Batch& batch);
  std::string forward_backward(int64_t epoch, int64_t step, data::Batch& batch, StepTensors& tensors);
  bool stop_wanted() const;
  std::string where(int64_t epoch, int64_t step) const;
  [[noreturn]] void fail_step(const std::string& failure);
  void accumulate(const StepTensors& tensors, const data::Batch& batch);
  void show_progress(int64_t epoch, int64_t step, double lr, const at::Tensor& per_sample);
  void stop_at(int64_t epoch, int64_t next_step);
  StepOutcome finish_epoch(int64_t epoch, double epoch_start);
  void stop_before_evaluation(const TrainState& trained);
  EpochMetrics epoch_metrics(int64_t epoch, double train_time);
  void evaluate_if_due(EpochMetrics& metrics, bool last);
  void report_selection();
  void record_epoch(const EpochMetrics& metrics);
  void checkpoint_if_due(int64_t epoch, bool last);

  TrainSetup& setup_;
  const Recipe& recipe_;
  dist::Communicator& comm_;
  model::ViTImpl& model_;
  FlatParams& flat_;
  AdamW& optimizer_;
  Checkpointer& checkpointer_;
  DeviceBatches batches_;
  TrainState& state_;
  const int64_t steps_per_epoch_;
  const int64_t train_samples_;
  const ScheduleParams schedule_;
  const std::string metrics_path_;
  const std::vector<std::string> eval_splits_, reported_splits_;
  const std::string selection_split_;  // whose best evaluation state_.best_acc tracks
  TrainOutcome outcome_;
  log::Progress progress_{"train"};
  int64_t steps_run_ = 0;
  double start_time_ = 0;
};

TaskTrainer::TaskTrainer(TrainSetup& setup, FlatParams& flat, AdamW& optimizer, Checkpointer& checkpointer,
                         data::Loader& loader, TrainState& state, std::string metrics_path)
    : setup_(setup),
      recipe_(*setup.recipe),
      comm_(*setup.comm),
      model_(*setup.model),
      flat_(flat),
      optimizer_(optimizer),
      checkpointer_(checkpointer),
      batches_(loader, setup.device),
      state_(state),
      steps_per_epoch_(loader.steps_per_epoch()),
      train_samples_(setup.data->split(recipe_.task.train_split).count),
      schedule_(schedule_params(recipe_.train, steps_per_epoch_)),
      metrics_path_(std::move(metrics_path)),
      eval_splits_(evaluation_splits(recipe_.task)),
      reported_splits_(reported_splits(recipe_)),
      selection_split_(recipe_.train.select_on.empty() ? reported_splits_.front() : recipe_.train.select_on) {}

TrainOutcome TaskTrainer::run() {
  start_time_ = now_s();
  // A stopped run reports its curve but no accuracies: the unit is not finished.
  for (; state_.epoch < recipe_.train.epochs; ++state_.epoch, state_.step = 0)
    if (run_epoch() == StepOutcome::kStop) return outcome_;
  outcome_.curve = state_.curve;
  outcome_.steps_run = steps_run_;
  report_selection();
  return outcome_;
}

// kContinue once the epoch is finished, kStop when the ranks stopped (and checkpointed) in it.
StepOutcome TaskTrainer::run_epoch() {
  const int64_t epoch = state_.epoch;
  const double epoch_start = now_s();
  model_.train();
  data::Batch batch;
  // Resumed mid-epoch: the epoch's batches depend only on (seed, epoch), so skipping the steps
  // already run puts the loader where the interrupted run was. A run stopped during the
  // evaluation resumes with every step run (state_.step == steps_per_epoch_).
  if (state_.step < steps_per_epoch_) batches_.start_epoch(epoch, state_.step);
  for (int64_t step = state_.step; step < steps_per_epoch_; ++step) {
    if (train_step(epoch, step, batch) == StepOutcome::kStop) {
      stop_at(epoch, step + 1);
      return StepOutcome::kStop;
    }
  }
  return finish_epoch(epoch, epoch_start);
}

// Every rank runs the same collectives in the same order whatever happened locally: the
// gradient all-reduce, then the outcome all-reduce, then (on failure) the agreement.
// Returns kContinue or kStop; a failure anywhere is thrown here on every rank.
StepOutcome TaskTrainer::train_step(int64_t epoch, int64_t step, data::Batch& batch) {
  const double lr = learning_rate(schedule_, epoch, step);
  StepTensors tensors;
  std::string failure = forward_backward(epoch, step, batch, tensors);
  comm_.all_reduce(flat_.grads(), dist::ReduceOp::kAvg);
  // The averaged gradient is the same on every rank, and so is this check's verdict.
  if (failure.empty() && !flat_.grads().isfinite().all().item<bool>())
    failure = fmt::format("non-finite gradient at {}", where(epoch, step));
  const bool stop = stop_wanted();
  const StepOutcome local =
      !failure.empty() ? StepOutcome::kFailed : (stop ? StepOutcome::kStop : StepOutcome::kContinue);
  const StepOutcome outcome = agree_step(comm_, local);
  if (outcome == StepOutcome::kFailed) fail_step(failure);
  optimizer_.step(flat_.values(), flat_.grads(), lr);
  accumulate(tensors, batch);
  ++steps_run_;
  show_progress(epoch, step, lr, tensors.per_sample);
  return outcome;
}

// Returns the local failure ("" when fine). A failure on one rank (a corrupt chunk, say) must
// not leave the others waiting in the all-reduce: the failing rank contributes zero gradients
// and the agreed outcome stops all.
std::string TaskTrainer::forward_backward(int64_t epoch, int64_t step, data::Batch& batch, StepTensors& tensors) {
  try {
    if (!batches_.next(batch)) throw Error("loader ended the epoch early");
    seed_step(static_cast<uint64_t>(recipe_.seed), epoch, step, comm_.rank());
    flat_.zero_grad();
    struct ClearKeys {
      model::ViTImpl& model;
      ~ClearKeys() { model.set_drop_path_keys({}); }
    } clear_keys{model_};
    model_.set_drop_path_keys(drop_path_keys(static_cast<uint64_t>(recipe_.seed), epoch, batch.indices));
    {
      ForwardPrecision precision(recipe_.train.precision, setup_.device);
      tensors.logits = model_.forward(batch.images);
    }
    // The loss in float32 whatever the products ran in.
    tensors.logits = tensors.logits.to(at::kFloat);
    tensors.per_sample = smoothed_cross_entropy(tensors.logits, batch.labels, recipe_.train.label_smoothing);
    // Gradients are averaged over ranks; scaling the local sum by world / global count makes
    // that average the mean over the global batch, even for a final partial batch.
    const int64_t batch_size = recipe_.train.batch_size;
    const int64_t global_n = std::min(batch_size, train_samples_ - step * batch_size);
    at::Tensor loss =
        tensors.per_sample.sum() * (static_cast<double>(comm_.size()) / static_cast<double>(global_n));
    // A non-finite loss would train every later step on NaN: the unit fails here instead, and
    // the last checkpoint (written before this step) stays the last good state.
    if (!loss.isfinite().item<bool>())
      throw Error(fmt::format("non-finite training loss ({}) at {}", loss.item<double>(), where(epoch, step)));
    loss.backward();
  } catch (const std::exception& e) {
    std::string failure = e.what();
    flat_.zero_grad();
    return failure;
  }
  return std::string();
}

// "epoch 3/10 step 5/16", counted from 1 as the progress line counts.
std::string TaskTrainer::where(int64_t epoch, int64_t step) const {
  return fmt::format("epoch {}/{} step {}/{}", epoch + 1, recipe_.train.epochs, step + 1, steps_per_epoch_);
}

bool TaskTrainer::stop_wanted() const {
  return (setup_.stop_requested && setup_.stop_requested()) ||
         (setup_.stop_after_steps >= 0 && steps_run_ + 1 >= setup_.stop_after_steps);
}

void TaskTrainer::fail_step(const std::string& failure) {
  const dist::Agreement agreement = dist::agree_on(comm_, failure, failure.empty() ? 0 : kExitFailure);
  progress_.finish();
  throw Error(fmt::format("rank {}: {}", agreement.failed_rank, agreement.message));
}

void TaskTrainer::accumulate(const StepTensors& tensors, const data::Batch& batch) {
  at::NoGradGuard no_grad;
  state_.loss_sum += tensors.per_sample.sum().item<double>();
  state_.correct += static_cast<double>(tensors.logits.argmax(1).eq(batch.labels).sum().item<int64_t>());
  state_.count += static_cast<double>(batch.labels.size(0));
}

void TaskTrainer::show_progress(int64_t epoch, int64_t step, double lr, const at::Tensor& per_sample) {
  const int64_t epochs = recipe_.train.epochs, steps = steps_per_epoch_;
  const double elapsed = now_s() - start_time_;
  const double images_per_s = static_cast<double>(steps_run_ * recipe_.train.batch_size) / elapsed;
  const double eta = elapsed / steps_run_ * ((epochs - epoch) * steps - step - 1);
  progress_.update(fmt::format("epoch {}/{} step {}/{} lr {:.3g} loss {:.4f} {:.0f} img/s ETA {}", epoch + 1,
                               epochs, step + 1, steps, lr, per_sample.mean().item<double>(), images_per_s,
                               fmt_time(eta)));
}

// The agreed stop: checkpoint where the next step would start, and report a preempted run.
void TaskTrainer::stop_at(int64_t epoch, int64_t next_step) {
  progress_.finish();
  TrainState at_stop = state_;
  at_stop.step = next_step;
  checkpointer_.save(at_stop);
  outcome_.preempted = true;
  outcome_.curve = state_.curve;
  outcome_.steps_run = steps_run_;
  log::info("train", "stopped at epoch {} step {}; checkpoint {}", epoch, next_step, checkpointer_.path());
}

// The epoch's wall time counts its evaluation; train_s does not. kStop when the ranks stopped
// (and checkpointed) during the evaluation.
StepOutcome TaskTrainer::finish_epoch(int64_t epoch, double epoch_start) {
  const double train_time = now_s() - epoch_start;
  // The state after the epoch's last step, partial sums kept (epoch_metrics clears them): what a
  // stop during the evaluation checkpoints, so the resumed run redoes the evaluation only.
  TrainState trained = state_;
  trained.step = steps_per_epoch_;
  EpochMetrics metrics = epoch_metrics(epoch, train_time);
  const bool last = epoch + 1 == recipe_.train.epochs;
  try {
    evaluate_if_due(metrics, last);
  } catch (const dist::AgreedStop&) {
    stop_before_evaluation(trained);
    return StepOutcome::kStop;
  }
  metrics.seconds = now_s() - epoch_start;
  outcome_.train_s += train_time;
  record_epoch(metrics);
  checkpoint_if_due(epoch, last);
  return StepOutcome::kContinue;
}

// The agreed stop inside an evaluation (every rank is here): checkpoint the trained epoch.
void TaskTrainer::stop_before_evaluation(const TrainState& trained) {
  progress_.finish();
  checkpointer_.save(trained);
  outcome_.preempted = true;
  outcome_.curve = state_.curve;
  outcome_.steps_run = steps_run_;
  log::info("train", "stopped during the evaluation of epoch {}; checkpoint {} (resuming redoes the evaluation)",
            trained.epoch + 1, checkpointer_.path());
}

// Collective: sums the epoch's partial sums over the ranks, then clears them.
EpochMetrics TaskTrainer::epoch_metrics(int64_t epoch, double train_time) {
  std::vector<double> sums{state_.loss_sum, state_.correct, state_.count};
  comm_.all_reduce(sums, dist::ReduceOp::kSum);
  EpochMetrics metrics;
  metrics.epoch = epoch;
  metrics.lr = learning_rate(schedule_, epoch, 0);  // the lr of the epoch's first step
  metrics.loss = sums[2] > 0 ? sums[0] / sums[2] : 0;
  metrics.train_acc = sums[2] > 0 ? 100.0 * sums[1] / sums[2] : 0;
  metrics.images_per_s = train_time > 0 ? sums[2] / train_time : 0;
  state_.loss_sum = state_.correct = state_.count = 0;
  return metrics;
}

// Every eval_every epochs and after the last, on every evaluation split; eval_acc is the
// headline split's. Tracks the best evaluation of the selection split (kept in checkpoints).
void TaskTrainer::evaluate_if_due(EpochMetrics& metrics, bool last) {
  const int64_t every = recipe_.train.eval_every;
  if (!((every > 0 && (metrics.epoch + 1) % every == 0) || last)) return;
  const double eval_start = now_s();
  const int64_t eval_batch = std::max<int64_t>(1, recipe_.train.batch_size / comm_.size());
  for (const auto& split : eval_splits_) {
    log::debug("train", "epoch {}: evaluating on '{}'", metrics.epoch + 1, split);
    metrics.evals[split] = evaluate(model_, *setup_.data, split, recipe_, comm_, eval_batch, setup_.stop_requested);
  }
  metrics.eval_acc = metrics.evals.at(reported_splits_.front());
  outcome_.eval_s += now_s() - eval_start;
  const double selection_acc = metrics.evals.at(selection_split_);
  if (selection_acc > state_.best_acc) state_.best_acc = selection_acc, state_.best_epoch = metrics.epoch;
  if (eval_splits_.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& split : eval_splits_) parts.push_back(fmt::format("{} {:.2f}%", split, metrics.evals.at(split)));
    log::info("train", "epoch {} eval: {}", metrics.epoch + 1, join(parts, ", "));
  }
}

// The reported accuracies of a finished run, from the curve (see train/selection.h).
void TaskTrainer::report_selection() {
  outcome_.selection = select_epochs(state_.curve, reported_splits_, recipe_.train.select_on);
  const SplitAccuracy& headline = outcome_.selection.splits.front();
  outcome_.best_acc = headline.best;
  outcome_.best_epoch = headline.best_epoch;
  outcome_.last_acc = headline.last;
}

// The curve, metrics.jsonl (rank 0) and the epoch's log line.
void TaskTrainer::record_epoch(const EpochMetrics& metrics) {
  state_.curve.push_back(metrics);
  progress_.finish();
  // Agreed: a failed write on rank 0 (a full disk) must end the unit on every rank, not leave
  // the others waiting in the next step's all-reduce.
  dist::agree_or_throw(comm_, [&] {
    if (comm_.rank() == 0) append_jsonl(metrics_path_, to_json(metrics));
  });
  log::info("train", "epoch {}/{} lr {:.4g} loss {:.4f} train acc {:.2f}%{} {:.0f} img/s {:.1f}s", metrics.epoch + 1,
            recipe_.train.epochs, metrics.lr, metrics.loss, metrics.train_acc,
            metrics.eval_acc ? fmt::format(" eval acc {:.2f}%", *metrics.eval_acc) : std::string(),
            metrics.images_per_s, metrics.seconds);
}

// Collective: every checkpoint_every epochs and after the last, at the start of the next epoch.
void TaskTrainer::checkpoint_if_due(int64_t epoch, bool last) {
  const int64_t every = recipe_.train.checkpoint_every;
  if (!(last || (every > 0 && (epoch + 1) % every == 0))) return;
  TrainState next = state_;
  next.epoch = epoch + 1;
  next.step = 0;
  checkpointer_.save(next);
}

// Adds this rank's {correct, total} over the loader's batches to `counts`, polling before each.
// With `classes` (the split's scored classes, ascending) the prediction is the argmax over those
// logits only.
void count_correct(model::ViTImpl& model, data::Loader& loader, const std::vector<int64_t>& classes,
                   const std::string& precision, at::Tensor& counts, dist::StopPoll& poll) {
  at::NoGradGuard no_grad;
  const at::Device device = counts.device();
  const at::Tensor mask = classes.empty() ? at::Tensor() : at::tensor(classes, at::kLong).to(device);
  data::Batch batch;
  while ((poll.poll(), loader.next(batch))) {
    at::Tensor logits;
    {
      ForwardPrecision scope(precision, device);
      logits = model.forward(batch.images.to(device, /*non_blocking=*/true));
    }
    at::Tensor pred = logits.argmax(1);
    if (mask.defined()) pred = mask.index_select(0, logits.index_select(1, mask).argmax(1));
    // Summed on the device: no host round trip per batch.
    counts[0] += pred.eq(batch.labels.to(device, /*non_blocking=*/true)).sum();
    counts[1] += batch.labels.size(0);
  }
}

}  // namespace

double evaluate(model::ViTImpl& model, const data::TaskFile& file, const std::string& split,
                const Recipe& recipe, dist::Communicator& comm, int64_t batch,
                const std::function<bool()>& stop_requested) {
  // The loader shares the file: the caller keeps it alive for the whole call.
  std::shared_ptr<const data::TaskFile> shared(&file, [](const data::TaskFile*) {});
  const at::Device device = model.parameters().front().device();
  data::Loader loader(shared, loader_options(recipe, split, data::LoaderMode::kEval, batch, comm, device));
  loader.start_epoch(0);
  struct RestoreMode {
    model::ViTImpl& model;
    bool was_training;
    ~RestoreMode() { model.train(was_training); }
  } restore{model, model.is_training()};
  model.eval();
  at::Tensor counts = at::zeros({2}, at::TensorOptions().dtype(at::kLong).device(device));  // correct, total
  // A rank that fails (a corrupt chunk) must not leave the others in a collective, and a stop
  // agreed before any batch ends the evaluation on every rank (AgreedStop) within one batch.
  dist::StopPoll poll(comm, stop_requested, loader.steps_per_epoch(), fmt::format("the evaluation on '{}'", split));
  std::string failure;
  try {
    count_correct(model, loader, file.split(split).classes, recipe.train.precision, counts, poll);
  } catch (const dist::StopPoll::PeerFailed&) {
  } catch (const dist::AgreedStop&) {
    throw;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const dist::Agreement agreement = poll.finish(failure);
  if (agreement.failed)
    throw Error(fmt::format("evaluation on '{}', rank {}: {}", split, agreement.failed_rank, agreement.message));
  comm.all_reduce(counts, dist::ReduceOp::kSum);
  const at::Tensor host = counts.to(at::kCPU);
  const int64_t correct = host[0].item<int64_t>(), total = host[1].item<int64_t>();
  SCT_CHECK(total == file.split(split).count, "evaluation did not visit every sample once");
  return total ? 100.0 * static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

// The order is part of the behaviour: values are made equal before a checkpoint may replace
// them (every rank reads the same file), and set-up errors surface in the same order at every
// world size.
TrainOutcome train_task(TrainSetup& setup) {
  const Recipe& recipe = *setup.recipe;
  dist::Communicator& comm = *setup.comm;
  const MatmulPrecision matmul_precision(recipe.train.precision, setup.device);
  if (setup.device.is_cuda()) torch_compat::set_deterministic(recipe.train.deterministic);
  FlatParams flat(setup.trainable);
  start_from_rank0_values(comm, flat);
  AdamW optimizer(flat.numel(), recipe.train.betas[0], recipe.train.betas[1], recipe.train.eps,
                  recipe.train.weight_decay, setup.device);
  Checkpointer checkpointer(comm, setup.unit_dir, setup.recipe_hash, setup.checkpoint_meta, flat, optimizer);
  TrainState state;
  const bool resumed = checkpointer.resume(state);
  // A checkpoint written before evaluations were kept per split evaluated only eval_split, which
  // is then the recipe's one evaluation split (the new keys at their defaults keep its hash).
  for (auto& m : state.curve)
    if (m.eval_acc && m.evals.empty()) m.evals[recipe.task.eval_split] = *m.eval_acc;
  data::Loader loader(setup.data, train_loader_options(recipe, comm, setup.device));
  const std::string metrics_path = (std::filesystem::path(setup.unit_dir) / "metrics.jsonl").string();
  dist::agree_or_throw(comm, [&] {
    if (comm.rank() == 0) restart_metrics_file(metrics_path, state.curve);
  });
  TaskTrainer trainer(setup, flat, optimizer, checkpointer, loader, state, metrics_path);
  TrainOutcome outcome = trainer.run();
  outcome.resumed = resumed;
  return outcome;
}

}  // namespace sct::train
