// ViT module: parameter table and counts, observers, adapters, DropPath, head reset.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "framework/core/error.h"
#include "framework/model/checkpoint.h"
#include "framework/model/vit.h"

namespace sct::model {
namespace {

ViTConfig tiny(int64_t classes = 5) {
  ViTConfig c;
  c.dim = 16;
  c.depth = 2;
  c.heads = 2;
  c.patch = 4;
  c.image_size = 12;
  c.num_classes = classes;
  return c;
}

at::Tensor param(ViTImpl& m, const std::string& name) {
  at::Tensor* p = m.named_parameters().find(name);
  EXPECT_NE(p, nullptr) << name;
  return p ? *p : at::Tensor();
}

// MLP(LN2(h)) of block `b`, from the module's parameters with functional ops.
at::Tensor mlp_branch(ViTImpl& m, int b, const at::Tensor& h) {
  const std::string p = "blocks." + std::to_string(b) + ".";
  at::Tensor y = at::layer_norm(h, {m.config().dim}, param(m, p + "norm2.weight"), param(m, p + "norm2.bias"), 1e-6);
  y = at::gelu(at::linear(y, param(m, p + "mlp.fc1.weight"), param(m, p + "mlp.fc1.bias")));
  return at::linear(y, param(m, p + "mlp.fc2.weight"), param(m, p + "mlp.fc2.bias"));
}

struct Record : FeatureObserver {
  std::vector<std::tuple<int64_t, Tap, at::Tensor>> seen;
  void observe(int64_t block, Tap tap, const at::Tensor& x) override { seen.emplace_back(block, tap, x.clone()); }
  at::Tensor get(int64_t block, Tap tap) const {
    for (const auto& [b, t, x] : seen)
      if (b == block && t == tap) return x;
    return at::Tensor();
  }
};

struct Scale : Adapter {
  explicit Scale(double s) : s_(s) { weight = register_parameter("weight", at::ones({1})); }
  at::Tensor forward(const at::Tensor& x) override {
    last_input = x.detach().clone();
    return x * (weight * s_);
  }
  at::Tensor weight, last_input;
  double s_;
};

TEST(ViTConfig, PresetParameterCountsMatchTimm) {
  // Backbones without head; timm's totals minus their 1000-class heads.
  EXPECT_EQ(vit_num_params(vit_preset("vit-b16"), false), 85798656);  // method.md §3
  EXPECT_EQ(vit_num_params(vit_preset("vit-ti16"), false), 5717416 - (192 * 1000 + 1000));
  EXPECT_EQ(vit_num_params(vit_preset("vit-s16"), false), 22050664 - (384 * 1000 + 1000));
  EXPECT_EQ(vit_num_params(vit_preset("vit-l16"), false), 304326632 - (1024 * 1000 + 1000));
  ViTConfig b = vit_preset("vit-b16");
  b.num_classes = 10;
  EXPECT_EQ(vit_num_params(b, true), 85798656 + 769 * 10);
  EXPECT_EQ(vit_preset("vit-h14").patch, 14);
  EXPECT_EQ(preset_name_of(vit_preset("vit-l16")), "vit-l16");
  EXPECT_THROW(vit_preset("vit-x"), InputError);
}

TEST(ViTConfig, FlopsOfBaseModel) {
  // Hand count for ViT-B/16 at 224: 197 tokens, 12 blocks; the commonly quoted 17.6 GMACs.
  const double N = 197, D = 768;
  const double block = 2 * N * D * 3 * D + 4 * N * N * D + 2 * N * D * D + 4 * N * D * 4 * D;
  const double expect = 2.0 * 196 * D * 768 + 12 * block;
  EXPECT_DOUBLE_EQ(vit_forward_flops(vit_preset("vit-b16")), expect);
  EXPECT_NEAR(expect / 2e9, 17.56, 0.05);
}

TEST(ViTConfig, ValidateRejectsBadShapes) {
  ViTConfig c = tiny();
  c.heads = 3;
  EXPECT_THROW(c.validate("x"), InputError);
  c = tiny();
  c.image_size = 13;
  EXPECT_THROW(c.validate("x"), InputError);
}

TEST(ViT, NamedParametersFollowTheTimmTable) {
  ViT m(tiny());
  auto params = m->named_parameters();
  auto table = vit_parameter_shapes(tiny());
  ASSERT_EQ(params.size(), table.size());
  size_t i = 0;
  for (const auto& item : params) {
    EXPECT_EQ(item.key(), table[i].first);
    EXPECT_EQ(std::vector<int64_t>(item.value().sizes().begin(), item.value().sizes().end()), table[i].second)
        << item.key();
    ++i;
  }
  int64_t n = 0;
  for (const auto& item : params) n += item.value().numel();
  EXPECT_EQ(n, vit_num_params(tiny()));
}

TEST(ViT, ForwardShapesAndObserverOrder) {
  ViT m(tiny());
  m->eval();
  at::Tensor x = at::randn({3, 3, 12, 12});
  Record rec;
  at::Tensor logits = m->forward(x, &rec);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 5}));
  ASSERT_EQ(rec.seen.size(), 6u);
  const Tap order[] = {Tap::kQkv, Tap::kAttnOut, Tap::kBlockOut};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(std::get<0>(rec.seen[i]), int64_t(i / 3));
    EXPECT_EQ(std::get<1>(rec.seen[i]), order[i % 3]);
  }
  EXPECT_EQ(rec.get(0, Tap::kQkv).sizes(), (std::vector<int64_t>{3, 10, 48}));
  EXPECT_EQ(rec.get(1, Tap::kAttnOut).sizes(), (std::vector<int64_t>{3, 10, 16}));
  // Block output = h + MLP(LN2(h)).
  at::Tensor h = rec.get(1, Tap::kAttnOut);
  EXPECT_TRUE(at::allclose(rec.get(1, Tap::kBlockOut), h + mlp_branch(*m, 1, h), 1e-5, 1e-5));
  // Features: final LayerNorm of the last block output's CLS token; logits = head(features).
  at::Tensor f = m->forward_features(x);
  at::Tensor ref = at::layer_norm(rec.get(1, Tap::kBlockOut).select(1, 0), {16}, param(*m, "norm.weight"),
                                  param(*m, "norm.bias"), 1e-6);
  EXPECT_TRUE(at::allclose(f, ref, 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(logits, at::linear(f, param(*m, "head.weight"), param(*m, "head.bias")), 1e-5, 1e-5));
  EXPECT_THROW(m->forward(at::randn({1, 3, 16, 16})), InputError);
}

