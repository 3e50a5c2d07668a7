#include "framework/data/augment.h"

#include <fmt/core.h>

#include <cmath>

namespace sct::data {

Augmenter::Augmenter(const AugmentOptions& options, const Normalization& norm)
    : hflip_(options.hflip) {
  if (!options.randaugment.empty()) ra_ = RandAugmentConfig::parse(options.randaugment);
  if (options.fill) {
    fill_ = *options.fill;
  } else {
    // timm: tuple(min(255, round(255 * x)) for x in mean); round() is half-to-even.
    for (int c = 0; c < 3; ++c)
      fill_[c] = static_cast<uint8_t>(std::min(255.0, std::nearbyint(255.0 * double(norm.mean[c]))));
  }
}

void Augmenter::apply(ImageU8& image, uint64_t seed, int64_t epoch, int64_t index) const {
  if (!active()) return;
  Rng rng(derive_seed({seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index),
                       static_cast<uint64_t>(Stream::kAugment)}));
  // torchvision: "if torch.rand(1) < p: flip"; the draw happens whether or not it flips.
  if (hflip_ && rng.uniform() < 0.5) hflip(image);
  if (ra_) rand_augment(image, *ra_, rng, fill_);
}

std::string Augmenter::describe() const {
  if (!active()) return "none";
  std::string s;
  if (hflip_) s = "hflip(0.5)";
  if (ra_) {
    if (!s.empty()) s += " + ";
    s += fmt::format("{} fill=({},{},{}) bicubic", ra_->describe(), fill_[0], fill_[1], fill_[2]);
  }
  return s;
}

void normalize_to_chw(const uint8_t* hwc, int height, int width, const Normalization& norm,
                      float* chw) {
  const size_t plane = static_cast<size_t>(height) * width;
  for (int c = 0; c < 3; ++c) {
    // A table per channel holds the same float ops as (v / 255.f - mean) / std.
    float table[256];
    for (int v = 0; v < 256; ++v)
      table[v] = (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.std[c];
    float* out = chw + c * plane;
    const uint8_t* in = hwc + c;
    for (size_t i = 0; i < plane; ++i) out[i] = table[in[i * 3]];
  }
}

}  // namespace sct::data
