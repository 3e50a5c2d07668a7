#include "framework/data/image_ops.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace sct::data {
namespace {

using Lut = std::array<uint8_t, 256>;

// Image.point with one table per band (3 x 256 entries, as ImageOps builds them).
void apply_luts(ImageU8& image, const std::array<Lut, 3>& luts) {
  const size_t n = static_cast<size_t>(image.height) * image.width;
  uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    p[0] = luts[0][p[0]];
    p[1] = luts[1][p[1]];
    p[2] = luts[2][p[2]];
  }
}

void apply_lut(ImageU8& image, const Lut& lut) { apply_luts(image, {lut, lut, lut}); }

std::array<std::array<int64_t, 256>, 3> histograms(const ImageU8& image) {
  std::array<std::array<int64_t, 256>, 3> h{};
  const size_t n = static_cast<size_t>(image.height) * image.width;
  const uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    ++h[0][p[0]];
    ++h[1][p[1]];
    ++h[2][p[2]];
  }
  return h;
}

// Image.blend(degenerate, image, factor): alpha is a C float; in [0, 1] the result is
// truncated, outside it is clipped first. Exactly 0 or 1 copies one input.
void blend_into(ImageU8& image, const ImageU8& degenerate, double factor) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return;
  uint8_t* out = image.pixels.data();
  const uint8_t* d = degenerate.pixels.data();
  const size_t n = image.pixels.size();
  if (alpha == 0.0f) {
    std::copy(d, d + n, out);
  } else if (alpha >= 0.0f && alpha <= 1.0f) {
    for (size_t i = 0; i < n; ++i)
      out[i] = static_cast<uint8_t>(static_cast<float>(static_cast<int>(d[i])) +
                                    alpha * static_cast<float>(static_cast<int>(out[i]) - d[i]));
  } else {
    for (size_t i = 0; i < n; ++i) {
      const float t = static_cast<float>(static_cast<int>(d[i])) +
                      alpha * static_cast<float>(static_cast<int>(out[i]) - d[i]);
      out[i] = t <= 0.0f ? 0 : t >= 255.0f ? 255 : static_cast<uint8_t>(t);
    }
  }
}

// ImageFilter.SMOOTH (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, divisor 13) as ImagingFilter3x3:
// float weights, +0.5 rounding offset, border rows and columns copied unchanged.
ImageU8 smooth3x3(const ImageU8& in) {
  ImageU8 out = in;
  if (in.height < 3 || in.width < 3) return out;
  const float k_side = 1.0f / 13.0f;
  const float k_mid = 5.0f / 13.0f;
  const float kernel[9] = {k_side, k_side, k_side, k_side, k_mid, k_side, k_side, k_side, k_side};
  const float offset = 0.0f + 0.5f;
  auto k1x3 = [](const uint8_t* r, int i, const float* k) {
    return static_cast<float>(r[i - 3]) * k[0] + static_cast<float>(r[i]) * k[1] +
           static_cast<float>(r[i + 3]) * k[2];
  };
  for (int y = 1; y < in.height - 1; ++y) {
    const uint8_t* up = in.row(y - 1);
    const uint8_t* mid = in.row(y);
    const uint8_t* down = in.row(y + 1);
    uint8_t* o = out.row(y);
    for (int x = 1; x < in.width - 1; ++x) {
      for (int b = 0; b < 3; ++b) {
        const int i = x * 3 + b;
        float ss = offset;
        ss += k1x3(down, i, &kernel[0]);
        ss += k1x3(mid, i, &kernel[3]);
        ss += k1x3(up, i, &kernel[6]);
        o[i] = ss <= 0.0f ? 0 : ss >= 255.0f ? 255 : static_cast<uint8_t>(ss);
      }
    }
  }
  return out;
}

inline int clip_index(int v, int size) { return v < 0 ? 0 : v < size ? v : size - 1; }

