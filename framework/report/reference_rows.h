// The published ViT-B/16 VTAB-1k results that reports print beside a sweep's own numbers.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "framework/core/vtab1k.h"

namespace sct::report {

struct ReferenceRow {
  std::string method;       // "SCT (K=96)"
  std::string params;       // as published, head excluded: "0.11M"
  double params_millions;   // the same as a number
  std::array<double, kVtabTasks> accuracy;  // top-1 %, in vtab_tasks() order
  double mean;              // published plain mean over the 19 tasks
};

// Published rows (ViT-B/16, ImageNet-21k): full fine-tuning, linear probing, VPT-Deep, LoRA,
// NOAH, SCT (K=96).
const std::vector<ReferenceRow>& reference_rows();

}  // namespace sct::report
