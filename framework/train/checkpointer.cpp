#include "framework/train/checkpointer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/agree.h"
#include "framework/dist/communicator.h"

namespace sct::train {

Checkpointer::Checkpointer(dist::Communicator& comm, const std::string& unit_dir, std::string recipe_hash,
                           nlohmann::json meta, FlatParams& flat, AdamW& optimizer)
    : comm_(comm),
      unit_dir_(unit_dir),
      path_(checkpoint_path(unit_dir)),
      recipe_hash_(std::move(recipe_hash)),
      meta_(std::move(meta)),
      flat_(flat),
      optimizer_(optimizer) {}

bool Checkpointer::resume(TrainState& state) {
  if (!std::filesystem::exists(path_)) return false;
  TaskCheckpoint checkpoint = load_task_checkpoint(path_);
  check_compatible(path_, checkpoint, recipe_hash_, flat_.entries());
  if (checkpoint.meta != meta_)
    throw InputError(fmt::format("{}: its saved state ({}) differs from this run's ({})", path_,
                                 checkpoint.meta.dump().substr(0, 200), meta_.dump().substr(0, 200)));
  // A checksum proves the bytes are the ones written, not that training was sane when it wrote
  // them (a file of an older version may hold a diverged state).
  for (const auto& [name, t] : {std::pair<const char*, const at::Tensor&>{"values", checkpoint.values},
                                {"adamw.exp_avg", checkpoint.exp_avg},
                                {"adamw.exp_avg_sq", checkpoint.exp_avg_sq}})
    if (!t.isfinite().all().item<bool>())
      throw InputError(fmt::format("{}: tensor '{}' holds non-finite values (NaN or infinity); delete the file to "
                                   "restart the unit, or pass --force",
                                   path_, name));
  at::NoGradGuard no_grad;
  flat_.values().copy_(checkpoint.values);
  optimizer_.exp_avg().copy_(checkpoint.exp_avg);
  optimizer_.exp_avg_sq().copy_(checkpoint.exp_avg_sq);
  optimizer_.set_steps(checkpoint.state.adam_steps);
  state = checkpoint.state;
  // The file holds the sums over all ranks; save() adds every rank's share, so exactly one
  // rank may carry them on.
  if (comm_.rank() != 0) state.loss_sum = state.correct = state.count = 0;
  log::info("train", "resuming {} at epoch {} step {} (checkpoint written by {} rank{})", unit_dir_, state.epoch,
            state.step, checkpoint.world_size, checkpoint.world_size == 1 ? "" : "s");
  return true;
}

void Checkpointer::save(const TrainState& state) {
  // Partial sums are per rank; the checkpoint stores their total.
  std::vector<double> sums{state.loss_sum, state.correct, state.count};
  comm_.all_reduce(sums, dist::ReduceOp::kSum);
  // Only rank 0 writes; the agreement makes a failed write everyone's error, not a hang.
  dist::agree_or_throw(comm_, [&] {
    // A diverged state must not replace the last good checkpoint.
    if (!flat_.values().isfinite().all().item<bool>())
      throw Error(fmt::format("trainable values are not finite at epoch {} step {}; {} keeps the last good state",
                              state.epoch, state.step, path_));
    if (comm_.rank() == 0) write(state, sums);
  });
}

void Checkpointer::write(const TrainState& state, const std::vector<double>& sums) const {
  TaskCheckpoint checkpoint;
  checkpoint.recipe_hash = recipe_hash_;
  checkpoint.world_size = comm_.size();
  checkpoint.entries = flat_.entries();
  checkpoint.meta = meta_;
  checkpoint.state = state;
  checkpoint.state.adam_steps = optimizer_.steps();
  checkpoint.state.loss_sum = sums[0], checkpoint.state.correct = sums[1], checkpoint.state.count = sums[2];
  checkpoint.values = flat_.values();
  checkpoint.exp_avg = optimizer_.exp_avg();
  checkpoint.exp_avg_sq = optimizer_.exp_avg_sq();
  save_task_checkpoint(path_, checkpoint);
}

}  // namespace sct::train
