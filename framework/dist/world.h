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
  std::string launcher;      // "mpirun", "srun", "pmi", "singleton" (see launch_detect.h)
  std::string mpi_version;   // MPI library version string (first line)
};

class World {
 public:
  // Initialises MPI (thread level MULTIPLE), detects the launcher and checks it against the
  // MPI size: a job whose launcher says N > 1 tasks but MPI reports a size of 1 (srun without
  // PMI support) throws InputError explaining that. Collective over MPI_COMM_WORLD. One World
  // per process; if the constructor throws, MPI has been finalised again.
  World(int* argc, char*** argv);
  ~World();  // frees comm(), then MPI_Finalize (collective)
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const WorldInfo& info() const { return info_; }
  int rank() const { return info_.rank; }
  int size() const { return info_.size; }
  // MPI_COMM_WORLD (a duplicate of it) as an MPI-backed communicator.
  Communicator& comm() { return *comm_; }

  // Terminates every rank of the job with `code` (MPI_Abort). Never returns.
  [[noreturn]] void abort(int code);

 private:
  WorldInfo info_;
  std::unique_ptr<Communicator> comm_;
};

// Threads per rank when the user gave none: the cores this process may run on (its CPU
// affinity, else std::thread::hardware_concurrency) / local ranks, at least 1.
int default_threads(int local_size);

// Where a group's tensors live and how its gradients are reduced, chosen once per group.
struct Placement {
  int gpu = -1;              // this rank's CUDA device index; -1: the CPU
  std::string gpu_name;      // "NVIDIA H200"; empty on the CPU
  std::string device() const { return gpu < 0 ? "cpu" : "cuda:" + std::to_string(gpu); }
};

// The communicator a training group uses, and (in *placement) the device of this rank.
// `device` is "cpu", "auto", "cuda" or "cuda:N" (else an InputError).
//  - The GPU: N for "cuda:N", else local_rank % GPUs when local_rank >= 0 (pass
//    WorldInfo::local_rank, from SLURM_LOCALID or the launcher, so the groups of a node use
//    different GPUs), else the rank's index among the group's ranks on its host. The visible
//    GPUs are those CUDA_VISIBLE_DEVICES leaves. The GPU becomes LibTorch's current device.
//  - GPUs are used when LibTorch has CUDA and every rank of the group sees one; "auto" falls
//    back to the CPU (with the reason in *why), "cuda" / "cuda:N" is an InputError naming what
//    is missing, on every rank of the group.
//  - NCCL reduces when the group is on GPUs, NCCL was compiled in and no two ranks of the
//    group share a GPU; otherwise MPI (with device tensors staged through host memory).
// Collective over `group` (an MPI-backed communicator of the group's ranks): the ranks agree
// on every choice. The result is a new communicator over the same ranks. `why` (may be null)
// receives one line for the log, e.g. "backend=mpi, device=cpu (LibTorch is CPU-only)".
// Pass local_rank >= 0 on every rank of the group or on none.
std::unique_ptr<Communicator> make_training_communicator(Communicator& group,
                                                         const std::string& device,
                                                         std::string* why, int local_rank = -1,
                                                         Placement* placement = nullptr);

// Library facts for --version: MPI library version, whether NCCL was compiled in.
std::string mpi_library_version();
bool nccl_compiled();

}  // namespace sct::dist
