#!/usr/bin/env bash
# A stop signal in the middle of an evaluation and in the middle of the saliency pass, at -n 2:
# the ranks agree to stop within one batch, exit 3 having checkpointed what is consistent (the
# trained epoch before its evaluation; nothing for the saliency pass), and the resumed run ends
# with the metrics, channels and result of an uninterrupted run.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export SCT_MPI_TIMEOUT=200
# Big splits, so that one evaluation and one saliency pass each take a while.
make_task "$tmp" 4000 20000 3 16
# Two epochs of 4 steps (global batch 1000; evaluation batches of 500 per rank), both evaluated;
# small saliency batches (10 images).
write_recipe "$tmp/r.toml" 16 2 1000 "eval_every = 1" "checkpoint_every = 1"
sed -i 's/^k = 8$/k = 8\nsaliency_batch = 10/' "$tmp/r.toml"
u=units/r__sct__s5

# The pid of world rank R of the sct_dist processes writing to run directory OUT.
rank_pid() {  # out rank
  local p
  for p in $(pgrep -f "sct_dist .*--out $1( |$)"); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return 0; }
  done
  return 1
}
stable() {  # the per-epoch metrics that must not depend on an interruption, and the result
  "$py" - "$1" <<'PY'
import json, sys
d = sys.argv[1]
for line in open(d + "/metrics.jsonl"):
    m = json.loads(line)
    print(m["epoch"], repr(m["lr"]), repr(m["loss"]), repr(m["train_acc"]), repr(m["eval_acc"]))
r = json.load(open(d + "/result.json"))
print(json.dumps([r["accuracy"], r["channels"], r["recipe_hash"]], sort_keys=True))
PY
}
# Runs until PATTERN appears in the log, then sends SIGUSR1 to both ranks; sets rc and took.
interrupt() {  # out log pattern
  local out=$1 log=$2 pattern=$3
  "$SCT_MPIRUN" 2 "$bin" --verbose --threads 1 run "$tmp/r.toml" --out "$out" >"$log" 2>&1 &
  local job=$! r0="" r1=""
  # The ranks first, so that the signal follows the pattern closely.
  for _ in $(seq 300); do
    r0=$(rank_pid "$out" 0) && r1=$(rank_pid "$out" 1) && break
    sleep 0.1
  done
  [ -n "$r0" ] && [ -n "$r1" ] || fail "$out: ranks not found"
  while ! grep -q "$pattern" "$log"; do kill -0 $job 2>/dev/null || break; sleep 0.01; done
  local start; start=$(date +%s.%N)
  kill -USR1 $r0 $r1
  wait $job; rc=$?
  took=$("$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$(date +%s.%N)")
}

"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/ref" >"$tmp/ref.log" 2>&1 ||
  { cat "$tmp/ref.log"; fail "the uninterrupted run failed"; }

# 1. In the first evaluation.
interrupt "$tmp/e" "$tmp/e.log" "epoch 1: evaluating on 'test'"
[ $rc = 3 ] || { cat "$tmp/e.log"; fail "signal during the evaluation: exit $rc, expected 3"; }
grep -q "stopped during the evaluation of epoch 1" "$tmp/e.log" || { cat "$tmp/e.log"; fail "the stop was not inside the evaluation"; }
[ -s "$tmp/e/$u/metrics.jsonl" ] && fail "an interrupted evaluation left a metrics line"
[ -f "$tmp/e/$u/checkpoint.safetensors" ] || fail "no checkpoint after the stop in the evaluation"
echo "evaluation: exit $rc ${took}s after the signal"
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/e" >"$tmp/e2.log" 2>&1 ||
  { cat "$tmp/e2.log"; fail "resume after the evaluation stop failed"; }
grep -q "resuming .* at epoch 0 step 4" "$tmp/e2.log" || { cat "$tmp/e2.log"; fail "the resume did not start at the evaluation"; }
[ "$(stable "$tmp/e/$u")" = "$(stable "$tmp/ref/$u")" ] ||
  { diff <(stable "$tmp/e/$u") <(stable "$tmp/ref/$u"); fail "resumed after the evaluation stop: results differ"; }

# 2. In the saliency pass (its progress line follows the first batch).
interrupt "$tmp/s" "$tmp/s.log" "images on this rank"
[ $rc = 3 ] || { cat "$tmp/s.log"; fail "signal during the saliency pass: exit $rc, expected 3"; }
grep -q "stopped by a signal during the saliency pass" "$tmp/s.log" || { cat "$tmp/s.log"; fail "the stop was not inside the saliency pass"; }
[ -f "$tmp/s/$u/channels.json" ] && fail "an interrupted saliency pass wrote channels.json"
[ -f "$tmp/s/$u/error.json" ] && fail "a stopped saliency pass is recorded as a failure"
echo "saliency: exit $rc ${took}s after the signal"
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/s" >"$tmp/s2.log" 2>&1 ||
  { cat "$tmp/s2.log"; fail "resume after the saliency stop failed"; }
[ "$(stable "$tmp/s/$u")" = "$(stable "$tmp/ref/$u")" ] ||
  { diff <(stable "$tmp/s/$u") <(stable "$tmp/ref/$u"); fail "resumed after the saliency stop: results differ"; }
cmp -s "$tmp/s/$u/channels.json" "$tmp/ref/$u/channels.json" || fail "resumed saliency pass chose other channels"
finish train_interrupt
