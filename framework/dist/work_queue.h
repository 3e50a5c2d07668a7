// A work queue served by world rank 0: the leaders of rank groups ask it for the next item
// (point-to-point over a private duplicate of MPI_COMM_WORLD) and rank 0, which may train
// too, answers between its own steps. Items are indices into a list every rank knows.
//
// Contract: constructed collectively by every world rank; only leader ranks call next();
// rank 0 calls serve_pending() often while it works and drain() once it wants no more work.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace sct::dist {

class WorkQueue {
 public:
  // `order`: the items in hand-out order (used on rank 0 only). `leaders`: world ranks that
  // will call next(), rank 0 included if it leads a group.
  WorkQueue(std::vector<int64_t> order, std::vector<int> leaders);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Next item for this leader's group, or -1 when the queue is empty (then stop asking).
  int64_t next();
  // Rank 0: answers every request already waiting; never blocks. Others: no-op.
  void serve_pending();
  // Rank 0: answers requests until every other leader has been told the queue is empty.
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sct::dist
