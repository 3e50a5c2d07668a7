// The PEFT baselines (lora, adapter, adaptformer, vpt, ssf): each module's forward against
// explicit float64 loops, its gradients against finite differences, the CLS-only path against
// the all-token path with every method installed, the zero-initialised methods leaving the
// logits unchanged, and the ViT-B/16 parameter counts against the formulas of the issue.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit_config.h"
#include "framework/peft/backbone.h"
#include "framework/peft/method.h"
#include "framework/peft/param_count.h"
#include "framework/peft/trainable.h"
#include "tests/peft/tiny_recipe.h"

namespace sct::peft {
namespace {

using model::Site;

Recipe recipe_for(const std::string& method) {
  Recipe r = tiny_recipe();  // D = 16, L = 2, patch 4, image 8
  r.model.drop_path = 0.0;
  r.peft.method = method;
  r.peft.rank = 3;
  r.peft.bottleneck = 3;
  r.peft.prompts = 2;
  r.peft.adaptformer_scale = 0.7;
  return r;
}

// The module at `site` of block 0 after installing `recipe`'s method, in float64 with every
// parameter drawn from U(-0.5, 0.5) (so zero-initialised tensors take part too), eval mode.
std::shared_ptr<model::Adapter> module_of(const Recipe& recipe, Site site, int64_t block = 0) {
  model::ViT vit = build_backbone(recipe, 3);
  prepare_method(*vit, recipe, nullptr);
  std::shared_ptr<model::Adapter> ad = vit->adapter(block, site);
  EXPECT_TRUE(ad) << recipe.peft.method;
  ad->to(at::kDouble);
  ad->eval();
  at::NoGradGuard ng;
  for (auto& p : ad->parameters()) p.uniform_(-0.5, 0.5);
  return ad;
}

at::Tensor p2(model::Adapter& m, const std::string& name) { return m.named_parameters()[name]; }

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

// The largest |finite difference - autograd| over the parameters and the input of `m` for the
// loss sum(m(x) * r), in float64.
double worst_gradient_error(model::Adapter& m, at::Tensor x) {
  x = x.clone().requires_grad_(true);
  at::manual_seed(11);
  const at::Tensor r = at::randn_like(m.forward(x).detach());
  (m.forward(x) * r).sum().backward();
  auto loss = [&] {
    at::NoGradGuard ng;
    return (m.forward(x) * r).sum().item<double>();
  };
  std::vector<at::Tensor> tensors = m.parameters();
  tensors.push_back(x);
  const double eps = 1e-6;
  double worst = 0;
  for (at::Tensor& t : tensors) {
    at::Tensor flat = t.detach().view({-1});
    const at::Tensor grad = t.grad().reshape({-1});
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
  return worst;
}

TEST(Lora, ForwardIsTheLowRankQAndVUpdates) {
  for (const std::string init : {"reference", "standard"}) {
    Recipe r = recipe_for("lora");
    r.peft.init = init;
    auto m = module_of(r, Site::kQkvBranch);
    const at::Tensor x = at::randn({2, 3, 16}, at::kDouble);
    const at::Tensor y = m->forward(x);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 48}));
    auto X = x.accessor<double, 3>();
    auto Y = y.accessor<double, 3>();
    const at::Tensor aq = p2(*m, "a_q"), bq = p2(*m, "b_q"), av = p2(*m, "a_v"), bv = p2(*m, "b_v");
    auto Aq = aq.accessor<double, 2>(), Bq = bq.accessor<double, 2>();
    auto Av = av.accessor<double, 2>(), Bv = bv.accessor<double, 2>();
    double worst = 0;
    for (int n = 0; n < 2; ++n)
      for (int t = 0; t < 3; ++t)
        for (int j = 0; j < 16; ++j) {
          double q = 0, v = 0;
          for (int k = 0; k < 3; ++k) {
            double aqx = 0, avx = 0;
            for (int i = 0; i < 16; ++i) {
              aqx += Aq[k][i] * X[n][t][i];
              avx += Av[k][i] * X[n][t][i];
            }
            q += Bq[j][k] * aqx;
            v += Bv[j][k] * avx;
          }
          worst = std::max({worst, std::abs(Y[n][t][j] - q), std::abs(Y[n][t][16 + j]),
                            std::abs(Y[n][t][32 + j] - v)});
        }
    EXPECT_LT(worst, 1e-13) << init;
    EXPECT_LT(worst_gradient_error(*m, at::randn({2, 2, 16}, at::kDouble)), 1e-8) << init;
  }
}

