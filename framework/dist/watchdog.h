// Stall watchdog: a thread per rank sends a heartbeat to the next rank of a ring and ends the
// job, naming the rank, when the previous rank has been silent past a timeout (a process that is
// stopped, frozen or cut off: SIGSTOP, a hung node). Heartbeats do not depend on the main
// thread's work, so long computations between collectives never trip it.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace sct::dist {

struct WatchdogOptions {
  double timeout_s = 0;      // <= 0: no thread (the object is still collective to make)
  std::string origin;        // where the timeout came from, for the message ("r.toml: key ...")
  int abort_code = 1;        // the job's exit code when a stall is found
};

class StallWatchdog {
 public:
  // Collective over MPI_COMM_WORLD (a private duplicate of it). Needs MPI_THREAD_MULTIPLE
  // (World asks for it). With one rank, or timeout_s <= 0, it starts no thread.
  explicit StallWatchdog(const WatchdogOptions& options);
  // Collective too (frees the communicator). Stops the thread first.
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  bool active() const;
  // Seconds between heartbeats for a timeout: a tenth of it, between 10 ms and 2 s.
  static double heartbeat_period(double timeout_s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Faults the main thread cannot see because it waits on them: an NCCL communicator's
// asynchronous error, say. The watchdog thread runs every registered check at each heartbeat;
// a non-empty answer (naming what failed) ends the job with the watchdog's exit code, like a
// stall. Checks must be safe to call from another thread. Thread-safe; ids are never reused.
using HealthCheck = std::function<std::string()>;
int add_health_check(HealthCheck check);
void remove_health_check(int id);
// The first failing check's answer, or "" (what the watchdog thread calls).
std::string run_health_checks();

}  // namespace sct::dist
