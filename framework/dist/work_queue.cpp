#include "framework/dist/work_queue.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "framework/dist/check.h"

namespace sct::dist {
namespace {
constexpr int kRequestTag = 7101;
constexpr int kReplyTag = 7102;
// How long the server sleeps when no request is waiting: the longest a request waits for it
// on an idle core. A blocking receive would spin a core inside MPI instead.
constexpr auto kServerNap = std::chrono::milliseconds(1);

// The server thread cannot throw to anyone: a failed MPI call ends the job, saying which.
void check_or_abort(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  std::fprintf(stderr, "sct_dist: error: work queue server on rank 0: %s failed: %s\n", call,
               detail::mpi_error_string(rc).c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
}
}  // namespace

struct WorkQueue::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  std::mutex mutex;  // guards items, told_done and stopping
  std::condition_variable changed;
  std::deque<int64_t> items;
  int remote_leaders = 0;  // leaders other than rank 0
  int told_done = 0;
  bool stopping = false;
  std::thread server;

  int64_t pop() {
    std::lock_guard<std::mutex> lock(mutex);
    if (items.empty()) return -1;
    int64_t v = items.front();
    items.pop_front();
    return v;
  }
  void answer(int source) {
    int64_t item = pop();
    check_or_abort(MPI_Send(&item, 1, MPI_INT64_T, source, kReplyTag, comm), "MPI_Send");
    if (item >= 0) return;
    std::lock_guard<std::mutex> lock(mutex);
    ++told_done;
    changed.notify_all();
  }
  // Answers requests until every remote leader has heard that the queue is empty (or stop).
  void serve() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        if (stopping || told_done >= remote_leaders) return;
      }
      int flag = 0;
      MPI_Status status;
      check_or_abort(MPI_Iprobe(MPI_ANY_SOURCE, kRequestTag, comm, &flag, &status), "MPI_Iprobe");
      if (!flag) {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait_for(lock, kServerNap, [this] { return stopping; });
        continue;
      }
      int64_t dummy = 0;
      check_or_abort(MPI_Recv(&dummy, 1, MPI_INT64_T, status.MPI_SOURCE, kRequestTag, comm, MPI_STATUS_IGNORE),
                     "MPI_Recv");
      answer(status.MPI_SOURCE);
    }
  }
};

WorkQueue::WorkQueue(std::vector<int64_t> order, std::vector<int> leaders) : impl_(std::make_unique<Impl>()) {
  Impl& q = *impl_;
  SCT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &q.comm));
  SCT_MPI_CHECK(MPI_Comm_rank(q.comm, &q.rank));
  if (q.rank != 0) return;
  q.items.assign(order.begin(), order.end());
  q.remote_leaders = static_cast<int>(std::count_if(leaders.begin(), leaders.end(), [](int r) { return r != 0; }));
  if (q.remote_leaders > 0) q.server = std::thread([&q] { q.serve(); });
}

WorkQueue::~WorkQueue() {
  Impl& q = *impl_;
  if (q.server.joinable()) {
    {
      std::lock_guard<std::mutex> lock(q.mutex);
      q.stopping = true;
    }
    q.changed.notify_all();
    q.server.join();
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && q.comm != MPI_COMM_NULL) MPI_Comm_free(&q.comm);
}

int64_t WorkQueue::next() {
  if (impl_->rank == 0) return impl_->pop();
  int64_t request = 1, item = -1;
  SCT_MPI_CHECK(MPI_Send(&request, 1, MPI_INT64_T, 0, kRequestTag, impl_->comm));
  SCT_MPI_CHECK(MPI_Recv(&item, 1, MPI_INT64_T, 0, kReplyTag, impl_->comm, MPI_STATUS_IGNORE));
  return item;
}

void WorkQueue::drain() {
  Impl& q = *impl_;
  if (q.rank != 0 || !q.server.joinable()) return;
  std::unique_lock<std::mutex> lock(q.mutex);
  q.changed.wait(lock, [&q] { return q.told_done >= q.remote_leaders; });
}

}  // namespace sct::dist
