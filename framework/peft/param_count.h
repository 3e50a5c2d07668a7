// Trainable-parameter counts per method from the architecture alone (nothing allocated), and the
// line `run --dry-run` prints for each task.
#pragma once

#include <cstdint>
#include <string>

#include "framework/model/vit_config.h"

namespace sct {
struct PeftSection;
}

namespace sct::peft {

struct ParamCount {
  int64_t trainable = 0;     // without_head + head
  int64_t without_head = 0;  // e.g. SCT modules, biases
  int64_t head = 0;          // (D + 1) * classes
  int64_t backbone = 0;      // every backbone parameter (what full fine-tuning trains besides the head)
};

// Counts for peft.method (Method::check, then Method::count_without_head; sct: K from
// resolve_k(peft, D), L * parts * (K^2 + K)). The head has num_classes rows (config.num_classes
// is ignored). ViT-B/16, K = 96: sct attn 111,744
// without the head, qkv 223,488; backbone 85,798,656.
ParamCount count_params(const model::ViTConfig& config, const PeftSection& peft, int64_t num_classes);

// "111744" -> "111,744".
std::string group_digits(int64_t n);

// One line for a plan (Method::describe, then the counts), e.g. "sct attn K=96: 111,744 trainable without head, 188,644 with head
// (76,900); full fine-tuning 85,875,556: 0.220% (455x fewer)".
std::string format_param_count(const ParamCount& count, const PeftSection& peft, int64_t dim);

}  // namespace sct::peft
