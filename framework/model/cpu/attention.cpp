#include "framework/model/cpu/attention.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/custom_function.h>

#include <climits>
#include <cmath>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/torch_compat.h"
#include "framework/model/cpu/vector_math.h"

namespace sct::model {
namespace {

using SgemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);

// The BLAS LibTorch itself calls (it resolves sgemm_ for the whole process).
SgemmFn blas_sgemm() {
  static const auto fn = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  return fn;
}

// Row-major C (M x N) = alpha op(A) op(B) + beta C. Column-major BLAS sees every row-major
// matrix transposed, so it computes C^T = op(B)^T op(A)^T. beta = 0 ignores C's contents.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const int m = int(N), n = int(M), k = int(K), la = int(lda), lb = int(ldb), lc = int(ldc);
  blas_sgemm()(&tb, &ta, &m, &n, &k, &alpha, B, &lb, A, &la, &beta, C, &lc);
}

// Where each head's rows live. Head h of sample b: q rows at q + b*q_batch + h*hd, q_row
// floats apart; k and v likewise with kv_row / kv_batch. Gradients use the same layout.
struct Layout {
  int64_t B = 0, H = 0, Nq = 0, N = 0, hd = 0;
  int64_t q_row = 0, q_batch = 0, kv_row = 0, kv_batch = 0;
  int64_t q_col = 0, k_col = 0, v_col = 0;  // column offsets of q, k, v in their tensors
  float scale = 1.f;
};

// a: qkv (B, N, 3D) when b is undefined; else a = q (B, Nq, D) and b = kv (B, N, 2D).
Layout layout_of(const at::Tensor& a, const at::Tensor& b, int64_t heads) {
  Layout L;
  const bool fused = !b.defined();
  const int64_t D = fused ? a.size(2) / 3 : a.size(2);
  L.B = a.size(0), L.H = heads, L.Nq = a.size(1), L.N = fused ? a.size(1) : b.size(1), L.hd = D / heads;
  L.q_row = a.size(2), L.q_batch = L.Nq * L.q_row;
  L.kv_row = fused ? a.size(2) : b.size(2), L.kv_batch = L.N * L.kv_row;
  L.q_col = 0, L.k_col = fused ? D : 0, L.v_col = fused ? 2 * D : D;
  L.scale = float(1.0 / std::sqrt(double(L.hd)));
  // BLAS takes int sizes and strides; offsets between heads and samples stay 64-bit.
  SCT_CHECK(L.N < INT_MAX && L.q_row < INT_MAX && L.kv_row < INT_MAX, "attention sizes exceed BLAS int range");
  return L;
}

// Softmax of each row in place; and its backward, dS = P * (dP - rowsum(dP * P)), in place
// in dp. Row by row, so one head's scores stay in cache between the products around them.
SCT_ALWAYS_INLINE void softmax_rows_loop(float* s, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* x = s + r * n;
    const float m = vmath::max_of(x, n);
    for (int64_t j = 0; j < n; ++j) x[j] = vmath::exp_nonpositive(x[j] - m);
    const float inv = 1.f / vmath::sum_of(x, n);
    for (int64_t j = 0; j < n; ++j) x[j] *= inv;
  }
}
SCT_ALWAYS_INLINE void softmax_backward_rows_loop(const float* p, float* dp, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = p + r * n;
    float* g = dp + r * n;
    const float dot = vmath::dot_of(g, pr, n);
    for (int64_t j = 0; j < n; ++j) g[j] = pr[j] * (g[j] - dot);
  }
}

SCT_TARGET_AVX512 void softmax_rows_avx512(float* s, int64_t r, int64_t n) { softmax_rows_loop(s, r, n); }
SCT_TARGET_AVX2 void softmax_rows_avx2(float* s, int64_t r, int64_t n) { softmax_rows_loop(s, r, n); }
void softmax_rows_baseline(float* s, int64_t r, int64_t n) { softmax_rows_loop(s, r, n); }
SCT_TARGET_AVX512 void softmax_backward_rows_avx512(const float* p, float* g, int64_t r, int64_t n) {
  softmax_backward_rows_loop(p, g, r, n);
}
SCT_TARGET_AVX2 void softmax_backward_rows_avx2(const float* p, float* g, int64_t r, int64_t n) {
  softmax_backward_rows_loop(p, g, r, n);
}
void softmax_backward_rows_baseline(const float* p, float* g, int64_t r, int64_t n) {
  softmax_backward_rows_loop(p, g, r, n);
}

