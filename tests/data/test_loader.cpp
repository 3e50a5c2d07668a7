// The loader: batches for -n 1 and -n W (ranks simulated in one process) are identical,
// evaluation covers every sample once, and images are the stored pixels normalised.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "framework/core/error.h"
#include "framework/data/convert.h"
#include "framework/data/loader.h"
#include "framework/data/synth.h"
#include "framework/data/task_file.h"
#include "tests/data/temp_dir.h"

using namespace sct::data;

namespace {

std::shared_ptr<const TaskFile> make_task(const sct::test::TempDir& dir, int64_t n) {
  TaskMetadata m;
  m.task = "synth";
  m.num_classes = 3;
  m.height = m.width = 12;
  const std::string path = dir.file("synth.h5");
  TaskWriter w(path, m);
  write_split(w, synth_split_source("train", n, 3, 12, 12, 5), 12, 12, 2);
  return w.commit(), std::make_shared<const TaskFile>(path);
}

std::vector<Batch> epoch(Loader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

LoaderOptions train_options(int rank, int world) {
  LoaderOptions o;
  o.split = "train";
  o.batch_size = 8;
  o.rank = rank;
  o.world = world;
  o.seed = 11;
  o.augment.hflip = true;
  o.augment.randaugment = "rand-m9-mstd0.5-inc1";
  return o;
}

}  // namespace

TEST(Loader, GlobalBatchesMatchAcrossWorldSizesWithAugmentation) {
  sct::test::TempDir dir;
  auto file = make_task(dir, 37);
  for (bool drop_last : {true, false})
    for (int64_t e : {0, 1}) {
      auto o1 = train_options(0, 1);
      o1.drop_last = drop_last;
      Loader single(file, o1);
      const auto reference = epoch(single, e);
      ASSERT_EQ(reference.size(), drop_last ? 4u : 5u);
      for (int world : {2, 4}) {
        std::vector<std::vector<Batch>> ranks;
        for (int r = 0; r < world; ++r) {
          auto o = train_options(r, world);
          o.drop_last = drop_last;
          o.prefetch = 1 + r;  // prefetch depth must not matter
          Loader l(file, o);
          ranks.push_back(epoch(l, e));
          ASSERT_EQ(ranks.back().size(), reference.size());
        }
        for (size_t s = 0; s < reference.size(); ++s) {
          std::vector<at::Tensor> images, labels;
          std::vector<int64_t> indices;
          for (const auto& rb : ranks) {
            images.push_back(rb[s].images);
            labels.push_back(rb[s].labels);
            indices.insert(indices.end(), rb[s].indices.begin(), rb[s].indices.end());
          }
          EXPECT_EQ(indices, reference[s].indices) << "world " << world << " step " << s;
          EXPECT_TRUE(at::equal(at::cat(images), reference[s].images)) << "world " << world << " step " << s;
          EXPECT_TRUE(at::equal(at::cat(labels), reference[s].labels));
        }
      }
    }
}

TEST(Loader, EpochsDifferAndRepeatDeterministically) {
  sct::test::TempDir dir;
  auto file = make_task(dir, 37);
  Loader a(file, train_options(0, 1)), b(file, train_options(0, 1));
  const auto a0 = epoch(a, 0), a1 = epoch(a, 1), b0 = epoch(b, 0);
  EXPECT_NE(a0[0].indices, a1[0].indices);
  for (size_t s = 0; s < a0.size(); ++s) EXPECT_TRUE(at::equal(a0[s].images, b0[s].images));
}

TEST(Loader, EvalCoversEverySampleOnceWithNormalisedStoredPixels) {
  sct::test::TempDir dir;
  auto file = make_task(dir, 37);
  const auto& labels = file->labels("train");
  std::vector<uint8_t> raw(37 * 12 * 12 * 3);
  file->read_range("train", 0, 37, raw.data());
  const double mean[3] = {0.485, 0.456, 0.406}, stdev[3] = {0.229, 0.224, 0.225};
  std::vector<int64_t> seen;
  for (int r = 0; r < 3; ++r) {
    LoaderOptions o;
    o.split = "train";
    o.mode = LoaderMode::kEval;
    o.batch_size = 5;
    o.rank = r;
    o.world = 3;
    Loader l(file, o);
    for (const auto& b : epoch(l, 0)) {
      ASSERT_EQ(b.images.sizes(), (at::IntArrayRef{static_cast<int64_t>(b.indices.size()), 3, 12, 12}));
      ASSERT_EQ(b.images.scalar_type(), at::kFloat);
      ASSERT_EQ(b.labels.scalar_type(), at::kLong);
      auto img = b.images.accessor<float, 4>();
      double worst = 0;
      for (size_t i = 0; i < b.indices.size(); ++i) {
        const int64_t idx = b.indices[i];
        EXPECT_EQ(b.labels[i].item<int64_t>(), labels[idx]);
        for (int c = 0; c < 3; ++c)
          for (int y = 0; y < 12; ++y)
            for (int x = 0; x < 12; ++x) {
              const double v = raw[((idx * 12 + y) * 12 + x) * 3 + c] / 255.0;
              worst = std::max(worst, std::abs((v - mean[c]) / stdev[c] - img[i][c][y][x]));
            }
      }
      EXPECT_LT(worst, 1e-5);
      seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    }
  }
  std::vector<int64_t> expect(37);
  for (int i = 0; i < 37; ++i) expect[i] = i;
  EXPECT_EQ(seen, expect);
}

TEST(Loader, BadOptionsAreInputErrors) {
  sct::test::TempDir dir;
  auto file = make_task(dir, 37);
  auto o = train_options(0, 3);  // 8 % 3 != 0
  EXPECT_THROW(Loader(file, o), sct::InputError);
  o = train_options(0, 1);
  o.split = "test";
  EXPECT_THROW(Loader(file, o), sct::InputError);
  o = train_options(0, 1);
  o.augment.randaugment = "rand-q9";
  EXPECT_THROW(Loader(file, o), sct::InputError);
}

TEST(Loader, RestartingMidEpochAndEarlyDestructionDoNotHang) {
  sct::test::TempDir dir;
  auto file = make_task(dir, 37);
  auto o = train_options(0, 1);
  o.prefetch = 1;
  Loader l(file, o);
  l.start_epoch(0);
  Batch b;
  ASSERT_TRUE(l.next(b));
  l.start_epoch(1);  // abandons epoch 0 with the producer blocked on a full queue
  int n = 0;
  while (l.next(b)) ++n;
  EXPECT_EQ(n, 4);
  l.start_epoch(2);  // destroyed while producing
}
