#include "framework/core/vtab1k.h"

namespace sct {

const std::array<VtabTask, kVtabTasks>& vtab_tasks() {
  static const std::array<VtabTask, kVtabTasks> tasks = {{
      {"cifar100", "cifar", "Natural", 100},
      {"caltech101", "caltech101", "Natural", 102},
      {"dtd", "dtd", "Natural", 47},
      {"oxford_flowers102", "oxford_flowers102", "Natural", 102},
      {"oxford_iiit_pet", "oxford_iiit_pet", "Natural", 37},
      {"svhn", "svhn", "Natural", 10},
      {"sun397", "sun397", "Natural", 397},
      {"patch_camelyon", "patch_camelyon", "Specialized", 2},
      {"eurosat", "eurosat", "Specialized", 10},
      {"resisc45", "resisc45", "Specialized", 45},
      {"diabetic_retinopathy", "diabetic_retinopathy", "Specialized", 5},
      {"clevr_count", "clevr_count", "Structured", 8},
      {"clevr_dist", "clevr_dist", "Structured", 6},
      {"dmlab", "dmlab", "Structured", 6},
      {"kitti", "kitti", "Structured", 4},
      {"dsprites_loc", "dsprites_loc", "Structured", 16},
      {"dsprites_ori", "dsprites_ori", "Structured", 16},
      {"smallnorb_azi", "smallnorb_azi", "Structured", 18},
      {"smallnorb_ele", "smallnorb_ele", "Structured", 9},
  }};
  return tasks;
}

int vtab_index(const std::string& name_or_folder) {
  const auto& tasks = vtab_tasks();
  for (int i = 0; i < kVtabTasks; ++i)
    if (name_or_folder == tasks[i].name || name_or_folder == tasks[i].folder) return i;
  return -1;
}

const VtabTask* find_vtab_task(const std::string& name_or_folder) {
  const int i = vtab_index(name_or_folder);
  return i < 0 ? nullptr : &vtab_tasks()[i];
}

const std::vector<std::string>& vtab_groups() {
  static const std::vector<std::string> groups = {"Natural", "Specialized", "Structured"};
  return groups;
}

int vtab_group_size(const std::string& group) {
  int n = 0;
  for (const auto& t : vtab_tasks()) n += group == t.group;
  return n;
}

const std::vector<std::string>& vtab_splits() {
  static const std::vector<std::string> s = {"train800", "val200", "train800val200", "test"};
  return s;
}

}  // namespace sct
