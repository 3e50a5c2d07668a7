#!/usr/bin/env bash
# SCT against the linear probe, same backbone, data, lr and epochs, on a synthetic task where
# the frozen random backbone's CLS features separate the classes only partly: SCT trains the
# head plus K x K maps inside every block, a strict superset of what the probe trains, and must
# come out ahead on every seed. Run as a 2-group sweep at -n 2, as users do.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$data_bin" synth --output "$tmp/task.h5" --classes 4 --size 16 --split train=256 --split test=200 --seed 3 \
  --task synth >/dev/null || { echo "synth failed"; exit 1; }
write_recipe "$tmp/r.toml" 16 20 32 "warmup_epochs = 2" "eval_every = 5" "[sweep]" \
  "methods = [\"sct\", \"linear\"]" "seeds = [1, 2, 3]" "ranks_per_task = 1"
sed -i 's/^depth = 2$/depth = 3/; /^warmup_epochs = 1$/d' "$tmp/r.toml"
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/run" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "sweep"; }
"$py" - "$tmp/run" <<'PY' || fail "SCT does not beat the linear probe"
import glob, json, sys
acc = {}
for f in glob.glob(sys.argv[1] + "/units/*/result.json"):
    j = json.load(open(f))
    acc[(j["method"], j["seed"])] = j["accuracy"]["last"]
for seed in (1, 2, 3):
    s, l = acc[("sct", seed)], acc[("linear", seed)]
    print(f"seed {seed}: sct {s:.1f}%  linear {l:.1f}%")
    assert s > l, (seed, s, l)
ms = sum(acc[("sct", s)] for s in (1, 2, 3)) / 3
ml = sum(acc[("linear", s)] for s in (1, 2, 3)) / 3
print(f"mean: sct {ms:.2f}%  linear {ml:.2f}%")
assert ms >= ml + 3.0, (ms, ml)
PY
finish train_sct_vs_linear
