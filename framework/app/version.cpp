#include "framework/app/version.h"

#include <ATen/Context.h>
#include <fmt/core.h>
#include <torch/version.h>

#include "framework/app/command.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/sysinfo.h"
#include "framework/dist/world.h"

namespace sct::app {

std::string torch_version() { return TORCH_VERSION; }

std::string version_text() {
  const BlasInfo blas = blas_info();
  std::string out;
  out += fmt::format("sct_dist {} (git {})\n", project_version(), git_revision());
  out += fmt::format("LibTorch {} ({})\n", TORCH_VERSION,
                     at::hasCUDA() ? "CUDA" : "CPU-only");
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
