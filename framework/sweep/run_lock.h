// The run directory's lock, <run_dir>/run.lock: one process at a time writes a run directory.
// The sweep's rank 0 holds it (flock on the open file, which the kernel drops when the process
// dies, however it dies); the file names its owner (host, pid, SLURM job) for the refusal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "framework/sweep/job.h"

namespace sct::sweep {

struct LockOwner {
  std::string host;
  int64_t pid = 0;
  std::string since;  // UTC time the owner took the lock
  JobIds job;
};

// Why the lock `owner` left may be taken over by `me`, or "" when it must be respected:
// - same host: its process is gone (`pid_alive` false), or the flock was free (`flock_free`:
//   the owner's process would hold it);
// - another host: only an earlier start of the same SLURM job (same job and array ids, lower
//   restart count), which SLURM ended before requeueing it. Any other owner on another host
//   may be alive, so it is refused; the message tells the user how to clear it.
std::string stale_reason(const LockOwner& owner, const LockOwner& me, bool flock_free, bool pid_alive);

class RunLock {
 public:
  // Takes the lock of `run_dir` (which must exist), or throws InputError naming the lock file
  // and its owner. A stale lock (stale_reason) is taken over with a warning.
  static std::unique_ptr<RunLock> acquire(const std::string& run_dir);
  ~RunLock();  // removes the file (when it is still this process's) and releases the lock
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  RunLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

std::string lock_path(const std::string& run_dir);  // <run_dir>/run.lock

}  // namespace sct::sweep
