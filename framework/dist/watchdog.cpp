#include "framework/dist/watchdog.h"

#include <mpi.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "framework/core/log.h"
#include "framework/dist/check.h"

namespace sct::dist {
namespace {
constexpr int kBeatTag = 7201;
constexpr size_t kNameBytes = 160;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// "pid 123 on host": what each rank tells the others about itself, once.
std::vector<std::string> gather_names(MPI_Comm comm, int size) {
  char host[128] = {0};
  gethostname(host, sizeof host - 1);
  char mine[kNameBytes] = {0};
  std::snprintf(mine, sizeof mine, "pid %d on %s", static_cast<int>(getpid()), host);
  std::vector<char> all(kNameBytes * static_cast<size_t>(size));
  SCT_MPI_CHECK(MPI_Allgather(mine, static_cast<int>(kNameBytes), MPI_CHAR, all.data(),
                              static_cast<int>(kNameBytes), MPI_CHAR, comm));
  std::vector<std::string> names;
  for (int r = 0; r < size; ++r) names.emplace_back(all.data() + static_cast<size_t>(r) * kNameBytes);
  return names;
}

}  // namespace

struct StallWatchdog::Impl {
  WatchdogOptions options;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 1, next = 0, prev = 0;
  std::string prev_name;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  MPI_Request send = MPI_REQUEST_NULL;
  int64_t beat = 0, beat_out = 0;

  // One heartbeat to the next rank, unless the last one is still in flight (a stopped receiver
  // must not make sends pile up).
  void send_beat() {
    if (send != MPI_REQUEST_NULL) {
      int done = 0;
      MPI_Test(&send, &done, MPI_STATUS_IGNORE);
      if (!done) return;
    }
    beat_out = ++beat;
    MPI_Isend(&beat_out, 1, MPI_INT64_T, next, kBeatTag, comm, &send);
  }
  // Receives every heartbeat waiting from the previous rank; true if there was one.
  bool receive_beats() {
    bool heard = false;
    while (true) {
      int flag = 0;
      MPI_Iprobe(prev, kBeatTag, comm, &flag, MPI_STATUS_IGNORE);
      if (!flag) return heard;
      int64_t value = 0;
      MPI_Recv(&value, 1, MPI_INT64_T, prev, kBeatTag, comm, MPI_STATUS_IGNORE);
      heard = true;
    }
  }
  [[noreturn]] void abort_fault(const std::string& fault) {
    std::fprintf(stderr, "sct_dist: error: rank %d: %s; it ends the job\n", rank, fault.c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, options.abort_code);
    std::_Exit(options.abort_code);
  }
  [[noreturn]] void abort_stalled(double silent_s) {
    std::fprintf(stderr,
                 "sct_dist: error: rank %d (%s) sent no heartbeat for %.1f s, past the stall timeout "
                 "of %g s (%s): it is stopped, frozen or cut off; rank %d ends the job\n",
                 prev, prev_name.c_str(), silent_s, options.timeout_s, options.origin.c_str(), rank);
    std::fflush(stderr);
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, options.abort_code);
    std::_Exit(options.abort_code);
  }
  void loop() {
    const double period = heartbeat_period(options.timeout_s);
    const auto tick = std::chrono::duration<double>(period);
    Clock::time_point heard = Clock::now(), last_wake = Clock::now();
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      lock.unlock();
      send_beat();
      if (receive_beats()) heard = Clock::now();
      // This process itself was stopped (a whole job suspended and resumed) or starved: its
      // neighbour's silence over that gap proves nothing, so the clock starts again.
      if (seconds_since(last_wake) > std::max(3 * period, 1.0)) heard = Clock::now();
      last_wake = Clock::now();
      const double silent = seconds_since(heard);
      if (silent > options.timeout_s) abort_stalled(silent);
      if (const std::string fault = run_health_checks(); !fault.empty()) abort_fault(fault);
      lock.lock();
      wake.wait_for(lock, tick, [this] { return stopping; });
    }
  }
};

namespace {

struct HealthRegistry {
  std::mutex mutex;
  int next_id = 0;
  std::map<int, HealthCheck> checks;
};

HealthRegistry& health_registry() {
  static HealthRegistry registry;
  return registry;
}

}  // namespace

int add_health_check(HealthCheck check) {
  HealthRegistry& r = health_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.checks.emplace(r.next_id, std::move(check));
  return r.next_id++;
}

void remove_health_check(int id) {
  HealthRegistry& r = health_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.checks.erase(id);
}

std::string run_health_checks() {
  HealthRegistry& r = health_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& [id, check] : r.checks)
    if (std::string fault = check(); !fault.empty()) return fault;
  return "";
}

double StallWatchdog::heartbeat_period(double timeout_s) {
  return std::clamp(timeout_s / 10.0, 0.01, 2.0);
}

StallWatchdog::StallWatchdog(const WatchdogOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.options = options;
  SCT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &w.comm));
  SCT_MPI_CHECK(MPI_Comm_rank(w.comm, &w.rank));
  SCT_MPI_CHECK(MPI_Comm_size(w.comm, &w.size));
  const std::vector<std::string> names = gather_names(w.comm, w.size);
  if (w.size < 2 || options.timeout_s <= 0) return;
  int level = 0;
  MPI_Query_thread(&level);
  if (level < MPI_THREAD_MULTIPLE) {
    log::warn("dist", "no stall watchdog: MPI provides thread level {}, not MPI_THREAD_MULTIPLE", level);
    return;
  }
  w.next = (w.rank + 1) % w.size;
  w.prev = (w.rank + w.size - 1) % w.size;
  w.prev_name = names[static_cast<size_t>(w.prev)];
  w.thread = std::thread([&w] { w.loop(); });
  log::debug("dist", "stall watchdog: heartbeat every {:.2f} s to rank {}, timeout {} s for rank {}",
             heartbeat_period(options.timeout_s), w.next, options.timeout_s, w.prev);
}

StallWatchdog::~StallWatchdog() {
  Impl& w = *impl_;
  if (w.thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(w.mutex);
      w.stopping = true;
    }
    w.wake.notify_all();
    w.thread.join();
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // A heartbeat still in flight completes on its own (it is tiny); unreceived ones are dropped
  // with the communicator.
  if (w.send != MPI_REQUEST_NULL) MPI_Request_free(&w.send);
  if (w.comm != MPI_COMM_NULL) MPI_Comm_free(&w.comm);
}

bool StallWatchdog::active() const { return impl_->thread.joinable(); }

}  // namespace sct::dist
