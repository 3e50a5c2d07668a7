// LoRA on the fused qkv Linear, as the SCT reference's ViT variant has it: per block
// q += B_q·A_q·x and v += B_v·A_v·x, x the qkv Linear's input (the LN1 output), k untouched, no
// bias and no alpha/r scaling. Installed as the kQkvBranch module "lora_qkv" of every block
// (parameters blocks.{l}.lora_qkv.{a_q, b_q, a_v, b_v}, A: r x D, B: D x r); trains those and
// the head: L · 4 · D · r parameters (ViT-B/16, r = 8: 294,912).
//
// peft.init = "reference" draws A_q and B_q kaiming-uniform (nn.Linear's default) and zeroes
// A_v and B_v, as the reference code does. Two consequences: the q update is not zero at step
// 0 (the logits differ from the backbone's), and the v update stays zero for good (A_v's
// gradient goes through B_v and B_v's through A_v, both zero; weight decay keeps them there).
// "standard" (the LoRA paper): A_q and A_v kaiming-uniform, B_q and B_v zero, so the model
// starts as the backbone and both updates train.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

class LoraQkv : public model::Adapter {
 public:
  LoraQkv(int64_t dim, int64_t rank, bool reference_init, at::Generator gen) {
    at::NoGradGuard no_grad;
    a_q_ = register_parameter("a_q", at::zeros({rank, dim}));
    b_q_ = register_parameter("b_q", at::zeros({dim, rank}));
    a_v_ = register_parameter("a_v", at::zeros({rank, dim}));
    b_v_ = register_parameter("b_v", at::zeros({dim, rank}));
    kaiming_uniform_linear_(a_q_, gen);
    kaiming_uniform_linear_(reference_init ? b_q_ : a_v_, gen);
  }

  // x: (B, T, D) -> (B, T, 3D): the q and v updates, zero in the k part.
  at::Tensor forward(const at::Tensor& x) override {
    const at::Tensor dq = at::linear(at::linear(x, a_q_), b_q_);
    const at::Tensor dv = at::linear(at::linear(x, a_v_), b_v_);
    return at::cat({dq, at::zeros_like(dq), dv}, -1);
  }

 private:
  at::Tensor a_q_, b_q_, a_v_, b_v_;
};

class Lora : public Method {
 public:
  Lora() : Method("lora") {}

  void check(const PeftSection& peft) const override {
    if (peft.rank <= 0) throw InputError(fmt::format("peft.rank must be > 0, found {}", peft.rank));
    check_init(peft);
  }

  std::string module_prefix() const override { return "lora_"; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection*) const override {
    const model::ViTConfig& c = model.config();
    const bool reference_init = recipe.peft.init == "reference";
    for (int64_t l = 0; l < c.depth; ++l)
      model.set_adapter(l, model::Site::kQkvBranch,
                        std::make_shared<LoraQkv>(c.dim, recipe.peft.rank, reference_init,
                                                  block_generator(recipe.seed, l)),
                        "lora_qkv");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const override {
    return config.depth * 4 * config.dim * peft.rank;
  }

  std::string describe(const PeftSection& peft, int64_t) const override {
    return fmt::format("{} r={} init={}", name(), peft.rank, peft.init);
  }
};

}  // namespace

void check_init(const PeftSection& peft) {
  if (peft.init != "reference" && peft.init != "standard")
    throw InputError(fmt::format("peft.init must be one of reference | standard, found \"{}\"", peft.init));
}

const Method& lora() {
  static const Lora method;
  return method;
}

}  // namespace sct::peft::methods
