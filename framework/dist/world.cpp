#include "framework/dist/world.h"

#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/check.h"
#include "framework/dist/launch_detect.h"
#include "framework/dist/mpi_communicator.h"
#include "framework/dist/mpi_handle.h"

namespace sct::dist {
namespace {

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

// Node-local rank and size: the ranks that share memory with this one are on its node.
void node_local(int rank, int* local_rank, int* local_size) {
  detail::MpiCommHandle node;
  SCT_MPI_CHECK(
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, node.out()));
  SCT_MPI_CHECK(MPI_Comm_rank(node.get(), local_rank));
  SCT_MPI_CHECK(MPI_Comm_size(node.get(), local_size));
}

// mpirun also states the node-local layout; a disagreement means the shared-memory split does
// not follow nodes (unusual, but then thread and GPU defaults would be wrong), so say it.
void cross_check_local(const LaunchEnv& env, const WorldInfo& w) {
  auto it = env.find("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (it == env.end()) return;
  if (it->second != std::to_string(w.local_size))
    log::warn("dist", "mpirun reports {} ranks on {} but MPI's shared-memory split finds {}",
              it->second, w.host, w.local_size);
}

}  // namespace

World::World(int* argc, char*** argv) {
  // The launcher's variables, before MPI_Init can add its own.
  const LaunchEnv env = read_launch_env();
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw Error("World: MPI is already initialised; make one World per process");
  int provided = 0;
  // MULTIPLE: the stall watchdog and the work queue's server are threads that call MPI while
  // the main thread is inside a collective.
  SCT_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
  try {
    // Errors come back as codes so the check macros can name the call; the default handler
    // would abort the job without saying which call failed.
    SCT_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    if (provided < MPI_THREAD_MULTIPLE)
      throw Error(fmt::format("MPI provides thread level {} but MPI_THREAD_MULTIPLE is needed (the "
                              "stall watchdog and the work queue call MPI from their own threads)",
                              provided));
    SCT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &info_.rank));
    SCT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &info_.size));
    const LaunchCheck launch = check_launch(env, info_.size);
    if (!launch.error.empty()) throw InputError(launch.error);
    info_.launcher = launch.launcher;
    node_local(info_.rank, &info_.local_rank, &info_.local_size);
    info_.host = host_name();
    info_.mpi_version = mpi_library_version();
    cross_check_local(env, info_);
    comm_ = make_mpi_world_communicator();
  } catch (...) {
    comm_.reset();
    MPI_Finalize();
    throw;
  }
  log::debug("dist", "rank {}/{} on {} (local {}/{}), launcher {}, {}", info_.rank, info_.size,
             info_.host, info_.local_rank, info_.local_size, info_.launcher, info_.mpi_version);
}

World::~World() {
  comm_.reset();  // its MPI handle must be freed while MPI still runs
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void World::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this only satisfies [[noreturn]]
}

int default_threads(int local_size) {
  int cores = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, local_size));
}

std::string mpi_library_version() {
  // Allowed before MPI_Init (MPI 3.0), so --version works without starting MPI.
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  if (MPI_Get_library_version(buf, &len) != MPI_SUCCESS) return "unknown MPI";
  std::string v(buf, static_cast<size_t>(std::max(0, len)));
  v = v.substr(0, v.find_first_of("\r\n"));
  while (!v.empty() && (v.back() == ' ' || v.back() == ',' || v.back() == '\0')) v.pop_back();
  return v;
}

bool nccl_compiled() {
#if defined(SCT_HAVE_NCCL) && SCT_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

}  // namespace sct::dist
