// The sweep engine behind `sct_dist run`: plans the units, splits the world into groups of
// ranks_per_task, hands units out from a queue on rank 0 (largest first), skips finished units,
// runs the rest, and ends with the summary table. Resumable: re-running the same command
// continues where a crashed or preempted run stopped.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sct::dist {
class World;
}

namespace sct::sweep {

struct SweepOptions {
  std::string recipe_path;
  std::vector<std::string> sets;
  std::vector<std::string> tasks;  // --task filters
  std::string out;                 // run directory (default <recipe.out>/<recipe.name>)
  bool dry_run = false;
  bool force = false;              // rerun finished units whose recipe changed
  int threads = 1;                 // per rank, already applied
  int64_t stop_after_steps = -1;   // testing: stop as if preempted after this many training steps
                                   // of this process, counted across its units
  nlohmann::json versions;         // library versions for provenance
};

// Returns the process exit code: 0 all units finished, 1 some failed, 3 preempted.
// Bad input (recipe, world layout) throws InputError on every rank (agreed).
int run_sweep(dist::World& world, const SweepOptions& options);

}  // namespace sct::sweep
