// Builds the Fashion-MNIST mini-benchmark: one task file for pre-training (the upstream
// classes) and the VTAB-style downstream tasks (train800, val200, train800val200, test), all
// 28x28, deterministic from a seed, provenance in each file's attributes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sct::data::fmnist {

inline constexpr const char* kBuilderVersion = "fmnist-bench 1";

struct BenchOptions {
  std::string root = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  std::string output_dir;
  uint64_t seed = 0;
  int64_t upstream_per_class = 5500;  // pre-training images per upstream class (of 6000)
  int64_t upstream_test = 1000;       // pre-training evaluation images (of 2500)
  int64_t train = 800, val = 200;     // downstream training splits (VTAB-1k: 800 + 200)
  int64_t test = 2000;                // downstream test images per task
  std::vector<std::string> tasks;     // subset by name; empty = every file
  int threads = 0;                    // 0 = all cores
  bool force = false;                 // rebuild files that are up to date
};

struct BuiltFile {
  std::string task;
  std::string path;
  bool kept = false;  // already there with the same provenance
};

// Task names in build order: the upstream task, then the downstream ones.
std::vector<std::string> bench_task_names();

// Writes <output_dir>/<task>.h5 for each task. A file whose `source` attribute and split
// sizes already match what would be written is kept. InputError on a bad option or
// missing input files.
std::vector<BuiltFile> build_bench(const BenchOptions& options);

}  // namespace sct::data::fmnist
