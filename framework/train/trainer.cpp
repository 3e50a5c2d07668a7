#include "framework/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/data/loader.h"
#include "framework/data/task_file.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"
#include "framework/model/vit.h"
#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/schedule.h"
#include "framework/train/task_checkpoint.h"

namespace sct::train {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

data::Normalization normalization(const Recipe& r) {
  data::Normalization n;
  for (int c = 0; c < 3; ++c) {
    n.mean[c] = static_cast<float>(r.data.mean[c]);
    n.std[c] = static_cast<float>(r.data.std[c]);
  }
  return n;
}

// DropPath draws from LibTorch's default generator; seeding it per (seed, epoch, step, rank)
// makes every step reproducible on its own, so a run resumed mid-epoch continues bit for bit.
void seed_step(uint64_t seed, int64_t epoch, int64_t step, int rank) {
  uint64_t h = fnv1a64(fmt::format("{}/{}/{}/{}", seed, epoch, step, rank));
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(h);
}

std::string fmt_time(double s) {
  if (s < 90) return fmt::format("{:.0f}s", s);
  if (s < 5400) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}

}  // namespace

std::string checkpoint_path(const std::string& unit_dir) {
  return (std::filesystem::path(unit_dir) / "checkpoint.safetensors").string();
}

double evaluate(model::ViTImpl& model, const data::TaskFile& file, const std::string& split,
                const Recipe& recipe, dist::Communicator& comm, int64_t batch) {
  data::LoaderOptions o;
  o.split = split;
  o.mode = data::LoaderMode::kEval;
  o.batch_size = batch;
  o.rank = comm.rank();
  o.world = comm.size();
  o.normalization = normalization(recipe);
  o.prefetch = static_cast<int>(recipe.data.prefetch);
  // The loader shares the file: the caller keeps it alive for the whole call.
  std::shared_ptr<const data::TaskFile> shared(&file, [](const data::TaskFile*) {});
  data::Loader loader(shared, o);
  loader.start_epoch(0);
  const bool was_training = model.is_training();
  model.eval();
  at::NoGradGuard no_grad;
  std::vector<int64_t> counts{0, 0};  // correct, total
  data::Batch b;
  std::string failure;
  try {
    while (loader.next(b)) {
      at::Tensor pred = model.forward(b.images).argmax(1);
      counts[0] += pred.eq(b.labels).sum().item<int64_t>();
      counts[1] += b.labels.size(0);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  model.train(was_training);
  const dist::Agreement a = dist::agree_on(comm, failure, failure.empty() ? 0 : kExitFailure);
  if (a.failed) throw Error(fmt::format("evaluation on '{}', rank {}: {}", split, a.failed_rank, a.message));
  comm.all_reduce(counts, dist::ReduceOp::kSum);
  SCT_CHECK(counts[1] == file.split(split).count, "evaluation did not visit every sample once");
  return counts[1] ? 100.0 * static_cast<double>(counts[0]) / static_cast<double>(counts[1]) : 0.0;
}

TrainOutcome train_task(TrainSetup& s) {
  const Recipe& r = *s.recipe;
  dist::Communicator& comm = *s.comm;
  model::ViTImpl& model = *s.model;
  const int rank = comm.rank(), world = comm.size();
  TrainOutcome out;

  FlatParams flat(s.trainable);
  // Every rank starts from rank 0's values; the hash check proves it before any step.
  comm.broadcast(flat.values(), 0);
  const auto hashes = comm.all_gather(flat.values_hash());
  for (int i = 1; i < world; ++i)
    if (hashes[i] != hashes[0])
      throw Error(fmt::format("initial trainable values differ on rank {} after the broadcast", i));
  AdamW opt(flat.numel(), r.train.betas[0], r.train.betas[1], r.train.eps, r.train.weight_decay);

  TrainState st;
  const std::string ckpt_path = checkpoint_path(s.unit_dir);
  if (std::filesystem::exists(ckpt_path)) {
    TaskCheckpoint c = load_task_checkpoint(ckpt_path);
    check_compatible(ckpt_path, c, s.recipe_hash, flat.entries());
    if (c.meta != s.checkpoint_meta)
      throw InputError(fmt::format("{}: its saved state ({}) differs from this run's ({})", ckpt_path,
                                   c.meta.dump().substr(0, 200), s.checkpoint_meta.dump().substr(0, 200)));
    at::NoGradGuard no_grad;
    flat.values().copy_(c.values);
    opt.exp_avg().copy_(c.exp_avg);
    opt.exp_avg_sq().copy_(c.exp_avg_sq);
    opt.set_steps(c.state.adam_steps);
    st = c.state;
    if (rank != 0) st.loss_sum = st.correct = st.count = 0;  // the partial sums live on rank 0
    out.resumed = true;
    log::info("train", "resuming {} at epoch {} step {} (checkpoint written by {} rank{})", s.unit_dir,
              st.epoch, st.step, c.world_size, c.world_size == 1 ? "" : "s");
  }

  data::LoaderOptions lo;
  lo.split = r.task.train_split;
  lo.mode = data::LoaderMode::kTrain;
  lo.batch_size = r.train.batch_size;
  lo.rank = rank;
  lo.world = world;
  lo.seed = static_cast<uint64_t>(r.seed);
  lo.shuffle = true;
  lo.drop_last = r.train.drop_last;
  lo.augment.hflip = r.data.hflip;
  lo.augment.randaugment = r.data.randaugment;
  lo.normalization = normalization(r);
  lo.prefetch = static_cast<int>(r.data.prefetch);
  data::Loader loader(s.data, lo);
  const int64_t steps = loader.steps_per_epoch();
  const int64_t n_train = s.data->split(r.task.train_split).count;

  ScheduleParams sp;
  sp.base_lr = r.train.lr;
  sp.warmup_lr_init = r.train.warmup_lr_init;
  sp.lr_min = r.train.lr_min;
  sp.epochs = r.train.epochs;
  sp.warmup_epochs = r.train.warmup_epochs;
  sp.per_step = r.train.schedule == "step";
  sp.steps_per_epoch = steps;

  const std::string metrics_path = (std::filesystem::path(s.unit_dir) / "metrics.jsonl").string();
  if (rank == 0) {
    // The file restarts from what the checkpoint knows, so epochs run after the last checkpoint
    // of a crashed run are not listed twice.
    std::string lines;
    for (const auto& m : st.curve) lines += to_json(m).dump() + "\n";
    atomic_write(metrics_path, lines);
  }
  auto save = [&](const TrainState& state) {
    // Partial sums are per rank; the checkpoint stores their total.
    std::vector<double> sums{state.loss_sum, state.correct, state.count};
    comm.all_reduce(sums, dist::ReduceOp::kSum);
    std::string failure;
    if (rank == 0) {
      try {
        TaskCheckpoint c;
        c.recipe_hash = s.recipe_hash;
        c.world_size = world;
        c.entries = flat.entries();
        c.meta = s.checkpoint_meta;
        c.state = state;
        c.state.adam_steps = opt.steps();
        c.state.loss_sum = sums[0], c.state.correct = sums[1], c.state.count = sums[2];
        c.values = flat.values();
        c.exp_avg = opt.exp_avg();
        c.exp_avg_sq = opt.exp_avg_sq();
        save_task_checkpoint(ckpt_path, c);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
    // Only rank 0 writes; the agreement makes a failed write everyone's error, not a hang.
    const dist::Agreement a = dist::agree_on(comm, failure, failure.empty() ? 0 : kExitFailure);
    if (a.failed) throw Error(a.message);
  };

  log::Progress progress("train");
  int64_t steps_this_process = 0;
  const double t_start = now_s();
  for (; st.epoch < r.train.epochs; ++st.epoch, st.step = 0) {
    const int64_t epoch = st.epoch;
    const double t_epoch = now_s();
    double eval_time = 0;
    model.train();
    loader.start_epoch(epoch);
    data::Batch b;
    for (int64_t skip = 0; skip < st.step; ++skip) loader.next(b);  // resumed mid-epoch
    for (int64_t step = st.step; step < steps; ++step) {
      const double lr = learning_rate(sp, epoch, step);
      // A failure on one rank (a corrupt chunk, say) must not leave the others waiting in the
      // all-reduce: the failing rank contributes zero gradients and the flag below stops all.
      std::string failure;
      at::Tensor logits, per_sample;
      try {
        if (!loader.next(b)) throw Error("loader ended the epoch early");
        seed_step(static_cast<uint64_t>(r.seed), epoch, step, rank);
        flat.zero_grad();
        logits = model.forward(b.images);
        per_sample = smoothed_cross_entropy(logits, b.labels, r.train.label_smoothing);
        // Gradients are averaged over ranks; scaling the local sum by world / global count makes
        // that average the mean over the global batch, even for a final partial batch.
        const int64_t global_n = std::min(r.train.batch_size, n_train - step * r.train.batch_size);
        at::Tensor loss = per_sample.sum() * (static_cast<double>(world) / static_cast<double>(global_n));
        loss.backward();
      } catch (const std::exception& e) {
        failure = e.what();
        flat.zero_grad();
      }
      comm.all_reduce(flat.grads(), dist::ReduceOp::kAvg);
      const bool stop_wanted = (s.stop_requested && s.stop_requested()) ||
                               (s.stop_after_steps >= 0 && steps_this_process + 1 >= s.stop_after_steps);
      const int64_t flag = comm.all_reduce(int64_t(failure.empty() ? (stop_wanted ? 1 : 0) : 2), dist::ReduceOp::kMax);
      if (flag == 2) {
        const dist::Agreement a = dist::agree_on(comm, failure, failure.empty() ? 0 : kExitFailure);
        progress.finish();
        throw Error(fmt::format("rank {}: {}", a.failed_rank, a.message));
      }
      opt.step(flat.values(), flat.grads(), lr);
      {
        at::NoGradGuard no_grad;
        st.loss_sum += per_sample.sum().item<double>();
        st.correct += static_cast<double>(logits.argmax(1).eq(b.labels).sum().item<int64_t>());
        st.count += static_cast<double>(b.labels.size(0));
      }
      ++steps_this_process;
      const double elapsed = now_s() - t_start;
      progress.update(fmt::format("epoch {}/{} step {}/{} lr {:.3g} loss {:.4f} {:.0f} img/s ETA {}", epoch + 1,
                                  r.train.epochs, step + 1, steps, lr, per_sample.mean().item<double>(),
                                  static_cast<double>(steps_this_process * r.train.batch_size) / elapsed,
                                  fmt_time(elapsed / steps_this_process *
                                           ((r.train.epochs - epoch) * steps - step - 1))));
      if (flag == 1) {
        progress.finish();
        TrainState at_stop = st;
        at_stop.step = step + 1;
        save(at_stop);
        out.preempted = true;
        out.curve = st.curve;
        out.steps_run = steps_this_process;
        log::info("train", "stopped at epoch {} step {}; checkpoint {}", epoch, step + 1, ckpt_path);
        return out;
      }
    }
    const double train_time = now_s() - t_epoch;
    std::vector<double> sums{st.loss_sum, st.correct, st.count};
    comm.all_reduce(sums, dist::ReduceOp::kSum);
    EpochMetrics m;
    m.epoch = epoch;
    m.lr = learning_rate(sp, epoch, 0);
    m.loss = sums[2] > 0 ? sums[0] / sums[2] : 0;
    m.train_acc = sums[2] > 0 ? 100.0 * sums[1] / sums[2] : 0;
    m.images_per_s = train_time > 0 ? sums[2] / train_time : 0;
    st.loss_sum = st.correct = st.count = 0;
    const bool last = epoch + 1 == r.train.epochs;
    if ((r.train.eval_every > 0 && (epoch + 1) % r.train.eval_every == 0) || last) {
      const double t0 = now_s();
      const int64_t eval_batch = std::max<int64_t>(1, r.train.batch_size / world);
      m.eval_acc = evaluate(model, *s.data, r.task.eval_split, r, comm, eval_batch);
      eval_time = now_s() - t0;
      out.eval_s += eval_time;
      if (*m.eval_acc > st.best_acc) st.best_acc = *m.eval_acc, st.best_epoch = epoch;
    }
    m.seconds = now_s() - t_epoch;
    out.train_s += train_time;
    st.curve.push_back(m);
    progress.finish();
    if (rank == 0) append_jsonl(metrics_path, to_json(m));
    log::info("train", "epoch {}/{} lr {:.4g} loss {:.4f} train acc {:.2f}%{} {:.0f} img/s {:.1f}s", epoch + 1,
              r.train.epochs, m.lr, m.loss, m.train_acc,
              m.eval_acc ? fmt::format(" eval acc {:.2f}%", *m.eval_acc) : std::string(), m.images_per_s,
              m.seconds);
    if (last || (r.train.checkpoint_every > 0 && (epoch + 1) % r.train.checkpoint_every == 0)) {
      TrainState next = st;
      next.epoch = epoch + 1;
      next.step = 0;
      save(next);
    }
  }
  out.curve = st.curve;
  out.steps_run = steps_this_process;
  out.best_acc = st.best_acc;
  out.best_epoch = st.best_epoch;
  out.last_acc = st.curve.empty() || !st.curve.back().eval_acc ? -1 : *st.curve.back().eval_acc;
  return out;
}

}  // namespace sct::train
