#include "framework/peft/sct_module.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/channels.h"
#include "framework/peft/module_init.h"

namespace sct::peft {

ScaleForm parse_scale_form(const std::string& name) {
  if (name == "none") return ScaleForm::kNone;
  if (name == "residual") return ScaleForm::kResidual;
  if (name == "on_x") return ScaleForm::kOnX;
  throw InputError(fmt::format("peft.scale_form must be one of none | residual | on_x, found \"{}\"", name));
}

model::Site mode_site(const std::string& mode) {
  check_mode(mode);
  return mode == "attn" ? model::Site::kAttnOut : mode == "mlp" ? model::Site::kMlpOut : model::Site::kQkv;
}

SctAdapterImpl::SctAdapterImpl(int64_t width, std::vector<Group> groups, ScaleForm form, double scale, uint64_t seed)
    : width_(width), groups_(std::move(groups)), form_(form), scale_(scale) {
  SCT_CHECK(!groups_.empty(), "SCT module without channel groups");
  std::vector<int64_t> all;
  std::vector<bool> used(size_t(width), false);
  for (const Group& g : groups_)
    for (int64_t c : g.channels) {
      SCT_CHECK(c >= 0 && c < width && !used[size_t(c)], fmt::format("SCT channel {} of width {}", c, width));
      used[size_t(c)] = true;
      all.push_back(c);
    }
  index_ = at::tensor(all, at::kLong);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::NoGradGuard no_grad;
  for (const Group& g : groups_) {
    const auto k = int64_t(g.channels.size());
    SCT_CHECK(k > 0, "empty SCT channel group");
    const std::string prefix = g.name.empty() ? "" : g.name + "_";
    // timm's trunc_normal_(std=.02) bounds are +-2 absolute (100 sigma): the clamp never binds.
    weights_.push_back(register_parameter(prefix + "weight", at::empty({k, k}).normal_(0.0, 0.02, gen).clamp_(-2, 2)));
    biases_.push_back(register_parameter(prefix + "bias", at::zeros({k})));
  }
}

at::Tensor SctAdapterImpl::forward(const at::Tensor& x) {
  SCT_CHECK(x.size(-1) == width_, fmt::format("SCT module of width {} got features of width {}", width_, x.size(-1)));
  if (index_.device() != x.device()) index_ = index_.to(x.device());
  const at::Tensor xs = x.index_select(-1, index_);
  std::vector<at::Tensor> deltas;
  int64_t offset = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto k = int64_t(groups_[g].channels.size());
    const at::Tensor xg = groups_.size() == 1 ? xs : xs.narrow(-1, offset, k);
    offset += k;
    at::Tensor y = at::linear(xg, weights_[g], biases_[g]);
    switch (form_) {
      case ScaleForm::kNone: break;
      case ScaleForm::kResidual: y = y * scale_; break;
      case ScaleForm::kOnX: y = y + xg * (scale_ - 1.0); break;  // s x + Lin(x) = x + (Lin(x) + (s-1) x)
    }
    deltas.push_back(y);
  }
  // index_add out of place: the input stays untouched and autograd routes the gradient of the
  // unselected channels straight through. Under bf16 autocast the product is bfloat16 while
  // x may be float32 (a residual sum): the update takes x's type.
  const at::Tensor delta = deltas.size() == 1 ? deltas[0] : at::cat(deltas, -1);
  return x.index_add(x.dim() - 1, index_, delta.to(x.scalar_type()));
}

void install_sct(model::ViTImpl& model, const ChannelSelection& sel, const PeftSection& peft, int64_t seed) {
  const model::ViTConfig& c = model.config();
  const std::string what = sel.task.empty() ? "channel selection" : fmt::format("channel selection of '{}'", sel.task);
  if (sel.mode != peft.mode)
    throw InputError(fmt::format("{} is for mode '{}', the recipe's peft.mode is '{}'", what, sel.mode, peft.mode));
  if (sel.dim != c.dim || sel.depth != c.depth || int64_t(sel.layers.size()) != c.depth)
    throw InputError(fmt::format("{} is for D={} L={}, the model has D={} L={}", what, sel.dim, sel.depth, c.dim,
                                 c.depth));
  const int64_t k = resolve_k(peft, c.dim);
  if (sel.k != k) throw InputError(fmt::format("{} has K={}, the recipe asks for K={}", what, sel.k, k));
  const ScaleForm form = parse_scale_form(peft.scale_form);
  const auto parts = mode_parts(sel.mode);
  const model::Site site = mode_site(sel.mode);
  for (int64_t l = 0; l < c.depth; ++l) {
    const LayerChannels& lc = sel.layers[size_t(l)];
    SCT_CHECK(lc.indices.size() == parts.size(), "selection parts");
    std::vector<SctAdapterImpl::Group> groups;
    if (parts.size() == 1) {
      groups.push_back({"", lc.indices[0]});
    } else {
      groups.push_back({"q", lc.indices[0]});
      std::vector<int64_t> v = lc.indices[1];
      for (int64_t& j : v) j += 2 * c.dim;  // the v part of the fused qkv output
      groups.push_back({"v", v});
    }
    const int64_t width = sel.mode == "qkv" ? 3 * c.dim : c.dim;
    model.set_adapter(l, site,
                      std::make_shared<SctAdapterImpl>(width, std::move(groups), form, peft.scale, block_seed(seed, l)));
  }
}

}  // namespace sct::peft
