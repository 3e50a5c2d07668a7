#!/usr/bin/env bash
# --stop-after-steps counts the training steps of the whole process, across units: a budget of
# 9 lets the first unit (8 steps) finish and stops the second after its first step; the same
# command without the flag then finishes the second and skips the first.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir -p "$tmp/tasks"
# big: 32 training images = 4 steps per epoch; small: 16 = 2. Largest first, so big runs first.
for spec in "big 32 1" "small 16 2"; do
  set -- $spec
  "$SCT_BUILD/bin/sct_data" synth --output "$tmp/$1.h5" --classes 3 --size 16 --split train="$2" \
    --split test=8 --seed "$3" --task "$1" >/dev/null || fail "synth $1"
  printf '[task]\ndata = "%s/%s.h5"\n' "$tmp" "$1" >"$tmp/tasks/$1.toml"
done
cat >"$tmp/sweep.toml" <<TOML
seed = 1
model = { dim = 32, depth = 2, heads = 2, patch = 4, image_size = 16, drop_path = 0.0 }
task = { train_split = "train", eval_split = "test" }
peft = { method = "linear" }
train = { epochs = 2, warmup_epochs = 1, batch_size = 8 }
[sweep]
tasks = ["tasks/big.toml", "tasks/small.toml"]
TOML
big=units/big__linear__s1 small=units/small__linear__s1

"$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" --stop-after-steps 9 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "--stop-after-steps 9 over 8 + 4 steps: exit $rc, expected 3 (preempted)"; }
[ -f "$tmp/run/$big/result.json" ] || fail "the first unit (8 steps) did not finish within 9"
[ -f "$tmp/run/$small/result.json" ] && fail "the second unit finished although the budget had 1 step left"
[ -f "$tmp/run/$small/checkpoint.safetensors" ] || fail "no checkpoint of the stopped second unit"
grep -q "stopped at epoch 0 step 1;" "$tmp/log" || { cat "$tmp/log"; fail "the second unit did not stop after 1 step"; }

"$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "resume"; }
grep -q "1 of 2 units already finished" "$tmp/log" || fail "the resumed run did not skip the finished unit"
grep -q "resuming" "$tmp/log" || fail "the second unit did not resume from its checkpoint"
[ -f "$tmp/run/$small/result.json" ] || fail "the second unit did not finish after the resume"

if [ $fails = 0 ]; then echo "sweep_stop_after_steps: all checks passed"; else echo "sweep_stop_after_steps: $fails failures"; exit 1; fi
