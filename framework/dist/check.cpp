#include "framework/dist/check.h"

#include <mpi.h>

#include <fmt/core.h>

#include "framework/core/error.h"

namespace sct::dist::detail {

int process_rank() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return -1;
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

void throw_call_failure(const char* library, const char* call, const char* file, int line,
                        const std::string& reason) {
  const int rank = process_rank();
  throw Error(fmt::format("{} call failed on rank {}: {} at {}:{}: {}", library,
                          rank >= 0 ? std::to_string(rank) : std::string("?"), call, file, line,
                          reason));
}

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return fmt::format("MPI error {}", code);
  return fmt::format("{} (code {})", std::string(text, static_cast<size_t>(len)), code);
}

}  // namespace sct::dist::detail
