// Check macros for MPI, NCCL and CUDA calls: a failure throws sct::Error naming the call,
// file:line, the process rank and the library's own error text. Used by the dist sources only;
// each includes the library header its macro needs (mpi.h, nccl.h, cuda_runtime_api.h).
#pragma once

#include <string>

namespace sct::dist::detail {

// Rank in MPI_COMM_WORLD when MPI is running, else -1 (shown as "?").
int process_rank();

[[noreturn]] void throw_call_failure(const char* library, const char* call, const char* file,
                                     int line, const std::string& reason);

// The text MPI gives for an error code.
std::string mpi_error_string(int code);

}  // namespace sct::dist::detail

#define SCT_MPI_CHECK(call)                                                                 \
  do {                                                                                      \
    int sct_mpi_rc_ = (call);                                                               \
    if (sct_mpi_rc_ != MPI_SUCCESS)                                                         \
      ::sct::dist::detail::throw_call_failure("MPI", #call, __FILE__, __LINE__,             \
                                              ::sct::dist::detail::mpi_error_string(sct_mpi_rc_)); \
  } while (0)