// Runs f(bh, b, h, scratch) for every (sample, head), split over LibTorch's intra-op threads;
// scratch holds `scratch_floats` floats private to the calling thread.
template <typename F>
void for_heads(const Layout& L, int64_t scratch_floats, const F& f) {
  at::parallel_for(0, L.B * L.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(scratch_floats));
    for (int64_t bh = begin; bh < end; ++bh) f(bh, bh / L.H, bh % L.H, scratch.data());
  });
}

// Returns the output (B, Nq, D) and the softmax probabilities (B*H, Nq, N).
std::pair<at::Tensor, at::Tensor> attention_forward(const Layout& L, const float* qs, const float* kvs) {
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  const int64_t D = L.H * L.hd, NN = L.Nq * L.N;
  at::Tensor probs = at::empty({L.B * L.H, L.Nq, L.N}, opts);
  at::Tensor out = at::empty({L.B, L.Nq, D}, opts);
  float* p = probs.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const auto softmax_rows = vmath::pick(&softmax_rows_avx512, &softmax_rows_avx2, &softmax_rows_baseline);
  for_heads(L, 0, [&](int64_t bh, int64_t b, int64_t h, float*) {
    const float* q = qs + b * L.q_batch + L.q_col + h * L.hd;
    const float* k = kvs + b * L.kv_batch + L.k_col + h * L.hd;
    const float* v = kvs + b * L.kv_batch + L.v_col + h * L.hd;
    float* ph = p + bh * NN;
    gemm(false, true, L.Nq, L.N, L.hd, L.scale, q, L.q_row, k, L.kv_row, 0.f, ph, L.N);  // S = s Q K^T
    softmax_rows(ph, L.Nq, L.N);                                                          // P
    gemm(false, false, L.Nq, L.hd, L.N, 1.f, ph, L.N, v, L.kv_row, 0.f, o + b * L.Nq * D + h * L.hd, D);
  });
  return {out, probs};
}

// Fills the gradients of q (dqs) and of k, v (dkvs), in the inputs' layouts, from the output's.
void attention_backward(const Layout& L, const float* qs, const float* kvs, const at::Tensor& probs,
                        const at::Tensor& grad_out, float* dqs, float* dkvs) {
  const int64_t D = L.H * L.hd, NN = L.Nq * L.N;
  const float* p = probs.data_ptr<float>();
  const float* go = grad_out.data_ptr<float>();
  const auto softmax_backward_rows =
      vmath::pick(&softmax_backward_rows_avx512, &softmax_backward_rows_avx2, &softmax_backward_rows_baseline);
  for_heads(L, NN, [&](int64_t bh, int64_t b, int64_t h, float* ds) {
    const float* dout = go + b * L.Nq * D + h * L.hd;
    const float* q = qs + b * L.q_batch + L.q_col + h * L.hd;
    const float* k = kvs + b * L.kv_batch + L.k_col + h * L.hd;
    const float* v = kvs + b * L.kv_batch + L.v_col + h * L.hd;
    float* dq = dqs + b * L.q_batch + L.q_col + h * L.hd;
    float* dk = dkvs + b * L.kv_batch + L.k_col + h * L.hd;
    float* dv = dkvs + b * L.kv_batch + L.v_col + h * L.hd;
    const float* ph = p + bh * NN;
    gemm(false, true, L.Nq, L.N, L.hd, 1.f, dout, D, v, L.kv_row, 0.f, ds, L.N);             // dP = dO V^T
    gemm(true, false, L.N, L.hd, L.Nq, 1.f, ph, L.N, dout, D, 0.f, dv, L.kv_row);            // dV = P^T dO
    softmax_backward_rows(ph, ds, L.Nq, L.N);                                                 // dS
    gemm(false, false, L.Nq, L.hd, L.N, L.scale, ds, L.N, k, L.kv_row, 0.f, dq, L.q_row);    // dQ = s dS K
    gemm(true, false, L.N, L.hd, L.Nq, L.scale, ds, L.N, q, L.q_row, 0.f, dk, L.kv_row);     // dK = s dS^T Q
  });
}

