// Every collective of the MPI communicator on every dtype and op, raw and tensor forms, checked
// against a serial reduction of what each rank contributed. Runs at any world size.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "framework/core/error.h"
#include "framework/dist/mpi_communicator.h"
#include "framework/dist/world.h"
#include "tests/dist/mpi_test_env.h"

namespace sct::dist {
namespace {

using test::contribution;
using test::reference;
using test::world;

const DType kDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kInt64};
const ReduceOp kOps[] = {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax};

const char* dtype_name(DType t) {
  return t == DType::kFloat32 ? "float32" : t == DType::kFloat64 ? "float64" : "int64";
}

// Exact comparison (the inputs make every reduction exact); reports where it first differs
// and how many elements differ.
template <typename T>
void expect_reduced(const T* got, size_t count, ReduceOp op, int size) {
  size_t wrong = 0, first = 0;
  for (size_t i = 0; i < count; ++i)
    if (got[i] != reference<T>(i, op, size) && wrong++ == 0) first = i;
  EXPECT_EQ(wrong, 0u) << "first difference at element " << first << ": got " << +got[first]
                       << ", expected " << +reference<T>(first, op, size);
}

template <typename T>
DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  return DType::kInt64;
}

template <typename T>
void raw_all_reduce(Communicator& comm, size_t count, ReduceOp op) {
  std::vector<T> v(count);
  for (size_t i = 0; i < count; ++i) v[i] = contribution<T>(comm.rank(), i);
  comm.all_reduce(v.data(), count, dtype_of<T>(), op);
  expect_reduced(v.data(), count, op, comm.size());
}

template <typename T>
void tensor_all_reduce(Communicator& comm, size_t count, ReduceOp op) {
  const auto scalar = dtype_of<T>() == DType::kFloat32   ? at::kFloat
                      : dtype_of<T>() == DType::kFloat64 ? at::kDouble
                                                         : at::kLong;
  at::Tensor t = at::empty({static_cast<int64_t>(count)}, at::TensorOptions().dtype(scalar));
  T* p = t.data_ptr<T>();
  for (size_t i = 0; i < count; ++i) p[i] = contribution<T>(comm.rank(), i);
  comm.all_reduce(t, op);
  expect_reduced(t.data_ptr<T>(), count, op, comm.size());
}

void all_reduce_every(Communicator& comm, size_t count, bool tensor) {
  for (DType dtype : kDTypes)
    for (ReduceOp op : kOps) {
      SCOPED_TRACE(testing::Message() << dtype_name(dtype) << " " << reduce_op_name(op)
                                      << " count " << count << (tensor ? " tensor" : " raw"));
      switch (dtype) {
        case DType::kFloat32:
          tensor ? tensor_all_reduce<float>(comm, count, op) : raw_all_reduce<float>(comm, count, op);
          break;
        case DType::kFloat64:
          tensor ? tensor_all_reduce<double>(comm, count, op)
                 : raw_all_reduce<double>(comm, count, op);
          break;
        case DType::kInt64:
          tensor ? tensor_all_reduce<int64_t>(comm, count, op)
                 : raw_all_reduce<int64_t>(comm, count, op);
          break;
      }
    }
}

TEST(Collectives, BackendAndShape) {
  Communicator& comm = world().comm();
  EXPECT_EQ(comm.backend(), "mpi");
  EXPECT_EQ(comm.size(), world().size());
  EXPECT_EQ(comm.rank(), world().rank());
}

TEST(Collectives, AllReduceRawEveryDTypeAndOp) { all_reduce_every(world().comm(), 37, false); }

TEST(Collectives, AllReduceTensorEveryDTypeAndOp) { all_reduce_every(world().comm(), 37, true); }

TEST(Collectives, AllReduceTypedConveniences) {
  Communicator& comm = world().comm();
  const int n = comm.size(), r = comm.rank();
  EXPECT_EQ(comm.all_reduce(int64_t{r + 1}, ReduceOp::kSum), int64_t{n * (n + 1) / 2});
  EXPECT_EQ(comm.all_reduce(int64_t{r}, ReduceOp::kMax), int64_t{n - 1});
  EXPECT_EQ(comm.all_reduce(double(r), ReduceOp::kAvg), double(n - 1) / 2.0);
  std::vector<double> d = {double(r), 1.0};
  comm.all_reduce(d, ReduceOp::kSum);
  EXPECT_EQ(d, (std::vector<double>{double(n * (n - 1) / 2), double(n)}));
  std::vector<int64_t> i = {int64_t{r}, -int64_t{r}};
  comm.all_reduce(i, ReduceOp::kMax);
  EXPECT_EQ(i, (std::vector<int64_t>{n - 1, 0}));
}

TEST(Collectives, AverageOfInt64TruncatesTowardZero) {
  Communicator& comm = world().comm();
  const int n = comm.size();
  // The sum -(2n - 1) is not a multiple of n when n > 1, and negative: truncation shows.
  int64_t v = comm.rank() == 0 ? -(2 * n - 1) : 0;
  v = comm.all_reduce(v, ReduceOp::kAvg);
  EXPECT_EQ(v, -(2 * n - 1) / n);  // C++ division: toward zero
}

TEST(Collectives, ChunkedAllReduceMatchesUnchunked) {
  // Three elements per MPI call: every count below crosses chunk boundaries differently.
  auto small = make_mpi_world_communicator(MpiOptions{3});
  for (size_t count : {0u, 1u, 3u, 6u, 7u, 100u}) {
    all_reduce_every(*small, count, false);
    all_reduce_every(*small, count, true);
  }
}

