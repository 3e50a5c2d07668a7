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
  try {
    dist::agree_or_throw(comm, phase);
  } catch (const dist::AgreedError& e) {
    // Every rank is here with the same error; only the rank it happened on says it.
    if (comm.rank() == e.failed_rank()) print_error(e.what());
    throw ReportedError(e.exit_code());
  }
}

}  // namespace sct::app
