// Multi-head attention, softmax(q k^T / sqrt(hd)) v, computed straight from the qkv Linear's output
// and written straight in the layout the output projection reads.
//
// On x86 CPUs in float32 (SCT_CPU_KERNELS, vector_math.h) the heads are read and written in place
// through the matrix strides: no permute copies of q, k, v or the output, one BLAS call per
// (sample, head) and product with the softmax (and its backward) applied to that head's scores
// while they are in cache, and a backward that fills the qkv gradient directly (dq, dk, dv side by
// side) instead of stacking three gradients. Other devices, dtypes and architectures take the plain
// ATen formulation. Both give the same values to rounding (tests/model/test_kernels.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sct::model {

// qkv: (B, N, 3D), q | k | v along the last dimension, heads of D/H channels each.
// Returns (B, N, D), heads side by side.
at::Tensor attention_qkv(const at::Tensor& qkv, int64_t heads);

// Queries from q (B, Nq, D), keys and values from kv (B, N, 2D) (k | v). Returns (B, Nq, D).
// The last block's CLS-only pass uses it with Nq = 1.
at::Tensor attention_q_kv(const at::Tensor& q, const at::Tensor& kv, int64_t heads);

// The ATen formulation for q (B, H, Nq, hd), k and v (B, H, N, hd); returns (B, Nq, H*hd).
at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

}  // namespace sct::model
