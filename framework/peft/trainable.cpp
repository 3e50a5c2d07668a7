#include "framework/peft/trainable.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/param_count.h"

namespace sct::peft {

Trainable::Trainable(model::ViTImpl& model, const std::string& method) : method_(&peft::method(method)) {
  if (!model.has_head() && method_->needs_head())
    throw InputError(fmt::format("method '{}' trains a classification head, and the model has none", method));
  std::vector<std::string> names;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    at::Tensor t = item.value();
    const bool train = method_->trains(name);
    t.set_requires_grad(train);
    names.push_back(name);
    if (!train) continue;
    named_.emplace_back(name, t);
    numel_ += t.numel();
    if (is_head_parameter(name)) head_numel_ += t.numel();
  }
  method_->check_installed(names);
}

std::vector<at::Tensor> Trainable::tensors() const {
  std::vector<at::Tensor> out;
  out.reserve(named_.size());
  for (const auto& [name, t] : named_) out.push_back(t);
  return out;
}

std::string Trainable::describe() const {
  return fmt::format("{}: {} tensors, {} + head {} = {} parameters", method(), named_.size(),
                     group_digits(numel_without_head()), group_digits(head_numel_), group_digits(numel_));
}

Trainable prepare_method(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection) {
  const Method& chosen = method(recipe.peft.method);
  chosen.check(recipe.peft);
  chosen.install(model, recipe, selection);
  return Trainable(model, recipe.peft.method);
}

}  // namespace sct::peft