TEST(Adapter, ForwardIsYPlusUpGeluDown) {
  auto m = module_of(recipe_for("adapter"), Site::kMlpOut);
  const at::Tensor x = at::randn({2, 3, 16}, at::kDouble);
  const at::Tensor y = m->forward(x);
  const at::Tensor dw = p2(*m, "down.weight"), db = p2(*m, "down.bias"), uw = p2(*m, "up.weight"),
                   ub = p2(*m, "up.bias");
  auto X = x.accessor<double, 3>();
  auto Y = y.accessor<double, 3>();
  auto Dw = dw.accessor<double, 2>(), Uw = uw.accessor<double, 2>();
  auto Db = db.accessor<double, 1>(), Ub = ub.accessor<double, 1>();
  double worst = 0;
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 3; ++t) {
      double g[3];
      for (int k = 0; k < 3; ++k) {
        double z = Db[k];
        for (int i = 0; i < 16; ++i) z += Dw[k][i] * X[n][t][i];
        g[k] = gelu(z);
      }
      for (int j = 0; j < 16; ++j) {
        double u = Ub[j];
        for (int k = 0; k < 3; ++k) u += Uw[j][k] * g[k];
        worst = std::max(worst, std::abs(Y[n][t][j] - (X[n][t][j] + u)));
      }
    }
  EXPECT_LT(worst, 1e-13);
  EXPECT_LT(worst_gradient_error(*m, at::randn({2, 2, 16}, at::kDouble)), 1e-8);
}

TEST(AdaptFormer, ForwardIsScaledUpReluDownOfItsOwnNorm) {
  auto m = module_of(recipe_for("adaptformer"), Site::kMlpBranch);
  const at::Tensor x = at::randn({2, 3, 16}, at::kDouble);
  const at::Tensor y = m->forward(x);
  const at::Tensor gw = p2(*m, "norm.weight"), gb = p2(*m, "norm.bias"), dw = p2(*m, "down.weight"),
                   db = p2(*m, "down.bias"), uw = p2(*m, "up.weight"), ub = p2(*m, "up.bias");
  auto X = x.accessor<double, 3>();
  auto Y = y.accessor<double, 3>();
  auto Gw = gw.accessor<double, 1>(), Gb = gb.accessor<double, 1>();
  auto Dw = dw.accessor<double, 2>(), Uw = uw.accessor<double, 2>();
  auto Db = db.accessor<double, 1>(), Ub = ub.accessor<double, 1>();
  double worst = 0;
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 3; ++t) {
      double mean = 0, var = 0, z[16], d[3];
      for (int i = 0; i < 16; ++i) mean += X[n][t][i] / 16;
      for (int i = 0; i < 16; ++i) var += (X[n][t][i] - mean) * (X[n][t][i] - mean) / 16;
      for (int i = 0; i < 16; ++i) z[i] = (X[n][t][i] - mean) / std::sqrt(var + 1e-5) * Gw[i] + Gb[i];
      for (int k = 0; k < 3; ++k) {
        double s = Db[k];
        for (int i = 0; i < 16; ++i) s += Dw[k][i] * z[i];
        d[k] = std::max(0.0, s);
      }
      for (int j = 0; j < 16; ++j) {
        double u = Ub[j];
        for (int k = 0; k < 3; ++k) u += Uw[j][k] * d[k];
        worst = std::max(worst, std::abs(Y[n][t][j] - 0.7 * u));
      }
    }
  EXPECT_LT(worst, 1e-12);
  EXPECT_LT(worst_gradient_error(*m, at::randn({2, 2, 16}, at::kDouble)), 1e-8);
  // Dropout on the bottleneck in training only.
  m->train();
  at::manual_seed(2);
  const at::Tensor many = at::randn({64, 4, 16}, at::kDouble);
  EXPECT_FALSE(at::allclose(m->forward(many), m->forward(many)));
  m->eval();
  EXPECT_TRUE(at::equal(m->forward(many), m->forward(many)));
}

