#!/usr/bin/env bash
# Faults of single ranks at -n 2, each ending (or not ending) the job within a bound far below
# the launcher's time limit (a hang fails the test):
#   1. rank 1 killed with SIGKILL mid-step: the job ends with a non-zero code, mpirun names the
#      rank and the signal;
#   2. rank 1 stopped with SIGSTOP past dist.stall_timeout_s: the stall watchdog of rank 0 ends
#      the job naming rank 1 and the key;
#   3. both ranks stopped together for longer than the timeout and continued (a suspended job):
#      no false alarm, the run finishes.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d)
pids_to_clean=()
cleanup() {
  for p in "${pids_to_clean[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
export SCT_MPI_TIMEOUT=150
make_task "$tmp" 64 32 3 16
write_recipe "$tmp/long.toml" 16 400 16 "eval_every = 0" "checkpoint_every = 0"
write_recipe "$tmp/short.toml" 16 30 16 "eval_every = 0" "checkpoint_every = 0"

# The pid of world rank R of the sct_dist processes writing to run directory OUT.
rank_pid() {  # out rank
  local p
  for p in $(pgrep -f "sct_dist .*--out $1( |$)"); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return 0; }
  done
  return 1
}
# Starts a 2-rank run in the background (pid in $job) and waits for its second epoch.
start_run() {  # recipe out log [args...]
  local recipe=$1 out=$2 log=$3
  shift 3
  "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$recipe" --out "$out" "$@" >"$log" 2>&1 &
  job=$!
  for _ in $(seq 600); do grep -q "epoch 2/" "$log" && return 0; kill -0 $job 2>/dev/null || break; sleep 0.1; done
  cat "$log"; fail "$out: the run did not reach its second epoch"; return 1
}

# 1. SIGKILL of rank 1 in the middle of training.
if start_run "$tmp/long.toml" "$tmp/k" "$tmp/k.log"; then
  victim=$(rank_pid "$tmp/k" 1) || fail "kill: rank 1 not found"
  start=$(date +%s)
  kill -KILL "$victim"
  wait $job; rc=$?
  took=$(($(date +%s) - start))
  # mpiexec exits 137 (128 + SIGKILL) here; the time shows it did not hang to the time limit.
  [ $rc != 0 ] || { cat "$tmp/k.log"; fail "SIGKILL of rank 1: exit 0"; }
  [ $took -lt 60 ] || fail "SIGKILL of rank 1: the job took ${took}s to end"
  grep -Eq "rank 1 .*(signal 9|Killed)" "$tmp/k.log" || { cat "$tmp/k.log"; fail "SIGKILL: the message does not name rank 1 and the signal"; }
  echo "SIGKILL of rank 1: exit $rc after ${took}s"
fi

# 2. SIGSTOP of rank 1, with a 4 s stall timeout.
if start_run "$tmp/long.toml" "$tmp/s" "$tmp/s.log" --set dist.stall_timeout_s=4; then
  victim=$(rank_pid "$tmp/s" 1) || fail "stop: rank 1 not found"
  pids_to_clean+=("$victim")
  start=$(date +%s)
  kill -STOP "$victim"
  wait $job; rc=$?
  took=$(($(date +%s) - start))
  [ $rc != 0 ] && [ $rc != 124 ] || { cat "$tmp/s.log"; fail "SIGSTOP of rank 1: exit $rc (124: hung)"; }
  [ $took -lt 60 ] || fail "SIGSTOP of rank 1: the job took ${took}s to end"
  grep -q "error: rank 1 (pid $victim on .*) sent no heartbeat for .* past the stall timeout of 4 s (.*key 'dist.stall_timeout_s'): it is stopped, frozen or cut off; rank 0 ends the job" "$tmp/s.log" ||
    { cat "$tmp/s.log"; fail "SIGSTOP: the message does not name rank 1, its pid and the key"; }
  for _ in $(seq 100); do [ -d "/proc/$victim" ] && [ "$(cut -d' ' -f3 "/proc/$victim/stat" 2>/dev/null)" != Z ] || break; sleep 0.1; done
  [ -d "/proc/$victim" ] && [ "$(cut -d' ' -f3 "/proc/$victim/stat" 2>/dev/null)" != Z ] &&
    fail "SIGSTOP: the stopped rank outlived the job by 10 s"
  echo "SIGSTOP of rank 1: exit $rc after ${took}s"
fi

# 3. The whole job stopped for 7 s (past the 3 s timeout) and continued: it finishes.
start=$(date +%s)
if start_run "$tmp/short.toml" "$tmp/z" "$tmp/z.log" --set dist.stall_timeout_s=3; then
  r0=$(rank_pid "$tmp/z" 0) && r1=$(rank_pid "$tmp/z" 1) || fail "suspend: ranks not found"
  pids_to_clean+=("$r0" "$r1")
  kill -STOP "$r0" "$r1" || fail "suspend: the run ended before it could be stopped"
  sleep 7
  kill -CONT "$r0" "$r1"
  wait $job; rc=$?
  [ $rc = 0 ] || { cat "$tmp/z.log"; fail "a job suspended and continued: exit $rc, expected 0"; }
  grep -q "heartbeat" "$tmp/z.log" && fail "a job suspended and continued reported a stall"
  echo "suspended for 7 s and continued: exit $rc, $(($(date +%s) - start))s in all"
fi
finish rank_faults
