// Test helper for the Pillow comparisons: applies the library's image operations to raw
// uint8 HxWxC files listed in a cases file, one case per line:
//   <op> <input> <output> <height> <width> <channels> [params...]
// so a Python script can compare every result with PIL in one process start.
#include <fmt/core.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "framework/data/image_ops.h"
#include "framework/data/resize.h"

using namespace sct::data;

namespace {

ImageU8 load_raw(const std::string& path, int h, int w, int c) {
  std::ifstream in(path, std::ios::binary);
  ImageU8 img(h, w, c);
  in.read(reinterpret_cast<char*>(img.pixels.data()), static_cast<std::streamsize>(img.size()));
  if (!in) throw std::runtime_error("cannot read " + path);
  return img;
}

void save_raw(const std::string& path, const ImageU8& img) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(img.pixels.data()), static_cast<std::streamsize>(img.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: data_optool CASES_FILE\n");
    return 2;
  }
  std::ifstream cases(argv[1]);
  std::string line;
  int n = 0;
  while (std::getline(cases, line)) {
    std::istringstream ss(line);
    std::string op, in, out;
    int h, w, c;
    if (!(ss >> op >> in >> out >> h >> w >> c)) continue;
    std::vector<double> p((std::istream_iterator<double>(ss)), std::istream_iterator<double>());
    ImageU8 img = load_raw(in, h, w, c);
    const Rgb fill = {124, 116, 104};
    if (op == "resize") img = resize_bicubic(img, static_cast<int>(p[0]), static_cast<int>(p[1]));
    else if (op == "autocontrast") autocontrast(img);
    else if (op == "equalize") equalize(img);
    else if (op == "invert") invert(img);
    else if (op == "posterize") posterize(img, static_cast<int>(p[0]));
    else if (op == "solarize") solarize(img, static_cast<int>(p[0]));
    else if (op == "solarize_add") solarize_add(img, static_cast<int>(p[0]), 128);
    else if (op == "color") enhance_color(img, p[0]);
    else if (op == "contrast") enhance_contrast(img, p[0]);
    else if (op == "brightness") enhance_brightness(img, p[0]);
    else if (op == "sharpness") enhance_sharpness(img, p[0]);
    else if (op == "hflip") hflip(img);
    else if (op == "rotate") img = rotate_bicubic(img, p[0], fill);
    else if (op == "affine") img = affine_bicubic(img, {p[0], p[1], p[2], p[3], p[4], p[5]}, fill);
    else {
      fmt::print(stderr, "unknown op '{}'\n", op);
      return 2;
    }
    save_raw(out, img);
    ++n;
  }
  fmt::print("{} cases\n", n);
  return 0;
}
