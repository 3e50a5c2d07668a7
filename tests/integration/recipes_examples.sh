#!/usr/bin/env bash
# The example recipes work as their README says, without downloads: make_data.sh writes the
# synthetic task files, launchers/run_local.sh -n 2 runs the example sweep to the end (six units,
# each well above chance), and the same command again finds everything finished.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cd "$tmp" || exit 1
export SCT_DIST="$SCT_BUILD/bin/sct_dist" SCT_DATA_TOOL="$SCT_BUILD/bin/sct_data"
"$SCT_SRC/recipes/examples/make_data.sh" >make.log 2>&1 || { fail "make_data.sh"; cat make.log; }
for t in synth_a synth_b synth_c; do [ -s data/examples/$t.h5 ] || fail "make_data.sh did not write data/examples/$t.h5"; done

run() { timeout 240 "$SCT_SRC/launchers/run_local.sh" -n 2 run "$SCT_SRC/recipes/examples/sweep.toml"; }
run >run1.log 2>&1 || { fail "example sweep: exit code $?"; tail -20 run1.log; }
"$SCT_PYTHON" - runs/tiny_sweep <<'PY' || fail "example sweep results"
import json, sys
from pathlib import Path
classes = {"synth_a": 4, "synth_b": 6, "synth_c": 3}
units = sorted(Path(sys.argv[1], "units").glob("*/result.json"))
ok = len(units) == 6
if not ok: print("expected 6 results, found", len(units))
for p in units:
    r = json.loads(p.read_text())
    chance = 100 / classes[r["task"]]
    if r["accuracy"]["best"] < 1.5 * chance:
        print(f"{p.parent.name}: best accuracy {r['accuracy']['best']} is not above chance ({chance:.1f})"); ok = False
    if r["num_classes"] != classes[r["task"]]:
        print(f"{p.parent.name}: {r['num_classes']} classes"); ok = False
sys.exit(0 if ok else 1)
PY
grep -q "^Mean (3 tasks)" runs/tiny_sweep/summary.txt || fail "summary.txt lacks the mean over 3 tasks"
run >run2.log 2>&1 || fail "second run: exit code $?"
grep -q "6 of 6 units already finished" run2.log || { fail "second run did not skip the finished units"; tail -5 run2.log; }

if [ $fails = 0 ]; then echo "recipes_examples: all checks passed"; else echo "recipes_examples: $fails failures"; exit 1; fi
