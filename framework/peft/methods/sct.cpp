// Salient Channel Tuning (method.md §3): per block, one K x K map on the K channels the saliency
// pass selected, installed as a model adapter; trains those maps and the head.
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/channels.h"
#include "framework/peft/methods/methods.h"
#include "framework/peft/sct_module.h"

namespace sct::peft::methods {
namespace {

class Sct : public Method {
 public:
  Sct() : Method("sct") {}

  void check(const PeftSection& peft) const override {
    check_mode(peft.mode);
    check_strategy(peft.strategy);
    parse_scale_form(peft.scale_form);
  }

  bool needs_selection() const override { return true; }

  void install(model::ViTImpl& model, const Recipe& recipe, const ChannelSelection* selection) const override {
    if (!selection) throw Error("method 'sct' needs a channel selection (run the saliency pass first)");
    install_sct(model, *selection, recipe.peft, recipe.seed);
  }

  std::string module_prefix() const override { return "sct_"; }  // model::ViTImpl::adapter_name

  void check_installed(const std::vector<std::string>& parameter_names) const override {
    for (const std::string& name : parameter_names)
      if (owns(name)) return;
    throw InputError("method 'sct': no SCT modules are installed in the model (install_sct first)");
  }

  bool trains(const std::string& name) const override { return is_head_parameter(name) || owns(name); }

  // L blocks x parts (1, or 2 in qkv mode) x a K x K weight and a K bias.
  int64_t count_without_head(const model::ViTConfig& config, const PeftSection& peft) const override {
    const int64_t k = resolve_k(peft, config.dim);
    return config.depth * int64_t(mode_parts(peft.mode).size()) * (k * k + k);
  }

  std::string describe(const PeftSection& peft, int64_t dim) const override {
    return fmt::format("{} {} K={}", name(), peft.mode, resolve_k(peft, dim));
  }
};

}  // namespace

const Method& sct() {
  static const Sct method;
  return method;
}

}  // namespace sct::peft::methods
