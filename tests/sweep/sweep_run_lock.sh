#!/usr/bin/env bash
# The run directory's lock (run.lock): a second process on a run directory in use refuses with
# exit 2 on every rank, naming the lock file and the owner's host and pid, and leaves the first
# alone; the lock goes when the owner exits. Stale locks are taken over with a warning (a dead pid
# on this host, an earlier start of the same SLURM job on another host); a lock of another host
# that may be alive is refused.
source "$SCT_SRC/tests/train/common.sh"
tmp=$(mktemp -d); owner=; trap '[ -n "$owner" ] && kill -9 $owner 2>/dev/null; rm -rf "$tmp"' EXIT
make_task "$tmp" 32 8 3 16
write_recipe "$tmp/r.toml" 16 100000 16 "eval_every = 0" "checkpoint_every = 0"
host=$(hostname)

# A long run holds the lock; a second one at -n 2 is refused and the first goes on.
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/run" >"$tmp/owner.log" 2>&1 &
owner=$!
for _ in $(seq 300); do grep -qs "\"pid\":$owner" "$tmp/run/run.lock" && break; sleep 0.2; done
grep -qs "\"pid\":$owner" "$tmp/run/run.lock" || { cat "$tmp/owner.log"; fail "no run.lock naming pid $owner"; }
SCT_MPI_QUIET=1 "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/run" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log"; fail "second process on a locked run directory: exit $rc, expected 2"; }
grep -q "run.lock: the run directory is in use by pid $owner on host $host" "$tmp/log" ||
  { cat "$tmp/log"; fail "the refusal does not name the lock file, pid and host"; }
[ "$(grep -c 'in use by' "$tmp/log")" = 1 ] || fail "the refusal is not printed exactly once"
kill -0 $owner 2>/dev/null || fail "the refused process stopped the owner"
kill -USR1 $owner; wait $owner; rc=$?; owner=
[ $rc = 3 ] || { tail "$tmp/owner.log"; fail "the owner stopped with exit $rc, expected 3"; }
[ -e "$tmp/run/run.lock" ] && fail "the lock outlived its owner's exit"

# A lock left on this host by a process that no longer exists: taken over, then removed at exit.
dead=$(sh -c 'echo $$')
mkdir -p "$tmp/stale"
echo "{\"host\":\"$host\",\"pid\":$dead,\"since\":\"2026-01-01T00:00:00Z\"}" >"$tmp/stale/run.lock"
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/stale" --set train.epochs=1 >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "a stale lock of a dead pid was not taken over"; }
grep -q "taking over the stale lock of pid $dead on host $host" "$tmp/log" || fail "no warning on taking over"
[ -e "$tmp/stale/run.lock" ] && fail "the taken-over lock was not removed at exit"

# Another host: refused (it may be alive), unless it is an earlier start of this SLURM job.
mkdir -p "$tmp/other"
echo '{"host":"node-elsewhere","pid":4242,"slurm":{"job_id":"777","restart_count":0}}' >"$tmp/other/run.lock"
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/other" --set train.epochs=1 >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || fail "the lock of another host: exit $rc, expected 2"
grep -q "in use by pid 4242 on host node-elsewhere (SLURM job 777, restart 0)" "$tmp/log" &&
  grep -q "delete $tmp/other/run.lock" "$tmp/log" || { cat "$tmp/log"; fail "the refusal does not say how to clear it"; }
[ -e "$tmp/other/units/r__sct__s5" ] && fail "the refused run started a unit"
SLURM_JOB_ID=777 SLURM_RESTART_COUNT=1 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/other" \
  --set train.epochs=1 >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "a requeued job did not take over its own lock"; }
grep -q "earlier start (restart 0) of this SLURM job 777" "$tmp/log" || fail "no reason for the takeover"
finish sweep_run_lock
