#!/usr/bin/env bash
# Resume at another world size: a unit stopped mid-epoch at -n 2 and resumed at -n 1 (and the
# reverse) ends with the final trainable values, AdamW moments and losses of an uninterrupted
# -n 1 run, to float32 rounding: the global batches are the same at every world size
# (framework/data/sharding.h), augmentation draws per sample, and the checkpoint holds the whole
# state, not a rank's share. DropPath 0.1 (the VTAB-1k recipes' value): its masks are drawn per
# sample from (seed, epoch, sample index), the same whichever rank holds the sample. One thread
# per rank (as in train_world_size.sh).
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 32 8 4 16
# 32 images, global batch 16: 2 steps per epoch, 4 epochs; stopped after 3 steps (epoch 1 step 1).
write_recipe "$tmp/r.toml" 16 4 16 "eval_every = 2" "checkpoint_every = 1" "[data]" "hflip = true" \
  "randaugment = \"rand-m9-mstd0.5-inc1\""
sed -i 's/^drop_path = 0.0$/drop_path = 0.1/' "$tmp/r.toml"
grep -qx 'drop_path = 0.1' "$tmp/r.toml" || fail "the recipe has no DropPath"
u=units/r__sct__s5
n1() { "$bin" --threads 1 run "$tmp/r.toml" "$@"; }
n2() { SCT_MPI_QUIET=1 "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" "$@"; }
n1 --out "$tmp/full" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "uninterrupted -n 1 run"; }
compare() {  # compare DIR: DIR's final state against the uninterrupted run's
  "$py" - "$tmp/full/$u" "$1/$u" <<'PY'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__": continue
        assert v["dtype"] == "F32", v
        b = raw[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]
        out[k] = struct.unpack(f"<{len(b) // 4}f", b)
    return out
a, b = (tensors(d + "/checkpoint.safetensors") for d in sys.argv[1:])
assert a.keys() == b.keys(), (a.keys(), b.keys())
for k in a:
    scale = max(abs(x) for x in a[k]) or 1.0
    worst = max(abs(x - y) for x, y in zip(a[k], b[k])) / scale
    print(f"{k}: {len(a[k])} values, largest difference {worst:.3g} of the largest value")
    assert worst <= 1e-5, (k, worst)
la = [json.loads(l)["loss"] for l in open(sys.argv[1] + "/metrics.jsonl")]
lb = [json.loads(l)["loss"] for l in open(sys.argv[2] + "/metrics.jsonl")]
assert len(la) == len(lb) == 4, (la, lb)
worst = max(abs(x - y) / abs(x) for x, y in zip(la, lb))
print(f"losses of 4 epochs: largest relative difference {worst:.3g}")
assert worst <= 1e-5, (la, lb)
PY
}
# Written at -n 2, resumed at -n 1.
n2 --out "$tmp/a" --stop-after-steps 3 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "-n 2 stop: exit $rc, expected 3"; }
cp "$tmp/a/$u/checkpoint.safetensors" "$tmp/stopped.safetensors"
n1 --out "$tmp/a" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "-n 1 resume"; }
grep -q "resuming .* at epoch 1 step 1 (checkpoint written by 2 ranks)" "$tmp/log" || { cat "$tmp/log"; fail "-n 1 did not resume"; }
cmp -s "$tmp/stopped.safetensors" "$tmp/a/$u/checkpoint.safetensors" && fail "the resumed run did not train"
compare "$tmp/a" || fail "-n 2 then -n 1 differs from -n 1"
# Written at -n 1, resumed at -n 2.
n1 --out "$tmp/b" --stop-after-steps 3 >"$tmp/log" 2>&1; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "-n 1 stop: exit $rc, expected 3"; }
n2 --out "$tmp/b" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "-n 2 resume"; }
grep -q "checkpoint written by 1 rank)" "$tmp/log" || { cat "$tmp/log"; fail "-n 2 did not resume"; }
compare "$tmp/b" || fail "-n 1 then -n 2 differs from -n 1"
finish train_resume_world_size