TEST(Collectives, BroadcastRawFromEachRoot) {
  Communicator& comm = world().comm();
  for (int root : {0, comm.size() - 1, comm.size() / 2}) {
    SCOPED_TRACE(testing::Message() << "root " << root);
    std::vector<int64_t> v(17);
    for (size_t i = 0; i < v.size(); ++i) v[i] = contribution<int64_t>(comm.rank(), i);
    comm.broadcast(v.data(), v.size() * sizeof(int64_t), root);
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], contribution<int64_t>(root, i)) << i;
  }
}

TEST(Collectives, BroadcastTensorAnyDTypeFromEachRoot) {
  Communicator& comm = world().comm();
  for (int root : {0, comm.size() - 1}) {
    SCOPED_TRACE(testing::Message() << "root " << root);
    at::Tensor f = at::full({3, 4}, double(comm.rank()) + 0.5, at::kFloat);
    comm.broadcast(f, root);
    EXPECT_TRUE(at::equal(f, at::full({3, 4}, double(root) + 0.5, at::kFloat)));
    // broadcast moves bytes, so dtypes all_reduce does not take (int32, uint8) work too.
    at::Tensor b = at::arange(10, at::kInt) * (comm.rank() + 1);
    comm.broadcast(b, root);
    EXPECT_TRUE(at::equal(b, at::arange(10, at::kInt) * (root + 1)));
  }
}

TEST(Collectives, BroadcastStringOfRootLength) {
  Communicator& comm = world().comm();
  const int root = comm.size() - 1;
  std::string s(static_cast<size_t>(comm.rank()) * 5 + 1, char('a' + comm.rank()));
  comm.broadcast(s, root);
  EXPECT_EQ(s, std::string(static_cast<size_t>(root) * 5 + 1, char('a' + root)));
  std::string empty = comm.rank() == 0 ? "" : "not empty";
  comm.broadcast(empty, 0);
  EXPECT_EQ(empty, "");
}

TEST(Collectives, ChunkedBroadcastAndAllGather) {
  auto small = make_mpi_world_communicator(MpiOptions{3});
  const int n = small->size(), r = small->rank();
  std::vector<char> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char((i * 31 + r) % 127);
  small->broadcast(bytes.data(), bytes.size(), n - 1);
  size_t wrong = 0;
  for (size_t i = 0; i < bytes.size(); ++i) wrong += bytes[i] != char((i * 31 + n - 1) % 127);
  EXPECT_EQ(wrong, 0u);
  // 10 bytes per rank in chunks of 3: each chunk must land in its rank's slot.
  char mine[10];
  for (int k = 0; k < 10; ++k) mine[k] = char(r * 16 + k);
  std::vector<char> all(10 * static_cast<size_t>(n));
  small->all_gather(mine, 10, all.data());
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < 10; ++k) EXPECT_EQ(all[static_cast<size_t>(q * 10 + k)], char(q * 16 + k));
  const auto strings = small->all_gather(std::string(static_cast<size_t>(r) + 4, char('A' + r)));
  for (int q = 0; q < n; ++q)
    EXPECT_EQ(strings[static_cast<size_t>(q)], std::string(static_cast<size_t>(q) + 4, char('A' + q)));
}

TEST(Collectives, AllGatherRawAndStringsInRankOrder) {
  Communicator& comm = world().comm();
  const int n = comm.size(), r = comm.rank();
  int64_t mine[3] = {r * 10, r * 10 + 1, -r};
  std::vector<int64_t> all(3 * static_cast<size_t>(n));
  comm.all_gather(mine, sizeof(mine), all.data());
  for (int q = 0; q < n; ++q) {
    EXPECT_EQ(all[3 * q], q * 10);
    EXPECT_EQ(all[3 * q + 1], q * 10 + 1);
    EXPECT_EQ(all[3 * q + 2], -q);
  }
  // Rank 0 sends an empty string; lengths differ per rank.
  const auto strings = comm.all_gather(std::string(static_cast<size_t>(r) * 3, char('x' + r % 3)));
  ASSERT_EQ(strings.size(), static_cast<size_t>(n));
  for (int q = 0; q < n; ++q)
    EXPECT_EQ(strings[static_cast<size_t>(q)], std::string(static_cast<size_t>(q) * 3, char('x' + q % 3)));
}

TEST(Collectives, BarrierWaitsForTheLastRank) {
  Communicator& comm = world().comm();
  comm.barrier();
  if (comm.size() < 2) return;
  const auto start = std::chrono::steady_clock::now();
  if (comm.rank() == comm.size() - 1) std::this_thread::sleep_for(std::chrono::milliseconds(400));
  comm.barrier();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (comm.rank() == 0) {
    EXPECT_GT(waited, 0.1) << "rank 0 left the barrier before the last rank entered";
  }
}

TEST(Collectives, BadArgumentsThrowBeforeCommunicating) {
  Communicator& comm = world().comm();
  int64_t x = 0;
  EXPECT_THROW(comm.broadcast(&x, sizeof(x), comm.size()), Error);
  EXPECT_THROW(comm.broadcast(&x, sizeof(x), -1), Error);
  EXPECT_THROW(comm.split(-1, 0), Error);
  at::Tensor ints = at::zeros({4}, at::kInt);
  EXPECT_THROW(comm.all_reduce(ints, ReduceOp::kSum), Error);
  at::Tensor strided = at::zeros({4, 4}, at::kFloat).t();
  EXPECT_THROW(comm.all_reduce(strided, ReduceOp::kSum), Error);
  EXPECT_THROW(make_mpi_world_communicator(MpiOptions{0}), Error);
  comm.barrier();  // still in step afterwards
}

}  // namespace
}  // namespace sct::dist
