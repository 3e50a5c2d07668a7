// A task checkpoint: only what training changes (the flat trainable values, AdamW moments),
// plus where to resume (epoch, step), the curve so far, and what identifies the run (recipe
// hash, trainable names and shapes, extra state such as the selected channels).
// One .safetensors file, written atomically.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "framework/train/flat_params.h"
#include "framework/train/metrics.h"

namespace sct::train {

struct TrainState {
  int64_t epoch = 0;          // epoch to run next
  int64_t step = 0;           // first step of `epoch` not yet run (mid-epoch preemption)
  int64_t adam_steps = 0;
  std::vector<EpochMetrics> curve;
  double best_acc = -1;       // percent; -1 before the first evaluation
  int64_t best_epoch = -1;
  // Partial sums of the interrupted epoch (all ranks), so its metrics come out the same.
  double loss_sum = 0, correct = 0, count = 0;
};

struct TaskCheckpoint {
  std::string recipe_hash;
  int world_size = 1;
  std::vector<FlatEntry> entries;
  nlohmann::json meta;        // caller's extra state (e.g. {"channels": ...})
  TrainState state;
  at::Tensor values, exp_avg, exp_avg_sq;
};

// Where a unit's training checkpoint lives: unit_dir/checkpoint.safetensors.
std::string checkpoint_path(const std::string& unit_dir);

void save_task_checkpoint(const std::string& path, const TaskCheckpoint& ckpt);
TaskCheckpoint load_task_checkpoint(const std::string& path);

// The recipe hash a checkpoint was written for, from its header alone; "" when the file cannot
// be read as a task checkpoint (resuming from it then reports why).
std::string checkpoint_recipe_hash(const std::string& path);

// Throws InputError naming `path` and the reason when `ckpt` cannot continue this run:
// another recipe (hash), other trainable tensors (names or shapes), or other extra state.
void check_compatible(const std::string& path, const TaskCheckpoint& ckpt, const std::string& recipe_hash,
                      const std::vector<FlatEntry>& entries);

}  // namespace sct::train
