// SSF, Scaling and Shifting your Features (Lian et al. 2022): y = γ ⊙ x + β per channel after
// every linear layer and LayerNorm of the backbone, as the SSF code places them: in each block
// after norm1, qkv (3D wide), proj, norm2, fc1 (MLP hidden wide, before GELU) and fc2 (the
// MLP output, before DropPath); outside the blocks after the patch embedding (before the CLS
// token and position embeddings) and after the final norm. Init as the SSF code: γ ~ N(1, 0.02²),
// β ~ N(0, 0.02²), so the model differs slightly from the backbone at step 0. Modules
// blocks.{l}.ssf_{norm1,qkv,proj,norm2,fc1,fc2}.{scale,shift}, ssf_patch_embed, ssf_norm;
// trains those and the head: 2·(L·(7·D + hidden) + 2·D) parameters (ViT-B/16: 205,824).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/core/recipe.h"
#include "framework/model/vit.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/module_init.h"

namespace sct::peft::methods {
namespace {

class ScaleShift : public model::Adapter {
 public:
  ScaleShift(int64_t width, at::Generator& gen) {
    at::NoGradGuard no_grad;
    scale_ = register_parameter("scale", at::empty({width}).normal_(1.0, 0.02, gen));
    shift_ = register_parameter("shift", at::empty({width}).normal_(0.0, 0.02, gen));
  }

  at::Tensor forward(const at::Tensor& x) override { return at::addcmul(shift_, x, scale_); }

 private:
  at::Tensor scale_, shift_;
};

class Ssf : public Method {
 public:
  Ssf() : Method("ssf") {}

  std::string module_prefix() const override { return "ssf_"; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection*) const override {
    using model::Site;
    const model::ViTConfig& c = model.config();
    const std::pair<Site, const char*> sites[] = {{Site::kNorm1, "ssf_norm1"}, {Site::kQkv, "ssf_qkv"},
                                                  {Site::kProj, "ssf_proj"},   {Site::kNorm2, "ssf_norm2"},
                                                  {Site::kFc1, "ssf_fc1"},     {Site::kMlpOut, "ssf_fc2"}};
    for (int64_t l = 0; l < c.depth; ++l) {
      at::Generator gen = block_generator(recipe.seed, l);
      for (const auto& [site, name] : sites) {
        const int64_t width = site == Site::kQkv ? 3 * c.dim : site == Site::kFc1 ? c.mlp_hidden() : c.dim;
        model.set_adapter(l, site, std::make_shared<ScaleShift>(width, gen), name);
      }
    }
    at::Generator before = block_generator(recipe.seed, -1), after = block_generator(recipe.seed, c.depth);
    model.set_adapter(model::ModelSite::kPatchEmbed, std::make_shared<ScaleShift>(c.dim, before), "ssf_patch_embed");
    model.set_adapter(model::ModelSite::kNorm, std::make_shared<ScaleShift>(c.dim, after), "ssf_norm");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  int64_t count_without_head(const model::ViTConfig& config, const PeftSection&) const override {
    return 2 * (config.depth * (7 * config.dim + config.mlp_hidden()) + 2 * config.dim);
  }
};

}  // namespace

const Method& ssf() {
  static const Ssf method;
  return method;
}

}  // namespace sct::peft::methods
