// The model's own kernels against ATen: attention read and written through strides
// (attention.h), forward and gradients; the GELU with a stored derivative (gelu.h) against
// erf in double precision and against finite differences; LayerNorm (layer_norm.h) against
// ATen's, with and without trained weight and bias; and the ViT's CLS-only last block against
// the all-token pass.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "framework/model/cpu/attention.h"
#include "framework/model/cpu/gelu.h"
#include "framework/model/cpu/layer_norm.h"
#include "framework/model/vit.h"

namespace sct::model {
namespace {

at::Tensor heads_of(const at::Tensor& t, int64_t heads) {  // (B, N, D) -> (B, H, N, D/H)
  return t.unflatten(2, {heads, t.size(2) / heads}).transpose(1, 2);
}

void expect_close(const at::Tensor& a, const at::Tensor& b, const char* what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double scale = b.abs().max().item<double>();
  EXPECT_LT((a - b).abs().max().item<double>(), 2e-6 * std::max(scale, 1.0)) << what;
}

TEST(Attention, FusedQkvMatchesATenForwardAndGradient) {
  at::manual_seed(1);
  const int64_t B = 3, N = 7, D = 12, H = 3;
  at::Tensor qkv = at::randn({B, N, 3 * D}).requires_grad_();
  at::Tensor ref_in = qkv.detach().clone().requires_grad_();
  const at::Tensor weight = at::randn({B, N, D});

  at::Tensor out = attention_qkv(qkv, H);
  const auto parts = ref_in.split(D, 2);
  at::Tensor ref = attention_reference(heads_of(parts[0], H), heads_of(parts[1], H), heads_of(parts[2], H));
  expect_close(out, ref, "output");
  (out * weight).sum().backward();
  (ref * weight).sum().backward();
  expect_close(qkv.grad(), ref_in.grad(), "qkv gradient");
  EXPECT_GT(qkv.grad().abs().min().item<float>(), 0.f);  // every q, k, v entry gets a gradient
}

TEST(Attention, SplitQueriesMatchATenForOneAndManyQueries) {
  at::manual_seed(2);
  const int64_t B = 2, N = 9, D = 16, H = 4;
  for (int64_t nq : {int64_t(1), int64_t(5)}) {
    at::Tensor q = at::randn({B, nq, D}).requires_grad_(), kv = at::randn({B, N, 2 * D}).requires_grad_();
    at::Tensor q2 = q.detach().clone().requires_grad_(), kv2 = kv.detach().clone().requires_grad_();
    const at::Tensor weight = at::randn({B, nq, D});
    at::Tensor out = attention_q_kv(q, kv, H);
    at::Tensor ref = attention_reference(heads_of(q2, H), heads_of(kv2.narrow(2, 0, D), H),
                                         heads_of(kv2.narrow(2, D, D), H));
    expect_close(out, ref, "output");
    (out * weight).sum().backward();
    (ref * weight).sum().backward();
    expect_close(q.grad(), q2.grad(), "q gradient");
    expect_close(kv.grad(), kv2.grad(), "kv gradient");
  }
}

TEST(Attention, NonFloatTensorsTakeTheATenPath) {
  at::manual_seed(3);
  at::Tensor qkv = at::randn({2, 5, 24}, at::kDouble);
  at::Tensor f = attention_qkv(qkv.to(at::kFloat), 2).to(at::kDouble);
  expect_close(attention_qkv(qkv, 2), f, "double vs float");
}

TEST(Gelu, MatchesErfInDoubleAndItsDerivative) {
  // Every regime: the far tails (clamped exp), the body, and values near zero.
  at::Tensor x = at::cat({at::linspace(-30, 30, 6001), at::randn({20000}) * 3, at::randn({1000}) * 1e-3});
  at::Tensor xd = x.to(at::kDouble).requires_grad_();
  at::Tensor ref = 0.5 * xd * (1 + at::erf(xd / std::sqrt(2.0)));
  ref.sum().backward();
  at::Tensor xf = x.clone().requires_grad_();
  at::Tensor y = model::gelu(xf);
  y.sum().backward();
  // Absolute error bounded by |x| * 1e-7 plus float rounding; the derivative to 1e-6.
  at::Tensor err = (y.to(at::kDouble) - ref.detach()).abs() / (1 + xd.detach().abs());
  EXPECT_LT(err.max().item<double>(), 2e-7);
  EXPECT_LT((xf.grad().to(at::kDouble) - xd.grad()).abs().max().item<double>(), 1e-6);
  // Against ATen's own GELU and its backward (float).
  at::Tensor xa = x.clone().requires_grad_();
  at::gelu(xa).sum().backward();
  EXPECT_LT((y - at::gelu(x)).abs().max().item<float>(), 1e-5f);
  EXPECT_LT((xf.grad() - xa.grad()).abs().max().item<float>(), 1e-5f);
}

TEST(Gelu, BackwardMatchesFiniteDifferencesAndEvalSkipsTheDerivative) {
  at::manual_seed(5);
  at::Tensor x = at::randn({3, 5, 7}, at::kFloat).requires_grad_();
  const at::Tensor w = at::randn({3, 5, 7});
  const at::Tensor y_kept = model::gelu(x);  // keeps the derivative
  (y_kept * w).sum().backward();
  at::NoGradGuard ng;
  const double h = 1e-3;
  at::Tensor xd = x.detach().to(at::kDouble);
  auto f = [&](const at::Tensor& t) { return 0.5 * t * (1 + at::erf(t / std::sqrt(2.0))); };
  at::Tensor fd = (f(xd + h) - f(xd - h)) / (2 * h) * w.to(at::kDouble);
  EXPECT_LT((x.grad().to(at::kDouble) - fd).abs().max().item<double>(), 1e-5);
  // Without gradients the values are the same (only the derivative is not kept).
  EXPECT_TRUE(at::equal(model::gelu(x.detach()), y_kept.detach()));
  // Non-contiguous input and a double input (ATen's path) agree with the float kernel.
  at::Tensor t = at::randn({6, 4}).t();
  EXPECT_TRUE(at::allclose(model::gelu(t), model::gelu(t.contiguous())));
  EXPECT_LT((model::gelu(t.to(at::kDouble)) - model::gelu(t).to(at::kDouble)).abs().max().item<double>(), 1e-6);
}

// Output and gradients of the float kernel and of ATen's float LayerNorm, each against ATen in
// float64: the kernel must be about as accurate as ATen (rows with a large common offset lose
// digits in float either way).
TEST(LayerNorm, AsAccurateAsATenAgainstFloat64) {
  at::manual_seed(6);
  // Widths below, at and above the 16-wide partial sums.
  for (int64_t n : {int64_t(7), int64_t(16), int64_t(96), int64_t(100)}) {
    for (double offset : {0.0, 50.0}) {
      SCOPED_TRACE(::testing::Message() << "width " << n << " offset " << offset);
      const at::Tensor x0 = at::randn({3, 11, n}) * 2 + at::randn({3, 11, 1}) * offset;
      const at::Tensor w0 = at::rand({n}) + 0.5, b0 = at::randn({n}), r = at::randn({3, 11, n});
      auto run = [&](bool ours, at::ScalarType type) {
        at::Tensor x = x0.to(type).clone().requires_grad_(), w = w0.to(type).clone().requires_grad_(),
                   b = b0.to(type).clone().requires_grad_();
        at::Tensor y = ours ? model::layer_norm(x, w, b, 1e-6) : at::layer_norm(x, {n}, w, b, 1e-6);
        (y * r.to(type)).sum().backward();
        return std::vector<at::Tensor>{y.detach().to(at::kDouble), x.grad().to(at::kDouble),
                                       w.grad().to(at::kDouble), b.grad().to(at::kDouble)};
      };
      const auto mine = run(true, at::kFloat), aten = run(false, at::kFloat), exact = run(false, at::kDouble);
      const char* what[] = {"output", "input gradient", "weight gradient", "bias gradient"};
      for (size_t i = 0; i < mine.size(); ++i) {
        const double scale = std::max(exact[i].abs().max().item<double>(), 1.0);
        const double err = (mine[i] - exact[i]).abs().max().item<double>() / scale;
        const double aten_err = (aten[i] - exact[i]).abs().max().item<double>() / scale;
        EXPECT_LT(err, std::max(2 * aten_err, 2e-6)) << what[i] << " (ATen's error " << aten_err << ")";
      }
    }
  }
}

TEST(LayerNorm, FrozenWeightsGetNoGradientAndOtherTypesUseATen) {
  at::manual_seed(7);
  at::Tensor x = at::randn({5, 24}).requires_grad_();
  const at::Tensor w = at::rand({24}) + 0.5, b = at::randn({24});
  (model::layer_norm(x, w, b, 1e-6) * at::randn({5, 24})).sum().backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // Finite differences in float64 through ATen's path check the float kernel's gradient.
  at::Tensor xd = x.detach().to(at::kDouble);
  const at::Tensor wd = w.to(at::kDouble), bd = b.to(at::kDouble), r = at::randn({5, 24}, at::kDouble);
  at::Tensor xf = x.detach().clone().requires_grad_();
  (model::layer_norm(xf, w, b, 1e-6).to(at::kDouble) * r).sum().backward();
  const double h = 1e-6;
  at::Tensor fd = at::empty_like(xd);
  for (int64_t i = 0; i < xd.numel(); ++i) {
    at::Tensor p = xd.clone(), m = xd.clone();
    p.view(-1)[i] += h;
    m.view(-1)[i] -= h;
    fd.view(-1)[i] = ((model::layer_norm(p, wd, bd, 1e-6) - model::layer_norm(m, wd, bd, 1e-6)) * r).sum() / (2 * h);
  }
  EXPECT_LT((xf.grad().to(at::kDouble) - fd).abs().max().item<double>(), 1e-4);
}

// Per-channel affine adapter: x * w + b, with random w and b so gradients are informative.
struct Affine : Adapter {
  explicit Affine(int64_t width) {
    w = register_parameter("weight", at::rand({width}) + 0.5);
    b = register_parameter("bias", at::randn({width}) * 0.1);
  }
  at::Tensor forward(const at::Tensor& x) override { return x * w + b; }
  at::Tensor w, b;
};

// forward_features runs the last block for the CLS token alone; forward_tokens runs it for
// every token. Same features and same gradients, with DropPath on, at every adapter site: for
// the adapters with a frozen backbone (SCT) and for every parameter when all are trained (full
// fine-tuning, where the last block's qkv weight is used in two slices).
TEST(ViT, ClsOnlyLastBlockEqualsTheAllTokenPass) {
  for (bool full_tuning : {false, true})
    for (Site site : {Site::kAttnOut, Site::kMlpOut, Site::kQkv}) {
      ViTConfig c;
      c.dim = 24, c.depth = 3, c.heads = 3, c.patch = 4, c.image_size = 12, c.num_classes = 0, c.drop_path = 0.4;
      at::manual_seed(4);
      ViT m(c);
      for (auto& p : m->parameters()) p.requires_grad_(full_tuning);
      for (int64_t l = 0; l < c.depth; ++l)
        m->set_adapter(l, site, std::make_shared<Affine>(site == Site::kQkv ? 3 * c.dim : c.dim));
      m->train();
      const at::Tensor x = at::randn({16, 3, 12, 12}), r = at::randn({16, c.dim});
      auto run = [&](bool cls_only) {
        m->zero_grad();
        at::manual_seed(11);  // the same DropPath masks for both passes
        at::Tensor f = cls_only ? m->forward_features(x) : m->forward_tokens(x).select(1, 0);
        (f * r).sum().backward();
        std::vector<std::pair<std::string, at::Tensor>> out{{"features", f.detach()}};
        for (const auto& p : m->named_parameters())
          if (p.value().requires_grad())
            out.emplace_back(p.key(), p.value().grad().defined() ? p.value().grad().clone() : at::Tensor());
        return out;
      };
      const auto fast = run(true), full = run(false);
      ASSERT_EQ(fast.size(), full.size());
      for (size_t i = 0; i < fast.size(); ++i) {
        SCOPED_TRACE(::testing::Message() << ViTImpl::adapter_name(site) << (full_tuning ? " full " : " sct ")
                                          << fast[i].first);
        ASSERT_TRUE(fast[i].second.defined() && full[i].second.defined());
        expect_close(fast[i].second, full[i].second, "value");
      }
      const std::string last = "blocks." + std::to_string(c.depth - 1) + ".";
      const auto& named = m->named_parameters();
      // The last block's adapter gets a gradient; with full tuning, so does its qkv weight.
      EXPECT_GT(named[last + ViTImpl::adapter_name(site) + ".weight"].grad().abs().sum().item<float>(), 0.f);
      if (full_tuning) {
        EXPECT_GT(named[last + "attn.qkv.weight"].grad().abs().sum().item<float>(), 0.f);
      }
    }
}

}  // namespace
}  // namespace sct::model
