#!/usr/bin/env bash
# Reusing a trained unit through the real binary: the exported adapter evaluated by `eval`
# reproduces the unit's own accuracy exactly at -n 1 and -n 2 (SCT, and the LoRA and Adapter
# baselines), and its counts on another split equal those of `predict`'s CSV; predict on a
# directory of the same images as PNG gives the same rows; the merged checkpoint's `forward`
# logits give predict's probabilities; attn mode is refused by merge; peft.channels reuses a
# saliency file, and bad ones are one clear error.
source "$SCT_SRC/tests/train/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpi="$SCT_SRC/tests/tools/mpirun.sh"
export SCT_MPI_QUIET=1
make_task "$tmp" 48 20 3 16
write_recipe "$tmp/r.toml" 16 3 16 "export_adapter = \"adapter.safetensors\""
sed -i 's/^k = 8$/k = 8\nmode = "mlp"/' "$tmp/r.toml"
u="$tmp/out/units/r__sct__s5"
"$bin" run "$tmp/r.toml" --out "$tmp/out" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "training run"; finish reuse_cli; }
[ -f "$u/adapter.safetensors" ] || fail "no adapter file in the unit directory"

# eval at -n 1 (unit directory) and -n 2 (recipe + --adapter): the unit's last accuracy exactly.
"$bin" eval "$u" --split test --split train --output "$tmp/e1.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "eval -n 1"; }
"$mpi" 2 "$bin" eval "$tmp/r.toml" --adapter "$u/adapter.safetensors" --split test --split train \
  --output "$tmp/e2.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "eval -n 2"; }
"$py" - "$u/result.json" "$tmp/e1.json" "$tmp/e2.json" <<'PY' || fail "eval does not reproduce the unit"
import json, sys
last = json.load(open(sys.argv[1]))["accuracy"]["last"]
e1, e2 = (json.load(open(p))["splits"] for p in sys.argv[2:4])
assert e1["test"]["accuracy"] == last, (e1["test"], last)
assert e1 == e2, (e1, e2)
assert e2["test"]["total"] == 20 and e2["train"]["total"] == 48
print("eval reproduces last =", last, "at -n 1 and -n 2")
PY

# The PEFT baselines export and evaluate the same way (their own tensors, no channels): eval of
# the unit directory at -n 1 and of the plain recipe with --adapter at -n 2 give the unit's last
# accuracy exactly; the adapter file names its method.
for m in lora adapter; do
  um="$tmp/out_$m/units/r__${m}__s5"
  "$bin" run "$tmp/r.toml" --out "$tmp/out_$m" --set "peft.method=\"$m\"" --set 'peft.init="standard"' \
    >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "$m training run"; continue; }
  "$bin" eval "$um" --split test --output "$tmp/e1_$m.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "$m eval -n 1"; }
  "$mpi" 2 "$bin" eval "$tmp/r.toml" --adapter "$um/adapter.safetensors" --split test --output "$tmp/e2_$m.json" \
    >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "$m eval -n 2"; }
  "$py" - "$m" "$um/result.json" "$tmp/e1_$m.json" "$tmp/e2_$m.json" <<'PY' || fail "$m: eval does not reproduce the unit"
import json, sys
method, last = sys.argv[1], json.load(open(sys.argv[2]))["accuracy"]["last"]
e1, e2 = (json.load(open(p)) for p in sys.argv[3:5])
assert e1["method"] == e2["method"] == method, (e1["method"], e2["method"])
assert e1["splits"]["test"]["accuracy"] == last, (e1["splits"], last)
assert e1["splits"] == e2["splits"], (e1["splits"], e2["splits"])
print(method, "eval reproduces last =", last, "at -n 1 and -n 2")
PY
done

# predict on the task file: its top-1 counts equal eval's.
"$bin" predict --adapter "$u/adapter.safetensors" --input "$tmp/task.h5" --output "$tmp/p.csv" --top-k 3 \
  >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "predict on the task file"; }
"$py" - "$tmp/p.csv" "$tmp/e1.json" <<'PY' || fail "predict disagrees with eval"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
splits = json.load(open(sys.argv[2]))["splits"]
for name, want in splits.items():
    mine = [r for r in rows if r["source"] == name]
    assert len(mine) == want["total"], (name, len(mine))
    correct = sum(r["class_1"] == r["label"] for r in mine)
    assert correct == want["correct"], (name, correct, want)
    for r in mine:
        p = [float(r[f"prob_{i}"]) for i in (1, 2, 3)]
        assert p == sorted(p, reverse=True) and abs(sum(p) - 1) < 1e-4, r
print("predict counts equal eval's")
PY

# The test images as PNG files in a directory: the same predictions, row for row.
mkdir "$tmp/png"
"$py" - "$tmp/task.h5" "$tmp/png" <<'PY' || fail "writing PNG images"
import sys, h5py
from PIL import Image
with h5py.File(sys.argv[1]) as f:
    for i, img in enumerate(f["test/images"][:6]):
        Image.fromarray(img).save(f"{sys.argv[2]}/img{i:02d}.png")