TEST(ViT, AdaptersAreRegisteredAndActWhereDocumented) {
  ViT m(tiny());
  m->eval();
  at::Tensor x = at::randn({2, 3, 12, 12});
  Record plain;
  at::Tensor base = m->forward(x, &plain);

  auto attn = std::make_shared<Scale>(2.0);
  m->set_adapter(1, Site::kAttnOut, attn);
  EXPECT_NE(m->named_parameters().find("blocks.1.sct_attn.weight"), nullptr);
  Record rec;
  m->forward(x, &rec);
  at::Tensor h = rec.get(1, Tap::kAttnOut);
  EXPECT_TRUE(at::allclose(h, plain.get(1, Tap::kAttnOut)));  // observed before the adapter
  EXPECT_TRUE(at::allclose(attn->last_input, h));
  EXPECT_TRUE(at::allclose(rec.get(1, Tap::kBlockOut), 2 * h + mlp_branch(*m, 1, 2 * h), 1e-5, 1e-5));
  m->set_adapter(1, Site::kAttnOut, nullptr);
  EXPECT_EQ(m->named_parameters().find("blocks.1.sct_attn.weight"), nullptr);
  EXPECT_TRUE(at::allclose(m->forward(x), base));

  // An MLP-output adapter that zeroes the branch leaves block output == h.
  m->set_adapter(0, Site::kMlpOut, std::make_shared<Scale>(0.0));
  Record rec2;
  m->forward(x, &rec2);
  EXPECT_TRUE(at::allclose(rec2.get(0, Tap::kBlockOut), rec2.get(0, Tap::kAttnOut)));
  m->set_adapter(0, Site::kMlpOut, nullptr);

  // A qkv adapter sees the observed qkv output; scaling qkv by 1 changes nothing.
  auto qkv = std::make_shared<Scale>(1.0);
  m->set_adapter(0, Site::kQkv, qkv);
  Record rec3;
  at::Tensor same = m->forward(x, &rec3);
  EXPECT_TRUE(at::allclose(qkv->last_input, rec3.get(0, Tap::kQkv)));
  EXPECT_TRUE(at::allclose(same, base, 1e-6, 1e-6));
  EXPECT_NE(m->named_parameters().find("blocks.0.sct_qkv.weight"), nullptr);

  // Gradients reach adapter parameters.
  m->forward(x).sum().backward();
  ASSERT_TRUE(qkv->weight.grad().defined());
  EXPECT_GT(qkv->weight.grad().abs().item<float>(), 0.f);
}

