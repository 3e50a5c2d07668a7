#!/usr/bin/env bash
# Device and precision choice where LibTorch has no GPU (this test's machines):
#  - device = "cuda" is one clear error on every rank (exit 2), naming what is missing;
#  - device = "auto" trains on the CPU and says why; result.json records what ran;
#  - train.precision = "tf32" runs as fp32 on a CPU (recorded so), with fp32's losses exactly;
#  - train.precision = "bf16" autocasts on the CPU too: the run trains, its losses differ from
#    fp32's (autocast acted) by less than 5%.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! "$bin" --version | grep -q '^GPUs: 0'; then echo "skipped: this machine has a GPU"; exit 77; fi
make_task "$tmp" 32 24 4 16
write_recipe "$tmp/r.toml" 16 6 16 "eval_every = 3"
u=units/r__sct__s5
result() { "$py" -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }

"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --set 'device="cuda"' --out "$tmp/cuda" >"$tmp/log.cuda" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log.cuda"; fail "device=cuda without a GPU: exit $rc, expected 2"; }
n=$(grep -c "device=cuda needs a GPU, but LibTorch .* is CPU-only" "$tmp/log.cuda")
[ "$n" -ge 1 ] || { cat "$tmp/log.cuda"; fail "device=cuda: no clear error"; }
[ -e "$tmp/cuda/$u/result.json" ] && fail "device=cuda wrote a result"

"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/fp32" >"$tmp/log.fp32" 2>&1 || { cat "$tmp/log.fp32"; fail "auto run"; }
grep -q "backend=[a-z]*, device=cpu (LibTorch .* is CPU-only)" "$tmp/log.fp32" || { cat "$tmp/log.fp32"; fail "auto: the log does not say why the CPU"; }
[ "$(result "$tmp/fp32/$u/result.json" world.device)" = cpu ] || fail "auto: world.device"
[ "$(result "$tmp/fp32/$u/result.json" world.gpu)" = "" ] || fail "auto: world.gpu"
[ "$(result "$tmp/fp32/$u/result.json" world.precision)" = fp32 ] || fail "auto: world.precision"

"$bin" --threads 1 run "$tmp/r.toml" --set 'train.precision="tf32"' --out "$tmp/tf32" >"$tmp/log.tf32" 2>&1 || { cat "$tmp/log.tf32"; fail "tf32 run"; }
grep -q "train.precision = tf32 runs as fp32 on cpu" "$tmp/log.tf32" || fail "tf32: the log does not say it runs as fp32"
[ "$(result "$tmp/tf32/$u/result.json" world.precision)" = fp32 ] || fail "tf32 on a CPU: world.precision"
[ "$(metrics "$tmp/fp32/$u/metrics.jsonl")" = "$(metrics "$tmp/tf32/$u/metrics.jsonl")" ] || fail "tf32 on a CPU changed the losses"

"$bin" --threads 1 run "$tmp/r.toml" --set 'train.precision="bf16"' --out "$tmp/bf16" >"$tmp/log.bf16" 2>&1 || { cat "$tmp/log.bf16"; fail "bf16 run"; }
[ "$(result "$tmp/bf16/$u/result.json" world.precision)" = bf16 ] || fail "bf16: world.precision"
"$py" - "$tmp/fp32/$u/metrics.jsonl" "$tmp/bf16/$u/metrics.jsonl" <<'PY' || fail "bf16 losses"
import json, sys
a, b = ([json.loads(l)["loss"] for l in open(f)] for f in sys.argv[1:3])
assert len(a) == len(b) == 6, (len(a), len(b))
worst = max(abs(x - y) / x for x, y in zip(a, b))
print(f"bf16 autocast on the CPU: losses {b[0]:.4f} -> {b[-1]:.4f}; largest relative difference from fp32 {worst:.3g}")
assert 0 < worst < 0.05, worst
assert b[-1] < b[0] - 1e-3, b
PY
finish train_device
