#include "framework/model/vit.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "framework/core/error.h"
#include "framework/model/cpu/attention.h"
#include "framework/model/cpu/gelu.h"
#include "framework/model/cpu/layer_norm.h"

namespace sct::model {
namespace {

std::shared_ptr<torch::nn::LinearImpl> make_linear(int64_t in, int64_t out) {
  auto l = std::make_shared<torch::nn::LinearImpl>(torch::nn::LinearOptions(in, out));
  // timm: trunc_normal(std=.02) with absolute bounds +-2, in effect an untruncated normal.
  at::NoGradGuard no_grad;
  l->weight.normal_(0.0, 0.02);
  l->bias.zero_();
  return l;
}

std::shared_ptr<torch::nn::LayerNormImpl> make_norm(int64_t dim, double eps) {
  return std::make_shared<torch::nn::LayerNormImpl>(
      torch::nn::LayerNormOptions({dim}).eps(eps).elementwise_affine(true));
}

// The module's parameters through the model's own LayerNorm kernel (layer_norm.h).
at::Tensor norm(const torch::nn::LayerNormImpl& ln, const at::Tensor& x) {
  return layer_norm(x, ln.weight, ln.bias, ln.options.eps());
}

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Stochastic depth: per sample, zero the branch with probability p, scale survivors by 1/(1-p).
// With `keys` (one per sample), sample j keeps the branch at DropPath site `site` when a uniform
// number drawn from (keys[j], site) is below 1-p; otherwise the default generator draws.
at::Tensor drop_path(const at::Tensor& x, double p, bool training, const std::vector<uint64_t>& keys,
                     uint64_t site) {
  if (!training || p <= 0.0) return x;
  const double keep = 1.0 - p;
  if (keys.empty()) return x * at::empty({x.size(0), 1, 1}, x.options()).bernoulli_(keep).div_(keep);
  SCT_CHECK(static_cast<int64_t>(keys.size()) == x.size(0),
            fmt::format("DropPath: {} keys for a batch of {}", keys.size(), x.size(0)));
  std::vector<float> mask(keys.size());
  const uint64_t salt = splitmix64(site);
  for (size_t j = 0; j < keys.size(); ++j) {
    const double u = static_cast<double>(splitmix64(keys[j] ^ salt) >> 11) * 0x1.0p-53;
    mask[j] = u < keep ? static_cast<float>(1.0 / keep) : 0.0f;
  }
  const at::Tensor m = at::tensor(mask).view({x.size(0), 1, 1}).to(x.options());
  return x * m;
}

}  // namespace

const char* tap_name(Tap tap) {
  switch (tap) {
    case Tap::kQkv: return "qkv";
    case Tap::kAttnOut: return "attn";
    case Tap::kBlockOut: return "block";
  }
  return "?";
}

const char* ViTImpl::adapter_name(Site site) {
  switch (site) {
    case Site::kQkv: return "sct_qkv";
    case Site::kAttnOut: return "sct_attn";
    case Site::kMlpOut: return "sct_mlp";
    case Site::kBlockIn: return "sct_block_in";
    case Site::kNorm1: return "sct_norm1";
    case Site::kProj: return "sct_proj";
    case Site::kNorm2: return "sct_norm2";
    case Site::kFc1: return "sct_fc1";
    case Site::kQkvBranch: return "sct_qkv_branch";
    case Site::kMlpBranch: return "sct_mlp_branch";
  }
  return "?";
}

// The submodules of attn and mlp are registered on plain containers so the parameter names
// follow timm: blocks.i.attn.qkv.weight, blocks.i.mlp.fc1.weight.
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ViTConfig& c, int64_t index, double drop_rate, std::shared_ptr<const std::vector<uint64_t>> keys)
      : index_(index), heads_(c.heads), drop_rate_(drop_rate), drop_keys_(std::move(keys)) {
    norm1 = register_module("norm1", make_norm(c.dim, c.ln_eps));
    auto attn = register_module("attn", std::make_shared<torch::nn::Module>());
    qkv = attn->register_module("qkv", make_linear(c.dim, 3 * c.dim));
    proj = attn->register_module("proj", make_linear(c.dim, c.dim));
    norm2 = register_module("norm2", make_norm(c.dim, c.ln_eps));
    auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
    fc1 = mlp->register_module("fc1", make_linear(c.dim, c.mlp_hidden()));
    fc2 = mlp->register_module("fc2", make_linear(c.mlp_hidden(), c.dim));
  }

  at::Tensor forward(const at::Tensor& input, FeatureObserver* obs) {
    const at::Tensor x = apply(Site::kBlockIn, input);
    const at::Tensor y = apply(Site::kNorm1, norm(*norm1, x));
    at::Tensor qkv_out = qkv->forward(y);
    if (obs) obs->observe(index_, Tap::kQkv, qkv_out);
    qkv_out = adapted_qkv(qkv_out, y);
    at::Tensor h = x + drop_attn(apply(Site::kProj, proj->forward(attention_qkv(qkv_out, heads_))));
    if (obs) obs->observe(index_, Tap::kAttnOut, h);
    h = apply(Site::kAttnOut, h);
    at::Tensor out = mlp_residual(h);
    if (obs) obs->observe(index_, Tap::kBlockOut, out);
    return out;
  }

  // The block's output for the CLS token alone, (B, 1, D): all the last block has to deliver
  // when only the head reads the result. Keys and values still come from every token (prompt
  // tokens included); the query, attention row, projection, the modules on h or on the MLP
  // and the MLP run on one token: about 1/6 of the block's work, forward and backward. Every
  // site is honoured: those acting per token see the CLS row only, the qkv-output modules see
  // every token. The per-sample DropPath masks are drawn exactly as in forward().
  at::Tensor forward_cls(const at::Tensor& input) {
    const at::Tensor x = apply(Site::kBlockIn, input);
    const int64_t D = x.size(2);
    const at::Tensor y = apply(Site::kNorm1, norm(*norm1, x));
    at::Tensor q, kv;
    if (slot(Site::kQkv) || slot(Site::kQkvBranch)) {  // modules reading every token's qkv output
      const at::Tensor qkv_out = adapted_qkv(qkv->forward(y), y);
      q = qkv_out.narrow(1, 0, 1).narrow(2, 0, D);
      kv = qkv_out.narrow(2, D, 2 * D);
    } else {
      q = at::linear(y.narrow(1, 0, 1), qkv->weight.narrow(0, 0, D), qkv->bias.narrow(0, 0, D));
      kv = at::linear(y, qkv->weight.narrow(0, D, 2 * D), qkv->bias.narrow(0, D, 2 * D));
    }
    const at::Tensor o = attention_q_kv(q, kv, heads_);
    at::Tensor h = x.narrow(1, 0, 1) + drop_attn(apply(Site::kProj, proj->forward(o)));
    h = apply(Site::kAttnOut, h);
    return mlp_residual(h);
  }

  at::Tensor mlp_residual(const at::Tensor& h) {
    const at::Tensor y = apply(Site::kNorm2, norm(*norm2, h));
    at::Tensor m = fc2->forward(model::gelu(apply(Site::kFc1, fc1->forward(y))));  // exact (erf) GELU
    m = apply(Site::kMlpOut, m);
    at::Tensor out = h + drop_path(m, drop_rate_, is_training(), *drop_keys_, 2 * uint64_t(index_) + 1);
    if (const auto& branch = slot(Site::kMlpBranch)) out = out + branch->forward(h);
    return out;
  }

  std::shared_ptr<Adapter>& slot(Site site) { return adapters_[int(site)]; }
  std::string& slot_name(Site site) { return names_[int(site)]; }

  std::shared_ptr<torch::nn::LayerNormImpl> norm1, norm2;
  std::shared_ptr<torch::nn::LinearImpl> qkv, proj, fc1, fc2;

 private:
  at::Tensor apply(Site site, const at::Tensor& x) {
    const auto& a = slot(site);
    return a ? a->forward(x) : x;
  }
  // The qkv output with the branch on its input (y) added, then the qkv-output module.
  at::Tensor adapted_qkv(at::Tensor qkv_out, const at::Tensor& y) {
    if (const auto& branch = slot(Site::kQkvBranch)) qkv_out = qkv_out + branch->forward(y);
    return apply(Site::kQkv, qkv_out);
  }

  // The attention branch's DropPath: site 2*index (the MLP branch's is 2*index + 1).
  at::Tensor drop_attn(const at::Tensor& x) {
    return drop_path(x, drop_rate_, is_training(), *drop_keys_, 2 * uint64_t(index_));
  }

  int64_t index_, heads_;
  double drop_rate_;
  std::shared_ptr<const std::vector<uint64_t>> drop_keys_;
  std::shared_ptr<Adapter> adapters_[kSiteCount];
  std::string names_[kSiteCount];
};

