// gtest main for the MPI tests: starts MPI through World, keeps ranks > 0 quiet except for
// their failures, and makes every rank return the same status.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/world.h"
#include "tests/dist/mpi_test_env.h"

namespace {

sct::dist::World* g_world = nullptr;

// Replaces gtest's report on ranks > 0: only failed assertions, tagged with rank and test.
class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestStart(const ::testing::TestInfo& info) override {
    test_ = std::string(info.test_suite_name()) + "." + info.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[r%d] %s: %s:%d: failure\n%s\n", rank_, test_.c_str(),
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.summary());
  }

 private:
  int rank_;
  std::string test_;
};

}  // namespace

sct::dist::World& sct::dist::test::world() { return *g_world; }

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);  // before MPI starts: it may re-execute this process
  try {
    sct::dist::World world(&argc, &argv);
    g_world = &world;
    sct::log::configure(world.rank(), world.size(), false);
    ::testing::InitGoogleTest(&argc, argv);
    if (world.rank() != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new FailurePrinter(world.rank()));
    }
    const int64_t failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    const int64_t any = world.comm().all_reduce(failed, sct::dist::ReduceOp::kMax);
    if (any != 0 && failed == 0 && world.rank() == 0)
      std::fprintf(stderr, "[r0] another rank failed (see its [rN] lines)\n");
    return any != 0 ? 1 : 0;
  } catch (const sct::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
