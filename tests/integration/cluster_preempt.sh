#!/usr/bin/env bash
# Preemption without a scheduler: SIGUSR1 to the ranks of a 2-rank training run makes them
# checkpoint at the next step boundary and exit with 3; the same command then resumes and ends
# with the per-epoch metrics (lr, loss, train and eval accuracy) and the result of an
# uninterrupted run. The same again through launchers/run_local.sh, signalling mpirun only,
# which must forward the signal to the ranks; and SIGTERM to a sweep running in two groups.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
recipe="$SCT_SRC/recipes/examples/tiny.toml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cd "$tmp" || exit 1

# 4096 training images, 128 steps per epoch over 10 epochs: a signal sent once the first epoch is
# logged lands while training still runs (on a fast core the whole run takes about 3 s; with 1024
# images it took 0.7 s, and a signal could arrive after the last step).
tool="$SCT_BUILD/bin/sct_data"
"$tool" synth --output data/synth_a.h5 --task synth_a --classes 4 --size 16 --split train=4096 --split test=128 --seed 1 >/dev/null &&
"$tool" synth --output data/synth_b.h5 --task synth_b --classes 6 --size 16 --split train=512 --split test=128 --seed 2 >/dev/null &&
"$tool" synth --output data/synth_c.h5 --task synth_c --classes 3 --size 16 --split train=256 --split test=96 --seed 3 >/dev/null ||
  { echo "FAIL: sct_data synth"; exit 1; }
export SCT_DATA="$tmp/data"
sets=(--set train.epochs=10 --set train.eval_every=2 --set train.checkpoint_every=0)

