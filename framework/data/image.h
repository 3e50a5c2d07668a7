// An 8-bit image held as rows of interleaved channels (HxWxC), the layout of the task files
// and of PIL's RGB/L images, so pixel arithmetic can follow Pillow step by step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sct::data {

struct ImageU8 {
  int height = 0;
  int width = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;  // height * width * channels

  ImageU8() = default;
  ImageU8(int h, int w, int c, uint8_t fill = 0)
      : height(h), width(w), channels(c), pixels(static_cast<size_t>(h) * w * c, fill) {}

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  const uint8_t* row(int y) const {
    return pixels.data() + static_cast<size_t>(y) * width * channels;
  }
  uint8_t& at(int y, int x, int c) { return row(y)[x * channels + c]; }
  uint8_t at(int y, int x, int c) const { return row(y)[x * channels + c]; }
  size_t size() const { return pixels.size(); }
};

// To 3 channels as PIL's convert("RGB") does: gray (and gray+alpha) replicated, alpha dropped.
ImageU8 to_rgb(const ImageU8& image);

}  // namespace sct::data
