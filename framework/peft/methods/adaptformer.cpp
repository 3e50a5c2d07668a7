// AdaptFormer, the SCT reference's ViT variant: a parallel bottleneck beside the MLP,
// x' = h + DropPath(MLP(LN2(h))) + s·up(Dropout(ReLU(down(LN_a(h))))), with its own trainable
// LayerNorm LN_a (PyTorch's default eps 1e-5, as the reference's nn.LayerNorm(D); the
// backbone's norms use 1e-6), dropout peft.adaptformer_dropout (0.1) in training only, down
// kaiming-uniform (nn.Linear's default), up and both biases zero: the branch is zero at step 0
// and every tensor trains. s is peft.adaptformer_scale (reference 1.0; the AdaptFormer paper
// uses 0.1), its own key rather than SCT's peft.scale, so a sweep can set one without the other.
// Installed as the kMlpBranch module "adaptformer_mlp" of every block
// (blocks.{l}.adaptformer_mlp.{norm,down,up}.{weight,bias}); trains those and the head:
// L · (2·D·b + b + D + 2·D) parameters (ViT-B/16, b = 96: 1,798,272).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

class ParallelAdapter : public model::Adapter {
 public:
  ParallelAdapter(int64_t dim, int64_t bottleneck, double scale, double dropout, at::Generator gen)
      : scale_(scale), dropout_(dropout) {
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
    const at::Tensor d = at::dropout(at::relu(at::linear(z, down_->weight, down_->bias)), dropout_, is_training());
    return at::linear(d, up_->weight, up_->bias) * scale_;
  }

 private:
  double scale_, dropout_;
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
                                                          block_generator(recipe.seed, l)),
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
