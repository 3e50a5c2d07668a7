#include "framework/app/version.h"

#include <fmt/core.h>

#include "framework/app/command.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/sysinfo.h"
#include "framework/core/torch_compat.h"
#include "framework/dist/world.h"

namespace sct::app {

std::string torch_version() { return torch_compat::torch_version(); }

namespace {

// "GPUs: 2 (0: NVIDIA H200, 1: NVIDIA H200)", "GPUs: 0 (LibTorch is CPU-only)".
std::string gpu_line() {
  if (!torch_compat::built_with_cuda()) return "GPUs: 0 (LibTorch is CPU-only)";
  const int n = torch_compat::cuda_device_count();
  std::string names;
  for (int i = 0; i < n; ++i) names += fmt::format("{}{}: {}", i ? ", " : "", i, torch_compat::cuda_device_name(i));
  return n ? fmt::format("GPUs: {} ({})", n, names) : std::string("GPUs: 0 (none visible)");
}

}  // namespace

std::string version_text() {
  const BlasInfo blas = blas_info();
  std::string out;
  out += fmt::format("sct_dist {} (git {})\n", project_version(), git_revision());
  out += fmt::format("LibTorch {} ({})\n", torch_compat::torch_version(),
                     torch_compat::built_with_cuda() ? "CUDA" : "CPU-only");
  out += gpu_line() + "\n";
  out += fmt::format("BLAS: {}{}\n", blas.name, blas.library.empty() ? "" : " [" + blas.library + "]");
  if (!blas.kernels.empty()) out += fmt::format("BLAS kernels: {}\n", blas.kernels);
  out += fmt::format("CPU: {}\n", cpu_features().describe());
  out += fmt::format("MPI: {}\n", dist::mpi_library_version());
  out += fmt::format("NCCL: {}\n", dist::nccl_compiled() ? "compiled in" : "not compiled in");
  return out;
}

int version_command(Env& env, const CommandLine& line) {
  (void)env, (void)line;
  fmt::print("{}", version_text());
  return kExitOk;
}

}  // namespace sct::app
