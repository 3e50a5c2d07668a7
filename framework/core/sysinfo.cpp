#include "framework/core/sysinfo.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <cstdlib>
#include <thread>

#include "framework/core/blas_kernels.h"

#include "sct_git_info.h"  // SCT_GIT_REV, SCT_GIT_DIRTY (generated at build time)
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
int git_dirty() { return SCT_GIT_DIRTY; }

std::string compiler_version() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

std::vector<std::string> process_argv() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0')) argv.push_back(arg);
  return argv;
}
std::string project_version() { return SCT_VERSION; }

}  // namespace sct
