// The conversion pipeline behind `sct_data convert-*`: images of a split are produced
// (decoded, resized, generated) on worker threads and appended to the task file in index
// order on the calling thread, which makes every HDF5 call.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "framework/data/task_writer.h"

namespace sct::data {

struct SplitSource {
  std::string name;
  std::vector<int64_t> labels;  // one per image; the split's size
  std::vector<int64_t> classes; // the scored classes (TaskWriter::end_split); empty: all
  // Writes image i (height x width x 3 uint8) to `out`. Called concurrently from workers.
  std::function<void(int64_t i, uint8_t* out)> produce;
};

// Worker threads to use: `requested` when > 0, else the machine's cores.
int conversion_threads(int requested);

// Produces and writes one split; progress lines are tagged `tag`. Rethrows the first
// producer error after stopping the workers.
void write_split(TaskWriter& writer, const SplitSource& source, int height, int width,
                 int threads, const std::string& tag = "convert");

}  // namespace sct::data
