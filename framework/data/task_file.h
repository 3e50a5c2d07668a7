// Read-only access to one task file (schema in task_format.h). Opening validates the whole
// structure: every split's image shape and dtype, label dtype, count and range, so later
// reads cannot meet a malformed file. Every problem is one sct::InputError line naming the
// file and the dataset. Safe to share between threads (HDF5 calls are serialised).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/task_format.h"

namespace sct::data {

struct SplitInfo {
  std::string name;
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::string checksum;      // stored split checksum ("" when absent)
  std::string compression;   // "none" or "gzip-<level>"
  // The classes the split is scored over (its 'classes' attribute), ascending; empty: all
  // num_classes. Every label is among them. Evaluation takes the argmax over these only.
  std::vector<int64_t> classes;
};

class TaskFile {
 public:
  explicit TaskFile(const std::string& path);
  ~TaskFile();
  TaskFile(const TaskFile&) = delete;
  TaskFile& operator=(const TaskFile&) = delete;

  const std::string& path() const { return path_; }
  const TaskMetadata& metadata() const { return meta_; }
  int64_t num_classes() const { return meta_.num_classes; }
  std::vector<std::string> split_names() const;  // sorted
  bool has_split(const std::string& name) const;
  // InputError "<file>: no split 'x' (splits: a, b)" when absent.
  const SplitInfo& split(const std::string& name) const;
  const std::vector<int64_t>& labels(const std::string& split) const;

  // Copies images[indices[i]] to out + i * H*W*3 (uint8 HxWx3), in the given order.
  void read_images(const std::string& split, const std::vector<int64_t>& indices, uint8_t* out) const;
  void read_range(const std::string& split, int64_t start, int64_t count, uint8_t* out) const;

  // Recomputes the split's checksum from its content (reads every image).
  std::string compute_split_checksum(const std::string& split) const;
  // InputError naming the file and split when the content differs from the stored checksum.
  // Each (file identity, split) is verified once per process; a split without a stored
  // checksum is not checked.
  void verify_split(const std::string& split) const;

 private:
  struct Impl;
  void open();
  std::string path_;
  TaskMetadata meta_;
  std::map<std::string, SplitInfo> splits_;
  std::map<std::string, std::vector<int64_t>> labels_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sct::data
