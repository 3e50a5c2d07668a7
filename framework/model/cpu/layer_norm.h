// LayerNorm over the last dimension, y = (x - mean) / sqrt(var + eps) * weight + bias.
//
// On x86 CPUs in float32 (SCT_CPU_KERNELS, vector_math.h) rows are normalised by a vectorised loop
// (ATen's kernel spends most of its time per row on rows as short as a ViT's width), and the
// backward computes the input's gradient in one pass per row; the weight and bias gradients, needed
// only when they are trained (full fine-tuning), come from ATen reductions. Other devices and
// dtypes use at::layer_norm.
#pragma once

#include <ATen/core/Tensor.h>

namespace sct::model {

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);

}  // namespace sct::model
