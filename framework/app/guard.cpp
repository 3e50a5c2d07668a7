#include "framework/app/guard.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstring>
#include <limits>

#include "framework/dist/communicator.h"

namespace sct::app {

void print_error(const std::string& message) {
  fmt::print(stderr, "sct_dist: error: {}\n", message);
  std::fflush(stderr);
}

void run_agreed(dist::Communicator& comm, const std::function<void()>& phase) {
  int code = 0;
  std::string message;
  try {
    phase();
  } catch (const Error& e) {
    code = e.exit_code(), message = e.what();
  } catch (const std::exception& e) {
    code = kExitFailure, message = e.what();
  }
  // One all-reduce carries both facts: the lowest failing rank, and its exit code.
  const int64_t none = std::numeric_limits<int64_t>::max();
  int64_t first = code ? comm.rank() : none;
  first = comm.all_reduce(-first, dist::ReduceOp::kMax);
  first = -first;
  if (first == none) return;
  int64_t agreed_code = comm.rank() == first ? code : 0;
  agreed_code = comm.all_reduce(agreed_code, dist::ReduceOp::kMax);
  if (comm.rank() == first) print_error(message);
  throw ReportedError(static_cast<int>(agreed_code));
}

}  // namespace sct::app