inline double cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// Pillow's bicubic_filter32RGB: false when (xin, yin) lies outside the image.
bool sample_bicubic(const ImageU8& im, double xin, double yin, uint8_t* out) {
  if (xin < 0.0 || xin >= im.width || yin < 0.0 || yin >= im.height) return false;
  xin -= 0.5;
  yin -= 0.5;
  int x = static_cast<int>(std::floor(xin));
  int y = static_cast<int>(std::floor(yin));
  const double dx = xin - x;
  const double dy = yin - y;
  --x;
  --y;
  const int x0 = clip_index(x, im.width) * 3, x1 = clip_index(x + 1, im.width) * 3;
  const int x2 = clip_index(x + 2, im.width) * 3, x3 = clip_index(x + 3, im.width) * 3;
  for (int b = 0; b < 3; ++b) {
    auto row_value = [&](const uint8_t* in) {
      return cubic(in[x0 + b], in[x1 + b], in[x2 + b], in[x3 + b], dx);
    };
    double v1 = row_value(im.row(clip_index(y, im.height)));
    double v2 = (y + 1 >= 0 && y + 1 < im.height) ? row_value(im.row(y + 1)) : v1;
    double v3 = (y + 2 >= 0 && y + 2 < im.height) ? row_value(im.row(y + 2)) : v2;
    double v4 = (y + 3 >= 0 && y + 3 < im.height) ? row_value(im.row(y + 3)) : v3;
    const double v = cubic(v1, v2, v3, v4, dy);
    out[b] = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<uint8_t>(v);
  }
  return true;
}

// Python's round(x, 15): the correctly rounded 15-decimal value (glibc printf is exact).
double round15(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", v);
  return std::strtod(buf, nullptr);
}

}  // namespace

void autocontrast(ImageU8& image) {
  const auto h = histograms(image);
  std::array<Lut, 3> luts;
  for (int b = 0; b < 3; ++b) {
    int lo = 0, hi = 255;
    while (lo < 256 && !h[b][lo]) ++lo;
    while (hi >= 0 && !h[b][hi]) --hi;
    if (hi <= lo) {
      for (int i = 0; i < 256; ++i) luts[b][i] = static_cast<uint8_t>(i);
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int i = 0; i < 256; ++i) {
      const int v = static_cast<int>(i * scale + offset);  // Python int(): toward zero
      luts[b][i] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  apply_luts(image, luts);
}

void equalize(ImageU8& image) {
  const auto h = histograms(image);
  std::array<Lut, 3> luts;
  for (int b = 0; b < 3; ++b) {
    int64_t total = 0, last = 0, used = 0;
    for (int i = 0; i < 256; ++i)
      if (h[b][i]) total += h[b][i], last = h[b][i], ++used;
    const int64_t step = used <= 1 ? 0 : (total - last) / 255;
    if (!step) {
      for (int i = 0; i < 256; ++i) luts[b][i] = static_cast<uint8_t>(i);
      continue;
    }
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      luts[b][i] = static_cast<uint8_t>(std::min<int64_t>(n / step, 255));
      n += h[b][i];
    }
  }
  apply_luts(image, luts);
}

void invert(ImageU8& image) {
  for (auto& v : image.pixels) v = static_cast<uint8_t>(255 - v);
}

void posterize(ImageU8& image, int bits) {
  if (bits >= 8) return;
  const int mask = ~((1 << (8 - std::max(bits, 0))) - 1);
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i & mask);
  apply_lut(image, lut);
}

void solarize(ImageU8& image, int threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
  apply_lut(image, lut);
}

void solarize_add(ImageU8& image, int add, int threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i)
    lut[i] = static_cast<uint8_t>(i < threshold ? std::min(255, i + add) : i);
  apply_lut(image, lut);
}

