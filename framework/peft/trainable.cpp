#include "framework/peft/trainable.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/channels.h"
#include "framework/peft/param_count.h"
#include "framework/peft/sct_module.h"

namespace sct::peft {
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

}  // namespace

void check_method(const std::string& method) {
  if (method != "sct" && method != "linear" && method != "full" && method != "bitfit")
    throw InputError(fmt::format("peft.method must be one of sct | linear | full | bitfit, found \"{}\"", method));
}

bool method_trains(const std::string& method, const std::string& name) {
  if (method == "full" || starts_with(name, "head.")) return true;
  const bool sct_module = name.find(".sct_") != std::string::npos;
  if (method == "sct" || sct_module) return method == "sct" && sct_module;  // bitfit leaves SCT biases alone
  if (method == "bitfit") return ends_with(name, "bias");
  return false;  // linear
}

Trainable::Trainable(model::ViTImpl& model, const std::string& method) : method_(method) {
  check_method(method);
  if (!model.has_head() && method != "full")
    throw InputError(fmt::format("method '{}' trains a classification head, and the model has none", method));
  bool any_sct = false;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    at::Tensor t = item.value();
    const bool train = method_trains(method, name);
    t.set_requires_grad(train);
    any_sct = any_sct || name.find(".sct_") != std::string::npos;
    if (!train) continue;
    named_.emplace_back(name, t);
    numel_ += t.numel();
    if (starts_with(name, "head.")) head_numel_ += t.numel();
  }
  if (method == "sct" && !any_sct)
    throw InputError("method 'sct': no SCT modules are installed in the model (install_sct first)");
}

std::vector<at::Tensor> Trainable::tensors() const {
  std::vector<at::Tensor> out;
  out.reserve(named_.size());
  for (const auto& [name, t] : named_) out.push_back(t);
  return out;
}

std::string Trainable::describe() const {
  return fmt::format("{}: {} tensors, {} + head {} = {} parameters", method_, named_.size(),
                     group_digits(numel_without_head()), group_digits(head_numel_), group_digits(numel_));
}

Trainable prepare_method(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection) {
  check_method(recipe.peft.method);
  if (recipe.peft.method == "sct") {
    if (!selection) throw Error("method 'sct' needs a channel selection (run the saliency pass first)");
    install_sct(model, *selection, recipe.peft, recipe.seed);
  }
  return Trainable(model, recipe.peft.method);
}

}  // namespace sct::peft