TEST(Vpt, PromptsAreInsertedAfterClsThenReplacedInDeepBlocks) {
  Recipe r = recipe_for("vpt");
  auto first = module_of(r, Site::kBlockIn, 0), second = module_of(r, Site::kBlockIn, 1);
  const at::Tensor x = at::randn({2, 5, 16}, at::kDouble);
  const at::Tensor p0 = p2(*first, "tokens"), p1 = p2(*second, "tokens");
  ASSERT_EQ(p0.sizes(), (std::vector<int64_t>{1, 2, 16}));
  const at::Tensor y0 = first->forward(x), y1 = second->forward(y0);
  ASSERT_EQ(y0.size(1), 7);
  ASSERT_EQ(y1.size(1), 7);
  for (int n = 0; n < 2; ++n) {
    EXPECT_TRUE(at::equal(y0[n][0], x[n][0]));
    for (int t = 1; t < 5; ++t) EXPECT_TRUE(at::equal(y0[n][2 + t], x[n][t])) << t;
    for (int k = 0; k < 2; ++k) {
      EXPECT_TRUE(at::equal(y0[n][1 + k], p0[0][k]));
      EXPECT_TRUE(at::equal(y1[n][1 + k], p1[0][k]));  // block 1's prompts replace block 0's
    }
    for (int t : {0, 3, 4, 5, 6}) EXPECT_TRUE(at::equal(y1[n][t], y0[n][t])) << t;
  }
  EXPECT_LT(worst_gradient_error(*second, at::randn({2, 4, 16}, at::kDouble)), 1e-8);
  r.peft.prompt_depth = "shallow";
  model::ViT vit = build_backbone(r, 3);
  prepare_method(*vit, r, nullptr);
  EXPECT_TRUE(vit->adapter(0, Site::kBlockIn));
  EXPECT_FALSE(vit->adapter(1, Site::kBlockIn));
  // Prompt tokens travel with the patch tokens to the final norm; the head reads CLS only.
  EXPECT_EQ(vit->forward_tokens(at::randn({3, 3, 8, 8})).sizes(), (std::vector<int64_t>{3, 1 + 2 + 4, 16}));
  const double v = std::sqrt(6.0 / (3 * 16 + 16));  // U(-v, v): 3·patch² + D
  const at::Tensor t = vit->named_parameters()["blocks.0.vpt_prompt.tokens"];
  EXPECT_LE(t.abs().max().item<double>(), v);
  EXPECT_GT(t.abs().max().item<double>(), 0.5 * v);
}

