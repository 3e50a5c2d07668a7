// abort_probe: the last rank calls World::abort(3) while the others wait in a barrier it will
// never reach; the job must end with status 3 instead of hanging (see world_abort.sh).
#include <cstdio>

#include "framework/core/error.h"
#include "framework/dist/world.h"

int main(int argc, char** argv) {
  try {
    sct::dist::World world(&argc, &argv);
    if (world.rank() == world.size() - 1) world.abort(3);
    world.comm().barrier();
    std::fprintf(stderr, "rank %d left a barrier the aborting rank never entered\n",
                 world.rank());
    return 1;
  } catch (const sct::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
