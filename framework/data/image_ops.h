// Pillow's point, enhance and geometry operations on 8-bit RGB images, reproduced with
// Pillow's integer/float arithmetic so RandAugment sees the pixels timm would produce
// (ImageOps.autocontrast/equalize/invert/posterize/solarize, ImageEnhance.*, and
// Image.transform/rotate with BICUBIC resampling and a fill colour).
#pragma once

#include <array>
#include <cstdint>

#include "framework/data/image.h"

namespace sct::data {

using Rgb = std::array<uint8_t, 3>;

void autocontrast(ImageU8& image);
void equalize(ImageU8& image);
void invert(ImageU8& image);
void posterize(ImageU8& image, int bits);             // keeps the `bits` high bits; >= 8: no-op
void solarize(ImageU8& image, int threshold);         // v >= threshold -> 255 - v
void solarize_add(ImageU8& image, int add, int threshold = 128);  // v < threshold -> min(255, v + add)
void hflip(ImageU8& image);

// ImageEnhance: Image.blend(degenerate, image, factor) with the enhancer's degenerate image.
void enhance_color(ImageU8& image, double factor);       // degenerate: luma (ITU-R 601-2)
void enhance_contrast(ImageU8& image, double factor);    // degenerate: flat mean luma
void enhance_brightness(ImageU8& image, double factor);  // degenerate: black
void enhance_sharpness(ImageU8& image, double factor);   // degenerate: SMOOTH 3x3 filter

// Image.transform(size, AFFINE, a, BICUBIC, fillcolor=fill): output pixel (x, y) samples
// the input at (a0*(x+.5) + a1*(y+.5) + a2, a3*(x+.5) + a4*(y+.5) + a5).
ImageU8 affine_bicubic(const ImageU8& image, const std::array<double, 6>& a, const Rgb& fill);

// Image.rotate(degrees, BICUBIC, fillcolor=fill): counter-clockwise about the centre.
ImageU8 rotate_bicubic(const ImageU8& image, double degrees, const Rgb& fill);

// ITU-R 601-2 luma as Pillow's convert("L"): (19595 R + 38470 G + 7471 B + 2^15) >> 16.
inline uint8_t luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

}  // namespace sct::data
