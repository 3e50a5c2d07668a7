#include "framework/data/resize.h"

#include <algorithm>
#include <cmath>

namespace sct::data {
namespace {

// Pillow: "8 bits for result, two extra bits for overflow" of a 32-bit accumulator.
constexpr int kPrecisionBits = 32 - 8 - 2;

double cubic_kernel(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coefficients {
  int ksize = 0;
  std::vector<int> first;   // first input sample used by each output sample
  std::vector<int> count;   // how many input samples it uses
  std::vector<int32_t> k;   // fixed-point weights, ksize per output sample
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box (0, in_size).
Coefficients precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // truncation, as in C
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = cubic_kernel((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift: floor, like Pillow's lookup
  return static_cast<uint8_t>(s < 0 ? 0 : s > 255 ? 255 : s);
}

// Horizontal pass over input rows [row0, row0 + rows).
ImageU8 horizontal(const ImageU8& in, int row0, int rows, int out_w, const Coefficients& c) {
  const int ch = in.channels;
  ImageU8 out(rows, out_w, ch);
  for (int yy = 0; yy < rows; ++yy) {
    const uint8_t* src = in.row(yy + row0);
    uint8_t* dst = out.row(yy);
    for (int xx = 0; xx < out_w; ++xx) {
      const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      const uint8_t* s = src + static_cast<size_t>(c.first[xx]) * ch;
      for (int b = 0; b < ch; ++b) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < c.count[xx]; ++x) acc += s[x * ch + b] * k[x];
        dst[xx * ch + b] = clip8(acc);
      }
    }
  }
  return out;
}

// Vertical pass; `shift` maps the coefficient rows onto the rows held by `in`.
ImageU8 vertical(const ImageU8& in, int out_h, int shift, const Coefficients& c) {
  const int ch = in.channels;
  const size_t line = static_cast<size_t>(in.width) * ch;
  ImageU8 out(out_h, in.width, ch);
  std::vector<int32_t> acc(line);
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    const int ymin = c.first[yy] - shift;
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* src = in.row(ymin + y);
      const int32_t w = k[y];
      for (size_t i = 0; i < line; ++i) acc[i] += src[i] * w;
    }
    uint8_t* dst = out.row(yy);
    for (size_t i = 0; i < line; ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

}  // namespace

ImageU8 resize_bicubic(const ImageU8& image, int height, int width) {
  const bool need_h = width != image.width;
  const bool need_v = height != image.height;
  if (!need_h && !need_v) return image;
  const Coefficients ch = precompute(image.width, width);
  const Coefficients cv = precompute(image.height, height);
  if (!need_h) return vertical(image, height, 0, cv);
  // Only the input rows the vertical pass reads are resampled horizontally.
  const int row0 = cv.first.front();
  const int row1 = cv.first.back() + cv.count.back();
  ImageU8 tmp = horizontal(image, row0, row1 - row0, width, ch);
  if (!need_v) return tmp;
  return vertical(tmp, height, row0, cv);
}

ImageU8 to_rgb(const ImageU8& image) {
  if (image.channels == 3) return image;
  ImageU8 out(image.height, image.width, 3);
  const size_t n = static_cast<size_t>(image.height) * image.width;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.pixels[i * image.channels];
    for (int c = 0; c < 3; ++c) out.pixels[i * 3 + c] = image.channels >= 3 ? p[c] : p[0];
  }
  return out;
}

}  // namespace sct::data
