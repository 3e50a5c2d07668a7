#!/usr/bin/env bash
# Interrupted and resumed (mid-epoch, with augmentation and DropPath on) equals uninterrupted,
# bit for bit: metrics and final trainable values. Checkpoints of another recipe are refused.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 48 20 3 16
write_recipe "$tmp/r.toml" 16 4 16 "eval_every = 2" "checkpoint_every = 1" "[data]" "hflip = true" \
  "randaugment = \"rand-m9-mstd0.5-inc1\""
sed -i 's/drop_path = 0.0/drop_path = 0.1/' "$tmp/r.toml"
u=units/r__sct__s5
"$bin" run "$tmp/r.toml" --out "$tmp/full" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "uninterrupted run"; }
# Stop after 4 steps (epoch 1, step 1 of 3), then after 4 more, then finish.
"$bin" run "$tmp/r.toml" --out "$tmp/cut" --stop-after-steps 4 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "stop-after-steps exit code $rc, expected 3"; }
[ -f "$tmp/cut/$u/checkpoint.safetensors" ] || fail "no checkpoint after the stop"
[ -f "$tmp/cut/$u/result.json" ] && fail "a stopped unit has a result"
"$bin" run "$tmp/r.toml" --out "$tmp/cut" --stop-after-steps 4 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "second stop exit code $rc"; }
grep -q "resuming" "$tmp/log" || fail "second run did not resume"
"$bin" run "$tmp/r.toml" --out "$tmp/cut" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "resumed run"; }
[ "$(metrics "$tmp/full/$u/metrics.jsonl")" = "$(metrics "$tmp/cut/$u/metrics.jsonl")" ] ||
  { fail "metrics differ"; diff <(metrics "$tmp/full/$u/metrics.jsonl") <(metrics "$tmp/cut/$u/metrics.jsonl"); }
tensors_identical "$tmp/full/$u/checkpoint.safetensors" "$tmp/cut/$u/checkpoint.safetensors" || fail "final weights differ"
# A finished unit whose recipe changed is refused unless --force.
"$bin" run "$tmp/r.toml" --out "$tmp/cut" --set train.lr=0.02 >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || fail "changed recipe over a finished unit: exit $rc, expected 2"
grep -q "changed since" "$tmp/log" || { cat "$tmp/log"; fail "no reason given for the refusal"; }
# An unfinished unit's checkpoint from another recipe is refused the same way, before training.
"$bin" run "$tmp/r.toml" --out "$tmp/other" --stop-after-steps 2 >/dev/null 2>&1
before=$(sha256sum "$tmp/other/$u/checkpoint.safetensors")
"$bin" run "$tmp/r.toml" --out "$tmp/other" --set train.lr=0.02 >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || fail "checkpoint of another recipe: exit $rc, expected 2"
grep -q "changed since" "$tmp/log" || { cat "$tmp/log"; fail "no reason for refusing the checkpoint"; }
[ "$(sha256sum "$tmp/other/$u/checkpoint.safetensors")" = "$before" ] || fail "the refused checkpoint changed"
"$bin" run "$tmp/r.toml" --out "$tmp/other" --set train.lr=0.02 --force >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "--force did not restart the unit"; }
finish train_resume
