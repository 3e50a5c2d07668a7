// BitFit: every parameter whose name ends in "bias" (LayerNorm biases included) and the head.
#include "framework/peft/methods/methods.h"

namespace sct::peft::methods {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class Bitfit : public Method {
 public:
  Bitfit() : Method("bitfit") {}
  // The biases of installed adapters are not the backbone's: BitFit leaves them alone.
  bool trains(const std::string& name) const override {
    return is_head_parameter(name) || (ends_with(name, "bias") && !is_adapter_parameter(name));
  }
};

}  // namespace

const Method& bitfit() {
  static const Bitfit method;
  return method;
}

}  // namespace sct::peft::methods
