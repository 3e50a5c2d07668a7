// Driving the saliency pass: the loader over this rank's shard, the model in eval mode, and the
// recipe's choices (mode, strategy, K) turned into a selection.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <memory>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/recipe.h"
#include "framework/data/loader.h"
#include "framework/data/sharding.h"
#include "framework/data/task_file.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"
#include "framework/peft/saliency.h"

namespace sct::peft {

void accumulate_split(model::ViTImpl& model, std::shared_ptr<const data::TaskFile> file,
                      const SaliencyPassOptions& options, int rank, int world, SaliencyAccumulator& acc) {
  const model::ViTConfig& cfg = model.config();
  for (int64_t l = 0; l < cfg.depth; ++l)
    for (auto site : {model::Site::kQkv, model::Site::kAttnOut, model::Site::kMlpOut})
      if (model.adapter(l, site))
        throw Error(fmt::format("saliency: block {} has an adapter installed at {}; the pass needs the plain backbone",
                                l, model::ViTImpl::adapter_name(site)));
  const data::SplitInfo& split = file->split(options.split);
  if (split.height != cfg.image_size || split.width != cfg.image_size)
    throw InputError(fmt::format("{}: split '{}' has {}x{} images, the model expects {}x{} (model.image_size)",
                                 file->path(), options.split, split.height, split.width, cfg.image_size,
                                 cfg.image_size));

  // The images go through the model in global batches whose composition does not depend on the
  // world size: LibTorch's CPU kernels are not bitwise invariant to the batch an image shares
  // (measured: one image's features change in the last bits between batches of 3 and 4), so the
  // world-size invariance of the totals needs every image to see the same batch on any world.
  // Global batch g is the exactly-once kEval shard g of G = ceil(n / batch) shards; each rank
  // takes a contiguous run of them, and the loader of the next one prefetches meanwhile.
  const int64_t n = split.count;
  const int64_t global_batches = std::max<int64_t>(1, (n + options.batch - 1) / options.batch);
  SCT_CHECK(global_batches < (int64_t(1) << 31), "too many saliency batches");
  const auto [g_begin, g_end] = data::balanced_range(global_batches, rank, world);
  auto open = [&](int64_t g) {
    data::LoaderOptions lo;
    lo.split = options.split;
    lo.mode = data::LoaderMode::kEval;
    lo.batch_size = options.batch;
    lo.rank = int(g);
    lo.world = int(global_batches);
    lo.normalization = options.normalization;
    lo.prefetch = 1;
    auto loader = std::make_unique<data::Loader>(file, lo);
    loader->start_epoch(0);
    return loader;
  };

  const at::Tensor first = model.parameters().front();
  const bool was_training = model.is_training();
  model.eval();  // no DropPath
  at::NoGradGuard no_grad;
  log::Progress progress("saliency");
  const auto t0 = std::chrono::steady_clock::now();
  int64_t total = 0, done = 0;
  for (int64_t g = g_begin; g < g_end; ++g) {
    const auto [lo, hi] = data::balanced_range(n, int(g), int(global_batches));
    total += hi - lo;
  }
  double waited = 0;
  data::Batch batch;
  // Collective from here when polling: every rank takes part in the same number of polls.
  std::unique_ptr<dist::StopPoll> poll;
  if (options.poll_comm)
    poll = std::make_unique<dist::StopPoll>(*options.poll_comm, options.stop_requested, g_end - g_begin,
                                            "the saliency pass");
  std::exception_ptr failure;
  std::string failure_text;
  int failure_code = kExitFailure;
  try {
    std::unique_ptr<data::Loader> next = g_begin < g_end ? open(g_begin) : nullptr;
    for (int64_t g = g_begin; g < g_end; ++g) {
      if (poll) poll->poll();
      std::unique_ptr<data::Loader> current = std::move(next);
      if (g + 1 < g_end) next = open(g + 1);
      while (current->next(batch)) {
        const int64_t* labels = batch.labels.data_ptr<int64_t>();
        acc.set_labels(std::vector<int64_t>(labels, labels + batch.labels.numel()));
        model.forward_tokens(batch.images.to(first.device(), first.scalar_type()), &acc);
        done += batch.labels.numel();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        progress.update(fmt::format("{}/{} images on this rank, {:.1f} images/s", done, total, s > 0 ? done / s : 0.0));
      }
      waited += current->wait_seconds();
    }
  } catch (const dist::StopPoll::PeerFailed&) {
  } catch (const dist::AgreedStop&) {
    model.train(was_training);
    throw;
  } catch (const Error& e) {
    failure = std::current_exception(), failure_text = e.what(), failure_code = e.exit_code();
  } catch (const std::exception& e) {
    failure = std::current_exception(), failure_text = e.what();
  }
  try {
    if (poll) poll->finish(failure_text, failure_code);
  } catch (...) {
    model.train(was_training);
    throw;
  }
  if (failure) {
    model.train(was_training);
    std::rethrow_exception(failure);  // on its rank only: the caller's phase agrees on it
  }
  progress.finish();
  model.train(was_training);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::debug("saliency", "{} images of {}:{} in {:.2f} s (rank {} of {}, loader waited {:.2f} s)", done,
             file->path(), options.split, s, rank, world, waited);
}

ChannelSelection select_channels(model::ViTImpl& model, const Recipe& r, dist::Communicator& comm,
                                 const PhaseRunner& local_phase, const std::function<bool()>& stop_requested) {
  auto run = [&](const std::function<void()>& f) { local_phase ? local_phase(f) : f(); };
  const model::ViTConfig& cfg = model.config();
  int64_t k = 0;
  std::unique_ptr<SaliencyAccumulator> acc;
  std::shared_ptr<const data::TaskFile> file;
  SaliencyPassOptions o;
  run([&] {
    check_mode(r.peft.mode);
    check_strategy(r.peft.strategy);
    k = resolve_k(r.peft, cfg.dim);
    if (r.peft.strategy == "random") return;
    if (r.task.data.empty())
      throw InputError(fmt::format("{}: key 'task.data' is empty: the saliency pass needs the task's images",
                                   r.where("task.data")));
    file = std::make_shared<const data::TaskFile>(r.task.data);
    if (r.task.num_classes > 0 && r.task.num_classes != file->num_classes())
      throw InputError(fmt::format("{}: key 'task.num_classes' = {}, but {} has {} classes", r.where("task.num_classes"),
                                   r.task.num_classes, r.task.data, file->num_classes()));
    o.split = r.task.train_split;
    o.batch = r.peft.saliency_batch;
    o.prefetch = int(std::max<int64_t>(1, r.data.prefetch));
    for (int c = 0; c < 3; ++c) {
      o.normalization.mean[size_t(c)] = float(r.data.mean.at(size_t(c)));
      o.normalization.std[size_t(c)] = float(r.data.std.at(size_t(c)));
    }
    acc = std::make_unique<SaliencyAccumulator>(r.peft.mode, cfg.depth, cfg.dim, file->num_classes());
  });
  // Its own phase, entered by every rank with the file open: the pass polls for a stop.
  if (acc) {
    if (local_phase) o.poll_comm = &comm, o.stop_requested = stop_requested;
    run([&] { accumulate_split(model, file, o, comm.rank(), comm.size(), *acc); });
  }
  ChannelSelection sel = r.peft.strategy == "random"
                             ? random_selection(r.peft.mode, cfg.depth, cfg.dim, k, r.seed)
                             : select_from_totals(acc->reduce(comm), r.peft.strategy, k);
  sel.task = r.task.name;
  if (sel.strategy != "random")
    log::info("saliency", "{} mode, {} strategy: {} images, {} of {} classes present, K={} of D={}", sel.mode,
              sel.strategy, sel.images, sel.classes_present, sel.num_classes, k, cfg.dim);
  return sel;
}

}  // namespace sct::peft
