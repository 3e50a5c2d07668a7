// The exact (erf) GELU, x * Phi(x), with a backward that is one multiplication.
//
// On x86 CPUs in float32 (SCT_CPU_KERNELS, vector_math.h) the forward pass computes, in the same
// sweep, the derivative Phi(x) + x * phi(x) and keeps it in place of the input; the backward pass
// multiplies the incoming gradient by it. (ATen's GELU backward evaluates erf and exp a second
// time.) Erf is Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the approximation ATen's vectorised
// erf uses, sharing its exp(-x^2/2) with phi. Other devices, dtypes and architectures use at::gelu.
#pragma once

#include <ATen/core/Tensor.h>

namespace sct::model {

at::Tensor gelu(const at::Tensor& x);

// The copies of the hand-written CPU kernels (GELU, LayerNorm, attention) this process runs:
// "avx512", "avx2" or "baseline" from the CPU's features; "off (ATen)" without SCT_CPU_KERNELS.
const char* cpu_kernel_set();

}  // namespace sct::model
