#!/usr/bin/env bash
# -n 2 against -n 1 on a tiny task without augmentation: the same global batches, so the losses
# of 20 steps agree to 1e-5 relative, without DropPath and with it, and for AdaptFormer with its
# dropout; the saliency selection is identical. Both runs
# use one thread per rank: OpenBLAS's products may round differently with the thread count (they
# do on some CPUs), which would change the saliency scores' last bits for another reason.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 16 24 4 16
# 16 training images, global batch 16: one step per epoch, so the per-epoch loss is the step's.
write_recipe "$tmp/r.toml" 16 20 16 "eval_every = 0"
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/n1" >"$tmp/log1" 2>&1 || { cat "$tmp/log1"; fail "-n 1 run"; }
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/n2" >"$tmp/log2" 2>&1 || { cat "$tmp/log2"; fail "-n 2 run"; }
u=units/r__sct__s5
"$py" - "$tmp/n1/$u/metrics.jsonl" "$tmp/n2/$u/metrics.jsonl" <<'PY' || fail "losses differ"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 20, (len(a), len(b))
worst = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(a, b))
print(f"20 steps: largest relative loss difference -n 1 vs -n 2: {worst:.3g}")
assert worst <= 1e-5, worst
# the losses must move, or the comparison proves nothing
assert abs(a[-1]["loss"] - a[0]["loss"]) > 1e-3, (a[0]["loss"], a[-1]["loss"])
PY
cmp -s "$tmp/n1/$u/channels.json" "$tmp/n2/$u/channels.json" || fail "channels differ between -n 1 and -n 2"
grep -q '"ranks": 2' "$tmp/n2/$u/result.json" || fail "-n 2 result does not record 2 ranks"

# With DropPath 0.1 (the VTAB-1k recipes' value) the masks are drawn per sample from (seed,
# epoch, sample index), not per rank: -n 2 still gives -n 1's losses.
dp=(--set model.drop_path=0.1)
"$bin" --threads 1 run "$tmp/r.toml" "${dp[@]}" --out "$tmp/d1" >"$tmp/logd1" 2>&1 || { cat "$tmp/logd1"; fail "-n 1 DropPath run"; }
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" "${dp[@]}" --out "$tmp/d2" >"$tmp/logd2" 2>&1 ||
  { cat "$tmp/logd2"; fail "-n 2 DropPath run"; }
"$py" - "$tmp/d1/$u/metrics.jsonl" "$tmp/d2/$u/metrics.jsonl" "$tmp/n1/$u/metrics.jsonl" <<'PY' ||
import json, sys
a, b, plain = ([json.loads(l) for l in open(f)] for f in sys.argv[1:4])
assert len(a) == len(b) == 20, (len(a), len(b))
worst = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(a, b))
moved = max(abs(x["loss"] - y["loss"]) / abs(y["loss"]) for x, y in zip(a, plain))
print(f"DropPath 0.1, 20 steps: largest relative loss difference -n 1 vs -n 2: {worst:.3g} "
      f"(against no DropPath: {moved:.3g})")
assert worst <= 1e-5, worst
assert moved > 1e-3, moved  # DropPath acted, or the comparison proves nothing
PY
  fail "DropPath losses differ between -n 1 and -n 2"

# AdaptFormer's dropout (0.1) draws its masks per sample too: -n 2 gives -n 1's losses.
af=(--set 'peft.method="adaptformer"')
ua=units/r__adaptformer__s5
"$bin" --threads 1 run "$tmp/r.toml" "${af[@]}" --out "$tmp/a1" >"$tmp/loga1" 2>&1 || { cat "$tmp/loga1"; fail "-n 1 AdaptFormer run"; }
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" "${af[@]}" --out "$tmp/a2" >"$tmp/loga2" 2>&1 ||
  { cat "$tmp/loga2"; fail "-n 2 AdaptFormer run"; }
losses_agree "$tmp/a1/$ua/metrics.jsonl" "$tmp/a2/$ua/metrics.jsonl" 20 1e-5 \
  "AdaptFormer (dropout 0.1), 20 steps, -n 1 vs -n 2" || fail "AdaptFormer losses differ between -n 1 and -n 2"
finish train_world_size