// A parameter-free module computing f (the reference below applies the same f).
struct Fn : Adapter {
  explicit Fn(std::function<at::Tensor(const at::Tensor&)> f) : f_(std::move(f)) {}
  at::Tensor forward(const at::Tensor& x) override { return f_(x); }
  std::function<at::Tensor(const at::Tensor&)> f_;
};

// The whole model with functional ops, every site applied where vit.h documents it.
at::Tensor reference_tokens(ViTImpl& m, const at::Tensor& images,
                            const std::map<Site, std::function<at::Tensor(const at::Tensor&)>>& f,
                            const std::function<at::Tensor(const at::Tensor&)>& patches,
                            const std::function<at::Tensor(const at::Tensor&)>& final_norm,
                            const std::function<at::Tensor(int64_t, const at::Tensor&)>& block_in) {
  const int64_t D = m.config().dim, H = m.config().heads, dh = D / H;
  auto ln = [&](const at::Tensor& x, const std::string& n) {
    return at::layer_norm(x, {D}, param(m, n + ".weight"), param(m, n + ".bias"), 1e-6);
  };
  auto lin = [&](const at::Tensor& x, const std::string& n) {
    return at::linear(x, param(m, n + ".weight"), param(m, n + ".bias"));
  };
  at::Tensor x = at::conv2d(images, param(m, "patch_embed.proj.weight"), param(m, "patch_embed.proj.bias"),
                            at::IntArrayRef{m.config().patch, m.config().patch})
                     .flatten(2)
                     .transpose(1, 2);
  x = patches(x);
  x = at::cat({param(m, "cls_token").expand({x.size(0), -1, -1}), x}, 1) + param(m, "pos_embed");
  for (int64_t l = 0; l < m.config().depth; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    x = block_in(l, x);
    const int64_t B = x.size(0), T = x.size(1);
    const at::Tensor y = f.at(Site::kNorm1)(ln(x, p + "norm1"));
    const at::Tensor qkv = f.at(Site::kQkv)(lin(y, p + "attn.qkv") + f.at(Site::kQkvBranch)(y));
    auto heads = [&](int64_t part) { return qkv.narrow(2, part * D, D).reshape({B, T, H, dh}).transpose(1, 2); };
    const at::Tensor a = at::softmax(at::matmul(heads(0), heads(1).transpose(2, 3)) / std::sqrt(double(dh)), -1);
    const at::Tensor o = at::matmul(a, heads(2)).transpose(1, 2).reshape({B, T, D});
    const at::Tensor h = f.at(Site::kAttnOut)(x + f.at(Site::kProj)(lin(o, p + "attn.proj")));
    const at::Tensor z = f.at(Site::kFc1)(lin(f.at(Site::kNorm2)(ln(h, p + "norm2")), p + "mlp.fc1"));
    x = h + f.at(Site::kMlpOut)(lin(at::gelu(z), p + "mlp.fc2")) + f.at(Site::kMlpBranch)(h);
  }
  return final_norm(ln(x, "norm"));
}

