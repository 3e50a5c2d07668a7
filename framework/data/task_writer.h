// Writes one task file: splits of uint8 images chunked one image per chunk, int64 labels,
// the schema's attributes and checksums. The file is built under a temporary name beside
// the target and renamed into place by commit(), so readers never see a partial file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/task_format.h"

namespace sct::data {

class TaskWriter {
 public:
  // meta: task, group, num_classes, class_names, source, resize_method, height, width.
  // compression: gzip level 0 (off) to 9.
  TaskWriter(std::string path, TaskMetadata meta, int compression = 0);
  ~TaskWriter();  // removes the temporary file when commit() was not reached
  TaskWriter(const TaskWriter&) = delete;
  TaskWriter& operator=(const TaskWriter&) = delete;

  void begin_split(const std::string& name, int64_t count);
  // Appends n images (each height x width x 3) in index order.
  void append(const uint8_t* images, int64_t n);
  // Ends the split: all `count` images appended, labels in [0, num_classes). `classes`, when
  // not empty, is the split's scored-class list (attribute 'classes', task_format.h):
  // ascending, unique, in range, every label among them; InputError naming the file and split
  // otherwise.
  void end_split(const std::vector<int64_t>& labels, const std::vector<int64_t>& classes = {});
  // Writes checksums, closes and renames the file into place. Returns the file checksum.
  std::string commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sct::data
