#include "framework/dist/launch_detect.h"

#include <fmt/core.h>

#include <cstdlib>
#include <optional>

namespace sct::dist {
namespace {

const char* const kNames[] = {
    "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
    "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "SLURM_JOB_ID",
    "SLURM_STEP_ID", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_STEP_NUM_TASKS",
    nullptr};

bool has(const LaunchEnv& env, const char* name) { return env.count(name) != 0; }

// A non-negative decimal integer, or nothing (absent, empty, or text such as "2(x3)").
std::optional<long long> number(const LaunchEnv& env, const char* name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (*end != '\0' || v < 0) return std::nullopt;
  return v;
}

// SLURM gives the batch script, the extern step and interactive steps reserved step ids near
// 2^32 (0xfffffffa and up; some versions print names such as "batch"). Only a numbered step
// made by srun counts as being inside a step.
bool in_slurm_step(const LaunchEnv& env) {
  auto step = number(env, "SLURM_STEP_ID");
  return step && *step < 0xfffffff0LL && has(env, "SLURM_PROCID");
}

std::optional<long long> slurm_step_tasks(const LaunchEnv& env) {
  if (auto n = number(env, "SLURM_STEP_NUM_TASKS")) return n;
  return number(env, "SLURM_NTASKS");
}

std::string mismatch(const LaunchCheck& c, int mpi_size, const char* source) {
  return fmt::format(
      "the launcher ({}: {}={}) started {} tasks but MPI reports a world of {}: this binary's "
      "MPI library cannot talk to that launcher; start it with the mpirun of the MPI it was "
      "built with, or with `srun --mpi=pmix` where SLURM supports PMIx",
      c.launcher, source, c.expected_size, c.expected_size, mpi_size);
}

}  // namespace

LaunchCheck check_launch(const LaunchEnv& env, int mpi_size) {
  LaunchCheck c;
  const bool step = in_slurm_step(env);

  if (has(env, "OMPI_COMM_WORLD_SIZE")) {
    // Open MPI's mpirun; inside an allocation its daemons run as a SLURM step, so the SLURM
    // step variables describe the daemons, not our ranks: ignore them here.
    c.launcher = "mpirun";
    if (auto n = number(env, "OMPI_COMM_WORLD_SIZE")) c.expected_size = static_cast<int>(*n);
    if (c.expected_size >= 0 && c.expected_size != mpi_size)
      c.error = mismatch(c, mpi_size, "OMPI_COMM_WORLD_SIZE");
    return c;
  }

  if (has(env, "PMI_RANK") || has(env, "PMI_SIZE") || has(env, "PMIX_RANK")) {
    c.launcher = step ? "srun" : "pmi";
    const char* source = "PMI_SIZE";
    if (auto n = number(env, "PMI_SIZE")) {
      c.expected_size = static_cast<int>(*n);
    } else if (step) {
      if (auto t = slurm_step_tasks(env)) c.expected_size = static_cast<int>(*t);
      source = "SLURM_STEP_NUM_TASKS";
    }
    if (c.expected_size >= 0 && c.expected_size != mpi_size)
      c.error = mismatch(c, mpi_size, source);
    return c;
  }

  if (step) {
    c.launcher = "srun";
    if (auto t = slurm_step_tasks(env)) c.expected_size = static_cast<int>(*t);
    if (c.expected_size > 1 && mpi_size == 1) {
      c.error = fmt::format(
          "srun started {} tasks without PMI support, so every task started MPI alone and "
          "believes it is rank 0 of 1 (SLURM_STEP_NUM_TASKS={}, MPI world size 1); launch with "
          "`srun --mpi=pmix` (see `srun --mpi=list`), or run `mpirun -n {}` inside the "
          "allocation",
          c.expected_size, c.expected_size, c.expected_size);
    } else if (c.expected_size > 0 && c.expected_size != mpi_size) {
      c.error = mismatch(c, mpi_size, "SLURM_STEP_NUM_TASKS");
    }
    return c;
  }

  c.launcher = mpi_size == 1 ? "singleton" : "pmi";
  return c;
}

const char* const* launch_env_names() { return kNames; }

LaunchEnv read_launch_env() {
  LaunchEnv env;
  for (const char* const* n = kNames; *n; ++n)
    if (const char* v = std::getenv(*n)) env[*n] = v;
  return env;
}

}  // namespace sct::dist
