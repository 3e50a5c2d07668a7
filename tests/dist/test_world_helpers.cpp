// The parts of world.h that need no running MPI: default threads, library facts and backend
// selection over a local group.
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <sched.h>

#include "framework/core/error.h"
#include "framework/core/torch_compat.h"
#include "framework/dist/check.h"
#include "framework/dist/world.h"

namespace sct::dist {
namespace {

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

TEST(WorldHelpers, DefaultThreadsSharesTheCores) {
  const int cores = affinity_cores();
  EXPECT_EQ(default_threads(1), cores);
  EXPECT_EQ(default_threads(2), std::max(1, cores / 2));
  EXPECT_EQ(default_threads(1000), 1);
  EXPECT_EQ(default_threads(0), cores);  // nonsense input is treated as one rank
}

TEST(WorldHelpers, LibraryFacts) {
  const std::string v = mpi_library_version();
  EXPECT_EQ(v.rfind("Open MPI", 0), 0u) << v;
  EXPECT_EQ(v.find('\n'), std::string::npos);
  // The build compiles NCCL whenever nccl.h and cudart were found; the library must report
  // what CMake decided (SCT_HAVE_NCCL), whichever it was.
  EXPECT_EQ(nccl_compiled(), SCT_BUILD_HAS_NCCL != 0);
}

TEST(WorldHelpers, CpuDeviceUsesGroupBackend) {
  auto group = make_local_communicator();
  std::string why;
  auto comm = make_training_communicator(*group, "cpu", &why);
  EXPECT_EQ(comm->backend(), "local");
  EXPECT_EQ(why, "backend=local, device=cpu (requested)");
  comm = make_training_communicator(*group, "cpu", nullptr);  // why is optional
  EXPECT_EQ(comm->size(), 1);
}

TEST(WorldHelpers, AutoFallsBackAndCudaSaysWhatIsMissing) {
  if (torch_compat::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
  auto group = make_local_communicator();
  std::string why;
  auto comm = make_training_communicator(*group, "auto", &why);
  EXPECT_EQ(comm->backend(), "local");
  EXPECT_EQ(why.rfind("backend=local, device=cpu (", 0), 0u) << why;
  if (!torch_compat::built_with_cuda()) {
    EXPECT_NE(why.find("LibTorch " + torch_compat::torch_version() + " is CPU-only"), std::string::npos) << why;
  }
  for (const char* device : {"cuda", "cuda:0"}) {
    try {
      make_training_communicator(*group, device, &why);
      ADD_FAILURE() << device << " did not throw";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(std::string("device=") + device + " needs a GPU, but "), std::string::npos) << msg;
      EXPECT_EQ(e.exit_code(), kExitBadInput);
    }
  }
}

TEST(WorldHelpers, CheckFailureNamesCallPlaceAndRank) {
  try {
    detail::throw_call_failure("MPI", "MPI_Allreduce(buf, n)", "mpi_communicator.cpp", 77,
                               "MPI_ERR_COUNT: invalid count argument");
  } catch (const Error& e) {
    // MPI is not running in this process, so the rank is unknown.
    EXPECT_STREQ(e.what(),
                 "MPI call failed on rank ?: MPI_Allreduce(buf, n) at mpi_communicator.cpp:77: "
                 "MPI_ERR_COUNT: invalid count argument");
  }
}

TEST(WorldHelpers, UnknownDeviceIsInputError) {
  auto group = make_local_communicator();
  for (const char* device : {"gpu", "cuda:", "cuda:x", "CUDA", ""})
    EXPECT_THROW(make_training_communicator(*group, device, nullptr), InputError) << device;
}

}  // namespace
}  // namespace sct::dist
