#include "framework/sweep/signals.h"

#include <csignal>
#include <initializer_list>

namespace sct::sweep {
namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) { g_signal = sig; }  // async-signal-safe: a store only
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGUSR1, SIGUSR2, SIGINT}) sigaction(sig, &sa, nullptr);
}

bool stop_signalled() { return g_signal != 0; }
int stop_signal() { return g_signal; }

}  // namespace sct::sweep
