// Launcher detection as a pure function of the environment: every way a job is started on a
// workstation or a SLURM cluster, and which of them are mistakes.
#include <gtest/gtest.h>

#include "framework/dist/launch_detect.h"

namespace sct::dist {
namespace {

bool mentions(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

TEST(LaunchDetect, PlainSingleton) {
  LaunchCheck c = check_launch({}, 1);
  EXPECT_EQ(c.launcher, "singleton");
  EXPECT_TRUE(c.error.empty());
}

TEST(LaunchDetect, OpenMpiMpirun) {
  LaunchEnv env = {{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "2"},
                   {"PMIX_RANK", "2"}};
  LaunchCheck c = check_launch(env, 4);
  EXPECT_EQ(c.launcher, "mpirun");
  EXPECT_EQ(c.expected_size, 4);
  EXPECT_TRUE(c.error.empty()) << c.error;
  // An mpirun whose processes cannot join it (another MPI's mpirun) is caught too.
  c = check_launch(env, 1);
  EXPECT_TRUE(mentions(c.error, "started 4 tasks but MPI reports a world of 1")) << c.error;
}

TEST(LaunchDetect, SrunWithoutPmiIsAnError) {
  LaunchEnv env = {{"SLURM_JOB_ID", "77"},   {"SLURM_STEP_ID", "0"},
                   {"SLURM_PROCID", "3"},    {"SLURM_LOCALID", "1"},
                   {"SLURM_NTASKS", "4"},    {"SLURM_STEP_NUM_TASKS", "4"}};
  LaunchCheck c = check_launch(env, 1);
  EXPECT_EQ(c.launcher, "srun");
  EXPECT_EQ(c.expected_size, 4);
  EXPECT_TRUE(mentions(c.error, "without PMI support")) << c.error;
  EXPECT_TRUE(mentions(c.error, "srun --mpi=pmix")) << c.error;
  EXPECT_TRUE(mentions(c.error, "mpirun -n 4")) << c.error;
  // Older SLURM without SLURM_STEP_NUM_TASKS: the step's SLURM_NTASKS says the same.
  env.erase("SLURM_STEP_NUM_TASKS");
  EXPECT_TRUE(mentions(check_launch(env, 1).error, "without PMI support"));
}

TEST(LaunchDetect, SrunWithPmix) {
  LaunchEnv env = {{"SLURM_JOB_ID", "77"},  {"SLURM_STEP_ID", "2"},
                   {"SLURM_PROCID", "1"},   {"SLURM_NTASKS", "4"},
                   {"SLURM_STEP_NUM_TASKS", "4"}, {"PMIX_RANK", "1"}};
  LaunchCheck c = check_launch(env, 4);
  EXPECT_EQ(c.launcher, "srun");
  EXPECT_TRUE(c.error.empty()) << c.error;
  // PMIx present but MPI still alone: the library could not use the launcher's PMI.
  EXPECT_TRUE(mentions(check_launch(env, 1).error, "cannot talk to that launcher"));
}

TEST(LaunchDetect, SrunSingleTaskIsFine) {
  LaunchEnv env = {{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"},
                   {"SLURM_STEP_NUM_TASKS", "1"}};
  LaunchCheck c = check_launch(env, 1);
  EXPECT_EQ(c.launcher, "srun");
  EXPECT_TRUE(c.error.empty()) << c.error;
}

TEST(LaunchDetect, SingletonInsideSbatchAllocationIsFine) {
  // The batch script itself: SLURM_NTASKS describes the allocation, there is no srun step.
  LaunchEnv env = {{"SLURM_JOB_ID", "77"}, {"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "0"},
                   {"SLURM_LOCALID", "0"}};
  LaunchCheck c = check_launch(env, 1);
  EXPECT_EQ(c.launcher, "singleton");
  EXPECT_TRUE(c.error.empty()) << c.error;
  // Some SLURM versions give the batch step a reserved id instead of none.
  for (const char* batch : {"4294967291", "4294967292", "batch", "extern"}) {
    env["SLURM_STEP_ID"] = batch;
    c = check_launch(env, 1);
    EXPECT_TRUE(c.error.empty()) << batch << ": " << c.error;
  }
}

TEST(LaunchDetect, MpirunInsideAllocationIgnoresDaemonStep) {
  // mpirun starts its daemons with srun (one task per node); the ranks inherit that step's
  // variables, which describe the daemons, not the ranks.
  LaunchEnv env = {{"SLURM_JOB_ID", "77"},        {"SLURM_STEP_ID", "0"},
                   {"SLURM_PROCID", "0"},         {"SLURM_NTASKS", "8"},
                   {"SLURM_STEP_NUM_TASKS", "2"}, {"OMPI_COMM_WORLD_SIZE", "8"},
                   {"OMPI_COMM_WORLD_RANK", "5"}, {"PMIX_RANK", "5"}};
  LaunchCheck c = check_launch(env, 8);
  EXPECT_EQ(c.launcher, "mpirun");
  EXPECT_TRUE(c.error.empty()) << c.error;
}

TEST(LaunchDetect, MpichHydraPmi) {
  LaunchEnv env = {{"PMI_RANK", "1"}, {"PMI_SIZE", "3"}};
  LaunchCheck c = check_launch(env, 3);
  EXPECT_EQ(c.launcher, "pmi");
  EXPECT_TRUE(c.error.empty()) << c.error;
  EXPECT_FALSE(check_launch(env, 1).error.empty());
}

TEST(LaunchDetect, MalformedNumbersAreIgnored) {
  LaunchEnv env = {{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "0"},
                   {"SLURM_STEP_NUM_TASKS", "2(x2)"}, {"SLURM_NTASKS", ""}};
  LaunchCheck c = check_launch(env, 1);
  EXPECT_EQ(c.launcher, "srun");
  EXPECT_EQ(c.expected_size, -1);
  EXPECT_TRUE(c.error.empty()) << c.error;
}

TEST(LaunchDetect, UnknownLauncherWithSeveralRanks) {
  EXPECT_EQ(check_launch({}, 2).launcher, "pmi");
  EXPECT_TRUE(check_launch({}, 2).error.empty());
}

TEST(LaunchDetect, ReadsOnlyItsVariables) {
  setenv("SLURM_STEP_NUM_TASKS", "6", 1);
  setenv("SCT_UNRELATED_VARIABLE", "1", 1);
  LaunchEnv env = read_launch_env();
  EXPECT_EQ(env.at("SLURM_STEP_NUM_TASKS"), "6");
  EXPECT_EQ(env.count("SCT_UNRELATED_VARIABLE"), 0u);
  unsetenv("SLURM_STEP_NUM_TASKS");
  size_t names = 0;
  for (const char* const* n = launch_env_names(); *n; ++n) ++names;
  EXPECT_GE(names, 12u);
}

}  // namespace
}  // namespace sct::dist
