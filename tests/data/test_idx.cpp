// IDX reading (raw and gzip) and its conversion into a task split.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "framework/core/error.h"
#include "datasets/sct_data/idx.h"
#include "framework/data/task_file.h"
#include "tests/data/temp_dir.h"

using namespace sct::data;

namespace {

std::vector<uint8_t> idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

void write_raw(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

void write_gz(const std::string& path, const std::vector<uint8_t>& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

}  // namespace

TEST(Idx, ReadsRawAndGzipFiles) {
  sct::test::TempDir dir;
  std::vector<uint8_t> pixels(5 * 3 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  const auto bytes = idx_bytes(0x08, {5, 3, 4}, pixels);
  write_raw(dir.file("img.idx"), bytes);
  write_gz(dir.file("img.idx.gz"), bytes);
  for (const char* name : {"img.idx", "img.idx.gz"}) {
    const IdxArray a = read_idx(dir.file(name));
    EXPECT_EQ(a.dims, (std::vector<int64_t>{5, 3, 4}));
    EXPECT_EQ(a.bytes, pixels);
  }
  // Big-endian signed 32-bit labels.
  write_raw(dir.file("lab.idx"), idx_bytes(0x0C, {2}, {0, 0, 1, 2, 0xFF, 0xFF, 0xFF, 0xFE}));
  EXPECT_EQ(read_idx(dir.file("lab.idx")).values, (std::vector<int64_t>{258, -2}));
}

TEST(Idx, RejectsBadFiles) {
  sct::test::TempDir dir;
  write_raw(dir.file("magic.idx"), {1, 2, 3, 4, 5});
  EXPECT_THROW(read_idx(dir.file("magic.idx")), sct::InputError);
  write_raw(dir.file("short.idx"), idx_bytes(0x08, {10, 28, 28}, std::vector<uint8_t>(100)));
  try {
    read_idx(dir.file("short.idx"));
    FAIL();
  } catch (const sct::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
  write_raw(dir.file("float.idx"), idx_bytes(0x0D, {1}, {0, 0, 0, 0}));
  EXPECT_THROW(read_idx(dir.file("float.idx")), sct::InputError);
}

TEST(Idx, ConvertsToGrayReplicatedRgbSplits) {
  sct::test::TempDir dir;
  std::vector<uint8_t> pixels(6 * 2 * 3), labels = {1, 0, 3, 2, 2, 1};
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(255 - i * 5);
  write_gz(dir.file("i.gz"), idx_bytes(0x08, {6, 2, 3}, pixels));
  write_gz(dir.file("l.gz"), idx_bytes(0x08, {6}, labels));
  auto images = std::make_shared<const IdxArray>(read_idx(dir.file("i.gz")));
  const IdxArray lab = read_idx(dir.file("l.gz"));
  TaskMetadata m;
  m.task = "idx";
  m.num_classes = 4;
  m.height = 2;
  m.width = 3;
  TaskWriter w(dir.file("t.h5"), m);
  write_split(w, idx_split_source("part", images, lab, 2, 5, 2, 3, 4, "i.gz"), 2, 3, 2);
  w.commit();
  TaskFile f(dir.file("t.h5"));
  EXPECT_EQ(f.labels("part"), (std::vector<int64_t>{3, 2, 2}));
  std::vector<uint8_t> got(3 * 2 * 3 * 3);
  f.read_range("part", 0, 3, got.data());
  for (int i = 0; i < 3; ++i)
    for (int p = 0; p < 6; ++p)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(got[(i * 6 + p) * 3 + c], pixels[(2 + i) * 6 + p]);
  EXPECT_THROW(idx_split_source("bad", images, lab, 0, 6, 2, 3, 3, "i.gz"), sct::InputError);  // label 3
}
