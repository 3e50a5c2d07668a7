// StopPoll over MPI: ranks with different numbers of iterations take the same number of rounds,
// a stop wanted on one rank ends the loop on all at the same round, and a failure on one rank
// stops the others' work and is agreed with that rank's message. Then the work queue: every
// item is handed out exactly once across the leaders, served while rank 0 is busy.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "framework/dist/agree.h"
#include "framework/dist/work_queue.h"
#include "framework/dist/world.h"
#include "tests/dist/mpi_test_env.h"

namespace sct::dist {
namespace {

using test::world;

// Runs a loop of `mine` iterations under a StopPoll; `stop_at` / `fail_at` (this rank's
// iteration index, -1 none) ask for a stop or throw. Returns {iterations done, outcome}.
struct LoopResult {
  int done = 0;
  std::string outcome;  // "finished", "stopped", "failed: <message> on <rank>"
};
LoopResult run_loop(int mine, int stop_at, int fail_at) {
  Communicator& comm = world().comm();
  LoopResult result;
  int iteration = 0;
  StopPoll poll(comm, [&] { return iteration == stop_at; }, mine, "the test loop");
  std::string failure;
  try {
    for (; iteration < mine; ++iteration) {
      poll.poll();
      if (iteration == fail_at) throw std::runtime_error("broken at " + std::to_string(iteration));
      ++result.done;
    }
  } catch (const StopPoll::PeerFailed&) {
  } catch (const AgreedStop& e) {
    result.outcome = "stopped";
    return result;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  try {
    const Agreement a = poll.finish(failure);
    result.outcome = a.failed ? "failed: " + a.message + " on " + std::to_string(a.failed_rank) : "finished";
  } catch (const AgreedStop&) {
    result.outcome = "stopped";
  }
  return result;
}

TEST(StopPoll, UnevenLoopsFinishTogether) {
  const int r = world().rank();
  const LoopResult res = run_loop(3 + r, -1, -1);
  EXPECT_EQ(res.outcome, "finished");
  EXPECT_EQ(res.done, 3 + r);
}

TEST(StopPoll, AStopOnTheLastRankStopsEveryRankAtTheSameRound) {
  const int r = world().rank(), last = world().size() - 1;
  const LoopResult res = run_loop(6 - r, r == last ? 2 : -1, -1);
  EXPECT_EQ(res.outcome, "stopped");
  EXPECT_EQ(res.done, 2);  // rounds 0 and 1 ran everywhere; round 2 agreed to stop
}

TEST(StopPoll, AStopAfterAShortRankEndedItsLoopIsStillAgreed) {
  if (world().size() < 2) GTEST_SKIP() << "needs a short rank and another";
  const int r = world().rank(), last = world().size() - 1;
  // Rank 0 has one iteration; the last rank wants to stop at its fourth.
  const LoopResult res = run_loop(r == 0 ? 1 : 5, r == last ? 3 : -1, -1);
  EXPECT_EQ(res.outcome, "stopped");
  EXPECT_EQ(res.done, r == 0 ? 1 : 3);
}

TEST(StopPoll, AFailureOnOneRankIsAgreedWithItsMessage) {
  const int r = world().rank(), last = world().size() - 1;
  const LoopResult res = run_loop(8, -1, r == last ? 1 : -1);
  EXPECT_EQ(res.outcome, "failed: broken at 1 on " + std::to_string(last));
  EXPECT_EQ(res.done, r == last ? 1 : 2);  // the others ran round 1 and stopped at round 2
}

TEST(WorkQueue, EveryItemOnceWhileRankZeroIsBusy) {
  if (world().size() < 2) GTEST_SKIP() << "needs a rank besides the busy rank 0";
  Communicator& comm = world().comm();
  std::vector<int> leaders;
  for (int i = 0; i < comm.size(); ++i) leaders.push_back(i);
  std::vector<int64_t> order;
  for (int64_t i = 0; i < 20; ++i) order.push_back(i);
  std::vector<int64_t> mine;
  {
    WorkQueue queue(order, leaders);
    if (comm.rank() == 0) {
      // Busy without any MPI call, as rank 0 is in a long computation: the others are served.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      queue.drain();  // the others took everything meanwhile
      EXPECT_EQ(queue.next(), -1);
    } else {
      for (int64_t item; (item = queue.next()) >= 0;) mine.push_back(item);
    }
    comm.barrier();
  }
  std::vector<int64_t> counts(order.size(), 0);
  for (int64_t item : mine) counts[static_cast<size_t>(item)] += 1;
  comm.all_reduce(counts, ReduceOp::kSum);
  for (size_t i = 0; i < counts.size(); ++i) EXPECT_EQ(counts[i], 1) << "item " << i;
}

}  // namespace
}  // namespace sct::dist
