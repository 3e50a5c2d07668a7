// The trainable registry of a run: the one ordered list of (name, tensor) that the optimizer
// updates, the gradient all-reduce packs, a checkpoint holds and the parameter count reports.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/model/vit.h"
#include "framework/peft/method.h"

namespace sct {
struct Recipe;
}

namespace sct::peft {

struct ChannelSelection;

class Trainable {
 public:
  // Sets requires_grad on exactly the parameters `method` trains (Method::trains) and clears it
  // on all others. InputError for an unknown method (see peft::method), when the method needs a
  // head and the model has none, or when its modules are not installed (Method::check_installed).
  Trainable(model::ViTImpl& model, const std::string& method);

  const std::string& method() const { return method_->name(); }
  // In the model's parameter order (identical on every rank).
  const std::vector<std::pair<std::string, at::Tensor>>& named() const { return named_; }
  std::vector<at::Tensor> tensors() const;
  int64_t numel() const { return numel_; }
  int64_t head_numel() const { return head_numel_; }
  int64_t numel_without_head() const { return numel_ - head_numel_; }
  std::string describe() const;  // "sct: 26 tensors, 111,744 + head 76,900 = 188,644 parameters"

 private:
  const Method* method_;
  std::vector<std::pair<std::string, at::Tensor>> named_;
  int64_t numel_ = 0, head_numel_ = 0;
};

// A run's method set-up in one call: checks recipe.peft (Method::check), installs the method's
// modules (Method::install; sct needs `selection`, see install_sct) seeded from recipe.seed,
// then builds the registry for recipe.peft.method.
Trainable prepare_method(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection);

}  // namespace sct::peft
