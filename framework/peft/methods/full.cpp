// Full fine-tuning: every parameter of the model is trained, the head when there is one.
#include "framework/peft/methods/methods.h"

namespace sct::peft::methods {
namespace {

class Full : public Method {
 public:
  Full() : Method("full") {}
  bool needs_head() const override { return false; }  // a headless model trains its backbone
  bool trains(const std::string&) const override { return true; }
};

}  // namespace

const Method& full() {
  static const Full method;
  return method;
}

}  // namespace sct::peft::methods
