// RAII owner of an MPI communicator handle, for the dist sources that already include <mpi.h>
// (this header needs it and is deliberately not included by any public header).
#pragma once

#include <mpi.h>

namespace sct::dist::detail {

// Frees the handle unless it is a predefined one or MPI has already been finalised (a split
// kept past the World's lifetime): MPI_Comm_free after MPI_Finalize is an error.
class MpiCommHandle {
 public:
  explicit MpiCommHandle(MPI_Comm comm = MPI_COMM_NULL) : comm_(comm) {}
  ~MpiCommHandle() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm_ != MPI_COMM_NULL && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_SELF &&
        !finalized)
      MPI_Comm_free(&comm_);
  }
  MpiCommHandle(const MpiCommHandle&) = delete;
  MpiCommHandle& operator=(const MpiCommHandle&) = delete;

  MPI_Comm get() const { return comm_; }
  // For MPI calls that create a communicator: MPI_Comm_split(..., handle.out()).
  MPI_Comm* out() { return &comm_; }

 private:
  MPI_Comm comm_;
};

}  // namespace sct::dist::detail
