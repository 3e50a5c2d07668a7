// The World as started by the launcher, and backend selection on a real MPI group.
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "framework/core/error.h"
#include "framework/core/torch_compat.h"
#include "framework/dist/world.h"
#include "tests/dist/mpi_test_env.h"

namespace sct::dist {
namespace {

using test::world;

TEST(World, InfoMatchesLauncherAndNodes) {
  const WorldInfo& info = world().info();
  EXPECT_EQ(info.rank, world().comm().rank());
  EXPECT_EQ(info.size, world().comm().size());
  if (const char* n = std::getenv("OMPI_COMM_WORLD_SIZE")) {
    EXPECT_EQ(info.launcher, "mpirun");
    EXPECT_EQ(info.size, std::atoi(n));
  } else if (info.size == 1) {
    EXPECT_EQ(info.launcher, "singleton");
  }
  // Node-local rank and size agree with the host names every rank reports.
  const auto hosts = world().comm().all_gather(info.host);
  int same = 0, before = 0;
  for (int r = 0; r < info.size; ++r)
    if (hosts[static_cast<size_t>(r)] == info.host) ++same, before += r < info.rank;
  EXPECT_EQ(info.local_size, same);
  EXPECT_EQ(info.local_rank, before);
  EXPECT_FALSE(info.host.empty());
  EXPECT_EQ(info.mpi_version.rfind("Open MPI", 0), 0u) << info.mpi_version;
  EXPECT_EQ(info.mpi_version.find('\n'), std::string::npos);
}

TEST(World, TrainingCommunicatorIsMpiOnCpu) {
  std::string why;
  auto comm = make_training_communicator(world().comm(), "cpu", &why);
  EXPECT_EQ(comm->backend(), "mpi");
  EXPECT_EQ(why, "backend=mpi, device=cpu (requested)");
  EXPECT_EQ(comm->size(), world().size());
  EXPECT_EQ(comm->rank(), world().rank());
  EXPECT_EQ(comm->all_reduce(int64_t{1}, ReduceOp::kSum), int64_t{world().size()});
}

TEST(World, AutoAndCudaWithoutGpuSupport) {
  if (torch_compat::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
  std::string why;
  auto comm = make_training_communicator(world().comm(), "auto", &why, world().info().local_rank);
  EXPECT_EQ(comm->backend(), "mpi");
  EXPECT_EQ(why.rfind("backend=mpi, device=cpu (", 0), 0u) << why;
  EXPECT_EQ(comm->all_reduce(2.0, ReduceOp::kAvg), 2.0);
  // Every rank must throw (no rank left waiting), naming what is missing.
  try {
    make_training_communicator(world().comm(), "cuda", &why);
    ADD_FAILURE() << "device=cuda without GPU support did not throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("device=cuda needs a GPU, but"), std::string::npos)
        << e.what();
  }
  world().comm().barrier();
}

}  // namespace
}  // namespace sct::dist
