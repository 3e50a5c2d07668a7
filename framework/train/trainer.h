// The data-parallel training loop of one task: reference recipe semantics (AdamW, per-epoch
// cosine schedule with warm-up, label smoothing, evaluation every N epochs), gradients of the
// trainable set averaged as one flat buffer per step, exact sharded evaluation, metrics
// JSON lines, atomic checkpoints, resume, and agreed stops (preemption) at step boundaries and
// inside evaluations.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/recipe.h"
#include "framework/train/metrics.h"
#include "framework/train/selection.h"
#include "framework/train/task_checkpoint.h"  // checkpoint_path: the file train_task resumes from

namespace sct::dist {
class Communicator;
}
namespace sct::data {
class TaskFile;
}
namespace sct::model {
class ViTImpl;
}

namespace sct::train {

struct TrainSetup {
  const Recipe* recipe = nullptr;
  dist::Communicator* comm = nullptr;  // the ranks training this task together
  model::ViTImpl* model = nullptr;  // on `device`, with every trainable tensor
  c10::Device device{c10::DeviceType::CPU};  // where batches, the flat buffers and AdamW live
  // The run's trainable registry, in a fixed order: what the optimizer updates, the all-reduce
  // packs and the checkpoint holds.
  std::vector<std::pair<std::string, at::Tensor>> trainable;
  std::shared_ptr<const data::TaskFile> data;
  std::string unit_dir;       // metrics.jsonl and checkpoint.safetensors (rank 0 writes)
  std::string recipe_hash;    // a checkpoint of another recipe is refused
  nlohmann::json checkpoint_meta = nlohmann::json::object();  // saved with every checkpoint
  // Polled at every step boundary and before every evaluation batch; when true on any rank, all
  // ranks checkpoint and stop.
  std::function<bool()> stop_requested;
  int64_t stop_after_steps = -1;  // stop as if preempted after this many steps of this process
};

struct TrainOutcome {
  bool preempted = false;
  bool resumed = false;
  std::vector<EpochMetrics> curve;
  // The headline split (reported_splits(recipe)[0]): at its own best evaluation (the reference's
  // test selection) or, with train.select_on, at the selected epoch; and after the final epoch.
  double best_acc = -1;    // percent
  int64_t best_epoch = -1;
  double last_acc = -1;    // percent
  Selection selection;     // every reported split, and how the epoch was chosen
  double train_s = 0, eval_s = 0;
  int64_t steps_run = 0;   // training steps this call ran (not counting a resumed run's earlier ones)
};

// Runs (or resumes, from unit_dir/checkpoint.safetensors) the task's training.
TrainOutcome train_task(TrainSetup& setup);

// Top-1 accuracy (percent) on `split`, each sample visited once across the ranks of `comm`, on
// the model's device at recipe.train.precision (counts reduced over `comm`: NCCL on GPUs). A
// split with scored classes (SplitInfo::classes, e.g. ImageNet-A's 200) is scored by the
// argmax over those classes' logits only. `stop_requested` (may be empty) is polled and agreed
// before every batch; a stop throws dist::AgreedStop on every rank (exit code 3) within one
// batch of the signal.
double evaluate(model::ViTImpl& model, const data::TaskFile& data, const std::string& split,
                const Recipe& recipe, dist::Communicator& comm, int64_t batch,
                const std::function<bool()>& stop_requested = {});

}  // namespace sct::train
