#include "framework/peft/merge.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <memory>
#include <set>

#include "framework/core/error.h"
#include "framework/peft/sct_module.h"

namespace sct::peft {
namespace {

// The map's change of the selected channels as delta = A x_Ω + c (sct_module.h, ScaleForm):
//   none      A = W,           c = b
//   residual  A = s W,         c = s b
//   on_x      A = W + (s-1) I, c = b
void group_map(const SctAdapterImpl& m, size_t g, at::Tensor* a, at::Tensor* c) {
  const at::Tensor w = m.weight(g).detach().to(at::kDouble), b = m.bias(g).detach().to(at::kDouble);
  const double s = m.scale();
  switch (m.form()) {
    case ScaleForm::kNone: *a = w, *c = b; break;
    case ScaleForm::kResidual: *a = w * s, *c = b * s; break;
    case ScaleForm::kOnX: *a = w + at::eye(w.size(0), w.options()) * (s - 1.0), *c = b; break;
  }
}

// Rows Ω of the Linear (weight, bias) become (I + A) rows + c, computed in double precision.
void fold_module(const SctAdapterImpl& m, at::Tensor weight, at::Tensor bias) {
  SCT_CHECK(weight.size(0) == m.width() && bias.size(0) == m.width(), "SCT module and Linear widths");
  at::NoGradGuard no_grad;
  for (size_t g = 0; g < m.groups().size(); ++g) {
    at::Tensor a, c;
    group_map(m, g, &a, &c);
    const at::Tensor idx = at::tensor(m.groups()[g].channels, at::kLong);
    const at::Tensor w = weight.index_select(0, idx).to(at::kDouble), b = bias.index_select(0, idx).to(at::kDouble);
    weight.index_copy_(0, idx, (w + at::matmul(a, w)).to(weight.scalar_type()));
    bias.index_copy_(0, idx, (b + at::matmul(a, b) + c).to(bias.scalar_type()));
  }
}

at::Tensor parameter(model::ViTImpl& model, const std::string& name) {
  auto params = model.named_parameters(/*recurse=*/true);
  at::Tensor* p = params.find(name);
  SCT_CHECK(p, "ViT parameter " + name);
  return *p;
}

}  // namespace

void fold_into_backbone(model::ViTImpl& model) {
  const int64_t depth = model.config().depth;
  for (int64_t l = 0; l < depth; ++l)
    if (model.adapter(l, model::Site::kAttnOut))
      throw InputError(
          "merge: SCT in attn mode acts on the residual stream h = x + Attn(LN1(x)) after the attention add; h "
          "feeds LN2 (not linear) and the MLP's residual add, and no Linear layer of a plain ViT computes it, so "
          "the map cannot be folded into the backbone (use the adapter file with `sct_dist eval` or `predict`)");
  struct Fold {
    model::Site site;
    const char* linear;
  };
  for (int64_t l = 0; l < depth; ++l)
    for (const Fold& f : {Fold{model::Site::kQkv, "attn.qkv"}, Fold{model::Site::kMlpOut, "mlp.fc2"}}) {
      const auto module = model.adapter(l, f.site);
      if (!module) continue;
      const auto sct = std::dynamic_pointer_cast<SctAdapterImpl>(module);
      if (!sct)
        throw InputError(fmt::format("merge: block {} holds a module at '{}' that is not an SCT map; merge folds SCT "
                                     "maps only", l, model::ViTImpl::adapter_name(f.site)));
      const std::string prefix = fmt::format("blocks.{}.{}.", l, f.linear);
      fold_module(*sct, parameter(model, prefix + "weight"), parameter(model, prefix + "bias"));
      model.set_adapter(l, f.site, nullptr);
    }
  std::set<std::string> plain;
  for (const auto& [name, shape] : model::vit_parameter_shapes(model.config())) plain.insert(name);
  for (const auto& item : model.named_parameters(/*recurse=*/true))
    if (!plain.count(item.key()))
      throw InputError(fmt::format("merge: parameter '{}' has no place in a plain ViT, and merge does not know how "
                                   "to fold it", item.key()));
}

}  // namespace sct::peft
