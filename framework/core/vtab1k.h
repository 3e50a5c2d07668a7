// The 19 VTAB-1k tasks, once for the whole project: name, folder of the common extraction,
// group and class count (../shared docs: vtab1k.md), in the order of the published table; and
// the four standard splits.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sct {

constexpr int kVtabTasks = 19;

struct VtabTask {
  const char* name;        // e.g. "cifar100"
  const char* folder;      // folder of the common extraction, e.g. "cifar" (often the name)
  const char* group;       // "Natural", "Specialized" or "Structured"
  int64_t num_classes;
};

const std::array<VtabTask, kVtabTasks>& vtab_tasks();
// Index into vtab_tasks() of a task name or extraction folder; -1 when not a VTAB task.
int vtab_index(const std::string& name_or_folder);
// By name or folder; nullptr when unknown.
const VtabTask* find_vtab_task(const std::string& name_or_folder);

// The VTAB groups in their usual order and their task counts (7, 4, 8).
const std::vector<std::string>& vtab_groups();
int vtab_group_size(const std::string& group);

const std::vector<std::string>& vtab_splits();  // train800, val200, train800val200, test

}  // namespace sct
