#!/usr/bin/env bash
# mpirun.sh NP PROGRAM [ARGS...]: runs PROGRAM on NP local ranks with the flags these machines
# need (root, oversubscription, no network probing) and a hard time limit so a hang fails.
set -euo pipefail
np=$1
shift
flags=(--oversubscribe --bind-to none --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
if [ "$(id -u)" = 0 ]; then flags+=(--allow-run-as-root); fi
# SCT_MPI_QUIET=1 drops mpiexec's own banners, so a test sees exactly what the program printed.
if [ "${SCT_MPI_QUIET:-0}" = 1 ]; then flags+=(-q); fi
exec timeout --kill-after=10 "${SCT_MPI_TIMEOUT:-240}" mpiexec "${flags[@]}" -n "$np" "$@"
