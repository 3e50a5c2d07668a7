// The checkpoint of one training run (unit_dir/checkpoint.safetensors): resuming from it and
// saving to it, with the rules that keep the ranks of a data-parallel run consistent.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "framework/train/flat_params.h"
#include "framework/train/task_checkpoint.h"

namespace sct::dist {
class Communicator;
}

namespace sct::train {

class Checkpointer {
 public:
  // `flat` and `optimizer` are what resume() restores and save() stores; all references must
  // outlive the Checkpointer. `meta` is saved with every checkpoint and must match on resume.
  Checkpointer(dist::Communicator& comm, const std::string& unit_dir, std::string recipe_hash,
               nlohmann::json meta, FlatParams& flat, AdamW& optimizer);

  const std::string& path() const { return path_; }

  // Not collective: every rank reads the file itself. When no checkpoint exists, returns false
  // and changes nothing. Otherwise checks that it can continue this run (InputError naming the
  // file: another recipe, other trainable tensors, other extra state), restores the trainable
  // values, the AdamW moments and step count, and `state`, and returns true. The interrupted
  // epoch's partial sums are kept on rank 0 only (zero elsewhere), since save() sums them.
  bool resume(TrainState& state);

  // Collective: every rank calls it with its own `state` (same position, its own partial sums).
  // The partial sums are summed over the ranks, then rank 0 alone writes the file atomically.
  // A failed write is agreed: every rank throws the same Error, nobody is left waiting.
  void save(const TrainState& state);

 private:
  void write(const TrainState& state, const std::vector<double>& sums) const;

  dist::Communicator& comm_;
  std::string unit_dir_;
  std::string path_;
  std::string recipe_hash_;
  nlohmann::json meta_;
  FlatParams& flat_;
  AdamW& optimizer_;
};

}  // namespace sct::train
