// Launcher detection: which launcher started this process (mpirun, srun, another PMI launcher,
// or none) and whether that agrees with the size MPI reports. A pure function of the
// environment, so every launcher situation can be unit-tested without starting one.
#pragma once

#include <map>
#include <string>

namespace sct::dist {

using LaunchEnv = std::map<std::string, std::string>;

struct LaunchCheck {
  std::string launcher;    // "mpirun", "srun", "pmi" or "singleton"
  int expected_size = -1;  // tasks the launcher says it started; -1 when it does not say
  std::string error;       // empty when consistent; else what is wrong and how to fix it
};

// Decides from the launcher variables (see launch_env_names) and the MPI world size.
//  - OMPI_COMM_WORLD_SIZE set: started by Open MPI's mpirun; it must equal the MPI size.
//  - PMI_RANK/PMI_SIZE/PMIX_RANK set: a PMI launcher (srun --mpi=pmix, MPICH's hydra); its size
//    (PMI_SIZE, else the SLURM step's task count) must equal the MPI size.
//  - Neither, but inside a SLURM job step (SLURM_STEP_ID is a real step number, not the batch
//    or extern step, and SLURM_PROCID is set): srun started us without PMI. If the step has
//    more than one task (SLURM_STEP_NUM_TASKS, else SLURM_NTASKS) while MPI says 1, every task
//    is an independent singleton: that is the error this check exists for.
//  - Otherwise: a singleton (MPI size 1) or an unrecognised launcher ("pmi").
// SLURM_NTASKS alone never triggers the error: it is also set throughout an sbatch allocation,
// where running the binary directly or through mpirun is legitimate. Malformed numbers are
// treated as absent.
LaunchCheck check_launch(const LaunchEnv& env, int mpi_size);

// The variables check_launch reads, and their current values in this process (absent ones
// omitted). Read before MPI_Init, which may add variables of its own.
const char* const* launch_env_names();
LaunchEnv read_launch_env();

}  // namespace sct::dist
