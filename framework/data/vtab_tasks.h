// The 19 VTAB-1k tasks: name, folder in the common extraction, group and class count
// (../shared docs: vtab1k.md), and the four standard splits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sct::data {

struct VtabTask {
  const char* name;    // e.g. "cifar100"
  const char* folder;  // e.g. "cifar"
  const char* group;   // "Natural", "Specialized", "Structured"
  int64_t num_classes;
};

const std::vector<VtabTask>& vtab_tasks();
// By name or folder; nullptr when unknown.
const VtabTask* find_vtab_task(const std::string& name_or_folder);
const std::vector<std::string>& vtab_splits();  // train800, val200, train800val200, test

}  // namespace sct::data
