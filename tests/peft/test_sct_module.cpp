// The SCT module against explicit loops, finite differences (float64) and its init; channels
// outside the selection pass unchanged in value and gradient; install_sct on a tiny ViT.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/channels.h"
#include "framework/peft/sct_module.h"

namespace sct::peft {
namespace {

using Group = SctAdapterImpl::Group;

// Reference: y[n, j] = x[n, j] for j outside every group; for group g with channels c_0..c_{K-1}:
// y[n, c_a] = f(x[n, c_a], sum_b W[a, b] x[n, c_b] + bias[a]) by the scale form.
at::Tensor reference(const at::Tensor& x2d, const SctAdapterImpl& m, ScaleForm form, double s) {
  at::Tensor y = x2d.clone();
  auto X = x2d.accessor<double, 2>();
  auto Y = y.accessor<double, 2>();
  for (size_t g = 0; g < m.groups().size(); ++g) {
    const auto& c = m.groups()[g].channels;
    const at::Tensor w = m.weight(g), bias = m.bias(g);
    auto W = w.accessor<double, 2>();
    auto B = bias.accessor<double, 1>();
    for (int64_t n = 0; n < x2d.size(0); ++n)
      for (size_t a = 0; a < c.size(); ++a) {
        double lin = B[int64_t(a)];
        for (size_t b = 0; b < c.size(); ++b) lin += W[int64_t(a)][int64_t(b)] * X[n][c[b]];
        const double xa = X[n][c[a]];
        Y[n][c[a]] = form == ScaleForm::kNone ? xa + lin : form == ScaleForm::kResidual ? xa + s * lin : s * xa + lin;
      }
  }
  return y;
}

std::shared_ptr<SctAdapterImpl> make(ScaleForm form, double s, uint64_t seed = 1) {
  auto m = std::make_shared<SctAdapterImpl>(9, std::vector<Group>{{"q", {1, 4, 6}}, {"v", {0, 7}}}, form, s, seed);
  m->to(at::kDouble);
  at::NoGradGuard ng;
  for (auto& p : m->parameters()) p.uniform_(-0.5, 0.5);  // biases non-zero too
  return m;
}

TEST(SctModule, ForwardMatchesExplicitLoopsForEveryScaleForm) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({2, 5, 9}, at::kDouble);
  for (auto [form, s] : std::vector<std::pair<ScaleForm, double>>{
           {ScaleForm::kNone, 1.0}, {ScaleForm::kResidual, 0.3}, {ScaleForm::kOnX, 1.7}}) {
    auto m = make(form, s);
    at::Tensor y = m->forward(x);
    at::Tensor want = reference(x.reshape({10, 9}), *m, form, s).reshape({2, 5, 9});
    EXPECT_LT((y - want).abs().max().item<double>(), 1e-14) << int(form);
    for (int64_t j : {2, 3, 5, 8})  // outside both groups: bitwise unchanged
      EXPECT_TRUE(at::equal(y.select(2, j), x.select(2, j))) << j;
  }
}

TEST(SctModule, GradientsMatchFiniteDifferences) {
  at::manual_seed(4);
  for (auto [form, s] : std::vector<std::pair<ScaleForm, double>>{{ScaleForm::kNone, 1.0}, {ScaleForm::kOnX, 0.6}}) {
    auto m = make(form, s);
    at::Tensor x = at::randn({3, 9}, at::kDouble).requires_grad_(true);
    const at::Tensor r = at::randn({3, 9}, at::kDouble);
    (m->forward(x) * r).sum().backward();
    auto loss = [&] {
      at::NoGradGuard ng;
      return (m->forward(x) * r).sum().item<double>();
    };
    const double eps = 1e-6;
    std::vector<at::Tensor> tensors = m->parameters();
    tensors.push_back(x);
    double worst = 0;
    for (at::Tensor& t : tensors) {
      at::Tensor flat = t.detach().view({-1});
      at::Tensor grad = t.grad().reshape({-1});
      for (int64_t i = 0; i < flat.numel(); ++i) {
        const double v = flat[i].item<double>();
        flat[i] = v + eps;
        const double up = loss();
        flat[i] = v - eps;
        const double down = loss();
        flat[i] = v;
        worst = std::max(worst, std::abs((up - down) / (2 * eps) - grad[i].item<double>()));
      }
    }
    EXPECT_LT(worst, 1e-8) << int(form);
    // Channels outside the selection: the upstream gradient passes through unchanged.
    for (int64_t j : {2, 3, 5, 8}) EXPECT_TRUE(at::equal(x.grad().select(1, j), r.select(1, j))) << j;
  }
}

TEST(SctModule, InitIsSeededTruncatedNormalWithZeroBias) {
  std::vector<int64_t> c(96);
  for (int64_t i = 0; i < 96; ++i) c[size_t(i)] = 2 * i;
  SctAdapterImpl a(200, {{"", c}}, ScaleForm::kNone, 1.0, 17), b(200, {{"", c}}, ScaleForm::kNone, 1.0, 17);
  SctAdapterImpl other(200, {{"", c}}, ScaleForm::kNone, 1.0, 18);
  EXPECT_TRUE(at::equal(a.weight(0), b.weight(0)));
  EXPECT_FALSE(at::equal(a.weight(0), other.weight(0)));
  EXPECT_NEAR(a.weight(0).std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(a.weight(0).mean().item<double>(), 0.0, 0.001);
  EXPECT_LE(a.weight(0).abs().max().item<double>(), 2.0);
  EXPECT_EQ(a.bias(0).abs().sum().item<double>(), 0.0);
  std::vector<std::string> names;
  for (const auto& p : a.named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias"}));
  EXPECT_THROW(SctAdapterImpl(4, {{"", {1, 1}}}, ScaleForm::kNone, 1.0, 0), Error);  // duplicate channel
  EXPECT_THROW(parse_scale_form("scaleonx"), InputError);
}

ChannelSelection selection(const std::string& mode, int64_t depth, int64_t dim, int64_t k) {
  ChannelSelection s = random_selection(mode, depth, dim, k, 5);
  s.strategy = "cais";
  return s;
}

TEST(InstallSct, ModulesAtTheModeSiteWithTimmStyleNames) {
  model::ViTConfig c;
  c.dim = 16;
  c.depth = 2;
  c.heads = 2;
  c.patch = 4;
  c.image_size = 8;
  at::manual_seed(0);
  model::ViT vit(c);
  vit->eval();
  const at::Tensor images = at::randn({2, 3, 8, 8});
  at::NoGradGuard ng;
  const at::Tensor plain = vit->forward_tokens(images);
  PeftSection p;
  p.k = 3;
  for (const std::string mode : {"attn", "mlp", "qkv"}) {
    p.mode = mode;
    const ChannelSelection sel = selection(mode, 2, 16, 3);
    install_sct(*vit, sel, p, 1);
    auto ad = std::dynamic_pointer_cast<SctAdapterImpl>(vit->adapter(1, mode_site(mode)));
    ASSERT_TRUE(ad) << mode;
    if (mode == "qkv") {
      std::vector<int64_t> v = sel.layers[1].indices[1];
      for (int64_t& j : v) j += 32;  // 2D
      EXPECT_EQ(ad->groups()[1].channels, v);
      EXPECT_EQ(ad->width(), 48);
    }
    const std::string prefix = std::string("blocks.1.") + model::ViTImpl::adapter_name(mode_site(mode)) + ".";
    auto params = vit->named_parameters();
    EXPECT_TRUE(params.contains(prefix + (mode == "qkv" ? "v_weight" : "weight"))) << prefix;
    // Zero maps are the identity, bitwise; a non-zero bias changes the output.
    for (auto& t : ad->parameters()) t.zero_();
    for (int64_t l = 0; l < 2; ++l)
      for (auto& t : vit->adapter(l, mode_site(mode))->parameters()) t.zero_();
    EXPECT_TRUE(at::equal(vit->forward_tokens(images), plain)) << mode;
    ad->bias(0).fill_(0.5);
    EXPECT_FALSE(at::equal(vit->forward_tokens(images), plain)) << mode;
    vit->set_adapter(0, mode_site(mode), nullptr);
    vit->set_adapter(1, mode_site(mode), nullptr);
  }
  p.mode = "attn";
  EXPECT_THROW(install_sct(*vit, selection("mlp", 2, 16, 3), p, 1), InputError);   // mode
  EXPECT_THROW(install_sct(*vit, selection("attn", 2, 16, 4), p, 1), InputError);  // K
  EXPECT_THROW(install_sct(*vit, selection("attn", 3, 16, 3), p, 1), InputError);  // depth
}

}  // namespace
}  // namespace sct::peft
