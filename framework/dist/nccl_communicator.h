// The NCCL communicator: collectives on CUDA tensors over NCCL, host-memory collectives over an
// MPI-backed communicator it owns. Defined only when the build has NCCL (nccl_compiled()).
#pragma once

#include <memory>
#include <string>

#include "framework/dist/communicator.h"

namespace sct::dist {

// Collective over `host`: rank 0 of `host` creates the NCCL unique id and broadcasts it over
// `host`, then every rank joins the NCCL communicator on CUDA device `device`. The result owns
// `host` and routes host-memory and CPU-tensor collectives, barrier and split through it.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device);

// CUDA devices visible to this process; 0 when there are none, with the CUDA runtime's reason
// in *error (e.g. no driver). Never throws.
int cuda_device_count(std::string* error);

}  // namespace sct::dist
