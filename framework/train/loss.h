// Label-smoothed cross-entropy of the reference recipe: (1-s)·NLL + s·mean_k(-log p_k),
// per sample, so the caller decides how samples are weighted across ranks.
#pragma once

#include <ATen/core/Tensor.h>

namespace sct::train {

// logits (N, C) float, labels (N) int64 → per-sample losses (N).
at::Tensor smoothed_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, double smoothing);

}  // namespace sct::train
