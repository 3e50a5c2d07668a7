// The trainable registry of a run: the one ordered list of (name, tensor) that the optimizer
// updates, the gradient all-reduce packs, a checkpoint holds and the parameter count reports.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/model/vit.h"

namespace sct {
struct Recipe;
}

namespace sct::peft {

struct ChannelSelection;

// Methods: sct (SCT modules + head), linear (head), full (everything), bitfit (every
// parameter whose name ends in "bias", LayerNorm biases included, + head). InputError otherwise.
void check_method(const std::string& method);
// Whether `method` trains the parameter named `name` (a model.named_parameters() name).
bool method_trains(const std::string& method, const std::string& name);

class Trainable {
 public:
  // Sets requires_grad on exactly the parameters `method` trains and clears it on all others.
  // InputError when the method needs a head and the model has none, or when sct finds no SCT
  // modules installed.
  Trainable(model::ViTImpl& model, const std::string& method);

  const std::string& method() const { return method_; }
  // In the model's parameter order (identical on every rank).
  const std::vector<std::pair<std::string, at::Tensor>>& named() const { return named_; }
  std::vector<at::Tensor> tensors() const;
  int64_t numel() const { return numel_; }
  int64_t head_numel() const { return head_numel_; }
  int64_t numel_without_head() const { return numel_ - head_numel_; }
  std::string describe() const;  // "sct: 26 tensors, 111,744 + head 76,900 = 188,644 parameters"

 private:
  std::string method_;
  std::vector<std::pair<std::string, at::Tensor>> named_;
  int64_t numel_ = 0, head_numel_ = 0;
};

// A run's method set-up in one call: for sct, installs the modules of `selection` (required;
// see install_sct) seeded from recipe.seed; then builds the registry for recipe.peft.method.
Trainable prepare_method(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection);

}  // namespace sct::peft
