// The provenance record of a run: git revision, resolved recipe and its hash, per-unit hashes,
// dataset checksums, library versions, world layout and backend per group, host names.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "framework/sweep/plan.h"

namespace sct::sweep {

struct WorldLayout {
  int world_size = 1;
  int ranks_per_group = 1;
  std::vector<std::string> hosts;      // per world rank
  std::vector<std::string> backends;   // per group
  int threads = 1;
};

// `versions`: library name -> version text (LibTorch, MPI, BLAS, NCCL) from the app.
nlohmann::json make_provenance(const Recipe& top, const std::vector<Unit>& units, const WorldLayout& layout,
                               const nlohmann::json& versions);

}  // namespace sct::sweep
