#include "framework/data/synth.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "framework/core/strings.h"
#include "framework/data/rng.h"

namespace sct::data {
namespace {

void hue_to_rgb(double h, uint8_t* rgb) {
  const double s = 0.9, v = 0.9;
  const double hh = std::fmod(h, 1.0) * 6.0;
  const int i = static_cast<int>(hh);
  const double f = hh - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r, g, b;
  switch (i) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  rgb[0] = static_cast<uint8_t>(std::lround(r * 255));
  rgb[1] = static_cast<uint8_t>(std::lround(g * 255));
  rgb[2] = static_cast<uint8_t>(std::lround(b * 255));
}

}  // namespace

SplitSource synth_split_source(const std::string& name, int64_t count, int64_t num_classes,
                               int height, int width, uint64_t seed, const std::vector<int64_t>& classes) {
  const uint64_t split_key = fnv1a64(name);
  // Balanced labels (over the scored classes when given) in a seeded order.
  std::vector<int64_t> labels(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    labels[i] = classes.empty() ? i % num_classes : classes[static_cast<size_t>(i) % classes.size()];
  Rng order(derive_seed({seed, split_key, static_cast<uint64_t>(Stream::kSynth)}));
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(labels[i], labels[static_cast<int64_t>(order.below(static_cast<uint64_t>(i + 1)))]);

  SplitSource src;
  src.name = name;
  src.labels = labels;
  src.classes = classes;
  auto shared = std::make_shared<std::vector<int64_t>>(labels);
  src.produce = [shared, num_classes, height, width, seed, split_key](int64_t i, uint8_t* out) {
    const int64_t c = (*shared)[i];
    Rng rng(derive_seed({seed, split_key, static_cast<uint64_t>(i), static_cast<uint64_t>(Stream::kSynth) + 1}));
    const int gray = 60 + static_cast<int>(rng.below(100));
    for (int64_t p = 0; p < int64_t(height) * width * 3; ++p)
      out[p] = static_cast<uint8_t>(std::clamp(gray + static_cast<int>(rng.below(31)) - 15, 0, 255));
    uint8_t color[3];
    hue_to_rgb(static_cast<double>(c) / num_classes, color);
    const bool disc = c % 2 == 1;
    const int min_side = std::min(height, width);
    const int size = std::max(2, min_side / 3 + static_cast<int>(rng.below(std::max(1, min_side / 4))));
    const int y0 = static_cast<int>(rng.below(std::max(1, height - size + 1)));
    const int x0 = static_cast<int>(rng.below(std::max(1, width - size + 1)));
    const double r = size / 2.0, cy = y0 + r, cx = x0 + r;
    for (int y = y0; y < std::min(height, y0 + size); ++y)
      for (int x = x0; x < std::min(width, x0 + size); ++x) {
        if (disc && std::hypot(y + 0.5 - cy, x + 0.5 - cx) > r) continue;
        std::copy(color, color + 3, out + (static_cast<size_t>(y) * width + x) * 3);
      }
  };
  return src;
}

}  // namespace sct::data
