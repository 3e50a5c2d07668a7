#!/usr/bin/env bash
# bench_train.sh: the SCT training-step benchmark, side by side in one run:
#   - C++ train-step and forward images/s, 1 thread (tiny ViT 28x28 batch 64; ViT-S/16 224x224 batch 16)
#   - the same step in PyTorch (Debian python3-torch, same LibTorch version) on the same weights
#     and data: images/s ratio and the largest loss difference over the steps
#   - the time each step spends inside matrix products (sgemm_ calls, timed by the preloaded
#     build/lib/libsgemm_clock.so) for both, and from it the largest C++/PyTorch ratio any
#     implementation of the C++ step's products could reach on this BLAS
#   - images/s at -n 1 and -n 2 (global batch fixed) and the scaling factor
# C++ and PyTorch run alternately ROUNDS times; each run reports median step times and the
# table shows the median run. Needs a build (launchers/setup.sh) and, for the comparison,
# `apt-get install python3-torch`.
#   STEPS_TINY=30 STEPS_S16=4 ROUNDS=3 launchers/bench_train.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCT_BUILD_DIR:-$repo/build}"
bench="$build/bin/bench_train"
clock="$build/lib/libsgemm_clock.so"
py=/usr/bin/python3
rounds=${ROUNDS:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
[ -x "$bench" ] && [ -f "$clock" ] || { echo "build first: launchers/setup.sh" >&2; exit 1; }
have_torch=1
$py -c "import torch" 2>/dev/null || { have_torch=0; echo "(python3-torch not installed: no PyTorch comparison)"; }
mpi_flags=(-q --bind-to none)
[ "$(id -u)" = 0 ] && mpi_flags+=(--allow-run-as-root)

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -1; }
# The run (file) whose train_images_per_s is the median of the given files.
median_run() {
  for f in "$@"; do echo "$(field train_images_per_s "$f") $f"; done | sort -g | sed -n "$(( ($# + 1) / 2 ))p" | cut -d' ' -f2
}
calc() { $py -c "print(format($1, '$2'))"; }

# The C++ side picks its OpenBLAS kernels at start-up (framework/core/blas_kernels.h); the Python
# side gets the same set through OPENBLAS_CORETYPE, so both multiply with the same kernels.
"$bench" --model tiny --steps 1 --threads 1 >"$tmp/probe"
core=$(field blas_core "$tmp/probe")
[ -n "$core" ] && [ "$core" != - ] && [ -z "${OPENBLAS_CORETYPE:-}" ] && export OPENBLAS_CORETYPE="$core"
echo "BLAS kernels: $(sed -n 's/.*blas_kernels: //p' "$tmp/probe")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $rounds alternating rounds, median run shown"
printf "%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %10s %9s\n" model "C++ train" "C++ fwd" "train/fwd" "gemm t/f" \
  "C++ gemm" "torch trn" "torch/fwd" "torch gem" "C++/torch" "gemm bound" "max dloss"
for spec in "tiny ${STEPS_TINY:-30}" "vit-s16 ${STEPS_S16:-4}"; do
  set -- $spec
  model=$1 steps=$2
  "$bench" --model "$model" --steps "$steps" --threads 1 --dump "$tmp/$model" >/dev/null
  cpp_runs=() py_runs=()
  for r in $(seq "$rounds"); do
    LD_PRELOAD="$clock" "$bench" --model "$model" --steps "$steps" --threads 1 >"$tmp/$model.cpp.$r"
    cpp_runs+=("$tmp/$model.cpp.$r")
    if [ $have_torch = 1 ]; then
      LD_PRELOAD="$clock" $py "$repo/bench/train_step.py" "$tmp/$model" "$steps" 1 >"$tmp/$model.py.$r"
      py_runs+=("$tmp/$model.py.$r")
    fi
  done
  c=$(median_run "${cpp_runs[@]}")
  ct=$(field train_images_per_s "$c"); cf=$(field forward_images_per_s "$c"); cr=$(field train_over_forward_time "$c")
  cg=$(calc "$(field train_gemm_s "$c")/$(field train_step_s "$c")" .0%)
  # The train step's sgemm_ time over the forward pass's: the train/fwd ratio of the products alone.
  cgr=$(calc "$(field train_gemm_s "$c")/$(field forward_gemm_s "$c")" .3f)
  if [ $have_torch = 1 ]; then
    p=$(median_run "${py_runs[@]}")
    pt=$(field train_images_per_s "$p"); pr=$(field train_over_forward_time "$p")
    pg=$(calc "$(field train_gemm_s "$p")/$(field train_step_s "$p")" .0%)
    ratio=$(calc "$ct/$pt" .2f)x
    # PyTorch's step time over the C++ step's matrix-product time: what C++/PyTorch would be
    # if everything but the C++ step's products took no time at all.
    bound=$(calc "$(field train_step_s "$p")/$(field train_gemm_s "$c")" .2f)x
    dl=$($py - "$c" "$p" <<'PY'
import sys
def losses(p):
    return [float(v) for v in open(p).read().split("losses=")[1].split()[0].split(",")]
a, b = losses(sys.argv[1]), losses(sys.argv[2])
print(f"{max(abs(x - y) / abs(y) for x, y in zip(a, b)):.1e}")
PY
)
  else
    pt=-; pr=-; pg=-; ratio=-; bound=-; dl=-
  fi
  printf "%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %10s %9s\n" "$model" "$ct" "$cf" "$cr" "$cgr" "$cg" "$pt" "$pr" \
    "$pg" "$ratio" "$bound" "$dl"
done
echo "(images/s from median step times; train/fwd = train-step time over forward time; gemm t/f = the same"
echo " ratio for the time inside sgemm_ only; gemm = share of the train step inside sgemm_; gemm bound ="
echo " PyTorch step time / C++ step's sgemm_ time, the C++/PyTorch ratio if nothing but those products"
echo " took time; max dloss = largest relative loss difference over the steps)"

# Scaling: the tiny step at -n 1 and -n 2, one thread per rank, same global batch of 64.
"$bench" --model tiny --steps "${STEPS_TINY:-30}" --threads 1 >"$tmp/n1"
mpiexec "${mpi_flags[@]}" -n 2 "$bench" --model tiny --steps "${STEPS_TINY:-30}" --threads 1 >"$tmp/n2"
a=$(field train_images_per_s "$tmp/n1"); b=$(field train_images_per_s "$tmp/n2")
echo "tiny train step: -n 1 $a images/s, -n 2 $b images/s: scaling $(calc "$b/$a" .2f)x"