// Forward and backward for a = qkv (b undefined) or a = q, b = kv; the gradients come back
// in the inputs' layouts. Every gradient element is written: the q, k and v columns cover
// the whole width.
at::Tensor strided_forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b,
                           int64_t heads) {
  const Layout L = layout_of(a, b, heads);
  const float* kvs = b.defined() ? b.data_ptr<float>() : a.data_ptr<float>();
  auto [out, probs] = attention_forward(L, a.data_ptr<float>(), kvs);
  ctx->save_for_backward(b.defined() ? torch::autograd::variable_list{a, probs, b}
                                     : torch::autograd::variable_list{a, probs});
  ctx->saved_data["heads"] = heads;
  return out;
}

torch::autograd::variable_list strided_backward(torch::autograd::AutogradContext* ctx,
                                                const torch::autograd::variable_list& grads) {
  const auto saved = ctx->get_saved_variables();
  const at::Tensor &a = saved[0], &probs = saved[1];
  const at::Tensor b = saved.size() > 2 ? saved[2] : at::Tensor();
  const Layout L = layout_of(a, b, ctx->saved_data["heads"].toInt());
  at::Tensor da = at::empty_like(a), db = b.defined() ? at::empty_like(b) : at::Tensor();
  const float* kvs = b.defined() ? b.data_ptr<float>() : a.data_ptr<float>();
  float* dkvs = b.defined() ? db.data_ptr<float>() : da.data_ptr<float>();
  attention_backward(L, a.data_ptr<float>(), kvs, probs, grads[0].contiguous(), da.data_ptr<float>(), dkvs);
  return b.defined() ? torch::autograd::variable_list{da, db, at::Tensor()}
                     : torch::autograd::variable_list{da, at::Tensor()};
}

struct FusedQkvAttention : public torch::autograd::Function<FusedQkvAttention> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& qkv, int64_t heads) {
    return strided_forward(ctx, qkv, at::Tensor(), heads);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return strided_backward(ctx, grads);
  }
};

struct SplitQkvAttention : public torch::autograd::Function<SplitQkvAttention> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& kv,
                            int64_t heads) {
    return strided_forward(ctx, q, kv, heads);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return strided_backward(ctx, grads);
  }
};

bool strided_path(const at::Tensor& t) {
  return SCT_CPU_KERNELS && t.device().is_cpu() && t.scalar_type() == at::kFloat && blas_sgemm() != nullptr;
}

void check_width(const char* what, int64_t width, int64_t parts, int64_t heads) {
  if (width % parts != 0 || (width / parts) % heads != 0)
    throw InputError(fmt::format("attention: {} width {} is not {} x heads ({}) x head width", what, width, parts,
                                 heads));
}

// (B, N, D) -> (B, H, N, D/H) view.
at::Tensor split_heads(const at::Tensor& t, int64_t heads) {
  return t.unflatten(2, {heads, t.size(2) / heads}).transpose(1, 2);
}

}  // namespace

at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t B = q.size(0), H = q.size(1), Nq = q.size(2), hd = q.size(3);
  const at::Tensor o = torch_compat::scaled_dot_product_attention(q, k, v);
  return o.transpose(1, 2).reshape({B, Nq, H * hd});
}

at::Tensor attention_qkv(const at::Tensor& qkv, int64_t heads) {
  SCT_CHECK(qkv.dim() == 3, "attention: qkv must be (B, N, 3D)");
  check_width("qkv", qkv.size(2), 3, heads);
  if (strided_path(qkv)) return FusedQkvAttention::apply(qkv.contiguous(), heads);
  const int64_t D = qkv.size(2) / 3;
  const std::vector<at::Tensor> parts = qkv.split(D, 2);
  return attention_reference(split_heads(parts[0], heads), split_heads(parts[1], heads),
                             split_heads(parts[2], heads));
}

at::Tensor attention_q_kv(const at::Tensor& q, const at::Tensor& kv, int64_t heads) {
  SCT_CHECK(q.dim() == 3 && kv.dim() == 3 && q.size(0) == kv.size(0) && kv.size(2) == 2 * q.size(2),
            "attention: q must be (B, Nq, D) and kv (B, N, 2D)");
  check_width("q", q.size(2), 1, heads);
  if (strided_path(q)) return SplitQkvAttention::apply(q.contiguous(), kv.contiguous(), heads);
  const int64_t D = q.size(2);
  return attention_reference(split_heads(q, heads), split_heads(kv.narrow(2, 0, D), heads),
                             split_heads(kv.narrow(2, D, D), heads));
}

}  // namespace sct::model