PY
"$bin" predict --adapter "$u/adapter.safetensors" --input "$tmp/png" --output "$tmp/d.csv" --top-k 3 \
  >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "predict on a directory"; }
"$py" - "$tmp/p.csv" "$tmp/d.csv" <<'PY' || fail "directory predictions differ from the task file's"
import csv, sys
h5 = [r for r in csv.DictReader(open(sys.argv[1])) if r["source"] == "test"][:6]
d = list(csv.DictReader(open(sys.argv[2])))
assert [r["source"] for r in d] == [f"img{i:02d}.png" for i in range(6)], d
# Batches of another size may move the last bit of a logit: classes equal, probabilities to 1e-5.
for a, b in zip(h5, d):
    for k in (1, 2, 3):
        assert a[f"class_{k}"] == b[f"class_{k}"], (a, b)
        assert abs(float(a[f"prob_{k}"]) - float(b[f"prob_{k}"])) <= 1e-5, (a, b)
print("directory rows equal the task file's")
PY

# merge, then forward on the same normalised images: softmax(logits) = predict's probabilities.
"$bin" merge --adapter "$u/adapter.safetensors" --output "$tmp/merged.safetensors" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "merge"; }
"$py" - "$tmp/task.h5" "$tmp/x.npy" <<'PY' || fail "writing the forward input"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    x = f["test/images"][:].astype(np.float32) / 255.0
mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
np.save(sys.argv[2], ((x - mean) / std).transpose(0, 3, 1, 2).astype(np.float32))
PY
"$bin" forward --checkpoint "$tmp/merged.safetensors" --input "$tmp/x.npy" --output "$tmp/logits.npy" \
  >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "forward on the merged checkpoint"; }
"$py" - "$tmp/logits.npy" "$tmp/p.csv" <<'PY' || fail "merged model differs from the adapter model"
import csv, sys, numpy as np
z = np.load(sys.argv[1]).astype(np.float64)
p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["source"] == "test"]
for i, r in enumerate(rows):
    for k in (1, 2, 3):
        c, want = int(r[f"class_{k}"]), float(r[f"prob_{k}"])
        assert abs(p[i, c] - want) <= 1e-5, (i, k, p[i, c], want)  # CSV has 6 significant digits
print("merged forward = adapter predict on", len(rows), "images")
PY

# attn mode does not fold: one clear refusal, exit 2.
write_recipe "$tmp/a.toml" 16 1 16 "export_adapter = \"adapter.safetensors\""
"$bin" run "$tmp/a.toml" --out "$tmp/outa" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "attn training run"; }
"$bin" merge --adapter "$tmp/outa/units/a__sct__s5/adapter.safetensors" --output "$tmp/m.safetensors" \
  >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || fail "merge of attn mode: exit $rc, expected 2"
grep -q "residual stream" "$tmp/log" || { cat "$tmp/log"; fail "merge of attn mode gives no reason"; }

# peft.channels: a saliency file is used as it is; bad ones fail the unit with one line naming the key.
"$bin" saliency "$tmp/r.toml" --output "$tmp/ch.json" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "saliency"; }
"$bin" run "$tmp/r.toml" --out "$tmp/outc" --set "peft.channels=\"$tmp/ch.json\"" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "run with peft.channels"; }
"$py" - "$tmp/ch.json" "$tmp/outc/units/r__sct__s5/channels.json" <<'PY' || fail "peft.channels not used"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert [l["h_indices"] for l in a["layers"]] == [l["h_indices"] for l in b["layers"]]
PY
bad() {  # name python-edit expected-text
  "$py" -c "import json,sys; s=json.load(open(sys.argv[1])); $2; json.dump(s, open(sys.argv[2], 'w'))" \
    "$tmp/ch.json" "$tmp/$1.json"
  "$bin" run "$tmp/r.toml" --out "$tmp/out_$1" --set "peft.channels=\"$tmp/$1.json\"" >"$tmp/log" 2>&1; rc=$?
  [ $rc = 2 ] || fail "$1 channels: exit $rc, expected 2 (a unit failed on bad input)"
  grep -q "key 'peft.channels'.*$3" "$tmp/out_$1/units/r__sct__s5/error.json" ||
    { cat "$tmp/log"; fail "$1 channels: no error naming peft.channels and '$3'"; }
}
bad width "s['dim'] = 48; [l.update(h_scores=[]) for l in s['layers']]" "D=48"
bad k "s['k'] = 7; [l.update(h_indices=l['h_indices'][:7]) for l in s['layers']]" "K=7"
bad unsorted "s['layers'][1]['h_indices'].reverse()" "ascending"
finish reuse_cli
