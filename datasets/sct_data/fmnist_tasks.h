// The tasks of the Fashion-MNIST mini-benchmark: what each one asks (class of the item, its
// rotation, its place on a larger canvas, how many items), how a split's samples are drawn
// (balanced labels in a seeded order, items from the split's own pool) and how a sample is
// drawn as a 28x28 RGB image. Every sample is a pure function of (seed, task, split, index).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/sct_data/fmnist_source.h"

namespace sct::data::fmnist {

enum class Kind {
  kClass,     // label = the item's clothing class
  kRotation,  // label = k for a rotation by k * 90 degrees counter-clockwise
  kLocation,  // label = the 3x3 cell of a 28x28 item on a 56x56 canvas
  kCount,     // label = number of 20x20 items on a 56x56 canvas, minus one
};

struct TaskSpec {
  std::string name;
  std::string group;         // VTAB-style: Natural, Specialized, Structured (Upstream for pre-training)
  std::string description;   // one line, stored in the file's `source` attribute
  Kind kind = Kind::kClass;
  std::vector<int> source_classes;  // Fashion-MNIST classes the items come from
  std::vector<std::string> class_names;
  bool xray = false;         // inverted, low contrast, sensor noise (a different "imaging modality")
  int canvas = kSide;        // side of the canvas items are placed on before the resize to 28
  int item_side = kSide;     // side an item is resized to before placing
  int64_t num_classes() const { return int64_t(class_names.size()); }
};

// One item: Fashion-MNIST image `image`, resized to side x side, rotated rot90 times, placed
// with its top-left corner at (y, x) on the canvas.
struct Item {
  int32_t image = 0;
  int y = 0, x = 0, side = kSide, rot90 = 0;
};

struct Sample {
  int64_t label = 0;
  std::vector<Item> items;
  uint64_t noise_seed = 0;
};

// The pre-training task (upstream classes) and the downstream benchmark, in report order.
TaskSpec upstream_task();
const std::vector<TaskSpec>& downstream_tasks();

// The `count` samples of split `split` (drawing items from `role`'s pools). Class tasks take
// distinct images (InputError when the pool is too small); the others draw items at random.
std::vector<Sample> plan_split(const TaskSpec& task, const Source& source, Role role, const std::string& split,
                               int64_t count, uint64_t seed);

// Draws a sample as 28x28x3 uint8 (gray replicated) into `out`.
void render(const TaskSpec& task, const Source& source, const Sample& sample, uint8_t* out);

}  // namespace sct::data::fmnist
