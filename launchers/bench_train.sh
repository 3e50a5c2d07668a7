#!/usr/bin/env bash
# bench_train.sh: the SCT training-step benchmark, side by side in one run:
#   - C++ train-step and forward images/s, 1 thread (tiny ViT 28x28 batch 64; ViT-S/16 224x224 batch 16)
#   - the same step in PyTorch (Debian python3-torch, same LibTorch version) on the same weights
#     and data: images/s ratio and the largest loss difference over the steps
#   - images/s at -n 1 and -n 2 (global batch fixed) and the scaling factor
# Needs a build (launchers/setup.sh) and, for the comparison, `apt-get install python3-torch`.
#   STEPS_TINY=20 STEPS_S16=4 launchers/bench_train.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCT_BUILD_DIR:-$repo/build}"
bench="$build/bin/bench_train"
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
[ -x "$bench" ] || { echo "build first: launchers/setup.sh" >&2; exit 1; }
have_torch=1
$py -c "import torch" 2>/dev/null || { have_torch=0; echo "(python3-torch not installed: no PyTorch comparison)"; }
mpi_flags=(-q --bind-to none)
[ "$(id -u)" = 0 ] && mpi_flags+=(--allow-run-as-root)

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %10s %10s %10s %10s %10s %10s %12s\n" model "C++ train" "C++ fwd" "train/fwd" "torch trn" "torch/fwd" "C++/torch" "max dloss"
for spec in "tiny ${STEPS_TINY:-20}" "vit-s16 ${STEPS_S16:-4}"; do
  set -- $spec
  "$bench" --model "$1" --steps "$2" --threads 1 --dump "$tmp/$1" >"$tmp/$1.cpp"
  ct=$(field train_images_per_s "$tmp/$1.cpp"); cf=$(field forward_images_per_s "$tmp/$1.cpp")
  cr=$(field train_over_forward_time "$tmp/$1.cpp")
  if [ $have_torch = 1 ]; then
    $py "$repo/framework/train/bench/train_step.py" "$tmp/$1" "$2" 1 >"$tmp/$1.py"
    pt=$(field train_images_per_s "$tmp/$1.py"); pr=$(field train_over_forward_time "$tmp/$1.py")
    ratio=$($py -c "print(f'{$ct/$pt:.2f}x')")
    dl=$($py - "$tmp/$1.cpp" "$tmp/$1.py" <<'PY'
import sys
def losses(p):
    return [float(v) for v in open(p).read().split("losses=")[1].split()[0].split(",")]
a, b = losses(sys.argv[1]), losses(sys.argv[2])
print(f"{max(abs(x - y) / abs(y) for x, y in zip(a, b)):.1e}")
PY
)
  else
    pt=-; pr=-; ratio=-; dl=-
  fi
  printf "%-8s %10s %10s %10s %10s %10s %10s %12s\n" "$1" "$ct" "$cf" "$cr" "$pt" "$pr" "$ratio" "$dl"
done
echo "(images/s; train/fwd = train-step time over forward time; max dloss = largest relative loss difference)"

# Scaling: the tiny step at -n 1 and -n 2, one thread per rank, same global batch of 64.
"$bench" --model tiny --steps "${STEPS_TINY:-20}" --threads 1 >"$tmp/n1"
mpiexec "${mpi_flags[@]}" -n 2 "$bench" --model tiny --steps "${STEPS_TINY:-20}" --threads 1 >"$tmp/n2"
a=$(field train_images_per_s "$tmp/n1"); b=$(field train_images_per_s "$tmp/n2")
echo "tiny train step: -n 1 $a images/s, -n 2 $b images/s: scaling $($py -c "print(f'{$b/$a:.2f}x')")"
