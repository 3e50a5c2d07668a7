// Transcribed from the published VTAB-1k table (ViT-B/16, ImageNet-21k, top-1 %).
#include "framework/sweep/report/reference_rows.h"

namespace sct::report {

const std::array<VtabTask, kVtabTasks>& vtab_tasks() {
  static const std::array<VtabTask, kVtabTasks> tasks = {{
      {"cifar100", "cifar", "Natural", "c100"},
      {"caltech101", "", "Natural", "cal"},
      {"dtd", "", "Natural", "dtd"},
      {"oxford_flowers102", "", "Natural", "flw"},
      {"oxford_iiit_pet", "", "Natural", "pet"},
      {"svhn", "", "Natural", "svhn"},
      {"sun397", "", "Natural", "sun"},
      {"patch_camelyon", "", "Specialized", "cam"},
      {"eurosat", "", "Specialized", "euro"},
      {"resisc45", "", "Specialized", "res"},
      {"diabetic_retinopathy", "", "Specialized", "retino"},
      {"clevr_count", "", "Structured", "cnt"},
      {"clevr_dist", "", "Structured", "dist"},
      {"dmlab", "", "Structured", "dmlab"},
      {"kitti", "", "Structured", "kitti"},
      {"dsprites_loc", "", "Structured", "dloc"},
      {"dsprites_ori", "", "Structured", "dori"},
      {"smallnorb_azi", "", "Structured", "azi"},
      {"smallnorb_ele", "", "Structured", "ele"},
  }};
  return tasks;
}

int vtab_index(const std::string& task) {
  const auto& tasks = vtab_tasks();
  for (int i = 0; i < kVtabTasks; ++i)
    if (task == tasks[i].folder || (tasks[i].alias[0] && task == tasks[i].alias)) return i;
  return -1;
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

const std::vector<ReferenceRow>& reference_rows() {
  static const std::vector<ReferenceRow> rows = {
      {"Full fine-tuning", "85.8M", 85.8,
       {68.9, 87.7, 64.3, 97.2, 86.9, 87.4, 38.8, 79.7, 95.7, 84.2, 73.9, 56.3, 58.6, 41.7, 65.5,
        57.5, 46.7, 25.7, 29.1},
       65.6},
      {"Linear probing", "0M", 0.0,
       {63.4, 85.0, 63.2, 97.0, 86.3, 36.6, 51.0, 78.5, 87.5, 68.6, 74.0, 34.3, 30.6, 33.2, 55.4,
        12.5, 20.0, 9.6, 19.2},
       52.9},
      {"VPT-Deep", "0.56M", 0.56,
       {78.8, 90.8, 65.8, 98.0, 88.3, 78.1, 49.6, 81.8, 96.1, 83.4, 68.4, 68.5, 60.0, 46.5, 72.8,
        73.6, 47.9, 32.9, 37.8},
       69.4},
      {"LoRA", "0.29M", 0.29,
       {67.1, 91.4, 69.4, 98.8, 90.4, 85.3, 54.0, 84.9, 95.3, 84.4, 73.6, 82.9, 69.2, 49.8, 78.5,
        75.7, 47.1, 31.0, 44.0},
       72.3},
      {"NOAH", "0.43M", 0.43,
       {69.6, 92.7, 70.2, 99.1, 90.4, 86.1, 53.7, 84.4, 95.4, 83.9, 75.8, 82.8, 68.9, 49.9, 81.7,
        81.8, 48.3, 32.8, 44.2},
       73.3},
      {"SCT (K=96)", "0.11M", 0.11,
       {75.3, 91.6, 72.2, 99.2, 91.1, 91.2, 55.0, 85.0, 96.1, 86.3, 76.2, 81.5, 65.1, 51.7, 80.2,
        75.4, 46.2, 33.2, 45.7},
       73.6},
  };
  return rows;
}

}  // namespace sct::report
