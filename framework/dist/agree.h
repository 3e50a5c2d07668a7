// Agreed failure over a communicator: every rank runs a phase, then all learn whether any
// rank failed, with the lowest failing rank's message and exit code. Nobody is left waiting
// in a collective, and a deterministic error reads the same at every world size.
#pragma once

#include <functional>
#include <string>

#include "framework/core/error.h"

namespace sct::dist {

class Communicator;

struct Agreement {
  bool failed = false;
  int failed_rank = -1;  // lowest failing rank
  int exit_code = 0;     // that rank's exit code
  std::string message;   // that rank's message (known on every rank)
  bool local = false;    // whether this rank failed too
};

// Collective: runs `phase` (exceptions caught) and agrees on the outcome.
Agreement agree(Communicator& comm, const std::function<void()>& phase);

// Collective: agrees on an outcome already known locally (`message` empty = this rank is fine).
Agreement agree_on(Communicator& comm, const std::string& message, int exit_code);

// What agree_or_throw throws on every rank: the lowest failing rank's message and exit code, and
// that rank's number, so that exactly one rank need print it.
class AgreedError : public Error {
 public:
  AgreedError(const std::string& message, int exit_code, int failed_rank)
      : Error(message, exit_code), failed_rank_(failed_rank) {}
  int failed_rank() const { return failed_rank_; }

 private:
  int failed_rank_;
};

// Collective: agree(), then on every rank throw AgreedError (an Error with the message and exit
// code of the lowest failing rank) when any failed, so all ranks leave the phase the same way
// (bad input: exit 2 everywhere).
void agree_or_throw(Communicator& comm, const std::function<void()>& phase);

}  // namespace sct::dist
