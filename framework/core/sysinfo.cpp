#include "framework/core/sysinfo.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <thread>

#include "framework/core/blas_kernels.h"

#ifndef SCT_GIT_REV
#define SCT_GIT_REV "unknown"
#endif
#ifndef SCT_VERSION
#define SCT_VERSION "0.0.0"
#endif

namespace sct {

std::string blas_library() {
  // The library that resolves sgemm_ for the whole process is the one LibTorch calls.
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info dl{};
  if (!sym || !dladdr(sym, &dl) || !dl.dli_fname) return "";
  char resolved[PATH_MAX];
  return realpath(dl.dli_fname, resolved) ? resolved : dl.dli_fname;
}

BlasInfo blas_info() {
  BlasInfo info;
  info.library = blas_library();
  using ConfigFn = char* (*)();
  using ParallelFn = int (*)();
  auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  auto parallel = reinterpret_cast<ParallelFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  const bool openblas_provides = info.library.find("openblas") != std::string::npos;
  if (config && openblas_provides) {
    info.name = config();
    if (info.name.rfind("OpenBLAS", 0) != 0) info.name = "OpenBLAS " + info.name;
    if (parallel) {
      int p = parallel();
      info.name += p == 2 ? " (openmp)" : p == 1 ? " (pthreads)" : " (sequential)";
    }
    info.fast = true;
    info.kernels = blas_kernels();
  } else if (info.library.find("mkl") != std::string::npos) {
    info.name = "Intel MKL";
    info.fast = true;
  } else if (info.library.find("blis") != std::string::npos) {
    info.name = "BLIS";
    info.fast = true;
  } else if (info.library.empty()) {
    info.name = "none found";
  } else {
    info.name = "reference BLAS (slow; install libopenblas0-openmp)";
  }
  return info;
}

int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string git_revision() { return SCT_GIT_REV; }
std::string project_version() { return SCT_VERSION; }

}  // namespace sct
