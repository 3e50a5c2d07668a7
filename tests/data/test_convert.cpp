// The conversion pipeline: producers run concurrently, results land in index order, and a
// producer error stops the conversion without leaving a file.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "framework/core/error.h"
#include "framework/data/convert.h"
#include "framework/data/task_file.h"
#include "tests/data/temp_dir.h"

using namespace sct::data;

namespace {

TaskMetadata meta() {
  TaskMetadata m;
  m.task = "pipeline";
  m.num_classes = 2;
  m.height = 2;
  m.width = 2;
  return m;
}

}  // namespace

TEST(Convert, ProducersRunInParallelAndWritesStayInOrder) {
  sct::test::TempDir dir;
  std::atomic<int> running{0}, most{0};
  SplitSource src;
  src.name = "s";
  for (int i = 0; i < 40; ++i) src.labels.push_back(i % 2);
  src.produce = [&](int64_t i, uint8_t* out) {
    const int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {}
    // Uneven work so that images finish out of order.
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + (i * 7) % 5));
    for (int k = 0; k < 12; ++k) out[k] = static_cast<uint8_t>(i);
    --running;
  };
  TaskWriter w(dir.file("p.h5"), meta());
  write_split(w, src, 2, 2, 2);
  w.commit();
  EXPECT_EQ(most.load(), 2) << "both worker threads should produce at the same time";
  TaskFile f(dir.file("p.h5"));
  std::vector<uint8_t> got(40 * 12);
  f.read_range("s", 0, 40, got.data());
  for (int i = 0; i < 40; ++i) EXPECT_EQ(got[i * 12 + 5], i) << "image " << i << " out of place";
}

TEST(Convert, AProducerErrorStopsTheConversion) {
  sct::test::TempDir dir;
  SplitSource src;
  src.name = "s";
  src.labels.assign(100, 0);
  src.produce = [](int64_t i, uint8_t* out) {
    if (i == 37) throw sct::InputError("image 37: cannot decode");
    std::fill(out, out + 12, 0);
  };
  {
    TaskWriter w(dir.file("e.h5"), meta());
    EXPECT_THROW(write_split(w, src, 2, 2, 2), sct::InputError);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}
