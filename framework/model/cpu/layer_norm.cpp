#include "framework/model/cpu/layer_norm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "framework/model/cpu/vector_math.h"

namespace sct::model {
namespace {

// y rows from x rows; the mean and 1/std of each row are kept for the backward pass.
SCT_ALWAYS_INLINE void forward_loop(const float* x, const float* w, const float* b, float* y, float* mean,
                                    float* rstd, int64_t rows, int64_t n, float eps) {
  const float inv_n = 1.f / float(n);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m0 = vmath::sum_of(xr, n) * inv_n;
    float s1, s2;
    vmath::centered_sums(xr, m0, n, &s1, &s2);
    const float shift = s1 * inv_n, m = m0 + shift;
    const float var = std::max(s2 * inv_n - shift * shift, 0.f);
    const float rs = 1.f / std::sqrt(var + eps);
    for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    mean[r] = m;
    rstd[r] = rs;
  }
}

// dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy * w, xhat = (x - mean) rstd.
SCT_ALWAYS_INLINE void backward_loop(const float* x, const float* w, const float* dy, const float* mean,
                                     const float* rstd, float* dx, int64_t rows, int64_t n) {
  const float inv_n = 1.f / float(n);
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * n, *dyr = dy + r * n;
    float* dxr = dx + r * n;
    const float m = mean[r], rs = rstd[r];
    vmath::Float16 acc_g = {}, acc_gx = {};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      const vmath::Float16 g = vmath::load16(dyr + j) * vmath::load16(w + j);
      acc_g += g;
      acc_gx += g * ((vmath::load16(xr + j) - m) * rs);
    }
    float sg = vmath::lane_sum(acc_g), sgx = vmath::lane_sum(acc_gx);
    for (; j < n; ++j) {
      const float g = dyr[j] * w[j];
      sg += g;
      sgx += g * ((xr[j] - m) * rs);
    }
    const float a = sg * inv_n, c = sgx * inv_n;
    for (int64_t i = 0; i < n; ++i) dxr[i] = rs * (dyr[i] * w[i] - a - ((xr[i] - m) * rs) * c);
  }
}

using ForwardFn = void (*)(const float*, const float*, const float*, float*, float*, float*, int64_t, int64_t, float);
using BackwardFn = void (*)(const float*, const float*, const float*, const float*, const float*, float*, int64_t,
                            int64_t);

SCT_TARGET_AVX512 void forward_avx512(const float* x, const float* w, const float* b, float* y, float* mean,
                                      float* rstd, int64_t rows, int64_t n, float eps) {
  forward_loop(x, w, b, y, mean, rstd, rows, n, eps);
}
SCT_TARGET_AVX2 void forward_avx2(const float* x, const float* w, const float* b, float* y, float* mean,
                                  float* rstd, int64_t rows, int64_t n, float eps) {
  forward_loop(x, w, b, y, mean, rstd, rows, n, eps);
}
void forward_baseline(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                      int64_t rows, int64_t n, float eps) {
  forward_loop(x, w, b, y, mean, rstd, rows, n, eps);
}
SCT_TARGET_AVX512 void backward_avx512(const float* x, const float* w, const float* dy, const float* mean,
                                       const float* rstd, float* dx, int64_t rows, int64_t n) {
  backward_loop(x, w, dy, mean, rstd, dx, rows, n);
}
SCT_TARGET_AVX2 void backward_avx2(const float* x, const float* w, const float* dy, const float* mean,
                                   const float* rstd, float* dx, int64_t rows, int64_t n) {
  backward_loop(x, w, dy, mean, rstd, dx, rows, n);
}
void backward_baseline(const float* x, const float* w, const float* dy, const float* mean, const float* rstd,
                       float* dx, int64_t rows, int64_t n) {
  backward_loop(x, w, dy, mean, rstd, dx, rows, n);
}

constexpr int64_t kRowsPerTask = 64;

struct LayerNorm : public torch::autograd::Function<LayerNorm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, double eps) {
    const at::Tensor in = x.contiguous(), w = weight.contiguous(), b = bias.contiguous();
    const int64_t n = in.size(-1), rows = in.numel() / n;
    at::Tensor y = at::empty_like(in), mean = at::empty({rows}, in.options()), rstd = at::empty({rows}, in.options());
    const float *px = in.data_ptr<float>(), *pw = w.data_ptr<float>(), *pb = b.data_ptr<float>();
    float *py = y.data_ptr<float>(), *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>();
    const ForwardFn kernel = vmath::pick(&forward_avx512, &forward_avx2, &forward_baseline);
    at::parallel_for(0, rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
      kernel(px + begin * n, pw, pb, py + begin * n, pm + begin, pr + begin, end - begin, n, float(eps));
    });
    ctx->save_for_backward({in, w, mean, rstd});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &in = saved[0], &w = saved[1], &mean = saved[2], &rstd = saved[3];
    const at::Tensor dy = grads[0].contiguous();
    const int64_t n = in.size(-1), rows = in.numel() / n;
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = at::empty_like(in);
      const float *px = in.data_ptr<float>(), *pw = w.data_ptr<float>(), *pdy = dy.data_ptr<float>();
      const float *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>();
      float* pdx = dx.data_ptr<float>();
      const BackwardFn kernel = vmath::pick(&backward_avx512, &backward_avx2, &backward_baseline);
      at::parallel_for(0, rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
        kernel(px + begin * n, pw, pdy + begin * n, pm + begin, pr + begin, pdx + begin * n, end - begin, n);
      });
    }
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) {
      const at::Tensor dy2 = dy.view({rows, n});
      if (ctx->needs_input_grad(1)) {
        const at::Tensor xhat = (in.view({rows, n}) - mean.unsqueeze(1)) * rstd.unsqueeze(1);
        dw = (dy2 * xhat).sum(0);
      }
      if (ctx->needs_input_grad(2)) db = dy2.sum(0);
    }
    return {dx, dw, db, at::Tensor()};
  }
};

}  // namespace

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  const bool fast = SCT_CPU_KERNELS && x.device().is_cpu() && x.scalar_type() == at::kFloat && weight.defined() && bias.defined() &&
                    weight.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat && x.dim() >= 1 &&
                    x.numel() > 0 && weight.numel() == x.size(-1) && bias.numel() == x.size(-1);
  if (!fast) return at::layer_norm(x, {x.size(-1)}, weight, bias, eps);
  return LayerNorm::apply(x, weight, bias, eps);
}

}  // namespace sct::model
