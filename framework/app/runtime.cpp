#include "framework/app/runtime.h"

#include <ATen/Parallel.h>

#include "framework/app/command.h"
#include "framework/core/log.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/world.h"

namespace sct::app {

int configure_threads(Env& env, int64_t recipe_threads) {
  const auto& info = env.world.info();
  int threads = env.threads > 0 ? env.threads
                : recipe_threads > 0 ? static_cast<int>(recipe_threads)
                                     : dist::default_threads(info.local_size);
  at::set_num_threads(threads);
  const int cores = usable_cores() * 1;
  if (threads * info.local_size > cores && info.local_rank == 0)
    log::warn("run", "{} ranks x {} threads on {} exceeds its {} cores; expect slowdowns",
              info.local_size, threads, info.host, cores);
  const BlasInfo blas = blas_info();
  if (!blas.fast && info.rank == 0)
    log::warn("run", "matrix products use {} [{}]: about 30x slower than OpenBLAS", blas.name,
              blas.library);
  return threads;
}

}  // namespace sct::app
