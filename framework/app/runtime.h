// Per-process run-time set-up shared by commands: threads per rank (never oversubscribing the
// node by default), the start-up BLAS check, and where the launcher placed this process.
#pragma once

#include <cstdint>

namespace sct::app {

struct Env;

// Threads per rank: --threads, else the recipe's `threads` (if > 0), else cores / local ranks.
// Sets LibTorch's intra-op threads, warns when ranks x threads exceed the node's cores, and
// warns once if the active BLAS is the slow reference one. Returns the thread count. Needs the
// world (env.world non-null).
int configure_threads(Env& env, int64_t recipe_threads);

// This process's rank and the job's size as the launcher's variables state them (mpirun, srun,
// another PMI launcher), read without starting MPI; rank 0 of 1 for a process started alone.
struct LaunchPlace {
  int rank = 0;
  int size = 1;
};
LaunchPlace launch_place();

}  // namespace sct::app
