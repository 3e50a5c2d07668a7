#!/usr/bin/env bash
# world_abort.sh ABORT_PROBE: World::abort on one rank ends every rank of a 2-rank job, with
# the code it was given, well before the launcher's time limit.
set -uo pipefail
start=$(date +%s)
out=$(SCT_MPI_TIMEOUT=60 "$SCT_MPIRUN" 2 "$1" 2>&1)
rc=$?
took=$(( $(date +%s) - start ))
if [ "$rc" -ne 3 ] || [ "$took" -ge 50 ]; then
  echo "FAIL: exit code $rc (expected 3) after ${took}s"
  echo "$out"
  exit 1
fi
echo "PASS: exit code 3 after ${took}s"
