// Unit tests of the run directory's state helpers: the run lock (refusal, release, the stale
// rules).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/sysinfo.h"
#include "framework/sweep/run_lock.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;
using namespace sct;
using namespace sct::sweep;

namespace {

LockOwner owner(const std::string& host, int64_t pid, const std::string& job = "", int64_t restart = 0) {
  LockOwner o;
  o.host = host;
  o.pid = pid;
  o.job.job_id = job;
  o.job.restart_count = restart;
  return o;
}

}  // namespace

TEST(RunLock, StaleRules) {
  const LockOwner me = owner("n1", 100, "77", 1);
  EXPECT_EQ(stale_reason(owner("n1", 5), me, false, true), "");            // alive here, holds the flock
  EXPECT_NE(stale_reason(owner("n1", 5), me, false, false), "");           // dead here
  EXPECT_NE(stale_reason(owner("n1", 5), me, true, true), "");             // pid reused: flock was free
  EXPECT_EQ(stale_reason(owner("n2", 5), me, true, false), "");            // another host: may be alive
  EXPECT_EQ(stale_reason(owner("n2", 5, "76", 0), me, true, false), "");   // another job
  EXPECT_EQ(stale_reason(owner("n2", 5, "77", 1), me, true, false), "");   // the same start of the job
  EXPECT_NE(stale_reason(owner("n2", 5, "77", 0), me, true, false), "");   // an earlier start: requeued
  EXPECT_NE(stale_reason(owner("", 0), me, true, false), "");              // an empty file
}

TEST(RunLock, SecondAcquireIsRefusedAndReleaseRemovesTheFile) {
  test::TempDir dir;
  const std::string run = dir.path().string();
  {
    auto lock = RunLock::acquire(run);
    ASSERT_TRUE(fs::exists(lock_path(run)));
    const std::string text = read_text_file(lock_path(run));
    EXPECT_NE(text.find("\"pid\":" + std::to_string(getpid())), std::string::npos) << text;
    try {
      RunLock::acquire(run);  // another open file description: the flock conflicts
      FAIL() << "a second lock was granted";
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(lock_path(run)), std::string::npos) << m;
      EXPECT_NE(m.find("pid " + std::to_string(getpid()) + " on host " + host_name()), std::string::npos) << m;
    }
    EXPECT_TRUE(fs::exists(lock_path(run)));  // the refusal leaves the owner's file
  }
  EXPECT_FALSE(fs::exists(lock_path(run)));
  auto again = RunLock::acquire(run);  // free again
  EXPECT_TRUE(again != nullptr);
}

