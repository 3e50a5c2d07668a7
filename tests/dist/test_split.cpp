// split(color, key): membership, ordering by (key, rank), and collectives inside the groups,
// checked against the serial picture of which world ranks share a color.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "framework/dist/mpi_communicator.h"
#include "framework/dist/world.h"
#include "tests/dist/mpi_test_env.h"

namespace sct::dist {
namespace {

using test::world;

// World ranks with color(r) == c, ordered as split orders them: by key(r), then by rank.
template <typename Color, typename Key>
std::vector<int> expected_members(int size, int c, Color color, Key key) {
  std::vector<int> members;
  for (int r = 0; r < size; ++r)
    if (color(r) == c) members.push_back(r);
  std::stable_sort(members.begin(), members.end(),
                   [&](int a, int b) { return key(a) < key(b); });
  return members;
}

// Checks the sub-communicator and runs every collective in it; `members` is its expected
// membership in sub-rank order, given as world ranks.
void check_group(Communicator& sub, const std::vector<int>& members) {
  const int me = world().rank();
  const int n = static_cast<int>(members.size());
  ASSERT_EQ(sub.size(), n);
  const int expected_rank =
      static_cast<int>(std::find(members.begin(), members.end(), me) - members.begin());
  ASSERT_EQ(sub.rank(), expected_rank);
  EXPECT_EQ(sub.backend(), "mpi");

  // all_gather: world ranks in sub-rank order.
  const int64_t mine = me;
  std::vector<int64_t> gathered(static_cast<size_t>(n));
  sub.all_gather(&mine, sizeof(mine), gathered.data());
  EXPECT_EQ(gathered, std::vector<int64_t>(members.begin(), members.end()));

  // all_reduce (raw, tensor, every op) over the group's contributions only.
  int64_t sum = 0, max = members[0];
  for (int r : members) sum += r + 1, max = std::max<int64_t>(max, r);
  EXPECT_EQ(sub.all_reduce(int64_t{me + 1}, ReduceOp::kSum), sum);
  EXPECT_EQ(sub.all_reduce(int64_t{me}, ReduceOp::kMax), max);
  at::Tensor t = at::full({5}, double(me + 1), at::kDouble);
  sub.all_reduce(t, ReduceOp::kAvg);
  EXPECT_TRUE(at::allclose(t, at::full({5}, double(sum) / n, at::kDouble), 0, 0));

  // broadcast from the group's last rank reaches exactly this group.
  int64_t v = me;
  sub.broadcast(&v, sizeof(v), n - 1);
  EXPECT_EQ(v, members.back());
  sub.barrier();
}

TEST(Split, ByParityWithReversedKeys) {
  const int n = world().size(), me = world().rank();
  auto color = [](int r) { return r % 2; };
  auto key = [](int r) { return -r; };
  auto sub = world().comm().split(color(me), key(me));
  check_group(*sub, expected_members(n, color(me), color, key));
}

TEST(Split, EqualKeysKeepWorldOrder) {
  const int n = world().size();
  auto color = [](int) { return 7; };
  auto key = [](int) { return 0; };
  auto sub = world().comm().split(7, 0);
  check_group(*sub, expected_members(n, 7, color, key));
}

TEST(Split, OneRankPerGroup) {
  auto sub = world().comm().split(world().rank(), 0);
  check_group(*sub, {world().rank()});
  EXPECT_EQ(sub->all_reduce(2.5, ReduceOp::kAvg), 2.5);
}

TEST(Split, NestedSplitOfASplit) {
  // First halve by rank / 2 (pairs), then reverse each pair: members are world ranks of the
  // pair, last first.
  const int n = world().size(), me = world().rank();
  auto outer = world().comm().split(me / 2, 0);
  auto inner = outer->split(0, -outer->rank());
  std::vector<int> members;
  for (int r = 0; r < n; ++r)
    if (r / 2 == me / 2) members.push_back(r);
  std::reverse(members.begin(), members.end());
  check_group(*inner, members);
}

TEST(Split, ChunkingIsInherited) {
  auto small = make_mpi_world_communicator(MpiOptions{2});
  auto sub = small->split(world().rank() % 2, 0);
  std::vector<double> v(11);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(world().rank()) + double(i);
  sub->all_reduce(v, ReduceOp::kSum);
  double ranks = 0;
  int members = 0;
  for (int r = 0; r < world().size(); ++r)
    if (r % 2 == world().rank() % 2) ranks += r, ++members;
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], ranks + members * double(i)) << i;
}

TEST(Split, SplitOutlivesItsParent) {
  std::unique_ptr<Communicator> sub;
  {
    auto parent = make_mpi_world_communicator();
    sub = parent->split(0, 0);
  }
  EXPECT_EQ(sub->all_reduce(int64_t{1}, ReduceOp::kSum), int64_t{world().size()});
}

}  // namespace
}  // namespace sct::dist
