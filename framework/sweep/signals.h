// Preemption signals: a handler that only sets a flag (SIGTERM, SIGUSR1, SIGUSR2, SIGINT);
// the trainer polls it at step boundaries and all ranks agree to checkpoint and exit.
#pragma once

namespace sct::sweep {

void install_stop_handlers();
bool stop_signalled();
int stop_signal();  // the signal number received, 0 if none

}  // namespace sct::sweep