void hflip(ImageU8& image) {
  for (int y = 0; y < image.height; ++y) {
    uint8_t* r = image.row(y);
    for (int a = 0, b = image.width - 1; a < b; ++a, --b)
      for (int c = 0; c < image.channels; ++c) std::swap(r[a * image.channels + c], r[b * image.channels + c]);
  }
}

void enhance_color(ImageU8& image, double factor) {
  ImageU8 gray(image.height, image.width, 3);
  const size_t n = static_cast<size_t>(image.height) * image.width;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t l = luma(&image.pixels[i * 3]);
    gray.pixels[i * 3] = gray.pixels[i * 3 + 1] = gray.pixels[i * 3 + 2] = l;
  }
  blend_into(image, gray, factor);
}

void enhance_contrast(ImageU8& image, double factor) {
  const size_t n = static_cast<size_t>(image.height) * image.width;
  std::array<int64_t, 256> hist{};
  for (size_t i = 0; i < n; ++i) ++hist[luma(&image.pixels[i * 3])];
  // ImageStat's mean: sum(i * h[i]) / count in double, then int(mean + 0.5).
  double sum = 0.0;
  for (int i = 0; i < 256; ++i) sum += static_cast<double>(i) * static_cast<double>(hist[i]);
  const int mean = static_cast<int>(sum / static_cast<double>(n) + 0.5);
  ImageU8 flat(image.height, image.width, 3, static_cast<uint8_t>(mean));
  blend_into(image, flat, factor);
}

void enhance_brightness(ImageU8& image, double factor) {
  ImageU8 black(image.height, image.width, 3, 0);
  blend_into(image, black, factor);
}

void enhance_sharpness(ImageU8& image, double factor) {
  const ImageU8 smooth = smooth3x3(image);
  blend_into(image, smooth, factor);
}

ImageU8 affine_bicubic(const ImageU8& image, const std::array<double, 6>& a, const Rgb& fill) {
  ImageU8 out(image.height, image.width, 3);
  for (int y = 0; y < image.height; ++y) {
    uint8_t* o = out.row(y);
    const double yin = y + 0.5;
    for (int x = 0; x < image.width; ++x, o += 3) {
      const double xin = x + 0.5;
      const double sx = a[0] * xin + a[1] * yin + a[2];
      const double sy = a[3] * xin + a[4] * yin + a[5];
      if (!sample_bicubic(image, sx, sy, o)) o[0] = fill[0], o[1] = fill[1], o[2] = fill[2];
    }
  }
  return out;
}

ImageU8 rotate_bicubic(const ImageU8& image, double degrees, const Rgb& fill) {
  double angle = std::fmod(degrees, 360.0);  // Python's %: result takes the divisor's sign
  if (angle < 0) angle += 360.0;
  if (angle == 0.0) return image;
  const int w = image.width, h = image.height;
  if (angle == 180.0 || ((angle == 90.0 || angle == 270.0) && w == h)) {
    // Pillow's transpose fast paths.
    ImageU8 out(h, w, 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        int sy = y, sx = x;
        if (angle == 180.0) sy = h - 1 - y, sx = w - 1 - x;
        else if (angle == 90.0) sy = x, sx = w - 1 - y;  // ROTATE_90 (counter-clockwise)
        else sy = h - 1 - x, sx = y;                      // ROTATE_270
        for (int c = 0; c < 3; ++c) out.at(y, x, c) = image.at(sy, sx, c);
      }
    return out;
  }
  const double rad = -(angle * (3.141592653589793 / 180.0));
  std::array<double, 6> m = {round15(std::cos(rad)), round15(std::sin(rad)), 0.0,
                             round15(-std::sin(rad)), round15(std::cos(rad)), 0.0};
  const double cx = w / 2.0, cy = h / 2.0;
  m[2] = m[0] * -cx + m[1] * -cy + 0.0 + cx;
  m[5] = m[3] * -cx + m[4] * -cy + 0.0 + cy;
  return affine_bicubic(image, m, fill);
}

}  // namespace sct::data