ViTImpl::ViTImpl(const ViTConfig& config) : config_(config) {
  config_.validate("ViT config");
  const int64_t D = config_.dim;
  at::NoGradGuard no_grad;
  cls_token_ = register_parameter("cls_token", at::empty({1, 1, D}).normal_(0.0, 1e-6));
  pos_embed_ = register_parameter("pos_embed", at::empty({1, config_.tokens(), D}).normal_(0.0, 0.02));
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  patch_proj_ = patch_embed->register_module(
      "proj", std::make_shared<torch::nn::Conv2dImpl>(
                  torch::nn::Conv2dOptions(3, D, config_.patch).stride(config_.patch)));
  auto blocks = register_module("blocks", std::make_shared<torch::nn::Module>());
  for (int64_t i = 0; i < config_.depth; ++i) {
    const double rate = config_.depth > 1 ? config_.drop_path * double(i) / double(config_.depth - 1) : 0.0;
    blocks_.push_back(blocks->register_module(std::to_string(i), std::make_shared<BlockImpl>(config_, i, rate, drop_keys_)));
  }
  norm_ = register_module("norm", make_norm(D, config_.ln_eps));
  reset_head(config_.num_classes);
}

at::Tensor ViTImpl::embed(const at::Tensor& images) {
  const int64_t S = config_.image_size;
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != S || images.size(3) != S)
    throw InputError(fmt::format("ViT input: expected images (N, 3, {}, {}), found {}", S, S,
                                 fmt::join(images.sizes(), "x")));
  const int64_t B = images.size(0);
  at::Tensor x = patch_proj_->forward(images).flatten(2).transpose(1, 2);  // row-major patches
  if (const auto& a = model_adapters_[int(ModelSite::kPatchEmbed)]) x = a->forward(x);
  return at::cat({cls_token_.expand({B, -1, -1}), x}, 1) + pos_embed_;
}

