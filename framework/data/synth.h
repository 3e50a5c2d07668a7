// Small deterministic learnable tasks for tests: each image is a filled square or disc on a
// noisy gray background; its class sets the shape's colour (hues spread around the circle)
// and, for even/odd class indices, the shape kind. Position, size and noise are random.
// Everything is a pure function of (seed, split name, index).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/data/convert.h"

namespace sct::data {

// `classes` (optional): the split's scored classes; its labels are then drawn from them only
// and the split records them (TaskWriter::end_split).
SplitSource synth_split_source(const std::string& name, int64_t count, int64_t num_classes,
                               int height, int width, uint64_t seed, const std::vector<int64_t>& classes = {});

}  // namespace sct::data
