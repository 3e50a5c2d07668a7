#include "framework/peft/param_count.h"

#include <fmt/format.h>

#include "framework/core/recipe.h"
#include "framework/peft/method.h"

namespace sct::peft {

ParamCount count_params(const model::ViTConfig& config, const PeftSection& peft, int64_t num_classes) {
  const Method& chosen = method(peft.method);
  chosen.check(peft);
  model::ViTConfig c = config;
  c.num_classes = 0;
  ParamCount n;
  n.head = (c.dim + 1) * num_classes;
  n.backbone = model::vit_num_params(c, /*with_head=*/false);
  n.without_head = chosen.count_without_head(c, peft);
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
  const std::string what = method(peft.method).describe(peft, dim);
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