// Every site at once, in every block, with the model-level sites and prompt-like tokens at
// kBlockIn: forward_tokens matches the functional reference, and forward (CLS-only last block)
// its CLS row.
TEST(ViT, EverySiteActsWhereDocumentedInBothPaths) {
  ViT m(tiny(0));
  m->eval();
  at::manual_seed(5);
  const at::Tensor wq = at::randn({48, 16}) * 0.1, wm = at::randn({16, 16}) * 0.1, prompt = at::randn({1, 2, 16});
  std::map<Site, std::function<at::Tensor(const at::Tensor&)>> f = {
      {Site::kNorm1, [](const at::Tensor& x) { return x * 1.1 + 0.05; }},
      {Site::kQkv, [](const at::Tensor& x) { return x * 0.9 - 0.02; }},
      {Site::kQkvBranch, [wq](const at::Tensor& x) { return at::linear(at::tanh(x), wq); }},
      {Site::kProj, [](const at::Tensor& x) { return x * 1.2 + 0.1; }},
      {Site::kAttnOut, [](const at::Tensor& x) { return x * 0.95; }},
      {Site::kNorm2, [](const at::Tensor& x) { return x * 0.8 + 0.03; }},
      {Site::kFc1, [](const at::Tensor& x) { return x * 1.3 - 0.04; }},
      {Site::kMlpOut, [](const at::Tensor& x) { return x * 0.7 + 0.01; }},
      {Site::kMlpBranch, [wm](const at::Tensor& x) { return at::linear(at::sin(x), wm); }},
  };
  auto patches = [](const at::Tensor& x) { return x * 1.05 + 0.2; };
  auto final_norm = [](const at::Tensor& x) { return x * 0.6 - 0.1; };
  // Block 0 inserts two tokens after CLS, block 1 replaces them (as VPT-Deep does).
  auto block_in = [prompt](int64_t l, const at::Tensor& x) {
    const int64_t skip = l == 0 ? 1 : 3;
    const at::Tensor p = prompt.expand({x.size(0), -1, -1}) * double(l + 1);
    return at::cat({x.narrow(1, 0, 1), p, x.narrow(1, skip, x.size(1) - skip)}, 1);
  };
  for (int64_t l = 0; l < 2; ++l) {
    for (const auto& [site, fn] : f) m->set_adapter(l, site, std::make_shared<Fn>(fn));
    m->set_adapter(l, Site::kBlockIn, std::make_shared<Fn>([block_in, l](const at::Tensor& x) { return block_in(l, x); }));
  }
  m->set_adapter(ModelSite::kPatchEmbed, std::make_shared<Fn>(patches), "embed_fn");
  m->set_adapter(ModelSite::kNorm, std::make_shared<Fn>(final_norm), "norm_fn");
  at::NoGradGuard ng;
  const at::Tensor images = at::randn({3, 3, 12, 12});
  const at::Tensor want = reference_tokens(*m, images, f, patches, final_norm, block_in);
  const at::Tensor tokens = m->forward_tokens(images);
  ASSERT_EQ(tokens.sizes(), (std::vector<int64_t>{3, 1 + 2 + 9, 16}));
  EXPECT_LT((tokens - want).abs().max().item<float>(), 2e-5f);
  EXPECT_LT((m->forward(images) - want.select(1, 0)).abs().max().item<float>(), 2e-5f);
  // Removing every module gives the plain model back.
  for (int64_t l = 0; l < 2; ++l) {
    for (const auto& [site, fn] : f) m->set_adapter(l, site, nullptr);
    m->set_adapter(l, Site::kBlockIn, nullptr);
  }
  m->set_adapter(ModelSite::kPatchEmbed, nullptr, "embed_fn");
  m->set_adapter(ModelSite::kNorm, nullptr, "norm_fn");
  ViT plain(tiny(0));
  plain->eval();
  for (auto& p : plain->named_parameters()) p.value().copy_(param(*m, p.key()));
  EXPECT_TRUE(at::equal(m->forward(images), plain->forward(images)));
}

TEST(ViT, DropPathIsPerSampleWithLinspaceRates) {
  ViTConfig c = tiny();
  c.drop_path = 0.5;  // rates linspace(0, 0.5, 2) = {0, 0.5}
  ViT m(c);
  m->train();
  at::manual_seed(3);
  at::Tensor x = at::randn({64, 3, 12, 12});
  Record rec;
  m->forward(x, &rec);
  at::NoGradGuard ng;
  // Block 0 never drops: its MLP residual is exact.
  at::Tensor h0 = rec.get(0, Tap::kAttnOut);
  EXPECT_TRUE(at::allclose(rec.get(0, Tap::kBlockOut) - h0, mlp_branch(*m, 0, h0), 1e-4, 1e-5));
  // Block 1: per sample the MLP residual is either 0 or scaled by 1/(1-0.5) = 2.
  at::Tensor h1 = rec.get(1, Tap::kAttnOut);
  at::Tensor delta = rec.get(1, Tap::kBlockOut) - h1, branch = mlp_branch(*m, 1, h1);
  int kept = 0, dropped = 0;
  for (int64_t n = 0; n < 64; ++n) {
    if (at::allclose(delta[n], at::zeros_like(delta[n]))) {
      ++dropped;
    } else {
      EXPECT_TRUE(at::allclose(delta[n], 2 * branch[n], 1e-4, 1e-5)) << "sample " << n;
      ++kept;
    }
  }
  EXPECT_GT(kept, 15);
  EXPECT_GT(dropped, 15);
  // Eval mode: deterministic.
  m->eval();
  EXPECT_TRUE(at::equal(m->forward(x), m->forward(x)));
}

