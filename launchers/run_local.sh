#!/usr/bin/env bash
# run_local.sh: runs sct_dist on N ranks of this machine through Open MPI's mpirun, with the
# flags a workstation needs and threads per rank = cores / N.
#
#   launchers/run_local.sh -n 2 run recipes/examples/sweep.toml
#   launchers/run_local.sh -n 4 --mpirun-arg --bind-to --mpirun-arg core run recipes/vtab1k/sweep.toml
#
# Options (before the sct_dist arguments; everything from the first other argument on goes to
# sct_dist unchanged):
#   -n N              ranks (default 1)
#   --threads T       intra-op threads per rank (default: cores / N, at least 1)
#   --mpirun-arg ARG  one extra argument for mpirun (repeatable)
#   --dry             print the mpirun command instead of running it
# Environment: SCT_DIST (the binary; default <repo>/build/bin/sct_dist, else sct_dist on the PATH),
# MPIRUN (default mpirun).
#
# The exit status is sct_dist's: 0 ok, 1 a unit failed, 2 bad input, 3 preempted (run the same
# command again to resume). To preempt, send SIGTERM, SIGUSR1 or SIGUSR2 to this process: it
# hands mpirun SIGUSR1, which mpirun forwards to every rank; they checkpoint at the next step
# boundary and exit with 3. (Open MPI's mpirun answers a SIGTERM of its own by killing the ranks
# and exiting 1 whatever they return, which is why this script does not pass SIGTERM on.) A
# second SIGTERM kills the ranks at once; they resume from their last checkpoint.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "run_local.sh: $*" >&2; exit 2; }

np=1 threads="" dry=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--np) [ $# -ge 2 ] || die "$1 needs a value"; np=$2; shift 2 ;;
    -n*) np=${1#-n}; shift ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads=$2; shift 2 ;;
    --mpirun-arg) [ $# -ge 2 ] || die "--mpirun-arg needs a value"; extra+=("$2"); shift 2 ;;
    --dry) dry=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || die "no sct_dist arguments (e.g. run RECIPE); see --help"
[[ "$np" =~ ^[1-9][0-9]*$ ]] || die "-n expects a positive integer, found '$np'"

bin="${SCT_DIST:-$repo/build/bin/sct_dist}"
if [ ! -x "$bin" ]; then
  bin=$(command -v sct_dist) || die "sct_dist not found at $repo/build/bin/sct_dist or on the PATH; build it or set SCT_DIST"
fi
mpirun="${MPIRUN:-mpirun}"
command -v "$mpirun" >/dev/null || die "$mpirun not found (Debian: apt-get install openmpi-bin)"

cores=$(nproc)
if [ -z "$threads" ]; then
  threads=$((cores / np))
  [ "$threads" -ge 1 ] || threads=1
fi
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads expects a positive integer, found '$threads'"

flags=(-n "$np" -q)
# Open MPI refuses to run as root unless told; containers and CI runners are often root.
[ "$(id -u)" = 0 ] && flags+=(--allow-run-as-root)
# More ranks than cores: allowed, but each rank then gets 1 thread and the machine is oversubscribed.
[ "$np" -gt "$cores" ] && flags+=(--oversubscribe)
# Ranks x threads must stay within the cores; a binding to one core per rank would starve the threads.
[ "$threads" -gt 1 ] && flags+=(--bind-to none)

# --threads is a global sct_dist option: it goes before the command, unless the caller gave one.
pass=("$@")
for a in "$@"; do
  case "$a" in --threads|--threads=*) threads="" ;; esac
done
cmd=("$mpirun" "${flags[@]}" "${extra[@]}" "$bin")
[ -n "$threads" ] && cmd+=(--threads "$threads")
cmd+=("${pass[@]}")
if [ "$dry" = 1 ]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
"${cmd[@]}" &
child=$!
stops=0
stop() {
  stops=$((stops + 1))
  if [ "$stops" = 1 ]; then kill -USR1 "$child" 2>/dev/null; else kill -TERM "$child" 2>/dev/null; fi
}
trap stop TERM USR1 USR2
trap 'kill -TERM "$child" 2>/dev/null' INT
# wait returns early (status > 128) when a trapped signal arrives; wait again until mpirun ends,
# then once more for its exit status (bash keeps it for a finished background job).
while kill -0 "$child" 2>/dev/null; do wait "$child" || true; done
rc=0
wait "$child" || rc=$?
exit "$rc"
