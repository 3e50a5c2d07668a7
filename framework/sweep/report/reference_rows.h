// The 19 VTAB-1k tasks (folder names, groups, order) and the published ViT-B/16 results that
// reports print beside a sweep's own numbers.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace sct::report {

constexpr int kVtabTasks = 19;

struct VtabTask {
  const char* folder;  // task folder name, e.g. "oxford_flowers102"
  const char* alias;   // accepted second name ("cifar" for cifar100), or ""
  const char* group;   // "Natural", "Specialized" or "Structured"
  const char* short_name;  // column header of the published table ("flw")
};

// The tasks in the order of the published table.
const std::array<VtabTask, kVtabTasks>& vtab_tasks();

// Index into vtab_tasks() of a task folder name or alias; -1 when not a VTAB task.
int vtab_index(const std::string& task);

// The VTAB groups in their usual order and their task counts (7, 4, 8).
const std::vector<std::string>& vtab_groups();
int vtab_group_size(const std::string& group);

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