TEST(ViT, DropPathKeysMakeEachSamplesMasksIndependentOfItsBatch) {
  ViTConfig c = tiny();
  c.drop_path = 0.5;
  ViT m(c);
  m->train();
  at::manual_seed(4);
  const at::Tensor x = at::randn({32, 3, 12, 12});
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 32; ++k) keys.push_back(1000 + 7 * k);
  at::NoGradGuard ng;
  m->set_drop_path_keys(keys);
  const at::Tensor all = m->forward(x);
  // The last 8 samples alone (as another rank would hold them), after the generator moved on.
  at::manual_seed(99);
  m->set_drop_path_keys(std::vector<uint64_t>(keys.end() - 8, keys.end()));
  const at::Tensor part = m->forward(x.narrow(0, 24, 8));
  EXPECT_TRUE(at::allclose(part, all.narrow(0, 24, 8), 1e-5, 1e-6));
  // Other keys draw other masks: at block 1's two sites a sample's pair of masks agrees with
  // probability 1/4, so some samples' logits stay and most change.
  std::vector<uint64_t> other;
  for (uint64_t k : keys) other.push_back(k + 1);
  m->set_drop_path_keys(other);
  const at::Tensor moved = m->forward(x);
  int same = 0;
  for (int64_t n = 0; n < 32; ++n) same += at::allclose(all[n], moved[n], 1e-5, 1e-6) ? 1 : 0;
  EXPECT_GT(same, 0);
  EXPECT_LT(same, 24);
  // A key count that does not match the batch is refused.
  m->train();
  m->set_drop_path_keys({1, 2});
  EXPECT_THROW(m->forward(x), Error);
  m->set_drop_path_keys({});
  EXPECT_NO_THROW(m->forward(x));
}

TEST(ViT, ResetHeadUsesPyTorchDefaultInit) {
  ViT m(tiny(0));
  EXPECT_FALSE(m->has_head());
  at::Tensor x = at::randn({2, 3, 12, 12});
  EXPECT_EQ(m->forward(x).sizes(), (std::vector<int64_t>{2, 16}));
  m->reset_head(7);
  at::Tensor w = param(*m, "head.weight"), b = param(*m, "head.bias");
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{7, 16}));
  const double bound = 1.0 / std::sqrt(16.0);  // kaiming_uniform(a=sqrt(5)) and bias bound
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_GT(w.abs().max().item<double>(), 0.5 * bound);
  EXPECT_LE(b.abs().max().item<double>(), bound);
  EXPECT_GT(b.abs().max().item<double>(), 0.0);
  EXPECT_EQ(m->config().num_classes, 7);
  m->reset_head(0);
  EXPECT_EQ(m->named_parameters().find("head.weight"), nullptr);
}

TEST(ResizePosEmbed, KeepsClsAndIsExactOnConstantsAndIdentity) {
  at::Tensor pos = at::randn({1, 1 + 9, 4});
  EXPECT_TRUE(at::equal(resize_pos_embed(pos, 3), pos));
  at::Tensor r = resize_pos_embed(pos, 5);
  EXPECT_EQ(r.sizes(), (std::vector<int64_t>{1, 26, 4}));
  EXPECT_TRUE(at::equal(r.narrow(1, 0, 1), pos.narrow(1, 0, 1)));
  // Cubic weights sum to one: a constant grid stays constant.
  at::Tensor c = at::cat({at::zeros({1, 1, 4}), at::full({1, 9, 4}, 0.25)}, 1);
  EXPECT_TRUE(at::allclose(resize_pos_embed(c, 7).narrow(1, 1, 49), at::full({1, 49, 4}, 0.25), 1e-6, 1e-6));
}

}  // namespace
}  // namespace sct::model
