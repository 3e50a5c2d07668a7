// Agreed failure: every rank runs a phase, then all ranks learn whether any rank failed. The
// lowest failing rank prints its one-line error and every rank exits with the same code, so a
// deterministic error (a bad recipe) reads the same at any world size and nobody hangs.
#pragma once

#include <functional>

#include "framework/core/error.h"

namespace sct::dist {
class Communicator;
}

namespace sct::app {

// Thrown on every rank after an agreed failure has been reported; main returns its code.
class ReportedError : public Error {
 public:
  explicit ReportedError(int code) : Error("(reported)", code) {}
};

// Collective over `comm`: runs `phase`; throws ReportedError on all ranks if it failed anywhere.
void run_agreed(dist::Communicator& comm, const std::function<void()>& phase);

// The one line printed for an error: "sct_dist: error: <message>".
void print_error(const std::string& message);

}  // namespace sct::app
