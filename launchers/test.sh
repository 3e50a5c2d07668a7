#!/usr/bin/env bash
# test.sh: sets up (packages + Release build) and runs the whole test suite with CTest.
# Extra arguments go to ctest, e.g. `launchers/test.sh -L unit` or `-R recipe`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCT_BUILD_DIR:-$repo/build}"
"$repo/launchers/setup.sh"
cd "$build"
# MPI tests reserve 2 processors each, so -j2 never oversubscribes the 2-core machines.
exec ctest --output-on-failure -j "$(nproc)" "$@"
