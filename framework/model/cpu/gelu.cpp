#include "framework/model/cpu/gelu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>

#include "framework/model/cpu/vector_math.h"

namespace sct::model {
namespace {

using vmath::exp_nonpositive;

// Phi(x) = (1 + erf(x / sqrt 2)) / 2 from e = exp(-x^2/2), by A&S 7.1.26.
SCT_ALWAYS_INLINE float normal_cdf(float x, float e) {
  const float z = x * 0.70710678118654752f;
  const float az = z < 0.f ? -z : z;
  const float t = 1.f / (1.f + 0.3275911f * az);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float erf_abs = 1.f - poly * e;
  return 0.5f + 0.5f * (z < 0.f ? -erf_abs : erf_abs);
}

constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// y = x Phi(x); d (if not null) = Phi(x) + x phi(x). The loops vectorise because this file is
// compiled with -fno-trapping-math (see CMakeLists.txt); one copy per instruction set below.
SCT_ALWAYS_INLINE void gelu_loop(const float* __restrict x, float* __restrict y, float* __restrict d,
                                 int64_t n) {
  if (d) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i], e = exp_nonpositive(-0.5f * v * v), cdf = normal_cdf(v, e);
      y[i] = v * cdf;
      d[i] = cdf + v * e * kInvSqrt2Pi;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = v * normal_cdf(v, exp_nonpositive(-0.5f * v * v));
    }
  }
}

using GeluFn = void (*)(const float*, float*, float*, int64_t);

SCT_TARGET_AVX512 void gelu_avx512(const float* x, float* y, float* d, int64_t n) { gelu_loop(x, y, d, n); }
SCT_TARGET_AVX2 void gelu_avx2(const float* x, float* y, float* d, int64_t n) { gelu_loop(x, y, d, n); }
void gelu_baseline(const float* x, float* y, float* d, int64_t n) { gelu_loop(x, y, d, n); }

struct Gelu : public torch::autograd::Function<Gelu> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, bool keep_derivative) {
    const at::Tensor in = x.contiguous();
    at::Tensor y = at::empty_like(in), d = keep_derivative ? at::empty_like(in) : at::Tensor();
    const float* px = in.data_ptr<float>();
    float* py = y.data_ptr<float>();
    float* pd = keep_derivative ? d.data_ptr<float>() : nullptr;
    const GeluFn kernel = vmath::pick(&gelu_avx512, &gelu_avx2, &gelu_baseline);
    at::parallel_for(0, in.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
      kernel(px + begin, py + begin, pd ? pd + begin : nullptr, end - begin);
    });
    if (keep_derivative) ctx->save_for_backward({d});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {grads[0] * ctx->get_saved_variables()[0], at::Tensor()};
  }
};

}  // namespace

at::Tensor gelu(const at::Tensor& x) {
  if (!SCT_CPU_KERNELS || !x.device().is_cpu() || x.scalar_type() != at::kFloat) return at::gelu(x);
  return Gelu::apply(x, at::GradMode::is_enabled() && x.requires_grad());
}

const char* cpu_kernel_set() {
  if (!SCT_CPU_KERNELS) return "off (ATen)";
  switch (vmath::cpu_isa()) {
    case vmath::Isa::kAvx512: return "avx512";
    case vmath::Isa::kAvx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace sct::model
