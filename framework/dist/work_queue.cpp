#include "framework/dist/work_queue.h"

#include <mpi.h>

#include <algorithm>

#include "framework/dist/check.h"

namespace sct::dist {
namespace {
constexpr int kRequestTag = 7101;
constexpr int kReplyTag = 7102;
}  // namespace

struct WorkQueue::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  std::deque<int64_t> items;
  int remote_leaders = 0;  // leaders other than rank 0
  int told_done = 0;

  int64_t pop() {
    if (items.empty()) return -1;
    int64_t v = items.front();
    items.pop_front();
    return v;
  }
  void answer(int source) {
    int64_t item = pop();
    if (item < 0) ++told_done;
    SCT_MPI_CHECK(MPI_Send(&item, 1, MPI_INT64_T, source, kReplyTag, comm));
  }
  // Receives one waiting request; returns false if none is waiting (or blocks when asked).
  bool serve_one(bool block) {
    int flag = 0;
    MPI_Status status;
    if (block) {
      SCT_MPI_CHECK(MPI_Probe(MPI_ANY_SOURCE, kRequestTag, comm, &status));
      flag = 1;
    } else {
      SCT_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kRequestTag, comm, &flag, &status));
    }
    if (!flag) return false;
    int64_t dummy = 0;
    SCT_MPI_CHECK(MPI_Recv(&dummy, 1, MPI_INT64_T, status.MPI_SOURCE, kRequestTag, comm, MPI_STATUS_IGNORE));
    answer(status.MPI_SOURCE);
    return true;
  }
};

WorkQueue::WorkQueue(std::vector<int64_t> order, std::vector<int> leaders) : impl_(std::make_unique<Impl>()) {
  SCT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm));
  SCT_MPI_CHECK(MPI_Comm_rank(impl_->comm, &impl_->rank));
  if (impl_->rank == 0) {
    impl_->items.assign(order.begin(), order.end());
    impl_->remote_leaders = static_cast<int>(std::count_if(leaders.begin(), leaders.end(), [](int r) { return r != 0; }));
  }
}

WorkQueue::~WorkQueue() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

int64_t WorkQueue::next() {
  if (impl_->rank == 0) {
    serve_pending();  // others asked first: answer them before taking an item
    return impl_->pop();
  }
  int64_t request = 1, item = -1;
  SCT_MPI_CHECK(MPI_Send(&request, 1, MPI_INT64_T, 0, kRequestTag, impl_->comm));
  SCT_MPI_CHECK(MPI_Recv(&item, 1, MPI_INT64_T, 0, kReplyTag, impl_->comm, MPI_STATUS_IGNORE));
  return item;
}

void WorkQueue::serve_pending() {
  if (impl_->rank != 0) return;
  while (impl_->serve_one(false)) {
  }
}

void WorkQueue::drain() {
  if (impl_->rank != 0) return;
  while (impl_->told_done < impl_->remote_leaders) impl_->serve_one(true);
}

}  // namespace sct::dist
