#!/usr/bin/env bash
# Several evaluation splits and train.select_on on a tiny synthetic task: every split is
# evaluated at each evaluation epoch, the epoch is the first best of the selection split, the
# reported split is taken at that epoch (checked against metrics.jsonl), and the report labels
# say so. Without select_on each split reports its own best.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$data_bin" synth --output "$tmp/task.h5" --classes 3 --size 16 --split train=48 --split val=24 --split test=30 \
  --seed 1 --task synth >/dev/null || { echo "sct_data synth failed"; exit 1; }
write_recipe "$tmp/r.toml" 16 6 16 "eval_every = 1" "select_on = \"val\""
sed -i 's/^eval_split = "test"$/eval_splits = ["val", "test"]/' "$tmp/r.toml"
cp "$tmp/r.toml" "$tmp/ref.toml"
sed -i '/^select_on = /d' "$tmp/ref.toml"
for r in r ref; do
  "$bin" run "$tmp/$r.toml" --out "$tmp/runs/$r" >"$tmp/$r.log" 2>&1 || { cat "$tmp/$r.log"; fail "run $r"; }
done
"$py" - "$tmp/runs/r/units/r__sct__s5" "$tmp/runs/ref/units/ref__sct__s5" <<'PY' || fail "selection or reported splits"
import json, sys
def load(d):
    curve = [json.loads(l) for l in open(d + "/metrics.jsonl")]
    return curve, json.load(open(d + "/result.json"))
def first_best(curve, split):
    best = None
    for m in curve:
        if m.get("evals") and (best is None or m["evals"][split] > best["evals"][split]):
            best = m
    return best
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False

curve, res = load(sys.argv[1])
check(all(sorted(m["evals"]) == ["test", "val"] for m in curve), "every epoch evaluates val and test")
check(all(m["eval_acc"] == m["evals"]["test"] for m in curve), "eval_acc is the reported split's")
sel = first_best(curve, "val")
acc = res["accuracy"]
check(acc["selected_on"] == "val", f"selected_on {acc['selected_on']}")
check(acc["best_epoch"] == sel["epoch"], f"best_epoch {acc['best_epoch']} != first best val epoch {sel['epoch']}")
check(acc["best"] == sel["evals"]["test"], f"best {acc['best']} != test at the selected epoch {sel['evals']['test']}")
check(acc["last"] == curve[-1]["evals"]["test"], "last is test after the final epoch")
check(res["eval_split"] == "test" and res["eval_splits"] == ["val", "test"], "eval_split(s)")
check([s["split"] for s in acc["splits"]] == ["test"], "only test is reported")
print("selected epoch", sel["epoch"], "val", [m["evals"]["val"] for m in curve], "test", [m["evals"]["test"] for m in curve])

curve, res = load(sys.argv[2])
acc = res["accuracy"]
check(acc["selected_on"] == "val" and res["eval_split"] == "val", "reference: headline val, selected on itself")
for s in acc["splits"]:
    b = first_best(curve, s["split"])
    check(s["best_epoch"] == b["epoch"] and s["best"] == b["evals"][s["split"]], f"reference: {s['split']} at its own best")
check([s["split"] for s in acc["splits"]] == ["val", "test"], "reference: both splits reported")
sys.exit(0 if ok else 1)
PY
"$bin" report "$tmp/runs/r" >"$tmp/report.md" 2>&1 || fail "report"
grep -q "Accuracy, test (val-selected)" "$tmp/report.md" || { cat "$tmp/report.md"; fail "report label"; }
grep -q "test-selected" "$tmp/report.md" && fail "the clean run is labelled test-selected"
"$bin" report "$tmp/runs/ref" >"$tmp/report_ref.md" 2>&1 || fail "report ref"
grep -q "each split selected on itself" "$tmp/report_ref.md" || { cat "$tmp/report_ref.md"; fail "reference label"; }
# A selection split that is not evaluated is refused with the key.
"$bin" run "$tmp/r.toml" --out "$tmp/bad" --dry-run --set 'train.select_on="train"' >"$tmp/bad.log" 2>&1 && fail "bad select_on accepted"
grep -q "key 'train.select_on' = \"train\" is not an evaluation split" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "bad select_on message"; }
finish train_select_on
