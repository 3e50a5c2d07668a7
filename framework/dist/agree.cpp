#include "framework/dist/agree.h"

#include <limits>
#include <utility>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"

namespace sct::dist {

Agreement agree_on(Communicator& comm, const std::string& message, int exit_code) {
  const bool failed_here = !message.empty() || exit_code != 0;
  // max(-rank) over failing ranks = -(lowest failing rank); INT64_MIN + 1 marks "none".
  const int64_t none = std::numeric_limits<int64_t>::min() + 1;
  int64_t key = failed_here ? -static_cast<int64_t>(comm.rank()) : none;
  key = comm.all_reduce(key, ReduceOp::kMax);
  Agreement a;
  a.local = failed_here;
  if (key == none) return a;
  a.failed = true;
  a.failed_rank = static_cast<int>(-key);
  int64_t code = comm.rank() == a.failed_rank ? (exit_code ? exit_code : kExitFailure) : 0;
  a.exit_code = static_cast<int>(comm.all_reduce(code, ReduceOp::kMax));
  a.message = comm.rank() == a.failed_rank ? message : std::string();
  comm.broadcast(a.message, a.failed_rank);
  return a;
}

Agreement agree(Communicator& comm, const std::function<void()>& phase) {
  std::string message;
  int code = 0;
  try {
    phase();
  } catch (const Error& e) {
    message = e.what(), code = e.exit_code();
  } catch (const std::exception& e) {
    message = e.what(), code = kExitFailure;
  }
  if (!message.empty() && code == 0) code = kExitFailure;
  return agree_on(comm, message, code);
}

void agree_or_throw(Communicator& comm, const std::function<void()>& phase) {
  const Agreement a = agree(comm, phase);
  if (a.failed) throw AgreedError(a.message, a.exit_code, a.failed_rank);
}

namespace {
constexpr int64_t kGoOn = 0, kStop = 1, kFailed = 2;  // agreed by max: a failure beats a stop
}

StopPoll::StopPoll(Communicator& comm, std::function<bool()> stop_requested, int64_t my_rounds, std::string what)
    : comm_(comm), stop_requested_(std::move(stop_requested)), what_(std::move(what)) {
  rounds_ = comm_.all_reduce(my_rounds, ReduceOp::kMax);
}

int64_t StopPoll::agree_round(int64_t local) {
  ++taken_;
  const int64_t agreed = comm_.all_reduce(local, ReduceOp::kMax);
  if (agreed == kFailed) failed_ = true;
  if (agreed == kStop) throw AgreedStop("stopped by a signal during " + what_);
  return agreed;
}

void StopPoll::poll() {
  if (failed_ || taken_ >= rounds_) return;  // a caller looping past its rounds: nothing to agree
  const bool stop = stop_requested_ && stop_requested_();
  if (agree_round(stop ? kStop : kGoOn) == kFailed) throw PeerFailed{};
}

Agreement StopPoll::finish(const std::string& failure, int exit_code) {
  while (!failed_ && taken_ < rounds_) {
    const bool stop = failure.empty() && stop_requested_ && stop_requested_();
    agree_round(!failure.empty() ? kFailed : stop ? kStop : kGoOn);
  }
  return agree_on(comm_, failure, failure.empty() ? 0 : exit_code);
}

}  // namespace sct::dist
