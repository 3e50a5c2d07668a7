#!/bin/bash
# `sct_dist saliency` writes the same file at -n 1, -n 2 and -n 3, byte for byte, on a split with
# an odd number of images where some classes have one image (so they live on one rank only) and
# one class has none; bad input fails with one line and exit code 2 on every world size.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dist="$SCT_BUILD/bin/sct_dist"
export SCT_MPI_QUIET=1
# 13 images of 10 classes: classes 0-2 have two images, 3-9 one, and the test split of 5 images
# leaves classes 5-9 without any.
"$SCT_BUILD/bin/sct_data" synth --output "$work/task.h5" --classes 10 --size 32 --seed 4 \
  --split train=13 --split test=5 >/dev/null
cat > "$work/r.toml" <<TOML
seed = 3
threads = 1
[model]
dim = 32
depth = 3
heads = 4
patch = 8
image_size = 32
[task]
name = "world"
data = "$work/task.h5"
train_split = "train"
[peft]
saliency_batch = 3
TOML
fail=0
same() {  # same NAME NP ARGS...: -n NP writes the file -n 1 writes
  local name=$1 np=$2; shift 2
  "$dist" saliency "$work/r.toml" "$@" --output "$work/n1.json" >/dev/null
  "$SCT_MPIRUN" "$np" "$dist" saliency "$work/r.toml" "$@" --output "$work/n$np.json" >/dev/null
  if cmp -s "$work/n1.json" "$work/n$np.json"; then
    echo "ok   $name: -n $np equals -n 1"
  else
    echo "FAIL $name: -n $np differs from -n 1"; fail=1
  fi
}
for mode in attn mlp qkv; do
  same "$mode/cais" 2 --set "peft.mode=\"$mode\""
done
same "attn/task" 2 --set 'peft.strategy="task"'
same "qkv/random" 2 --set 'peft.mode="qkv"' --set 'peft.strategy="random"'
same "attn/cais" 3
same "attn/cais, test split" 3 --set 'task.train_split="test"'
if grep -q '"images": 5,' "$work/n1.json" && grep -q '"classes_present": 5,' "$work/n1.json"; then
  echo "ok   test split: 5 images, 5 of 10 classes present"
else
  echo "FAIL test split counts"; fail=1
fi

# Bad input: one line on stderr, exit code 2, at -n 1 and -n 2.
expect_bad() {  # expect_bad NAME "1 2" ARGS...
  local what=$1 nps=$2; shift 2
  for np in $nps; do
    set +e
    if [ $np = 1 ]; then "$dist" "$@" >/dev/null 2>"$work/err"; else "$SCT_MPIRUN" 2 "$dist" "$@" >/dev/null 2>"$work/err"; fi
    rc=$?
    set -e
    lines=$(grep -c . "$work/err" || true)
    if [ $rc = 2 ] && [ "$lines" = 1 ]; then
      echo "ok   $what (-n $np): $(cat "$work/err")"
    else
      echo "FAIL $what (-n $np): rc=$rc, $lines lines:"; cat "$work/err"; fail=1
    fi
  done
}
expect_bad "no --output" "1" saliency "$work/r.toml"
expect_bad "missing task file" "1 2" saliency "$work/r.toml" --set "task.data=\"$work/none.h5\"" --output "$work/x.json"
expect_bad "image size mismatch" "1 2" saliency "$work/r.toml" --set model.image_size=64 --output "$work/x.json"
expect_bad "k above D" "1" saliency "$work/r.toml" --set peft.k=33 --output "$work/x.json"
expect_bad "unknown task" "1" saliency "$work/r.toml" --task other --output "$work/x.json"
[ ! -e "$work/x.json" ] || { echo "FAIL an output file was written on error"; fail=1; }
exit $fail
