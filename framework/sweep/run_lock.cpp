#include "framework/sweep/run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/sysinfo.h"

namespace sct::sweep {
namespace {

bool alive(int64_t pid) { return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

std::string describe(const LockOwner& o) {
  std::string text = fmt::format("pid {} on host {}", o.pid, o.host);
  if (!o.job.job_id.empty()) {
    text += fmt::format(" (SLURM job {}", o.job.job_id);
    if (!o.job.array_task_id.empty()) text += fmt::format(", array task {}", o.job.array_task_id);
    text += fmt::format(", restart {})", o.job.restart_count);
  }
  if (!o.since.empty()) text += " since " + o.since;
  return text;
}

std::string read_fd(int fd) {
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

// The owner recorded in the file; pid 0 when the file is empty or unreadable (a process killed
// between creating and writing it).
LockOwner parse_owner(const std::string& text) {
  LockOwner o;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    o.host = j.value("host", "");
    o.pid = j.value("pid", int64_t{0});
    o.since = j.value("since", "");
    if (j.contains("slurm")) o.job = job_ids_from_json(j["slurm"]);
  } catch (const std::exception&) {
    o.pid = 0;
  }
  return o;
}

void write_owner(int fd, const std::string& path, const LockOwner& me) {
  const std::string text =
      nlohmann::json{{"host", me.host}, {"pid", me.pid}, {"since", me.since}, {"slurm", to_json(me.job)}}.dump() + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      fsync(fd) != 0)
    throw Error(fmt::format("{}: cannot write the run lock ({})", path, std::strerror(errno)));
}

// Whether `fd` is still the file at `path` (its owner may have removed it while we waited).
bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

[[noreturn]] void refuse(const std::string& path, const LockOwner& owner) {
  throw InputError(fmt::format(
      "{}: the run directory is in use by {}; wait for it to end or use another --out (if that process is "
      "gone, e.g. its node failed, delete {} and run again)",
      path, describe(owner), path));
}

}  // namespace

std::string lock_path(const std::string& run_dir) { return (std::filesystem::path(run_dir) / "run.lock").string(); }

std::string stale_reason(const LockOwner& owner, const LockOwner& me, bool flock_free, bool pid_alive) {
  if (owner.pid <= 0) return "the lock file names no owner";
  if (owner.host == me.host) {
    if (!pid_alive) return fmt::format("process {} no longer exists on {}", owner.pid, owner.host);
    if (flock_free) return fmt::format("process {} on {} does not hold the lock (its pid was reused)", owner.pid,
                                       owner.host);
    return "";
  }
  const bool same_job = !owner.job.job_id.empty() && owner.job.job_id == me.job.job_id &&
                        owner.job.array_task_id == me.job.array_task_id;
  if (same_job && owner.job.restart_count < me.job.restart_count)
    return fmt::format("an earlier start (restart {}) of this SLURM job {}, which SLURM requeued",
                       owner.job.restart_count, me.job.job_id);
  return "";
}

std::unique_ptr<RunLock> RunLock::acquire(const std::string& run_dir) {
  const std::string path = lock_path(run_dir);
  LockOwner me;
  me.host = host_name();
  me.pid = getpid();
  me.since = utc_now();
  me.job = job_ids();
  // A few tries: the owner may remove the file between our open and our flock.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw InputError(fmt::format("{}: cannot create the run lock ({})", path, std::strerror(errno)));
    const int locked = flock(fd, LOCK_EX | LOCK_NB);
    const int flock_errno = errno;
    if (locked != 0 && flock_errno == EWOULDBLOCK) {
      const LockOwner owner = parse_owner(read_fd(fd));
      close(fd);
      refuse(path, owner);
    }
    // locked != 0 otherwise: a file system without flock (some Lustre mounts); the owner's
    // record then decides alone.
    if (locked == 0 && !same_file(fd, path)) {
      close(fd);
      continue;
    }
    const LockOwner owner = parse_owner(read_fd(fd));
    if (owner.pid != 0 || !owner.host.empty()) {
      const std::string why = stale_reason(owner, me, locked == 0, owner.host == me.host && alive(owner.pid));
      if (why.empty()) {
        close(fd);
        refuse(path, owner);
      }
      log::warn("sweep", "{}: taking over the stale lock of {}: {}", path, describe(owner), why);
    }
    try {
      write_owner(fd, path, me);
    } catch (...) {
      close(fd);
      throw;
    }
    return std::unique_ptr<RunLock>(new RunLock(path, fd));
  }
  throw Error(fmt::format("{}: the run lock kept changing while it was taken; try again", path));
}

RunLock::~RunLock() {
  // Remove before unlocking, so a waiting process never takes a file that is about to vanish
  // (it checks that its open file is still the one at the path).
  if (same_file(fd_, path_)) unlink(path_.c_str());
  close(fd_);
}

}  // namespace sct::sweep
