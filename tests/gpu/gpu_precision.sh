#!/usr/bin/env bash
# tf32 and bf16 on the GPU: the runs finish, record the precision that ran, and train: their
# last loss within 5% of fp32's, and bf16's different from it (autocast acted).
source "$(dirname "$0")/gpu_common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 32 24 4 16
write_recipe "$tmp/r.toml" 16 10 16 "eval_every = 5"
sed -i "1i device = \"$dev\"" "$tmp/r.toml"
u=units/r__sct__s5
for p in fp32 tf32 bf16; do
  "$bin" run "$tmp/r.toml" --set "train.precision=\"$p\"" --out "$tmp/$p" >"$tmp/log.$p" 2>&1 || { cat "$tmp/log.$p"; fail "$p run"; }
  want=$p; [ $dev = cpu ] && [ $p = tf32 ] && want=fp32  # tf32 is a CUDA mode
  [ "$(result "$tmp/$p/$u/result.json" world.precision)" = $want ] || fail "$p: world.precision"
done
"$py" - "$tmp"/{fp32,tf32,bf16}/$u/metrics.jsonl <<'PY' || fail "precision losses"
import json, sys
fp32, tf32, bf16 = ([json.loads(l)["loss"] for l in open(f)] for f in sys.argv[1:4])
for name, run in (("tf32", tf32), ("bf16", bf16)):
    rel = abs(run[-1] - fp32[-1]) / fp32[-1]
    print(f"{name}: last loss {run[-1]:.5f} against fp32 {fp32[-1]:.5f} ({rel:.3g} relative)")
    assert rel < 0.05, (name, rel)
assert bf16 != fp32, "bf16 gave fp32's losses exactly: autocast did not act"
PY
finish gpu_precision
