// The MPI communicator: collectives over host memory (and CPU tensors) on MPI_COMM_WORLD and
// its splits. Buffers larger than one MPI call can take (INT_MAX elements) go in chunks.
#pragma once

#include <climits>
#include <cstddef>
#include <memory>

#include "framework/dist/communicator.h"

namespace sct::dist {

struct MpiOptions {
  // Most elements (bytes for broadcast and all_gather) handed to one MPI call; larger buffers
  // are sent in consecutive chunks of this size. In [1, INT_MAX]; tests set it small.
  size_t max_chunk = INT_MAX;
};

// A communicator over a duplicate of MPI_COMM_WORLD, so its traffic never mixes with other
// users of the world communicator. MPI must be running (World starts it); collective over the
// world. Splits inherit `options`. The communicator may outlive MPI: once MPI is finalised its
// handle is simply not freed.
std::unique_ptr<Communicator> make_mpi_world_communicator(const MpiOptions& options = {});

}  // namespace sct::dist
