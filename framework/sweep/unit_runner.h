// Runs one unit of a sweep on the ranks of one group: data, backbone, channels (sct: saliency
// or the resumed selection), the trainable registry, training (or resume), and the atomic
// result.json (or error.json).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "framework/dist/world.h"  // Placement
#include "framework/sweep/plan.h"

namespace sct::peft {
class CheckpointCache;
}

namespace sct::sweep {

struct UnitHooks {
  std::function<bool()> stop_requested;  // polled at every training step (preemption, queue service)
  int64_t stop_after_steps = -1;         // testing: stop as if preempted after this many steps
                                         // (what is left of the process's --stop-after-steps)
  std::string backend;                   // "mpi" / "nccl", for the result file
  dist::Placement placement;             // the group's device (make_training_communicator)
  int group = 0;
  bool force = false;  // discard a checkpoint written by another recipe instead of refusing it
  peft::CheckpointCache* checkpoints = nullptr;  // the process's pre-trained backbone, read once
};

enum class UnitStatus { kFinished, kFailed, kPreempted };

struct UnitOutcome {
  UnitStatus status = UnitStatus::kFinished;
  std::string error;  // one line, kFailed only
  int exit_code = 0;  // kFailed only: 2 for bad input (data, checkpoint), 1 otherwise
  double best = -1, last = -1;
  int64_t steps_run = 0;  // training steps this process ran for the unit (0 when it failed)
};

// Collective over `comm` (the group). Never throws for failures of the unit itself: they are
// agreed across the group, written to error.json and returned, so the sweep can go on.
UnitOutcome run_unit(const Unit& unit, dist::Communicator& comm, const std::string& unit_dir,
                     const UnitHooks& hooks);

std::string result_path(const std::string& unit_dir);
std::string error_path(const std::string& unit_dir);

}  // namespace sct::sweep
