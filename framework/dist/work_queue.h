// A work queue served by world rank 0: the leaders of rank groups ask it for the next item
// (point-to-point over a private duplicate of MPI_COMM_WORLD). A server thread on rank 0
// answers them whatever rank 0 itself is doing (loading a backbone, a saliency pass, an
// evaluation), so no group waits on another's work. Items are indices into a list every rank
// knows.
//
// Contract: constructed collectively by every world rank (MPI_THREAD_MULTIPLE); only leader
// ranks call next(); rank 0 calls drain() once it wants no more work.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace sct::dist {

class WorkQueue {
 public:
  // `order`: the items in hand-out order (used on rank 0 only). `leaders`: world ranks that
  // will call next(), rank 0 included if it leads a group.
  WorkQueue(std::vector<int64_t> order, std::vector<int> leaders);
  // Rank 0: stops the server (after drain(), or at once when leaving on an error).
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Next item for this leader's group, or -1 when the queue is empty (then stop asking).
  int64_t next();
  // Rank 0: returns once every other leader has been told the queue is empty. Others: no-op.
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sct::dist
