#!/usr/bin/env bash
# A 4-task synthetic sweep at -n 2 in 2 groups of 1 rank: every task finishes, both groups
# work, each result equals the task run alone at the same group size, a broken fifth task
# fails alone (the sweep goes on, exit code 1), and a re-run skips what finished.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
py="${SCT_PYTHON:-/usr/bin/python3}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir -p "$tmp/tasks"
i=0
for spec in "alpha 48 3" "beta 32 4" "gamma 64 2" "delta 16 5"; do
  set -- $spec
  i=$((i + 1))
  "$SCT_BUILD/bin/sct_data" synth --output "$tmp/$1.h5" --classes "$3" --size 16 --split train="$2" \
    --split test=20 --seed $i --task "$1" >/dev/null || fail "synth $1"
  printf '[task]\ndata = "%s/%s.h5"\ngroup = "%s"\n[train]\nlr = 0.0%s\n' "$tmp" "$1" \
    "$([ $i -le 2 ] && echo Natural || echo Structured)" "$((i + 1))" >"$tmp/tasks/$1.toml"
done
printf '[task]\ndata = "%s/missing.h5"\n' "$tmp" >"$tmp/tasks/broken.toml"
cat >"$tmp/sweep.toml" <<TOML
seed = 2
[model]
dim = 32
depth = 2
heads = 2
patch = 4
image_size = 16
drop_path = 0.1
[task]
train_split = "train"
eval_split = "test"
[peft]
k = 8
[train]
epochs = 3
warmup_epochs = 1
batch_size = 8
eval_every = 1
[sweep]
tasks = ["tasks/alpha.toml", "tasks/beta.toml", "tasks/gamma.toml", "tasks/delta.toml", "tasks/broken.toml"]
ranks_per_task = 1
TOML

"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log"; fail "sweep with a broken task: exit $rc, expected 2 (a unit failed on bad input)"; }
grep -q "plan: 5 units in 2 groups of 1 rank" "$tmp/log" || fail "plan does not show 2 groups of 1"
for t in alpha beta gamma delta; do
  [ -f "$tmp/run/units/${t}__sct__s2/result.json" ] || fail "$t did not finish"
done
grep -q "missing.h5" "$tmp/run/units/broken__sct__s2/error.json" || fail "broken task's error.json lacks the reason"
grep -q "Mean" "$tmp/log" || fail "no summary table at the end"
"$py" - "$tmp/run" <<'PY' || fail "both groups should have worked"
import json, sys, glob
groups = {json.load(open(f))["world"]["group"] for f in glob.glob(sys.argv[1] + "/units/*/result.json")}
print("groups that ran units:", sorted(groups))
assert groups == {0, 1}, groups
PY

# Each task alone, one rank: identical metrics.
for t in alpha beta gamma delta; do
  "$bin" --threads 1 run "$tmp/sweep.toml" --task "$t" --out "$tmp/alone_$t" >"$tmp/log_$t" 2>&1 ||
    { cat "$tmp/log_$t"; fail "$t alone"; }
  "$py" - "$tmp/run/units/${t}__sct__s2/metrics.jsonl" "$tmp/alone_$t/units/${t}__sct__s2/metrics.jsonl" <<'PY' ||
import json, sys
keys = ("epoch", "lr", "loss", "train_acc", "eval_acc")
a = [[json.loads(l)[k] for k in keys] for l in open(sys.argv[1])]
b = [[json.loads(l)[k] for k in keys] for l in open(sys.argv[2])]
assert a == b, (a, b)
PY
    fail "$t in the sweep differs from $t alone"
done

# Re-run: the finished units are skipped; the broken one fails again.
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || fail "re-run: exit $rc, expected 2"
grep -q "4 of 5 units already finished" "$tmp/log" || { cat "$tmp/log"; fail "re-run did not skip the finished units"; }

if [ $fails = 0 ]; then echo "sweep_groups: all checks passed"; else echo "sweep_groups: $fails failures"; exit 1; fi
