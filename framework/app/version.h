// The text of `sct_dist --version`: versions of the project and of every library that
// decides speed or correctness (LibTorch, the active BLAS, MPI, NCCL).
#pragma once

#include <string>

namespace sct::app {
std::string version_text();
std::string torch_version();
}  // namespace sct::app
