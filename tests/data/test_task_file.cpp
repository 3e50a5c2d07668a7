// Task files: write/read round trip, checksums against zlib, atomic writes, reader errors.
#include <gtest/gtest.h>
#include <hdf5.h>
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

namespace {

// A 5-class file whose split 'a' is scored over classes {1, 3} (labels among them).
std::string write_masked(const std::string& path) {
  TaskMetadata m = small_meta();
  m.num_classes = 5;
  m.class_names.clear();
  TaskWriter w(path, m);
  w.begin_split("a", 4);
  auto img = pattern(4, 3);
  w.append(img.data(), 4);
  w.end_split({3, 1, 1, 3}, {1, 3});
  w.begin_split("all", 2);
  w.append(img.data(), 2);
  w.end_split({0, 4});
  return w.commit();
}

// Replaces the 'classes' attribute of /split with `values` (none: an empty array), as another
// writer (h5py) could.
void rewrite_classes(const std::string& path, const std::string& split, const std::vector<int64_t>& values) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t g = H5Gopen2(f, split.c_str(), H5P_DEFAULT);
  if (H5Aexists(g, "classes") > 0) H5Adelete(g, "classes");
  const hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(g, "classes", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  if (n > 0) H5Awrite(a, H5T_NATIVE_INT64, values.data());
  H5Aclose(a);
  H5Sclose(space);
  H5Gclose(g);
  H5Fclose(f);
}

std::string open_error(const std::string& path) {
  try {
    TaskFile f(path);
  } catch (const sct::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(TaskFile, ScoredClassesRoundTripAndEnterTheChecksum) {
  sct::test::TempDir dir;
  const std::string path = dir.file("masked.h5");
  write_masked(path);
  TaskFile f(path);
  EXPECT_EQ(f.split("a").classes, (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(f.split("all").classes.empty());
  // The split checksum continues over the classes like over the labels (zlib independently).
  const auto img = pattern(4, 3);
  EXPECT_EQ(f.split("a").checksum, zlib_checksum(img, {3, 1, 1, 3, 1, 3}));
  EXPECT_EQ(f.compute_split_checksum("a"), f.split("a").checksum);
  EXPECT_NO_THROW(f.verify_split("a"));
  EXPECT_EQ(f.split("all").checksum, zlib_checksum(std::vector<uint8_t>(img.begin(), img.begin() + 120), {0, 4}));
}

TEST(TaskFile, WriterRejectsBadScoredClasses) {
  sct::test::TempDir dir;
  TaskMetadata m = small_meta();  // 3 classes
  auto message = [&](const std::vector<int64_t>& labels, const std::vector<int64_t>& classes) {
    TaskWriter w(dir.file("bad.h5"), m);
    w.begin_split("a", static_cast<int64_t>(labels.size()));
    auto img = pattern(static_cast<int64_t>(labels.size()), 0);
    w.append(img.data(), static_cast<int64_t>(labels.size()));
    try {
      w.end_split(labels, classes);
    } catch (const sct::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string where = dir.file("bad.h5") + ": split 'a'";
  EXPECT_EQ(message({0}, {0, 3}), where + ": the scored-class list holds 3 at position 1, outside [0, 3) (num_classes)");
  EXPECT_EQ(message({0}, {0, 0}), where + ": the scored-class list holds 0 twice (positions 0 and 1)");
  EXPECT_EQ(message({0}, {2, 0}), where + ": the scored-class list is not in ascending order (0 at position 1 after 2)");
  EXPECT_EQ(message({0, 1}, {0, 2}), dir.file("bad.h5") + ": split 'a' label 1 at index 1 is not one of its 2 scored classes");
}

TEST(TaskFile, ReaderRejectsBadScoredClassesNamingFileAndSplit) {
  sct::test::TempDir dir;
  const std::string path = dir.file("m.h5");
  const std::string prefix = path + ": split 'a': attribute 'classes' (the classes it is scored over) ";
  struct Case {
    std::vector<int64_t> classes;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{1, 5}, prefix + "holds 5 at position 1, outside [0, 5) (num_classes)"},
      {{-1, 3}, prefix + "holds -1 at position 0, outside [0, 5) (num_classes)"},
      {{1, 3, 3}, prefix + "holds 3 twice (positions 1 and 2)"},
      {{3, 1}, prefix + "is not in ascending order (1 at position 1 after 3)"},
      {{}, prefix + "is empty (it lists the classes the split is scored over)"},
      {{1, 2}, path + ": dataset '/a/labels' holds label 3 at index 0, which is not one of the split's 2 scored "
                      "classes (attribute 'classes')"},
  };
  for (const auto& c : cases) {
    write_masked(path);
    rewrite_classes(path, "a", c.classes);
    EXPECT_EQ(open_error(path), c.expected);
  }
  // A valid list written by another tool, in another order of writing, reads back; a changed
  // list no longer matches the stored checksum.
  write_masked(path);
  rewrite_classes(path, "a", {0, 1, 3});
  TaskFile f(path);
  EXPECT_EQ(f.split("a").classes, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_THROW(f.verify_split("a"), sct::InputError);
}
