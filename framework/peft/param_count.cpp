#include "framework/peft/param_count.h"

#include <fmt/format.h>

#include "framework/core/recipe.h"
#include "framework/peft/channels.h"
#include "framework/peft/trainable.h"

namespace sct::peft {

ParamCount count_params(const model::ViTConfig& config, const PeftSection& peft, int64_t num_classes) {
  check_method(peft.method);
  model::ViTConfig c = config;
  c.num_classes = 0;
  ParamCount n;
  n.head = (c.dim + 1) * num_classes;
  for (const auto& [name, shape] : model::vit_parameter_shapes(c)) {
    int64_t size = 1;
    for (int64_t d : shape) size *= d;
    n.backbone += size;
    if (method_trains(peft.method, name)) n.without_head += size;
  }
  if (peft.method == "sct") {
    const int64_t k = resolve_k(peft, c.dim);
    n.without_head = c.depth * int64_t(mode_parts(peft.mode).size()) * (k * k + k);
  }
  n.trainable = n.without_head + n.head;
  return n;
}

std::string group_digits(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_param_count(const ParamCount& n, const PeftSection& peft, int64_t dim) {
  std::string what = peft.method;
  if (peft.method == "sct") what += fmt::format(" {} K={}", peft.mode, resolve_k(peft, dim));
  const int64_t full = n.backbone + n.head;
  const double ratio = full > 0 ? double(n.trainable) / double(full) : 0.0;
  std::string fewer = n.trainable > 0 && n.trainable < full
                          ? fmt::format(" ({:.0f}x fewer)", double(full) / double(n.trainable))
                          : "";
  return fmt::format("{}: {} trainable without head, {} with head ({}); full fine-tuning {}: {:.3f}%{}", what,
                     group_digits(n.without_head), group_digits(n.trainable), group_digits(n.head),
                     group_digits(full), 100.0 * ratio, fewer);
}

}  // namespace sct::peft
