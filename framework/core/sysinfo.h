// Facts about the running process for --version, start-up checks and provenance:
// which BLAS library provides sgemm_, the number of usable cores, the host name, the CPU model,
// the build's git revision and compiler.
#pragma once

#include <string>
#include <vector>

namespace sct {

struct BlasInfo {
  std::string library;  // resolved path of the library that provides sgemm_
  std::string name;     // "OpenBLAS 0.3.21 ... (openmp)", "reference BLAS", ...
  bool fast = false;    // false for the reference BLAS (30x slower ViT forward)
  std::string kernels;  // OpenBLAS's kernel set and where it came from (blas_kernels.h), or ""
};

BlasInfo blas_info();
std::string blas_library();  // resolved path of the library that provides sgemm_, or ""
int usable_cores();  // CPUs in this process's affinity mask
std::string host_name();
std::string git_revision();       // of the source tree at build time
int git_dirty();                  // 1: tracked files differed from that revision, 0: not, -1: unknown
std::string compiler_version();   // "g++ 12.2.0"
std::string cpu_model();          // /proc/cpuinfo's model name, "unknown" elsewhere
std::vector<std::string> process_argv();  // this process's command line (/proc/self/cmdline)
std::string project_version();

}  // namespace sct
