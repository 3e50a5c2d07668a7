#include "framework/peft/method.h"

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/peft/methods/methods.h"

namespace sct::peft {
namespace {

// An explicit table rather than self-registration from static initialisers: a linker drops
// an object file of a static library that nothing references, and its registration with it.
// The order is the order of method_names() and of the error message.
const std::vector<const Method*>& registry() {
  static const std::vector<const Method*> table = {
      &methods::sct(),
      &methods::linear(),
      &methods::full(),
      &methods::bitfit(),
      &methods::lora(),
      &methods::adapter(),
      &methods::adaptformer(),
      &methods::vpt(),
      &methods::ssf(),
  };
  return table;
}

}  // namespace

void Method::check(const PeftSection&) const {}

void Method::install(model::ViTImpl&, const Recipe&, const ChannelSelection*) const {}

bool Method::owns(const std::string& name) const { return has_module_prefix(name, module_prefix()); }

void Method::check_installed(const std::vector<std::string>& parameter_names) const {
  if (module_prefix().empty()) return;
  for (const std::string& name : parameter_names)
    if (owns(name)) return;
  throw InputError(fmt::format("method '{}': none of its modules ({}*) are installed in the model", name_,
                               module_prefix()));
}

int64_t Method::count_without_head(const model::ViTConfig& config, const PeftSection&) const {
  int64_t n = 0;
  for (const auto& [name, shape] : model::vit_parameter_shapes(config)) {
    if (is_head_parameter(name) || !trains(name)) continue;
    int64_t size = 1;
    for (int64_t d : shape) size *= d;
    n += size;
  }
  return n;
}

std::string Method::describe(const PeftSection&, int64_t) const { return name_; }

const Method& method(const std::string& name) {
  for (const Method* m : registry())
    if (m->name() == name) return *m;
  throw InputError(fmt::format("peft.method must be one of {}, found \"{}\"", join(method_names(), " | "), name));
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const Method* m : registry()) names.push_back(m->name());
  return names;
}

void check_method(const std::string& name) { method(name); }

bool needs_selection(const std::string& name) { return method(name).needs_selection(); }

bool is_head_parameter(const std::string& name) { return name.rfind("head.", 0) == 0; }

bool has_module_prefix(const std::string& name, const std::string& prefix) {
  if (prefix.empty()) return false;
  for (size_t start = 0;;) {
    if (name.compare(start, prefix.size(), prefix) == 0) return true;
    start = name.find('.', start);
    if (start == std::string::npos) return false;
    ++start;
  }
}

bool is_adapter_parameter(const std::string& name) {
  for (const Method* m : registry())
    if (m->owns(name)) return true;
  return false;
}

}  // namespace sct::peft
