// Per-process run-time set-up shared by commands: threads per rank (never oversubscribing the
// node by default) and the start-up BLAS check.
#pragma once

#include <cstdint>

namespace sct::app {

struct Env;

// Threads per rank: --threads, else the recipe's `threads` (if > 0), else cores / local ranks.
// Sets LibTorch's intra-op threads, warns when ranks x threads exceed the node's cores, and
// warns once if the active BLAS is the slow reference one. Returns the thread count.
int configure_threads(Env& env, int64_t recipe_threads);

}  // namespace sct::app
