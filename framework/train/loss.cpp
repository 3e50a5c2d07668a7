#include "framework/train/loss.h"

#include <ATen/ATen.h>

namespace sct::train {

at::Tensor smoothed_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, double smoothing) {
  at::Tensor logp = at::log_softmax(logits, /*dim=*/1);
  at::Tensor nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1);
  if (smoothing == 0.0) return nll;
  at::Tensor uniform = -logp.mean(1);
  return nll * (1.0 - smoothing) + uniform * smoothing;
}

}  // namespace sct::train
