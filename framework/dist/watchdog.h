// Stall watchdog: a thread per rank sends a heartbeat to the next rank of a ring and ends the
// job, naming the rank, when the previous rank has been silent past a timeout (a process that is
// stopped, frozen or cut off: SIGSTOP, a hung node). Heartbeats do not depend on the main
// thread's work, so long computations between collectives never trip it.
#pragma once

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

}  // namespace sct::dist
