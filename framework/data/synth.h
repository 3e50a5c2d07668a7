// Small deterministic learnable tasks for tests: each image is a filled square or disc on a
// noisy gray background; its class sets the shape's colour (hues spread around the circle)
// and, for even/odd class indices, the shape kind. Position, size and noise are random.
// Everything is a pure function of (seed, split name, index).
#pragma once

#include <cstdint>
#include <string>

#include "framework/data/convert.h"

namespace sct::data {

SplitSource synth_split_source(const std::string& name, int64_t count, int64_t num_classes,
                               int height, int width, uint64_t seed);

}  // namespace sct::data
