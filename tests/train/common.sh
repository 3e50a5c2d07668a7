# Shared by the trainer's script tests: a tiny synthetic task and recipe in a temp dir.
# Usage: source common.sh; make_task DIR TRAIN TEST CLASSES SIZE
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
data_bin="$SCT_BUILD/bin/sct_data"
py="${SCT_PYTHON:-/usr/bin/python3}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
finish() {
  if [ "$fails" = 0 ]; then echo "$1: all checks passed"; exit 0; fi
  echo "$1: $fails failures"; exit 1
}
make_task() {  # dir train test classes size [seed]
  "$data_bin" synth --output "$1/task.h5" --classes "$4" --size "$5" --split train="$2" --split test="$3" \
    --seed "${6:-1}" --task synth >/dev/null || { echo "sct_data synth failed"; exit 1; }
}
write_recipe() {  # path size epochs batch [extra lines...]
  local path=$1 size=$2 epochs=$3 batch=$4
  shift 4
  {
    echo "seed = 5"
    echo "[model]"; echo "dim = 32"; echo "depth = 2"; echo "heads = 2"; echo "patch = 4"
    echo "image_size = $size"; echo "drop_path = 0.0"
    echo "[task]"; echo "data = \"$(dirname "$path")/task.h5\""; echo "train_split = \"train\""; echo "eval_split = \"test\""
    echo "[peft]"; echo "k = 8"
    echo "[train]"; echo "epochs = $epochs"; echo "warmup_epochs = 1"; echo "batch_size = $batch"; echo "lr = 0.01"
    for line in "$@"; do echo "$line"; done
  } >"$path"
}
# metrics FILE: one line per epoch "epoch loss train_acc eval_acc"
metrics() { "$py" -c 'import json,sys
for l in open(sys.argv[1]):
    m=json.loads(l); print(m["epoch"], repr(m["loss"]), repr(m["train_acc"]), repr(m["eval_acc"]))' "$1"; }
# tensors_identical A B: two checkpoint.safetensors files hold the same tensors, byte for byte
tensors_identical() { "$py" - "$1" "$2" <<'PY'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    return {k: raw[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]
            for k, v in head.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert a.keys() == b.keys()
for k in a:
    assert a[k] == b[k], f"{k} differs"
print("final values and optimizer state identical:", sorted(a))
PY
}
# losses_agree A B N TOL LABEL: two metrics.jsonl files of N epochs whose losses agree to TOL
# relative (the largest difference is printed after LABEL), and the losses moved by more than
# 1e-3, or the comparison would prove nothing
losses_agree() { "$py" - "$@" <<'PY'
import json, sys
fa, fb, n, tol, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
a, b = ([json.loads(l) for l in open(f)] for f in (fa, fb))
assert len(a) == len(b) == n, (len(a), len(b))
worst = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(a, b))
print(f"{label}: largest relative loss difference {worst:.3g}")
assert worst <= tol, worst
assert abs(a[-1]["loss"] - a[0]["loss"]) > 1e-3, (a[0]["loss"], a[-1]["loss"])
PY
}
