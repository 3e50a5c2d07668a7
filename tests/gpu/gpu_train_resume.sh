#!/usr/bin/env bash
# On the GPU at fp32 with deterministic algorithms: an interrupted and resumed run equals the
# uninterrupted one bit for bit (metrics and final trainable values and optimizer state); the
# result records the GPU; and a checkpoint written on the GPU resumes on the CPU (the losses
# then agree to 1e-4 relative, not bit for bit: the devices round differently).
source "$(dirname "$0")/gpu_common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 48 20 3 16
write_recipe "$tmp/r.toml" 16 4 16 "eval_every = 2" "checkpoint_every = 1" "deterministic = true" "[data]" "hflip = true"
sed -i "s/drop_path = 0.0/drop_path = 0.1/; 1i device = \"$dev\"" "$tmp/r.toml"
u=units/r__sct__s5
"$bin" run "$tmp/r.toml" --out "$tmp/full" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "uninterrupted run"; }
grep -q "device=$want_device" "$tmp/log" || { cat "$tmp/log"; fail "the log does not name the device"; }
[ "$(result "$tmp/full/$u/result.json" world.device)" = "$want_device" ] || fail "result.json: world.device"
[ $dev = cpu ] || [ -n "$(result "$tmp/full/$u/result.json" world.gpu)" ] || fail "result.json: no GPU name"
[ "$(result "$tmp/full/$u/result.json" world.precision)" = fp32 ] || fail "result.json: world.precision"
"$bin" run "$tmp/r.toml" --out "$tmp/cut" --stop-after-steps 4 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "stop-after-steps exit code $rc, expected 3"; }
cp -r "$tmp/cut" "$tmp/cpu"
"$bin" run "$tmp/r.toml" --out "$tmp/cut" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "resumed run"; }
grep -q "resuming" "$tmp/log" || fail "the second run did not resume"
[ "$(metrics "$tmp/full/$u/metrics.jsonl")" = "$(metrics "$tmp/cut/$u/metrics.jsonl")" ] ||
  { fail "metrics differ"; diff <(metrics "$tmp/full/$u/metrics.jsonl") <(metrics "$tmp/cut/$u/metrics.jsonl"); }
tensors_identical "$tmp/full/$u/checkpoint.safetensors" "$tmp/cut/$u/checkpoint.safetensors" || fail "final values differ"
# The GPU's checkpoint, resumed on the CPU.
"$bin" run "$tmp/r.toml" --out "$tmp/cpu" --set 'device="cpu"' >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "CPU resume"; }
grep -q "resuming" "$tmp/log" || fail "the CPU run did not resume"
[ "$(result "$tmp/cpu/$u/result.json" world.device)" = cpu ] || fail "CPU resume: world.device"
losses_agree "$tmp/full/$u/metrics.jsonl" "$tmp/cpu/$u/metrics.jsonl" 4 1e-4 \
  "GPU run vs its checkpoint resumed on the CPU" || fail "CPU resume: losses"
finish gpu_train_resume