# Children of a process, from /proc (no procps needed), in one pass so the signal follows the
# first logged epoch closely.
children() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == p) print pid }'
}
# Waits until FILE has a line, or until process PID is gone.
wait_for_line() {
  local file=$1 pid=$2
  for _ in $(seq 1 1200); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# The metrics that must not depend on the interruption (timings do).
stable_metrics() {
  "$SCT_PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    print(m["epoch"], repr(m["lr"]), repr(m["loss"]), repr(m["train_acc"]), repr(m["eval_acc"]))' "$1"
}
result_fields() {
  "$SCT_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps([r["accuracy"], r["channels"], r["params"], r["recipe_hash"]], sort_keys=True))' "$1"
}
unit=synth_a__sct__s0

# Reference: uninterrupted.
"$SCT_MPIRUN" 2 "$bin" run "$recipe" "${sets[@]}" --out ref >ref.log 2>&1 || { fail "reference run failed"; cat ref.log; }
[ "$(wc -l <ref/units/$unit/metrics.jsonl)" = 10 ] || fail "reference run: expected 10 epochs of metrics"

# 1. SIGUSR1 straight to both ranks.
"$SCT_MPIRUN" 2 "$bin" run "$recipe" "${sets[@]}" --out a >a1.log 2>&1 &
launcher=$!
if wait_for_line a/units/$unit/metrics.jsonl $launcher; then
  ranks=()
  for mpiexec in $(children $launcher); do ranks+=($(children "$mpiexec")); done
  [ ${#ranks[@]} = 2 ] || fail "expected 2 rank processes under mpiexec, found ${#ranks[@]}"
  kill -USR1 "${ranks[@]}"
else
  fail "no epoch was logged before the run ended"
fi
wait $launcher
rc=$?
[ $rc = 3 ] || { fail "signalled run: exit code $rc, expected 3"; tail -5 a1.log; }
grep -q "stopped (signal 10)" a1.log || fail "signalled run does not say it stopped on signal 10"
[ -f a/units/$unit/checkpoint.safetensors ] || fail "no checkpoint after the stop"
[ ! -f a/units/$unit/result.json ] || fail "a result was written although training stopped"
done_epochs=$(wc -l <a/units/$unit/metrics.jsonl)
[ "$done_epochs" -lt 10 ] || fail "the signal did not stop training early ($done_epochs epochs logged)"

"$SCT_MPIRUN" 2 "$bin" run "$recipe" "${sets[@]}" --out a >a2.log 2>&1 || { fail "resumed run failed"; tail -5 a2.log; }
[ "$(stable_metrics a/units/$unit/metrics.jsonl)" = "$(stable_metrics ref/units/$unit/metrics.jsonl)" ] ||
  { fail "resumed metrics differ from the uninterrupted run"; diff <(stable_metrics a/units/$unit/metrics.jsonl) <(stable_metrics ref/units/$unit/metrics.jsonl); }
[ "$(result_fields a/units/$unit/result.json)" = "$(result_fields ref/units/$unit/result.json)" ] ||
  fail "resumed result (accuracy, channels, params, recipe hash) differs from the uninterrupted run"
grep -q '"resumed": *true' a/units/$unit/result.json || fail "result.json does not record the resume"

# 2. Through the local launcher: SIGUSR1 to mpirun only.
export SCT_DIST="$bin"
timeout 240 "$SCT_SRC/launchers/run_local.sh" -n 2 run "$recipe" "${sets[@]}" --out b >b1.log 2>&1 &
launcher=$!
if wait_for_line b/units/$unit/metrics.jsonl $launcher; then
  mpirun_pid=$(children $launcher)
  [ -n "$mpirun_pid" ] && kill -USR1 $mpirun_pid
else
  fail "launcher: no epoch was logged before the run ended"
fi
wait $launcher
rc=$?
[ $rc = 3 ] || { fail "launcher, signalled: exit code $rc, expected 3"; tail -5 b1.log; }
timeout 240 "$SCT_SRC/launchers/run_local.sh" -n 2 run "$recipe" "${sets[@]}" --out b >b2.log 2>&1 ||
  { fail "launcher, resumed run failed"; tail -5 b2.log; }
[ "$(stable_metrics b/units/$unit/metrics.jsonl)" = "$(stable_metrics ref/units/$unit/metrics.jsonl)" ] ||
  fail "launcher: resumed metrics differ from the uninterrupted run"

# 3. A sweep in two groups of one rank (the example sweep: 6 units), SIGTERM to both ranks while
# both groups train: every group checkpoints its unit, all exit with 3 together, and the rerun
# ends with every unit's metrics equal to an uninterrupted sweep's.
sweep="$SCT_SRC/recipes/examples/sweep.toml"
SCT_MPI_TIMEOUT=120 "$SCT_MPIRUN" 2 "$bin" run "$sweep" --set train.epochs=8 --out sref >sref.log 2>&1 ||
  { fail "sweep reference run failed"; tail -5 sref.log; }
SCT_MPI_TIMEOUT=60 "$SCT_MPIRUN" 2 "$bin" run "$sweep" --set train.epochs=8 --out s >s1.log 2>&1 &
launcher=$!
for _ in $(seq 1200); do
  [ -n "$(cat s/units/*/metrics.jsonl 2>/dev/null)" ] && break
  kill -0 $launcher 2>/dev/null || break
  sleep 0.05
done
ranks=()
for mpiexec in $(children $launcher); do ranks+=($(children "$mpiexec")); done
[ ${#ranks[@]} = 2 ] && kill -TERM "${ranks[@]}" || fail "sweep: expected 2 rank processes, found ${#ranks[@]}"
wait $launcher
rc=$?
[ $rc = 3 ] || { fail "sweep in 2 groups, SIGTERM: exit code $rc, expected 3 (124 = hung until the time limit)"; tail -5 s1.log; }
grep -q "stopped (signal 15)" s1.log || fail "sweep: does not say it stopped on signal 15"
SCT_MPI_TIMEOUT=120 "$SCT_MPIRUN" 2 "$bin" run "$sweep" --set train.epochs=8 --out s >s2.log 2>&1 ||
  { fail "sweep: resumed run failed"; tail -5 s2.log; }
for m in sref/units/*/metrics.jsonl; do
  u=$(basename "$(dirname "$m")")
  [ -f "s/units/$u/result.json" ] || { fail "sweep: $u has no result after the resume"; continue; }
  [ "$(stable_metrics "s/units/$u/metrics.jsonl")" = "$(stable_metrics "$m")" ] ||
    fail "sweep: $u: resumed metrics differ from the uninterrupted sweep"
done

want=$(( $(nproc) / 2 )); [ $want -ge 1 ] || want=1
grep -q -- "--threads $want run" <("$SCT_SRC/launchers/run_local.sh" --dry -n 2 run x.toml) ||
  fail "run_local.sh on $(nproc) cores does not pass --threads $want for 2 ranks"

if [ $fails = 0 ]; then echo "cluster_preempt: all checks passed (stopped after $done_epochs of 10 epochs)"
else echo "cluster_preempt: $fails failures"; exit 1; fi
