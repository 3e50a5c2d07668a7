// Learning-rate schedule of the reference recipe: timm's CosineLRScheduler with linear
// warm-up, stepped once per epoch after the epoch (method.md §4), plus a per-step variant.
#pragma once

#include <cstdint>

namespace sct::train {

struct ScheduleParams {
  double base_lr = 1e-3;
  double warmup_lr_init = 1e-6;
  double lr_min = 1e-5;
  int64_t epochs = 100;         // t_initial
  int64_t warmup_epochs = 10;   // warmup_t
  bool per_step = false;        // false: the reference (constant within an epoch)
  int64_t steps_per_epoch = 1;  // used when per_step
};

// timm's f(t) in the unit of t (epochs, or steps for the per-step variant).
double cosine_with_warmup(double t, double base, double warmup_init, double lr_min,
                          double warmup_t, double t_initial);

// The lr used by step `step` (0-based, within the epoch) of epoch `epoch` (0-based).
// Reference: lr(0) = warmup_lr_init; lr(e) = f(e - 1) for e >= 1, since the reference steps the
// scheduler with the finished epoch's index.
double learning_rate(const ScheduleParams& p, int64_t epoch, int64_t step = 0);

}  // namespace sct::train
