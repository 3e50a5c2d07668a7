// Agreed failure over a communicator: every rank runs a phase, then all learn whether any
// rank failed, with the lowest failing rank's message and exit code. Nobody is left waiting
// in a collective, and a deterministic error reads the same at every world size.
#pragma once

#include <cstdint>
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

// What StopPoll throws on every rank once the ranks agreed to stop (a preemption signal):
// exit code 3, so the agreement wrappers around it pass it on as a stop, not as a failure.
class AgreedStop : public Error {
 public:
  explicit AgreedStop(const std::string& what) : Error(what, kExitPreempted) {}
};

// Agreed stops inside a long loop (an evaluation, the saliency pass) whose ranks run up to
// `rounds` iterations each, some ranks fewer. Every rank calls poll() before each of its
// iterations and finish() once after its loop (or after its own failure, caught by the caller):
// each is a collective all-reduce of {go on, stop wanted, failed}, and finish() takes the
// rounds a rank did not use, so every rank runs the same number of them. A stop is seen within
// one iteration of the slowest rank.
class StopPoll {
 public:
  // Collective (agrees on the number of rounds: the largest `my_rounds`). `stop_requested` may
  // be empty (never stops); `what` names the loop in the AgreedStop message.
  StopPoll(Communicator& comm, std::function<bool()> stop_requested, int64_t my_rounds, std::string what);
  // Collective. Throws AgreedStop when the ranks agree to stop, PeerFailed when another rank
  // failed (then the caller skips its remaining work and calls finish("")).
  void poll();
  // Collective: the rounds not yet taken, then the agreement on `failure` ("" = fine here) and
  // its exit code. Throws AgreedStop as poll() does; returns the agreement.
  Agreement finish(const std::string& failure, int exit_code = kExitFailure);

  struct PeerFailed {};

 private:
  int64_t agree_round(int64_t local);
  Communicator& comm_;
  std::function<bool()> stop_requested_;
  int64_t rounds_ = 0, taken_ = 0;
  bool failed_ = false;  // a round agreed that some rank failed: no more rounds
  std::string what_;
};

}  // namespace sct::dist
