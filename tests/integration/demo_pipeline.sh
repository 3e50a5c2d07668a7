#!/usr/bin/env bash
# The main job, reduced: launchers/demo.sh in its quick mode (a few hundred images, 2 epochs)
# builds the Fashion-MNIST benchmark, pre-trains, and runs the sweep on 2 ranks; a second run
# reuses everything. The task files are checked against the IDX files read independently
# (NumPy): images are Fashion-MNIST images of the labelled class, rotated by the labelled angle,
# splits are disjoint and train80val20 is train80 then val20; the build is deterministic.
set -uo pipefail
tmp=$(mktemp -d)
trap '[ "${SCT_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
fmnist=/usr/share/datasets/fashion-mnist
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $fmnist missing (Debian: dataset-fashion-mnist)"; exit 77; }

export SCT_BUILD_DIR="$SCT_BUILD" SCT_DEMO_SKIP_SETUP=1 SCT_DEMO_QUICK=1
export SCT_FMNIST_DATA="$tmp/data" SCT_FMNIST_CKPT="$tmp/runs/vit.safetensors" SCT_FMNIST_RUNS="$tmp/runs"
demo="$SCT_SRC/launchers/demo.sh"

# First run: everything is built and trained.
timeout 400 bash "$demo" >"$tmp/first" 2>&1 || { fail "demo.sh exit code $?"; tail -40 "$tmp/first"; }
grep -q "^fm_heldout " "$tmp/first" || { fail "no results table"; tail -40 "$tmp/first"; }
[ -f "$SCT_FMNIST_CKPT" ] || fail "no pre-trained checkpoint"
n=$(ls "$tmp"/runs/fmnist_sweep/units/*/result.json 2>/dev/null | wc -l)
[ "$n" = 54 ] || fail "$n unit results, expected 6 tasks x 3 methods x 3 seeds = 54"
grep -q "Cells are mean ± std over seeds" "$tmp/first" || fail "the table does not give mean ± std over seeds"

# Second run: data kept, checkpoint reused, every unit skipped, same table.
timeout 200 bash "$demo" >"$tmp/second" 2>&1 || fail "second demo.sh exit code $?"
grep -q "7 task files in .* (0 written, 7 up to date)" "$tmp/second" || fail "second run rebuilt data"
grep -q "checkpoint .* found; reusing it" "$tmp/second" || fail "second run did not reuse the checkpoint"
grep -q "54 of 54 units already finished" "$tmp/second" ||
  fail "second run did not skip the finished units"
table() { sed -n '/^results of .*fmnist_sweep: 54 finished/,/^\* best/p' "$1"; }
[ -n "$(table "$tmp/first")" ] && [ "$(table "$tmp/first")" = "$(table "$tmp/second")" ] ||
  fail "the second run printed another table"

# Determinism: the same options give the same content; another seed other content.
args=(--upstream-per-class 300 --upstream-test 100 --train 80 --val 20 --test 100 --tasks fm_rotation,fm_count)
"$SCT_BUILD/bin/sct_data" fmnist-bench --output-dir "$tmp/again" "${args[@]}" >/dev/null || fail "rebuild failed"
"$SCT_BUILD/bin/sct_data" fmnist-bench --output-dir "$tmp/seed1" --seed 1 "${args[@]}" >/dev/null || fail "seed 1 failed"

"$SCT_PYTHON" - "$tmp" "$fmnist" <<'EOF' || fail "task file checks"
import gzip, json, glob, sys
import h5py, numpy as np

tmp, root = sys.argv[1], sys.argv[2]
def idx(name, offset):
    return np.frombuffer(gzip.open(f"{root}/{name}").read(), np.uint8, offset=offset)
images = np.concatenate([idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28),
                         idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)])
labels = np.concatenate([idx("train-labels-idx1-ubyte.gz", 8), idx("t10k-labels-idx1-ubyte.gz", 8)])
where = {images[i].tobytes(): i for i in range(len(images))}
names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
bad = []
def check(ok, what):
    if not ok and what not in bad: bad.append(what)

def split(f, name):
    g = f[name]
    im = g["images"][:]
    check(im.shape[1:] == (28, 28, 3) and (im[..., 0] == im[..., 2]).all(), f"{f.filename}:{name} not gray 28x28x3")
    return im[..., 0], g["labels"][:]

def source_index(img):  # the Fashion-MNIST index of an image, or None
    return where.get(np.ascontiguousarray(img).tobytes())

used = {}
for path in sorted(glob.glob(f"{tmp}/data/*.h5")):
    f = h5py.File(path, "r")
    task = f.attrs["task"]
    check("fmnist-bench 1 --seed 0" in f.attrs["source"], f"{task}: provenance lacks builder and seed")
    check(len(f.attrs["class_names"]) == f.attrs["num_classes"], f"{task}: class names")
    counts = {"fm_upstream": {"train": 1500, "test": 100}}.get(task, {"train80": 80, "val20": 20, "train80val20": 100, "test": 100})
    check(sorted(f.keys()) == sorted(counts), f"{task}: splits {sorted(f.keys())}")
    for name, n in counts.items():
        im, lb = split(f, name)
        check(len(lb) == n, f"{task}:{name}: {len(lb)} images, expected {n}")
        hist = np.bincount(lb, minlength=f.attrs["num_classes"])
        check(name == "train80val20" or hist.max() - hist.min() <= 1, f"{task}:{name}: labels not balanced {hist}")
        if task in ("fm_upstream", "fm_heldout", "fm_all10"):
            cls = [names.index(c) for c in f.attrs["class_names"]]
            src = [source_index(x) for x in im]
            check(all(s is not None for s in src), f"{task}:{name}: images that are not Fashion-MNIST images")
            src = [s for s in src if s is not None]
            check(all(labels[s] == cls[l] for s, l in zip(src, lb)), f"{task}:{name}: image of another class")
            check(len(set(src)) == len(src), f"{task}:{name}: an image twice")
            check(all((s >= 60000) == (name == "test") for s in src), f"{task}:{name}: train/test images mixed")
            if name != "train80val20":
                used.setdefault(task, []).append(set(src))
        if task == "fm_rotation":
            for x, l in zip(im, lb):
                s = source_index(np.rot90(x, -int(l)))
                check(s is not None and labels[s] % 2 == 1, f"{task}:{name}: image is not a held-out item rotated by {l}*90")
    if task != "fm_upstream":
        (a, la), (b, lb2), (c, lc) = (split(f, n) for n in ("train80", "val20", "train80val20"))
        check((c == np.concatenate([a, b])).all() and (lc == np.concatenate([la, lb2])).all(),
              f"{task}: train80val20 is not train80 followed by val20")
for task, sets in used.items():
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            check(not (sets[i] & sets[j]), f"{task}: splits share images")
up = set().union(*used["fm_upstream"])
check(not (up & set().union(*used["fm_all10"])), "fm_all10 uses pre-training images")

def content(path):
    f = h5py.File(path, "r")
    return {k: (f[k]["images"][:].tobytes(), f[k]["labels"][:].tobytes()) for k in f.keys()}
for t in ("fm_rotation", "fm_count"):
    check(content(f"{tmp}/data/{t}.h5") == content(f"{tmp}/again/{t}.h5"), f"{t}: rebuilt content differs")
    check(content(f"{tmp}/data/{t}.h5") != content(f"{tmp}/seed1/{t}.h5"), f"{t}: seed 1 gives the same content")

# The sweep: every method on every task, SCT within 2% of full fine-tuning's parameters.
res = [json.load(open(p)) for p in glob.glob(f"{tmp}/runs/fmnist_sweep/units/*/result.json")]
full = {r["task"]: r["params"]["trainable"] for r in res if r["method"] == "full"}
for r in res:
    if r["method"] == "sct":
        check(r["params"]["trainable"] <= 0.02 * full[r["task"]],
              f"{r['unit']}: {r['params']['trainable']} trainable vs full {full[r['task']]}")
        check(all(len(c) == r["k"] for c in r["channels"]), f"{r['unit']}: channels")
    if r["method"] == "linear":
        check(r["params"]["trainable"] == r["params"]["head"], f"{r['unit']}: linear trains more than the head")
    check(0 <= r["accuracy"]["last"] <= 100, f"{r['unit']}: accuracy")
pre = json.load(open(glob.glob(f"{tmp}/runs/fmnist_pretrain/units/*/result.json")[0]))
curve = pre["curve"]
check(curve[-1]["loss"] < curve[0]["loss"], f"pre-training loss did not go down: {[c['loss'] for c in curve]}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF

[ $fails = 0 ] && echo "demo pipeline: all checks passed"
exit $((fails > 0))
