// The process world: MPI start-up and shutdown (RAII), launcher detection cross-checked with
// MPI, node-local rank counts, default threads, backend selection, and world abort.
#pragma once

#include <memory>
#include <string>

#include "framework/dist/communicator.h"

namespace sct::dist {

struct WorldInfo {
  int rank = 0;
  int size = 1;
  int local_rank = 0;        // rank among the processes on this node
  int local_size = 1;        // processes on this node
  std::string host;
  std::string launcher;      // "mpirun", "srun", "pmi", "singleton"
  std::string mpi_version;   // MPI library version string
};

class World {
 public:
  // Initialises MPI (thread level FUNNELED), detects the launcher and checks it against the
  // MPI size: a job whose launcher says N > 1 tasks but MPI reports a size of 1 (srun without
  // PMI support) throws InputError explaining that.
  World(int* argc, char*** argv);
  ~World();  // MPI_Finalize
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const WorldInfo& info() const { return info_; }
  int rank() const { return info_.rank; }
  int size() const { return info_.size; }
  // MPI_COMM_WORLD as an MPI-backed communicator.
  Communicator& comm() { return *comm_; }

  // Terminates every rank of the job with `code` (MPI_Abort). Never returns.
  [[noreturn]] void abort(int code);

 private:
  WorldInfo info_;
  std::unique_ptr<Communicator> comm_;
};

// Threads per rank when the user gave none: cores of the node / local ranks, at least 1.
int default_threads(int local_size);

// The communicator a training group uses: NCCL when requested device is cuda/auto, LibTorch has
// CUDA and a GPU is present, and NCCL was compiled in; MPI otherwise. `group` is an MPI-backed
// communicator of the group's ranks. `why` receives the reason for the choice, to be logged.
std::unique_ptr<Communicator> make_training_communicator(Communicator& group,
                                                         const std::string& device,
                                                         std::string* why);

// Library facts for --version: MPI library version, whether NCCL was compiled in.
std::string mpi_library_version();
bool nccl_compiled();

}  // namespace sct::dist
