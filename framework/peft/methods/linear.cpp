// Linear probing: the backbone stays frozen and only the classification head is trained.
#include "framework/peft/methods/methods.h"

namespace sct::peft::methods {
namespace {

class Linear : public Method {
 public:
  Linear() : Method("linear") {}
  bool trains(const std::string& name) const override { return is_head_parameter(name); }
};

}  // namespace

const Method& linear() {
  static const Linear method;
  return method;
}

}  // namespace sct::peft::methods