at::Tensor ViTImpl::final_norm(const at::Tensor& x) {
  at::Tensor y = norm(*norm_, x);
  if (const auto& a = model_adapters_[int(ModelSite::kNorm)]) y = a->forward(y);
  return y;
}

at::Tensor ViTImpl::forward_tokens(const at::Tensor& images, FeatureObserver* observer) {
  at::Tensor x = embed(images);
  for (auto& block : blocks_) x = block->forward(x, observer);
  return final_norm(x);
}

at::Tensor ViTImpl::forward_features(const at::Tensor& images, FeatureObserver* observer) {
  // An observer sees every token of every block; otherwise the last block computes the CLS
  // token only (the final LayerNorm is per token, so its CLS row is the same either way).
  if (observer) return forward_tokens(images, observer).select(1, 0);
  at::Tensor x = embed(images);
  for (size_t i = 0; i + 1 < blocks_.size(); ++i) x = blocks_[i]->forward(x, nullptr);
  return final_norm(blocks_.back()->forward_cls(x)).select(1, 0);
}

at::Tensor ViTImpl::forward(const at::Tensor& images, FeatureObserver* observer) {
  at::Tensor f = forward_features(images, observer);
  return head_ ? head_->forward(f) : f;
}

void ViTImpl::reset_head(int64_t num_classes) {
  if (num_classes < 0) throw InputError(fmt::format("head: number of classes {} is negative", num_classes));
  if (head_) unregister_module("head");
  head_.reset();
  config_.num_classes = num_classes;
  if (num_classes > 0)
    head_ = register_module("head", std::make_shared<torch::nn::LinearImpl>(
                                        torch::nn::LinearOptions(config_.dim, num_classes)));
}

void ViTImpl::set_adapter(int64_t block, Site site, std::shared_ptr<Adapter> adapter, const char* name) {
  SCT_CHECK(block >= 0 && block < config_.depth, fmt::format("block {} of {}", block, config_.depth));
  BlockImpl& b = *blocks_[size_t(block)];
  std::shared_ptr<Adapter>& slot = b.slot(site);
  std::string& slot_name = b.slot_name(site);
  if (slot) b.unregister_module(slot_name);
  slot = std::move(adapter);
  slot_name = name ? name : adapter_name(site);
  if (slot) {
    slot->train(is_training());
    b.register_module(slot_name, slot);
  }
}

std::shared_ptr<Adapter> ViTImpl::adapter(int64_t block, Site site) const {
  SCT_CHECK(block >= 0 && block < config_.depth, fmt::format("block {} of {}", block, config_.depth));
  return blocks_[size_t(block)]->slot(site);
}

void ViTImpl::set_adapter(ModelSite site, std::shared_ptr<Adapter> adapter, const char* name) {
  SCT_CHECK(name && *name, "a model-level adapter needs a name");
  std::shared_ptr<Adapter>& slot = model_adapters_[int(site)];
  std::string& slot_name = model_adapter_names_[int(site)];
  if (slot) unregister_module(slot_name);
  slot = std::move(adapter);
  slot_name = name;
  if (slot) {
    slot->train(is_training());
    register_module(slot_name, slot);
  }
}

std::shared_ptr<Adapter> ViTImpl::adapter(ModelSite site) const { return model_adapters_[int(site)]; }

}  // namespace sct::model