TEST(Ssf, EverySiteScalesAndShiftsPerChannel) {
  const Recipe r = recipe_for("ssf");
  const std::pair<Site, int64_t> sites[] = {{Site::kNorm1, 16}, {Site::kQkv, 48},  {Site::kProj, 16},
                                            {Site::kNorm2, 16}, {Site::kFc1, 64}, {Site::kMlpOut, 16}};
  for (const auto& [site, width] : sites) {
    auto m = module_of(r, site, 1);
    const at::Tensor x = at::randn({2, 3, width}, at::kDouble);
    const at::Tensor y = m->forward(x), scale = p2(*m, "scale"), shift = p2(*m, "shift");
    auto X = x.accessor<double, 3>();
    auto Y = y.accessor<double, 3>();
    auto S = scale.accessor<double, 1>(), B = shift.accessor<double, 1>();
    double worst = 0;
    for (int n = 0; n < 2; ++n)
      for (int t = 0; t < 3; ++t)
        for (int j = 0; j < width; ++j) worst = std::max(worst, std::abs(Y[n][t][j] - (S[j] * X[n][t][j] + B[j])));
    EXPECT_LT(worst, 1e-15) << width;
    if (width == 16) {
      EXPECT_LT(worst_gradient_error(*m, at::randn({2, 2, width}, at::kDouble)), 1e-8);
    }
  }
  model::ViT vit = build_backbone(r, 3);
  prepare_method(*vit, r, nullptr);
  EXPECT_TRUE(vit->adapter(model::ModelSite::kPatchEmbed));
  EXPECT_TRUE(vit->adapter(model::ModelSite::kNorm));
  // Init: scale ~ N(1, 0.02^2), shift ~ N(0, 0.02^2) (SSF's code).
  std::vector<at::Tensor> scales, shifts;
  for (const auto& p : vit->named_parameters()) {
    const std::string& n = p.key();
    if (n.find("ssf_") == std::string::npos) continue;
    (n.compare(n.size() - 5, 5, "scale") == 0 ? scales : shifts).push_back(p.value().reshape({-1}));
  }
  const at::Tensor s = at::cat(scales), b = at::cat(shifts);
  EXPECT_EQ(s.numel(), b.numel());
  EXPECT_NEAR(s.mean().item<double>(), 1.0, 0.003);
  EXPECT_NEAR(s.std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(b.mean().item<double>(), 0.0, 0.003);
  EXPECT_NEAR(b.std().item<double>(), 0.02, 0.002);
}

// With every module's parameters non-zero, the CLS-only path of the last block (forward) is the
// all-token path's CLS row (forward_tokens): every site is honoured there, prompt tokens too.
TEST(Baselines, ClsOnlyPathMatchesAllTokensForEveryMethod) {
  for (const std::string method : {"lora", "adapter", "adaptformer", "vpt", "ssf"}) {
    const Recipe r = recipe_for(method);
    model::ViT vit = build_backbone(r, 3);
    prepare_method(*vit, r, nullptr);
    vit->eval();
    at::NoGradGuard ng;
    at::manual_seed(9);
    for (auto& p : vit->parameters()) p.add_(at::rand_like(p).sub_(0.5).mul_(0.2));
    const at::Tensor images = at::randn({3, 3, 8, 8});
    const at::Tensor all = vit->forward_tokens(images).select(1, 0), cls = vit->forward_features(images);
    EXPECT_LT((all - cls).abs().max().item<float>(), 2e-5f) << method;
  }
}

TEST(Baselines, ZeroInitialisedMethodsLeaveTheLogitsUnchanged) {
  struct Case {
    std::string method, init;
    bool unchanged;
  };
  // LoRA's reference init draws B_q non-zero: its q update changes the logits at step 0.
  const Case cases[] = {{"lora", "standard", true},  {"lora", "reference", false},  {"adapter", "reference", true},
                        {"adapter", "standard", true}, {"adaptformer", "reference", true}};
  const at::Tensor images = at::randn({4, 3, 8, 8});
  for (const Case& c : cases) {
    Recipe r = recipe_for(c.method);
    r.peft.init = c.init;
    model::ViT vit = build_backbone(r, 3);
    for (bool training : {false, true}) {  // no DropPath in recipe_for; dropout acts on a zero branch
      vit->train(training);
      at::NoGradGuard ng;
      const at::Tensor before = vit->forward(images);
      model::ViT with = build_backbone(r, 3);
      prepare_method(*with, r, nullptr);
      with->train(training);
      EXPECT_EQ(at::equal(with->forward(images), before), c.unchanged) << c.method << " " << c.init << training;
    }
  }
}

// Which tensors a first backward pass reaches: the reference inits of LoRA (v) and Adapter
// (all but up.bias) leave tensors whose gradient is zero and stays zero.
TEST(Baselines, FirstGradientsFollowTheInit) {
  auto grads = [](const std::string& method, const std::string& init) {
    Recipe r = recipe_for(method);
    r.peft.init = init;
    model::ViT vit = build_backbone(r, 3);
    Trainable t = prepare_method(*vit, r, nullptr);
    vit->forward(at::randn({4, 3, 8, 8})).square().sum().backward();
    std::map<std::string, bool> nonzero;
    for (const auto& [name, tensor] : t.named())
      if (!is_head_parameter(name)) nonzero[name] = tensor.grad().abs().max().item<float>() > 0;
    return nonzero;
  };
  for (const auto& [name, nz] : grads("lora", "reference")) {
    const bool q = name.compare(name.size() - 2, 2, "_q") == 0;  // a_q, b_q
    EXPECT_EQ(nz, q) << name;
  }
  for (const auto& [name, nz] : grads("lora", "standard"))
    EXPECT_EQ(nz, name.find(".b_") != std::string::npos) << name;  // B zero: only B moves first
  for (const auto& [name, nz] : grads("adapter", "reference"))
    EXPECT_EQ(nz, name.find("up.bias") != std::string::npos) << name;
  for (const auto& [name, nz] : grads("adapter", "standard"))
    EXPECT_EQ(nz, name.find(".up.") != std::string::npos) << name;
  for (const auto& [name, nz] : grads("adaptformer", "reference"))
    EXPECT_EQ(nz, name.find(".up.") != std::string::npos) << name;
}

TEST(Baselines, VitB16ParameterCountsFollowTheFormulas) {
  const model::ViTConfig b16 = model::vit_preset("vit-b16");
  const int64_t L = 12, D = 768, b = 96, hidden = 3072;
  PeftSection p;
  auto count = [&](const std::string& method) {
    p.method = method;
    return count_params(b16, p, 0).without_head;
  };
  EXPECT_EQ(count("lora"), L * 4 * D * 8);
  EXPECT_EQ(count("lora"), 294912);
  EXPECT_EQ(count("adapter"), L * (D * b + b + b * D + D));
  EXPECT_EQ(count("adapter"), 1779840);
  EXPECT_EQ(count("adaptformer"), L * (D * b + b + b * D + D + 2 * D));
  EXPECT_EQ(count("adaptformer"), 1798272);
  EXPECT_EQ(count("vpt"), L * 10 * D);
  p.prompt_depth = "shallow";
  EXPECT_EQ(count("vpt"), 10 * D);
  // SSF: per block norm1 D, qkv 3D, proj D, norm2 D, fc1 4D, fc2 D; patch embedding and final norm D.
  EXPECT_EQ(count("ssf"), 2 * (L * (D + 3 * D + D + D + hidden + D) + 2 * D));
  p.bottleneck = 64;
  p.rank = 4;
  EXPECT_EQ(count("adapter"), L * (2 * D * 64 + 64 + D));
  EXPECT_EQ(count("lora"), L * 4 * D * 4);
  PeftSection defaults;
  defaults.method = "adapter";
  EXPECT_EQ(method("adapter").describe(defaults, 768), "adapter b=96 init=reference");
  defaults.method = "lora";
  EXPECT_EQ(method("lora").describe(defaults, 768), "lora r=8 init=reference");
  EXPECT_EQ(method("vpt").describe(defaults, 768), "vpt deep P=10");
  EXPECT_EQ(method("adaptformer").describe(defaults, 768), "adaptformer b=96 s=1");
}

TEST(Baselines, RecipeChecksNameTheKey) {
  auto message = [](const std::string& method, auto edit) -> std::string {
    PeftSection p;
    edit(p);
    try {
      peft::method(method).check(p);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no InputError)";
  };
  EXPECT_EQ(message("lora", [](PeftSection& p) { p.rank = 0; }), "peft.rank must be > 0, found 0");
  EXPECT_EQ(message("lora", [](PeftSection& p) { p.init = "xavier"; }),
            "peft.init must be one of reference | standard, found \"xavier\"");
  EXPECT_EQ(message("adapter", [](PeftSection& p) { p.bottleneck = -1; }), "peft.bottleneck must be >= 0, found -1");
  EXPECT_EQ(message("adaptformer", [](PeftSection& p) { p.adaptformer_dropout = 1.0; }),
            "peft.adaptformer_dropout must be in [0, 1), found 1");
  EXPECT_EQ(message("vpt", [](PeftSection& p) { p.prompt_depth = "middle"; }),
            "peft.prompt_depth must be one of deep | shallow, found \"middle\"");
}

TEST(Baselines, AdapterParametersAreRecognisedForEveryMethod) {
  EXPECT_TRUE(is_adapter_parameter("blocks.0.sct_attn.weight"));
  EXPECT_TRUE(is_adapter_parameter("blocks.11.lora_qkv.a_q"));
  EXPECT_TRUE(is_adapter_parameter("blocks.1.adapter_mlp.down.bias"));
  EXPECT_TRUE(is_adapter_parameter("blocks.1.adaptformer_mlp.norm.bias"));
  EXPECT_TRUE(is_adapter_parameter("blocks.2.vpt_prompt.tokens"));
  EXPECT_TRUE(is_adapter_parameter("ssf_norm.shift"));
  for (const std::string backbone : {"cls_token", "pos_embed", "patch_embed.proj.bias", "blocks.0.attn.qkv.bias",
                                     "blocks.0.mlp.fc2.bias", "norm.bias", "head.bias"})
    EXPECT_FALSE(is_adapter_parameter(backbone)) << backbone;
  // BitFit trains the backbone's biases, never an installed module's.
  EXPECT_TRUE(method("bitfit").trains("blocks.0.attn.qkv.bias"));
  EXPECT_FALSE(method("bitfit").trains("blocks.1.adapter_mlp.down.bias"));
  EXPECT_FALSE(method("bitfit").trains("blocks.1.adaptformer_mlp.norm.bias"));
}

}  // namespace
}  // namespace sct::peft
