#include "framework/dist/agree.h"

#include <limits>

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

}  // namespace sct::dist
