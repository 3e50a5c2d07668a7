// provenance.json: one record per start of a run (a requeued or resumed job appends one), each
// with what produced its numbers: time, command line, SLURM ids, hosts, world layout, restart
// count, git revision (and dirty flag) and compiler of the build, resolved recipe and hashes,
// dataset and backbone checksums, library versions, CPU model, kernel sets, device, precision.
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
  std::vector<std::string> devices;    // per world rank: "cpu" or "cuda:N"
  std::vector<std::string> gpus;       // per world rank: the GPU's name, "" on a CPU
  int threads = 1;
};

// This start's record. `versions`: library name -> version text (LibTorch, MPI, BLAS, NCCL)
// from the app.
nlohmann::json make_provenance(const Recipe& top, const std::vector<Unit>& units, const WorldLayout& layout,
                               const nlohmann::json& versions);

// The file's content with `record` appended: {"schema": 2, "starts": [...]}, the record's
// "restart" set to the number of starts before it. `existing` is the file's text ("" when
// there is none); an older single-record file becomes the first start. Error when `existing`
// cannot be read as either (the caller keeps that file).
nlohmann::json append_provenance(const std::string& existing, nlohmann::json record);

// Appends `record` to the file at `path` atomically; an unreadable file is kept beside it as
// `path`.unreadable and a new list started (with a warning).
void append_provenance_file(const std::string& path, const nlohmann::json& record);

}  // namespace sct::sweep
