// One PEFT method behind one interface (its recipe checks, what it installs in the model, which
// parameters it trains, its parameter count from the architecture) and the registry of methods.
// A new method is one file in methods/, declared in methods/methods.h and listed in method.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/model/vit_config.h"

namespace sct {
struct PeftSection;
struct Recipe;
}  // namespace sct

namespace sct::model {
class ViTImpl;
}

namespace sct::peft {

struct ChannelSelection;

class Method {
 public:
  explicit Method(std::string name) : name_(std::move(name)) {}
  virtual ~Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;

  // The peft.method value that selects this method ("sct", "linear", ...).
  const std::string& name() const { return name_; }

  // The recipe's [peft] section as this method reads it, checked without the architecture:
  // InputError naming the key. Checks that need D (peft.k) are made by count_without_head and
  // install. Default: nothing to check.
  virtual void check(const PeftSection& peft) const;

  // Whether install needs a channel selection (the saliency pass runs before install).
  virtual bool needs_selection() const { return false; }
  // Whether the method needs a classification head (Trainable refuses a headless model).
  virtual bool needs_head() const { return true; }

  // Inserts the method's modules into `model` (seeded from recipe.seed). `selection` is
  // required when needs_selection() (Error when null) and ignored otherwise. Default: nothing.
  virtual void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection) const;
  // The prefix of the submodule names install gives its modules ("sct_", "lora_"), "" for a
  // method that installs none. is_adapter_parameter recognises every registered prefix.
  virtual std::string module_prefix() const { return ""; }
  // Whether `name` belongs to one of this method's modules (a dotted part of it starts with
  // module_prefix()); false when the method installs none.
  bool owns(const std::string& name) const;
  // InputError when `parameter_names` (a model's, in model order) lack what install puts there.
  // Default: at least one parameter the method owns when it has a module prefix.
  virtual void check_installed(const std::vector<std::string>& parameter_names) const;

  // Whether the method trains the parameter named `name` (a model.named_parameters() name,
  // head included): the Trainable registry holds exactly these.
  virtual bool trains(const std::string& name) const = 0;

  // Trainable parameters besides the head from the architecture alone (nothing allocated);
  // equals what Trainable holds without the head once install has run. Default: the sizes
  // of the backbone parameters (model::vit_parameter_shapes) that trains() accepts.
  virtual int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const;

  // One line naming the method and its settings for a plan (--dry-run): "sct attn K=96",
  // "linear". Default: name().
  virtual std::string describe(const PeftSection& peft, int64_t dim) const;

 private:
  std::string name_;
};

// The method called `name`. InputError for an unknown name, listing the valid ones:
// peft.method must be one of sct | linear | full | ... | ssf, found "dora"
const Method& method(const std::string& name);
// Every method's name in registry order: sct, linear, full, bitfit, lora, adapter,
// adaptformer, vpt, ssf (the same list as sct::peft_method_names(), which the recipe checks).
std::vector<std::string> method_names();

// The same InputError as method(name) for an unknown name; nothing otherwise.
void check_method(const std::string& name);
// method(name).needs_selection(): whether a run of `name` needs the saliency pass first.
bool needs_selection(const std::string& name);

// Parameter names as the model spells them: the classification head ("head.weight",
// "head.bias") and the parameters of modules a method installed (a dotted part of the name
// starts with a registered method's module_prefix(): "blocks.0.sct_attn.weight",
// "blocks.3.lora_qkv.a_q", "ssf_norm.scale"); the backbone's own never do.
bool is_head_parameter(const std::string& name);
bool is_adapter_parameter(const std::string& name);
// Whether a dotted part of `name` starts with `prefix` (false for an empty prefix).
bool has_module_prefix(const std::string& name, const std::string& prefix);

}  // namespace sct::peft
