// Adapter, the SCT reference's ViT variant: a sequential bottleneck on the MLP's output inside
// its residual branch, h + DropPath(a(MLP(LN2(h)))) with a(y) = y + up(GELU(down(y))), down
// D -> b and up b -> D with biases, exact (erf) GELU. Installed as the kMlpOut module
// "adapter_mlp" of every block (blocks.{l}.adapter_mlp.{down,up}.{weight,bias}); trains those
// and the head: L · (2·D·b + b + D) parameters (ViT-B/16, b = 96: 1,779,840).
//
// peft.init = "reference" zeroes all four tensors, as the reference code does. The module then
// starts as the identity, and only up.bias ever learns: GELU(0) = 0 makes up.weight's gradient
// zero, and down's gradient goes through up.weight, which stays zero. "standard" draws
// down.weight kaiming-uniform (nn.Linear's default) and zeroes the rest: still the identity at
// step 0, and every tensor trains.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

std::shared_ptr<torch::nn::LinearImpl> zero_linear(int64_t in, int64_t out) {
  auto l = std::make_shared<torch::nn::LinearImpl>(torch::nn::LinearOptions(in, out));
  at::NoGradGuard no_grad;
  l->weight.zero_();
  l->bias.zero_();
  return l;
}

class BottleneckAdapter : public model::Adapter {
 public:
  BottleneckAdapter(int64_t dim, int64_t bottleneck, bool reference_init, at::Generator gen) {
    down_ = register_module("down", zero_linear(dim, bottleneck));
    up_ = register_module("up", zero_linear(bottleneck, dim));
    if (!reference_init) kaiming_uniform_linear_(down_->weight, gen);
  }

  at::Tensor forward(const at::Tensor& y) override {
    return y + at::linear(at::gelu(at::linear(y, down_->weight, down_->bias)), up_->weight, up_->bias);
  }

 private:
  std::shared_ptr<torch::nn::LinearImpl> down_, up_;
};

class Adapter : public Method {
 public:
  Adapter() : Method("adapter") {}

  void check(const PeftSection& peft) const override {
    resolve_bottleneck(peft, 8);
    check_init(peft);
  }

  std::string module_prefix() const override { return "adapter_"; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection*) const override {
    const model::ViTConfig& c = model.config();
    const int64_t b = resolve_bottleneck(recipe.peft, c.dim);
    for (int64_t l = 0; l < c.depth; ++l)
      model.set_adapter(l, model::Site::kMlpOut,
                        std::make_shared<BottleneckAdapter>(c.dim, b, recipe.peft.init == "reference",
                                                            block_generator(recipe.seed, l)),
                        "adapter_mlp");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const override {
    const int64_t b = resolve_bottleneck(peft, config.dim);
    return config.depth * (2 * config.dim * b + b + config.dim);
  }

  std::string describe(const PeftSection& peft, int64_t dim) const override {
    return fmt::format("{} b={} init={}", name(), resolve_bottleneck(peft, dim), peft.init);
  }
};

}  // namespace

int64_t resolve_bottleneck(const PeftSection& peft, int64_t dim) {
  if (peft.bottleneck < 0) throw InputError(fmt::format("peft.bottleneck must be >= 0, found {}", peft.bottleneck));
  return peft.bottleneck > 0 ? peft.bottleneck : std::max<int64_t>(1, dim / 8);
}

const Method& adapter() {
  static const Adapter method;
  return method;
}

}  // namespace sct::peft::methods
