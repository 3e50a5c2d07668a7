#include "framework/train/schedule.h"

#include <cmath>

namespace sct::train {

double cosine_with_warmup(double t, double base, double warmup_init, double lr_min, double warmup_t,
                          double t_initial) {
  if (t < warmup_t) return warmup_init + t * (base - warmup_init) / warmup_t;
  // timm without warmup_prefix: the cosine runs over the whole t_initial, warm-up included.
  if (t >= t_initial) return lr_min;
  return lr_min + 0.5 * (base - lr_min) * (1.0 + std::cos(M_PI * t / t_initial));
}

double learning_rate(const ScheduleParams& p, int64_t epoch, int64_t step) {
  if (!p.per_step) {
    if (epoch == 0) return p.warmup_lr_init;
    return cosine_with_warmup(static_cast<double>(epoch - 1), p.base_lr, p.warmup_lr_init, p.lr_min,
                              static_cast<double>(p.warmup_epochs), static_cast<double>(p.epochs));
  }
  // timm's step_update(num_updates): the lr of update u is f(u) in steps.
  const double s = static_cast<double>(p.steps_per_epoch);
  const double u = static_cast<double>(epoch) * s + static_cast<double>(step);
  return cosine_with_warmup(u, p.base_lr, p.warmup_lr_init, p.lr_min, p.warmup_epochs * s, p.epochs * s);
}

}  // namespace sct::train
