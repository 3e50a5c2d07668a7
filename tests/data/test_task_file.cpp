// Task files: write/read round trip, checksums against zlib, atomic writes, reader errors.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/data/task_file.h"
#include "framework/data/task_writer.h"
#include "tests/data/temp_dir.h"

using namespace sct::data;

namespace {

TaskMetadata small_meta() {
  TaskMetadata m;
  m.task = "tiny";
  m.group = "Natural";
  m.num_classes = 3;
  m.class_names = {"a", "b", "c"};
  m.source = "test";
  m.resize_method = "none";
  m.height = 4;
  m.width = 5;
  return m;
}

std::vector<uint8_t> pattern(int64_t n, int salt) {
  std::vector<uint8_t> v(static_cast<size_t>(n * 4 * 5 * 3));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 37 + salt * 11) % 251);
  return v;
}

std::string zlib_checksum(const std::vector<uint8_t>& images, const std::vector<int64_t>& labels) {
  uLong c = crc32(0, images.data(), static_cast<uInt>(images.size()));
  for (int64_t l : labels) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(l) >> (8 * i));
    c = crc32(c, b, 8);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "crc32:%08lx", c);
  return buf;
}

std::string write_small(const std::string& path, int compression = 0) {
  TaskWriter w(path, small_meta(), compression);
  w.begin_split("train", 6);
  auto img = pattern(6, 1);
  w.append(img.data(), 2);
  w.append(img.data() + 2 * 60, 4);
  w.end_split({0, 1, 2, 2, 1, 0});
  w.begin_split("test", 3);
  auto t = pattern(3, 2);
  w.append(t.data(), 3);
  w.end_split({2, 2, 0});
  return w.commit();
}

}  // namespace

TEST(TaskFile, RoundTripsImagesLabelsAndMetadata) {
  sct::test::TempDir dir;
  for (int compression : {0, 4}) {
    const std::string path = dir.file("t" + std::to_string(compression) + ".h5");
    const std::string checksum = write_small(path, compression);
    TaskFile f(path);
    EXPECT_EQ(f.metadata().task, "tiny");
    EXPECT_EQ(f.metadata().group, "Natural");
    EXPECT_EQ(f.num_classes(), 3);
    EXPECT_EQ(f.metadata().class_names, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(f.metadata().height, 4);
    EXPECT_EQ(f.metadata().width, 5);
    EXPECT_EQ(f.metadata().checksum, checksum);
    EXPECT_EQ(f.split_names(), (std::vector<std::string>{"test", "train"}));
    EXPECT_EQ(f.split("train").count, 6);
    EXPECT_EQ(f.split("train").compression, compression ? "gzip-4" : "none");
    EXPECT_EQ(f.labels("train"), (std::vector<int64_t>{0, 1, 2, 2, 1, 0}));
    const auto all = pattern(6, 1);
    const std::vector<int64_t> order = {5, 0, 1, 2, 4};
    std::vector<uint8_t> got(order.size() * 60);
    f.read_images("train", order, got.data());
    for (size_t i = 0; i < order.size(); ++i)
      EXPECT_TRUE(std::equal(got.begin() + i * 60, got.begin() + (i + 1) * 60, all.begin() + order[i] * 60))
          << "image " << order[i];
    // Checksums: stored, recomputed, and an independent zlib computation agree.
    EXPECT_EQ(f.split("train").checksum, zlib_checksum(all, {0, 1, 2, 2, 1, 0}));
    EXPECT_EQ(f.compute_split_checksum("train"), f.split("train").checksum);
    EXPECT_EQ(f.compute_split_checksum("test"), zlib_checksum(pattern(3, 2), {2, 2, 0}));
  }
}

TEST(TaskFile, WriterIsAtomic) {
  sct::test::TempDir dir;
  const std::string path = dir.file("partial.h5");
  {
    TaskWriter w(path, small_meta());
    w.begin_split("train", 2);
    EXPECT_FALSE(std::filesystem::exists(path));
  }  // destroyed without commit
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "temporary file left behind";
}

TEST(TaskFile, WriterRejectsLabelsOutsideTheClasses) {
  sct::test::TempDir dir;
  TaskWriter w(dir.file("bad.h5"), small_meta());
  w.begin_split("train", 1);
  auto img = pattern(1, 0);
  w.append(img.data(), 1);
  EXPECT_THROW(w.end_split({3}), sct::InputError);
}

TEST(TaskFile, OpenErrorsAreOneInputErrorNamingTheFile) {
  sct::test::TempDir dir;
  auto message = [](const std::string& path) {
    try {
      TaskFile f(path);
    } catch (const sct::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string missing = dir.file("missing.h5");
  EXPECT_EQ(message(missing), missing + ": no such task file");
  const std::string junk = dir.file("junk.h5");
  std::ofstream(junk) << "this is not HDF5 at all";
  EXPECT_NE(message(junk).find(junk + ": not an HDF5 file"), std::string::npos) << message(junk);
  EXPECT_EQ(message(junk).find('\n'), std::string::npos);

  const std::string good = dir.file("good.h5");
  write_small(good);
  TaskFile f(good);
  try {
    f.split("tset");
    FAIL() << "no error";
  } catch (const sct::InputError& e) {
    EXPECT_EQ(std::string(e.what()), good + ": no split 'tset' (splits: test, train); did you mean 'test'?");
  }
}
