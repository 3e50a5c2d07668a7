// Visual Prompt Tuning (Jia et al. 2022): P learned prompt tokens inserted after the CLS token,
// before the patch tokens, without position embeddings. peft.prompt_depth = "deep" (VPT-Deep,
// the default): every block gets its own P prompts, replacing the previous block's prompt
// outputs at its input; "shallow": block 0's prompts only, carried through the blocks like
// patch tokens. The head reads the CLS token only, so prompts never reach it. Installed as the
// kBlockIn module "vpt_prompt" (blocks.{l}.vpt_prompt.tokens, 1 x P x D); trains those and the
// head: deep L·P·D, shallow P·D parameters (ViT-B/16, P = 10, deep: 92,160).
//
// Init as the VPT code: U(-v, v) with v = sqrt(6 / (3·patch² + D)) (xavier-uniform with the
// patch embedding's fan-in); no prompt dropout, no prompt projection.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

class Prompts : public model::Adapter {
 public:
  // insert: block 0 adds P tokens after CLS; otherwise tokens 1..P are replaced.
  Prompts(int64_t count, int64_t dim, int64_t patch, bool insert, at::Generator gen) : count_(count), insert_(insert) {
    const double v = std::sqrt(6.0 / double(3 * patch * patch + dim));
    at::NoGradGuard no_grad;
    tokens_ = register_parameter("tokens", at::empty({1, count, dim}).uniform_(-v, v, gen));
  }

  at::Tensor forward(const at::Tensor& x) override {
    const int64_t T = x.size(1), skip = insert_ ? 1 : 1 + count_;
    SCT_CHECK(T >= skip, fmt::format("prompt block input of {} tokens, {} prompts", T, count_));
    return at::cat({x.narrow(1, 0, 1), tokens_.expand({x.size(0), -1, -1}), x.narrow(1, skip, T - skip)}, 1);
  }

 private:
  int64_t count_;
  bool insert_;
  at::Tensor tokens_;
};

class Vpt : public Method {
 public:
  Vpt() : Method("vpt") {}

  void check(const PeftSection& peft) const override {
    if (peft.prompts <= 0) throw InputError(fmt::format("peft.prompts must be > 0, found {}", peft.prompts));
    if (peft.prompt_depth != "deep" && peft.prompt_depth != "shallow")
      throw InputError(fmt::format("peft.prompt_depth must be one of deep | shallow, found \"{}\"", peft.prompt_depth));
  }

  std::string module_prefix() const override { return "vpt_"; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection*) const override {
    const model::ViTConfig& c = model.config();
    const int64_t blocks = recipe.peft.prompt_depth == "deep" ? c.depth : 1;
    for (int64_t l = 0; l < blocks; ++l)
      model.set_adapter(l, model::Site::kBlockIn,
                        std::make_shared<Prompts>(recipe.peft.prompts, c.dim, c.patch, l == 0,
                                                  block_generator(recipe.seed, l)),
                        "vpt_prompt");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const override {
    return (peft.prompt_depth == "deep" ? config.depth : 1) * peft.prompts * config.dim;
  }

  std::string describe(const PeftSection& peft, int64_t) const override {
    return fmt::format("{} {} P={}", name(), peft.prompt_depth, peft.prompts);
  }
};

}  // namespace

const Method& vpt() {
  static const Vpt method;
  return method;
}

}  // namespace sct::peft::methods
