// Unit tests of the run directory's state helpers: the run lock (refusal, release, the stale
// rules), provenance.json's list of starts, the input comparison, stale temporaries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/sysinfo.h"
#include "framework/sweep/inputs.h"
#include "framework/sweep/provenance.h"
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

TEST(Provenance, AppendsStartsAndConvertsASingleRecord) {
  nlohmann::json first = append_provenance("", {{"started_at", "t0"}});
  ASSERT_EQ(first["starts"].size(), 1u);
  EXPECT_EQ(first["starts"][0]["restart"], 0);
  nlohmann::json second = append_provenance(first.dump(), {{"started_at", "t1"}});
  ASSERT_EQ(second["starts"].size(), 2u);
  EXPECT_EQ(second["starts"][0], first["starts"][0]);
  EXPECT_EQ(second["starts"][1]["restart"], 1);
  nlohmann::json old = append_provenance(R"({"started_at": "old", "world": {"size": 2}})", {{"started_at", "t2"}});
  ASSERT_EQ(old["starts"].size(), 2u);
  EXPECT_EQ(old["starts"][0]["started_at"], "old");
  EXPECT_EQ(old["starts"][1]["restart"], 1);
  EXPECT_ANY_THROW(append_provenance("{not json", {}));
}

TEST(Inputs, ChangedNamesTheFile) {
  UnitInputs now;
  now.data = "t.h5";
  now.data_checksum = "crc32:00000001";
  now.backbone = "b.safetensors";
  now.backbone_checksum = "crc32:0000000b";
  EXPECT_EQ(inputs_changed(to_json(now), now), "");
  EXPECT_EQ(inputs_changed(nlohmann::json::object(), now), "");  // nothing recorded
  UnitInputs then = now;
  then.data_checksum = "crc32:00000002";
  const std::string data = inputs_changed(to_json(then), now);
  EXPECT_NE(data.find("task file t.h5 changed"), std::string::npos) << data;
  then = now;
  then.backbone_checksum = "crc32:0000000c";
  const std::string backbone = inputs_changed(to_json(then), now);
  EXPECT_NE(backbone.find("backbone checkpoint b.safetensors changed"), std::string::npos) << backbone;
}

TEST(Inputs, FileChecksumIsZlibCrc32AndFollowsTheContent) {
  test::TempDir dir;
  const std::string path = (dir.path() / "f.bin").string();
  std::ofstream(path) << "123456789";
  EXPECT_EQ(file_checksum(path), "crc32:cbf43926");  // the CRC-32 check value
  // The same size at the same path (perhaps the same inode): the cache key's mtime tells them
  // apart once the clock has moved past the file system's timestamp granularity.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fs::remove(path);
  std::ofstream(path) << "12345678!";
  EXPECT_NE(file_checksum(path), "crc32:cbf43926");
  EXPECT_THROW(file_checksum((dir.path() / "missing").string()), InputError);
}

TEST(Fs, RemovesOnlyStaleTemporaries) {
  test::TempDir dir;
  for (const char* name : {"result.json.tmp.123.0", "checkpoint.safetensors.tmp.9.12", "result.json",
                           "notes.tmp.txt", "a.tmp.1"})
    std::ofstream(dir.path() / name) << "x";
  EXPECT_EQ(remove_stale_temporaries(dir.path().string()), 2);
  EXPECT_TRUE(fs::exists(dir.path() / "result.json"));
  EXPECT_TRUE(fs::exists(dir.path() / "notes.tmp.txt"));
  EXPECT_TRUE(fs::exists(dir.path() / "a.tmp.1"));
  EXPECT_FALSE(fs::exists(dir.path() / "result.json.tmp.123.0"));
}
