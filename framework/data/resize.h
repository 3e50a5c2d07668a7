// Antialiased bicubic resize with the arithmetic of Pillow's Image.resize(size, BICUBIC):
// separable passes (horizontal first), a=-0.5 cubic kernel whose support widens with the
// downscale factor, 22-bit fixed-point coefficients and rounding/clipping to 8 bits after
// each pass. Identical output to Pillow for 8-bit images.
#pragma once

#include "framework/data/image.h"

namespace sct::data {

// Returns `image` resized to height x width (any channel count). Same size: a copy.
ImageU8 resize_bicubic(const ImageU8& image, int height, int width);

}  // namespace sct::data
