// The size-1 communicator: every collective is the identity, with the same argument rules as
// the distributed backends.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"

namespace sct::dist {
namespace {

TEST(LocalCommunicator, RankSizeBackend) {
  auto comm = make_local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->backend(), "local");
}

TEST(LocalCommunicator, AllReduceIsIdentityForEveryDTypeAndOp) {
  auto comm = make_local_communicator();
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax}) {
    std::vector<float> f = {1.5f, -2.f, 3.25f};
    std::vector<double> d = {0.1, -7.0};
    std::vector<int64_t> i = {-3, (int64_t{1} << 60) + 1};
    const auto f0 = f;
    const auto d0 = d;
    const auto i0 = i;
    comm->all_reduce(f.data(), f.size(), DType::kFloat32, op);
    comm->all_reduce(d, op);
    comm->all_reduce(i, op);
    EXPECT_EQ(f, f0) << reduce_op_name(op);
    EXPECT_EQ(d, d0) << reduce_op_name(op);
    EXPECT_EQ(i, i0) << reduce_op_name(op);
    EXPECT_EQ(comm->all_reduce(int64_t{-5}, op), -5);
    EXPECT_EQ(comm->all_reduce(2.5, op), 2.5);
  }
}

TEST(LocalCommunicator, TensorFormsKeepValuesAndCheckDType) {
  auto comm = make_local_communicator();
  at::Tensor t = at::arange(6, at::kDouble).reshape({2, 3});
  const at::Tensor before = t.clone();
  comm->all_reduce(t, ReduceOp::kAvg);
  EXPECT_TRUE(at::equal(t, before));
  comm->broadcast(t, 0);
  EXPECT_TRUE(at::equal(t, before));
  at::Tensor ints = at::zeros({3}, at::kInt);
  EXPECT_THROW(comm->all_reduce(ints, ReduceOp::kSum), Error);  // as on MPI
  comm->broadcast(ints, 0);                                        // broadcast takes any dtype
  EXPECT_THROW(comm->broadcast(t, 1), Error);
}

TEST(LocalCommunicator, BroadcastGatherStringsSplitBarrier) {
  auto comm = make_local_communicator();
  std::string s = "hello";
  comm->broadcast(s, 0);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(comm->all_gather(std::string("abc")), std::vector<std::string>{"abc"});
  EXPECT_EQ(comm->all_gather(std::string()), std::vector<std::string>{""});
  const int64_t mine[2] = {4, 5};
  int64_t out[2] = {0, 0};
  comm->all_gather(mine, sizeof(mine), out);
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(out[1], 5);
  comm->barrier();
  auto sub = comm->split(3, 9);
  EXPECT_EQ(sub->size(), 1);
  EXPECT_EQ(sub->backend(), "local");
  EXPECT_THROW(comm->split(-1, 0), Error);
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::kFloat32), 4u);
  EXPECT_EQ(dtype_size(DType::kFloat64), 8u);
  EXPECT_EQ(dtype_size(DType::kInt64), 8u);
  EXPECT_STREQ(reduce_op_name(ReduceOp::kSum), "sum");
  EXPECT_STREQ(reduce_op_name(ReduceOp::kAvg), "avg");
  EXPECT_STREQ(reduce_op_name(ReduceOp::kMax), "max");
  EXPECT_EQ(tensor_dtype(at::zeros({1}, at::kFloat)), DType::kFloat32);
  EXPECT_EQ(tensor_dtype(at::zeros({1}, at::kDouble)), DType::kFloat64);
  EXPECT_EQ(tensor_dtype(at::zeros({1}, at::kLong)), DType::kInt64);
  EXPECT_THROW(tensor_dtype(at::zeros({1}, at::kHalf)), Error);
}

}  // namespace
}  // namespace sct::dist
