#include "framework/app/guard.h"

#include <fmt/core.h>

#include <cstdio>

#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"

namespace sct::app {

void print_error(const std::string& message) {
  fmt::print(stderr, "sct_dist: error: {}\n", message);
  std::fflush(stderr);
}

void run_agreed(dist::Communicator& comm, const std::function<void()>& phase) {
  const dist::Agreement a = dist::agree(comm, phase);
  if (!a.failed) return;
  if (comm.rank() == a.failed_rank) print_error(a.message);
  throw ReportedError(a.exit_code);
}

}  // namespace sct::app
