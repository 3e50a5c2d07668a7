// The per-sample image pipeline of training and evaluation: optional horizontal flip and
// RandAugment on the 8-bit image, then ToTensor + Normalize into float CHW. Each sample's
// random stream is derived from (seed, epoch, sample index) alone, so augmentation does
// not depend on the world size, the rank or the prefetch order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "framework/data/randaugment.h"

namespace sct::data {

struct Normalization {
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};  // ImageNet
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
};

struct AugmentOptions {
  bool hflip = false;       // RandomHorizontalFlip(p=0.5), applied before RandAugment
  std::string randaugment;  // timm config string ("rand-m9-mstd0.5-inc1"); empty = off
  // Fill of rotate/shear/translate; empty = timm's img_mean, round(255 * mean) per channel,
  // (124, 116, 104) for ImageNet (timm's (128, 128, 128) only applies without img_mean).
  std::optional<Rgb> fill;
};

class Augmenter {
 public:
  Augmenter(const AugmentOptions& options, const Normalization& norm);
  bool active() const { return hflip_ || ra_.has_value(); }
  // Augments an RGB image in place; the result depends only on the arguments.
  void apply(ImageU8& image, uint64_t seed, int64_t epoch, int64_t index) const;
  std::string describe() const;
  const Rgb& fill() const { return fill_; }

 private:
  bool hflip_;
  std::optional<RandAugmentConfig> ra_;
  Rgb fill_;
};

// torchvision ToTensor + Normalize: out[c][y][x] = (v / 255 - mean[c]) / std[c] in float,
// with `hwc` an h x w x 3 uint8 image and `chw` room for 3 * h * w floats.
void normalize_to_chw(const uint8_t* hwc, int height, int width, const Normalization& norm,
                      float* chw);

}  // namespace sct::data
