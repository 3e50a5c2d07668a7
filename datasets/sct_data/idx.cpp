#include "datasets/sct_data/idx.h"

#include <fmt/core.h>
#include <zlib.h>

#include <cstring>

#include "framework/core/error.h"
#include "framework/data/resize.h"

namespace sct::data {
namespace {

struct GzFile {
  gzFile f = nullptr;
  ~GzFile() {
    if (f) gzclose(f);
  }
};

// Reads exactly n bytes; false on a short read.
bool read_exact(gzFile f, void* out, size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzFile gz;
  gz.f = gzopen(path.c_str(), "rb");  // reads uncompressed files transparently
  if (!gz.f) throw InputError(fmt::format("{}: cannot open IDX file", path));
  gzbuffer(gz.f, 1 << 20);
  unsigned char magic[4];
  if (!read_exact(gz.f, magic, 4) || magic[0] != 0 || magic[1] != 0 || magic[3] == 0)
    throw InputError(fmt::format("{}: not an IDX file (bad magic number)", path));
  IdxArray a;
  a.type = magic[2];
  int elem = 0;
  switch (a.type) {
    case 0x08: case 0x09: elem = 1; break;
    case 0x0B: elem = 2; break;
    case 0x0C: elem = 4; break;
    default:
      throw InputError(fmt::format("{}: IDX element type 0x{:02x} is not supported (integers only)", path, a.type));
  }
  int64_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    if (!read_exact(gz.f, b, 4)) throw InputError(fmt::format("{}: truncated IDX header", path));
    a.dims.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | b[3]);
    total *= a.dims.back();
  }
  std::vector<uint8_t> raw(static_cast<size_t>(total * elem));
  if (!read_exact(gz.f, raw.data(), raw.size()))
    throw InputError(fmt::format("{}: truncated IDX payload (expected {} bytes)", path, raw.size()));
  if (a.type == 0x08) {
    a.bytes = std::move(raw);
    return a;
  }
  a.values.resize(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {  // big-endian, signed for types other than ubyte
    const uint8_t* p = &raw[static_cast<size_t>(i * elem)];
    if (elem == 1) a.values[i] = static_cast<int8_t>(p[0]);
    else if (elem == 2) a.values[i] = static_cast<int16_t>((p[0] << 8) | p[1]);
    else a.values[i] = static_cast<int32_t>((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]);
  }
  return a;
}

SplitSource idx_split_source(const std::string& name, std::shared_ptr<const IdxArray> images,
                             const IdxArray& labels, int64_t begin, int64_t end, int height,
                             int width, int64_t num_classes, const std::string& what) {
  const auto& d = images->dims;
  if (images->type != 0x08 || !(d.size() == 3 || (d.size() == 4 && (d[3] == 1 || d[3] == 3))))
    throw InputError(fmt::format("{}: images must be ubyte (N, rows, cols) or (N, rows, cols, 1|3)", what));
  const int64_t n = d[0];
  if (labels.dims.size() != 1 || labels.dims[0] != n)
    throw InputError(fmt::format("{}: {} images but the labels file holds {} values", what, n,
                                 labels.dims.empty() ? 0 : labels.dims[0]));
  if (begin < 0 || end > n || begin >= end)
    throw InputError(fmt::format("{}: range {}-{} is outside the {} images or empty", what, begin, end, n));
  SplitSource src;
  src.name = name;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t v = labels.type == 0x08 ? labels.bytes[i] : labels.values[i];
    if (v < 0 || v >= num_classes)
      throw InputError(fmt::format("{}: label {} of image {} is outside [0, {})", what, v, i, num_classes));
    src.labels.push_back(v);
  }
  const int rows = static_cast<int>(d[1]), cols = static_cast<int>(d[2]);
  const int channels = d.size() == 4 ? static_cast<int>(d[3]) : 1;
  src.produce = [images, begin, rows, cols, channels, height, width](int64_t i, uint8_t* out) {
    ImageU8 img(rows, cols, channels);
    const size_t bytes = img.size();
    std::memcpy(img.pixels.data(), images->bytes.data() + static_cast<size_t>(begin + i) * bytes, bytes);
    img = to_rgb(img);
    if (rows != height || cols != width) img = resize_bicubic(img, height, width);
    std::memcpy(out, img.pixels.data(), img.size());
  };
  return src;
}

}  // namespace sct::data
