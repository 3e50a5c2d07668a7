// AdaptFormer, the SCT reference's ViT variant: a parallel bottleneck beside the MLP,
// x' = h + DropPath(MLP(LN2(h))) + s·up(Dropout(ReLU(down(LN_a(h))))), with its own trainable
// LayerNorm LN_a (PyTorch's default eps 1e-5, as the reference's nn.LayerNorm(D); the
// backbone's norms use 1e-6), dropout peft.adaptformer_dropout (0.1) in training only, down
// kaiming-uniform (nn.Linear's default), up and both biases zero: the branch is zero at step 0
// and every tensor trains. The dropout masks are drawn per sample from the model's sample keys
// (ViTImpl::sample_keys: seed, epoch, the sample's index in the split) and the block, so they
// do not depend on the rank holding a sample or on the device. s is peft.adaptformer_scale (reference 1.0; the AdaptFormer paper
// uses 0.1), its own key rather than SCT's peft.scale, so a sweep can set one without the other.
// Installed as the kMlpBranch module "adaptformer_mlp" of every block
// (blocks.{l}.adaptformer_mlp.{norm,down,up}.{weight,bias}); trains those and the head:
// L · (2·D·b + b + D + 2·D) parameters (ViT-B/16, b = 96: 1,798,272).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/core/strings.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

class ParallelAdapter : public model::Adapter {
 public:
  ParallelAdapter(int64_t dim, int64_t bottleneck, double scale, double dropout, at::Generator gen, int64_t block,
                  std::shared_ptr<const std::vector<uint64_t>> keys)
      : scale_(scale), dropout_(dropout), block_(block), keys_(std::move(keys)) {
    norm_ = register_module("norm", std::make_shared<torch::nn::LayerNormImpl>(
                                        torch::nn::LayerNormOptions({dim}).eps(1e-5).elementwise_affine(true)));
    down_ = register_module("down", std::make_shared<torch::nn::LinearImpl>(torch::nn::LinearOptions(dim, bottleneck)));
    up_ = register_module("up", std::make_shared<torch::nn::LinearImpl>(torch::nn::LinearOptions(bottleneck, dim)));
    at::NoGradGuard no_grad;
    kaiming_uniform_linear_(down_->weight, gen);
    down_->bias.zero_();
    up_->weight.zero_();
    up_->bias.zero_();
  }

  // h: (B, T, D) -> the branch's (B, T, D) contribution to the block output.
  at::Tensor forward(const at::Tensor& h) override {
    const at::Tensor z = at::layer_norm(h, {h.size(-1)}, norm_->weight, norm_->bias, 1e-5);
    const at::Tensor d = dropout(at::relu(at::linear(z, down_->weight, down_->bias)));
    return at::linear(d, up_->weight, up_->bias) * scale_;
  }

 private:
  // Training only. With sample keys (the trainer's), sample j's mask is drawn by a generator
  // seeded from (its key, this block); without, from LibTorch's default generator.
  at::Tensor dropout(const at::Tensor& a) const {
    if (!is_training() || dropout_ <= 0.0) return a;
    const std::vector<uint64_t>& keys = *keys_;
    if (keys.empty()) return at::dropout(a, dropout_, true);
    SCT_CHECK(static_cast<int64_t>(keys.size()) == a.size(0),
              fmt::format("AdaptFormer dropout: {} keys for a batch of {}", keys.size(), a.size(0)));
    const double keep = 1.0 - dropout_;
    std::vector<at::Tensor> masks;
    masks.reserve(keys.size());
    for (uint64_t key : keys) {
      at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(fnv1a64(fmt::format("adaptformer/{}/{}", key, block_)));
      masks.push_back(at::empty(a.sizes().slice(1), at::kFloat).bernoulli_(keep, gen));
    }
    return a * at::stack(masks).div_(keep).to(a.options());
  }

  double scale_, dropout_;
  int64_t block_;
  std::shared_ptr<const std::vector<uint64_t>> keys_;
  std::shared_ptr<torch::nn::LayerNormImpl> norm_;
  std::shared_ptr<torch::nn::LinearImpl> down_, up_;
};

class AdaptFormer : public Method {
 public:
  AdaptFormer() : Method("adaptformer") {}

  void check(const PeftSection& peft) const override {
    resolve_bottleneck(peft, 8);
    if (!(peft.adaptformer_dropout >= 0.0 && peft.adaptformer_dropout < 1.0))
      throw InputError(fmt::format("peft.adaptformer_dropout must be in [0, 1), found {}", peft.adaptformer_dropout));
  }

  std::string module_prefix() const override { return "adaptformer_"; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection*) const override {
    const model::ViTConfig& c = model.config();
    const int64_t b = resolve_bottleneck(recipe.peft, c.dim);
    for (int64_t l = 0; l < c.depth; ++l)
      model.set_adapter(l, model::Site::kMlpBranch,
                        std::make_shared<ParallelAdapter>(c.dim, b, recipe.peft.adaptformer_scale,
                                                          recipe.peft.adaptformer_dropout,
                                                          block_generator(recipe.seed, l), l, model.sample_keys()),
                        "adaptformer_mlp");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const override {
    const int64_t b = resolve_bottleneck(peft, config.dim);
    return config.depth * (2 * config.dim * b + b + 3 * config.dim);
  }

  std::string describe(const PeftSection& peft, int64_t dim) const override {
    return fmt::format("{} b={} s={}", name(), resolve_bottleneck(peft, dim), peft.adaptformer_scale);
  }
};

}  // namespace

const Method& adaptformer() {
  static const AdaptFormer method;
  return method;
}

}  // namespace sct::peft::methods
