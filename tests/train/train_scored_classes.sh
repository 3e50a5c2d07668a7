#!/usr/bin/env bash
# A split scored over some classes (its 'classes' attribute, as ImageNet-A and -R over their 200):
# the unit evaluates it with the argmax over those classes only, and `eval` at -n 1 and -n 2
# gives the same exact counts, checked against an independent reading of predict --all-classes
# (the first class of each image's full ranking that is among the scored ones). predict ranks
# over the scored classes; result.json records them and the exported adapter's path; the report
# labels the row; bad lists given to sct_data are one clear error.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpi="$SCT_SRC/tests/tools/mpirun.sh"
export SCT_MPI_QUIET=1
"$data_bin" synth --output "$tmp/task.h5" --classes 6 --size 16 --split train=48 --split test=24 --split a=30 \
  --scored-classes a=1,2,4 --seed 1 --task synth >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "sct_data synth failed"; exit 1; }
"$data_bin" inspect "$tmp/task.h5" --split a | grep -q "scored over 3 of 6 classes: 1, 2, 4" || fail "inspect shows the scored classes"
write_recipe "$tmp/r.toml" 16 2 16 "eval_every = 1" "export_adapter = \"adapter.safetensors\""
sed -i 's/^eval_split = "test"$/eval_splits = ["test", "a"]/' "$tmp/r.toml"
u="$tmp/out/units/r__sct__s5"
"$bin" run "$tmp/r.toml" --out "$tmp/out" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "training run"; finish train_scored_classes; }

"$bin" eval "$u" --split a --split test --output "$tmp/e1.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "eval -n 1"; }
"$mpi" 2 "$bin" eval "$tmp/r.toml" --adapter "$u/adapter.safetensors" --split a --split test \
  --output "$tmp/e2.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "eval -n 2"; }
"$bin" predict --adapter "$u/adapter.safetensors" --input "$tmp/task.h5" --split a --split test --all-classes \
  --top-k 6 --output "$tmp/all.csv" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "predict --all-classes"; }
"$bin" predict --adapter "$u/adapter.safetensors" --input "$tmp/task.h5" --split a --top-k 3 \
  --output "$tmp/masked.csv" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "predict"; }
"$py" - "$u" "$tmp/e1.json" "$tmp/e2.json" "$tmp/all.csv" "$tmp/masked.csv" <<'PY' || fail "scored-class evaluation"
import csv, json, os, sys
unit, e1, e2 = sys.argv[1], *(json.load(open(p))["splits"] for p in sys.argv[2:4])
full = list(csv.DictReader(open(sys.argv[4])))
masked = list(csv.DictReader(open(sys.argv[5])))
res = json.load(open(unit + "/result.json"))
scored = {1, 2, 4}
ok = True
def check(cond, what):
    global ok
    if not cond: print("FAIL:", what); ok = False

check(e1 == e2, f"eval -n 1 {e1} != -n 2 {e2}")
rows = [r for r in full if r["source"] == "a"]
check(len(rows) == 30 and e1["a"]["total"] == 30, "30 images of split a")
ranking = [[int(r[f"class_{k}"]) for k in range(1, 7)] for r in rows]
labels = [int(r["label"]) for r in rows]
check(all(sorted(x) == list(range(6)) for x in ranking), "--all-classes ranks every class")
check(set(labels) <= scored, "labels of a lie among its scored classes")
# Independent: the masked prediction is the most probable scored class of the full ranking.
mine = [next(c for c in x if c in scored) for x in ranking]
top1 = [x[0] for x in ranking]
want = sum(p == l for p, l in zip(mine, labels))
unmasked = sum(p == l for p, l in zip(top1, labels))
check(e1["a"]["correct"] == want, f"eval counts {e1['a']['correct']} correct on a, independent masked count {want}")
check(e1["a"].get("scored_classes") == 3 and "scored_classes" not in e1["test"], "eval reports the scored classes")
check(any(p != t for p, t in zip(mine, top1)), "the mask changes no prediction: the test checks nothing")
test_rows = [r for r in full if r["source"] == "test"]
check(sum(r["class_1"] == r["label"] for r in test_rows) == e1["test"]["correct"], "unmasked split: top-1 of all")
# predict (without --all-classes) ranks over the scored classes: its top-1 is the masked prediction.
check([int(r["class_1"]) for r in masked] == mine, "predict top-1 on a is the masked argmax")
check(all({int(r[f"class_{k}"]) for k in (1, 2, 3)} == scored for r in masked), "predict ranks the 3 scored classes")
check(all(abs(sum(float(r[f"prob_{k}"]) for k in (1, 2, 3)) - 1) < 1e-4 for r in masked), "probabilities over the scored classes")
# result.json: the unit's final accuracy on a is the masked one; the split records its classes; the adapter's path.
acc = {s["split"]: s for s in res["accuracy"]["splits"]}
check(abs(acc["a"]["last"] - 100.0 * want / 30) < 1e-9, f"result.json last on a {acc['a']['last']}, masked {100.0 * want / 30}")
check(acc["a"].get("scored_classes") == 3 and "scored_classes" not in acc["test"], "result.json scored_classes")
check(res.get("exported_adapter") == "adapter.safetensors", f"exported_adapter {res.get('exported_adapter')}")
check(os.path.isfile(os.path.join(unit, res.get("exported_adapter", ""))), "exported_adapter names the file")
print(f"split a: masked {want}/30 correct, over all classes {unmasked}/30")
sys.exit(0 if ok else 1)
PY
"$bin" report "$tmp/out" >"$tmp/report.md" 2>&1 || { cat "$tmp/report.md"; fail "report"; }
grep -q "r · a (3 classes)" "$tmp/report.md" || { cat "$tmp/report.md"; fail "report row of the scored split"; }
grep -q "r · test " "$tmp/report.md" || fail "report row of the unscored split"

# A unit directory written without the key (older sct_dist) still reports.
"$py" - "$u/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r.pop("exported_adapter")
for s in r["accuracy"]["splits"]: s.pop("scored_classes", None)
json.dump(r, open(sys.argv[1], "w"))
PY
"$bin" report "$tmp/out" >"$tmp/report_old.md" 2>&1 || { cat "$tmp/report_old.md"; fail "report of an older result.json"; }
grep -q "r · a " "$tmp/report_old.md" || fail "older result.json: row of split a"

# Bad lists: one line naming the option, exit 2, no file left.
bad() {  # expected-text args...
  local want=$1; shift
  "$data_bin" synth --output "$tmp/bad.h5" --classes 6 --size 8 --split a=4 "$@" >"$tmp/bad.log" 2>&1
  local rc=$?
  [ "$rc" = 2 ] || fail "synth $*: exit $rc, expected 2"
  grep -qF -- "$want" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "synth $*: no '$want'"; }
  [ "$(grep -c . "$tmp/bad.log")" = 1 ] || { cat "$tmp/bad.log"; fail "synth $*: more than one line"; }
  [ -e "$tmp/bad.h5" ] && fail "synth $*: left a file"
}
bad "--scored-classes a=1,1: class 1 is listed twice" --scored-classes a=1,1
bad "--scored-classes a=0,6: class 6 is outside [0, 6) (--classes)" --scored-classes a=0,6
bad "--scored-classes a=labels: this command has no labels" --scored-classes a=labels
bad "--scored-classes b=1: no split 'b' is written (splits: a)" --scored-classes b=1
printf '' >"$tmp/empty.txt"
bad "--scored-classes a=@$tmp/empty.txt: no classes listed" --scored-classes "a=@$tmp/empty.txt"
finish train_scored_classes
