#include "framework/core/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <mutex>

namespace sct::log {
namespace {
int g_rank = 0;
int g_world = 1;
bool g_verbose = false;
std::mutex g_mutex;

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void configure(int rank, int world_size, bool verbose) {
  g_rank = rank;
  g_world = world_size;
  g_verbose = verbose;
}
int rank() { return g_rank; }
bool verbose() { return g_verbose; }

void write(Level level, std::string_view tag, const std::string& message) {
  if (level == Level::kInfo && g_rank != 0 && !g_verbose) return;
  const char* kind = level == Level::kWarn ? "warning: " : level == Level::kError ? "error: " : "";
  std::lock_guard<std::mutex> lock(g_mutex);
  // Everything goes to stderr except info from rank 0, which is the user's summary.
  FILE* out = (level == Level::kInfo || level == Level::kDebug) ? stdout : stderr;
  if (g_world > 1 || g_verbose)
    fmt::print(out, "[r{} {}] {}{}\n", g_rank, tag, kind, message);
  else
    fmt::print(out, "[{}] {}{}\n", tag, kind, message);
  std::fflush(out);
}

// Under mpirun or srun a rank's stdout is often a pseudo-terminal even when the job's output
// goes to a file, so in-place updates are only used for a process started directly.
static bool interactive_terminal() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_ID"})
    if (std::getenv(var)) return false;
  return isatty(STDOUT_FILENO) != 0;
}

Progress::Progress(std::string tag, double period_s)
    : tag_(std::move(tag)), period_s_(period_s), tty_(interactive_terminal()) {}

void Progress::update(const std::string& text, bool force) {
  if (g_rank != 0) return;
  double t = now_s();
  if (tty_) {
    if (!force && t - last_ < 0.2) return;
    last_ = t;
    fmt::print(stdout, "\r\x1b[2K[{}] {}", tag_, text);
    std::fflush(stdout);
    open_ = true;
  } else {
    if (!force && t - last_ < period_s_) return;
    last_ = t;
    write(Level::kInfo, tag_, text);
  }
}

void Progress::finish() {
  if (open_) {
    fmt::print(stdout, "\n");
    std::fflush(stdout);
    open_ = false;
  }
}

}  // namespace sct::log
