#include "framework/app/runtime.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

#include "framework/app/command.h"
#include "framework/core/log.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/launch_detect.h"
#include "framework/dist/world.h"

namespace sct::app {
namespace {

// The first of `names` that the launcher set to a non-negative number.
int first_number(const dist::LaunchEnv& env, std::initializer_list<const char*> names, int fallback) {
  for (const char* name : names) {
    const auto it = env.find(name);
    if (it == env.end()) continue;
    char* end = nullptr;
    const long value = std::strtol(it->second.c_str(), &end, 10);
    if (!it->second.empty() && !*end && value >= 0) return static_cast<int>(value);
  }
  return fallback;
}

}  // namespace

LaunchPlace launch_place() {
  const dist::LaunchEnv env = dist::read_launch_env();
  LaunchPlace place;
  place.rank = first_number(env, {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}, 0);
  place.size = std::max(1, first_number(env, {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}, 1));
  return place;
}

int configure_threads(Env& env, int64_t recipe_threads) {
  const auto& info = env.world->info();
  int threads = env.global.threads > 0 ? env.global.threads
                : recipe_threads > 0 ? static_cast<int>(recipe_threads)
                                     : dist::default_threads(info.local_size);
  at::set_num_threads(threads);
  // Two limits: the node's CPUs shared by its ranks, and this rank's own affinity mask (a
  // launcher that binds each rank to one core gives each a mask of one CPU).
  const int node_cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const int own_cores = usable_cores();
  if (info.local_rank == 0 && node_cores > 0 && threads * info.local_size > node_cores)
    log::warn("run", "{} ranks x {} threads on {} exceeds its {} cores; expect slowdowns",
              info.local_size, threads, info.host, node_cores);
  if (threads > own_cores)
    log::warn("run", "{} threads on rank {}, but the launcher bound it to {} core{}; expect slowdowns", threads,
              info.rank, own_cores, own_cores == 1 ? "" : "s");
  const BlasInfo blas = blas_info();
  const std::string note = blas_kernels_note();
  if (!note.empty() && info.rank == 0) log::info("blas", "{}", note);
  if (!blas.fast && info.rank == 0)
    log::warn("run", "matrix products use {} [{}]: about 30x slower than OpenBLAS", blas.name,
              blas.library);
  return threads;
}

}  // namespace sct::app
