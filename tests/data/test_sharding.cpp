// Sharding: global batches independent of the world size, exact-once evaluation shards.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "framework/core/error.h"
#include "framework/data/sharding.h"

using namespace sct::data;

namespace {

TrainSharding spec(int64_t n, int64_t g, int rank, int world, bool drop_last, bool shuffle = true) {
  return TrainSharding{n, g, rank, world, 42, shuffle, drop_last};
}

// Global batches as the concatenation of every rank's slice, rank by rank.
std::vector<std::vector<int64_t>> global_batches(int64_t n, int64_t g, int world, bool drop_last,
                                                 int64_t epoch) {
  std::vector<std::vector<int64_t>> out;
  for (int r = 0; r < world; ++r) {
    auto mine = train_epoch_batches(spec(n, g, r, world, drop_last), epoch);
    if (out.empty()) out.resize(mine.size());
    EXPECT_EQ(out.size(), mine.size()) << "ranks disagree on the number of steps";
    for (size_t s = 0; s < mine.size(); ++s) out[s].insert(out[s].end(), mine[s].begin(), mine[s].end());
  }
  return out;
}

}  // namespace

TEST(Sharding, HandComputedUnshuffledExample) {
  // 10 samples, global batch 4, two ranks: steps [0..3], [4..7] (+ [8, 9] without drop_last).
  auto r0 = train_epoch_batches(spec(10, 4, 0, 2, true, false), 0);
  auto r1 = train_epoch_batches(spec(10, 4, 1, 2, true, false), 0);
  EXPECT_EQ(r0, (std::vector<std::vector<int64_t>>{{0, 1}, {4, 5}}));
  EXPECT_EQ(r1, (std::vector<std::vector<int64_t>>{{2, 3}, {6, 7}}));
  auto p0 = train_epoch_batches(spec(10, 4, 0, 2, false, false), 0);
  auto p1 = train_epoch_batches(spec(10, 4, 1, 2, false, false), 0);
  ASSERT_EQ(p0.size(), 3u);
  EXPECT_EQ(p0[2], std::vector<int64_t>{8});
  EXPECT_EQ(p1[2], std::vector<int64_t>{9});
}

TEST(Sharding, GlobalBatchesAreTheSameForAnyWorldSize) {
  for (bool drop_last : {true, false})
    for (int64_t epoch : {0, 3}) {
      const auto reference = global_batches(103, 12, 1, drop_last, epoch);
      EXPECT_EQ(reference.size(), drop_last ? 8u : 9u);
      for (int world : {2, 3, 4, 6, 12})
        EXPECT_EQ(global_batches(103, 12, world, drop_last, epoch), reference)
            << "world " << world << " drop_last " << drop_last << " epoch " << epoch;
    }
}

TEST(Sharding, EpochOrderIsAPermutationFixedBySeedAndEpoch) {
  const auto a = epoch_order(1000, 7, 0, true);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(a, iota);
  EXPECT_EQ(a, epoch_order(1000, 7, 0, true));
  EXPECT_NE(a, epoch_order(1000, 7, 1, true));
  EXPECT_NE(a, epoch_order(1000, 8, 0, true));
  EXPECT_EQ(epoch_order(1000, 7, 0, false), iota);
}

TEST(Sharding, DropLastDropsOnlyThePartialBatchAndCoversTheRestOnce) {
  const auto batches = global_batches(100, 16, 4, true, 2);
  ASSERT_EQ(batches.size(), 6u);
  std::set<int64_t> seen;
  for (const auto& b : batches) {
    EXPECT_EQ(b.size(), 16u);
    for (int64_t i : b) EXPECT_TRUE(seen.insert(i).second) << "sample " << i << " twice";
  }
  EXPECT_EQ(seen.size(), 96u);
}

TEST(Sharding, ChecksRejectBadBatches) {
  EXPECT_THROW(check_train_sharding(spec(100, 10, 0, 3, true)), sct::InputError);  // 10 % 3
  EXPECT_THROW(check_train_sharding(spec(5, 8, 0, 1, true)), sct::InputError);     // no step
  EXPECT_THROW(check_train_sharding(spec(100, 0, 0, 1, true)), sct::InputError);
  EXPECT_THROW(check_train_sharding(spec(100, 8, 2, 2, true)), sct::InputError);   // rank
  EXPECT_NO_THROW(check_train_sharding(spec(5, 8, 0, 1, false)));
  try {
    check_train_sharding(spec(100, 10, 0, 3, true));
  } catch (const sct::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not divisible by the world size 3"), std::string::npos) << e.what();
  }
}

TEST(Sharding, EvalVisitsEverySampleExactlyOnceWithOddCounts) {
  for (int64_t n : {0, 1, 7, 101, 1000})
    for (int world : {1, 2, 3, 5, 8})
      for (int64_t batch : {1, 8, 64}) {
        std::vector<int64_t> all;
        int64_t smallest = n, largest = 0;
        for (int r = 0; r < world; ++r) {
          int64_t count = 0;
          for (const auto& b : eval_batches(n, batch, r, world)) {
            EXPECT_LE(static_cast<int64_t>(b.size()), batch);
            EXPECT_FALSE(b.empty());
            all.insert(all.end(), b.begin(), b.end());
            count += static_cast<int64_t>(b.size());
          }
          smallest = std::min(smallest, count);
          largest = std::max(largest, count);
        }
        std::vector<int64_t> expect(static_cast<size_t>(n));
        std::iota(expect.begin(), expect.end(), 0);
        EXPECT_EQ(all, expect) << "n " << n << " world " << world << " batch " << batch;
        EXPECT_LE(largest - smallest, 1);
      }
}

TEST(Sharding, BalancedRangeSplitsContiguously) {
  EXPECT_EQ(balanced_range(10, 0, 3), std::make_pair(int64_t{0}, int64_t{4}));
  EXPECT_EQ(balanced_range(10, 1, 3), std::make_pair(int64_t{4}, int64_t{7}));
  EXPECT_EQ(balanced_range(10, 2, 3), std::make_pair(int64_t{7}, int64_t{10}));
  EXPECT_EQ(balanced_range(2, 3, 4), std::make_pair(int64_t{2}, int64_t{2}));
}
