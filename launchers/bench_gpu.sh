#!/usr/bin/env bash
# bench_gpu.sh [OUTDIR]: the GPU benchmark, side by side in one run on one GPU: ViT-B/16 at
# 224x224, batch 64, SCT attn mode, train-step and forward images/s of bench_train at fp32, tf32
# and bf16, and of the same step in PyTorch (bench/train_step.py, eager, torch.autocast for
# bf16) on the same GPU, weights and data; the C++/PyTorch ratios and the largest relative
# loss difference over the steps. Needs a CUDA build (launchers/gpu_check.sh makes one) and
# python3 with a CUDA PyTorch. Writes OUTDIR/bench_gpu.txt and OUTDIR/bench_gpu.json.
#   STEPS=20 launchers/bench_gpu.sh /tmp/out
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCT_BUILD_DIR:-$repo/build-gpu}"
[ -x "$build/bin/bench_train" ] || build="$repo/build"
bench="$build/bin/bench_train"
out="${1:-$repo/bench-gpu-out}"
steps=${STEPS:-20}
py=${PYTHON:-python3}
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
[ -x "$bench" ] || { echo "bench_gpu: no $bench: build first" >&2; exit 1; }
if ! "$build/bin/sct_dist" --version | grep -q '^GPUs: [1-9]'; then
  echo "bench_gpu: no GPU usable by this build ($("$build/bin/sct_dist" --version | grep '^GPUs:'))" >&2
  exit 1
fi
have_torch=1
"$py" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null || {
  have_torch=0; echo "(no CUDA PyTorch for $py: no PyTorch column)"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -1; }
calc() { "$py" -c "print(format($1, '$2'))"; }

"$bench" --model vit-b16 --steps "$steps" --device cuda --dump "$tmp/dump" >"$tmp/dump.log"
{
  echo "ViT-B/16 224x224 batch 64, SCT attn, $steps steps (median step time), $(field gpu "$tmp/dump.log" | tr _ ' ')"
  printf "%-6s %10s %10s %10s %10s %10s %10s %10s\n" prec "C++ train" "C++ fwd" "torch trn" "torch fwd" \
    "train x" "fwd x" "max dloss"
} | tee "$out/bench_gpu.txt"
json="{"
for p in fp32 tf32 bf16; do
  "$bench" --model vit-b16 --steps "$steps" --device cuda --precision "$p" >"$tmp/cpp.$p"
  ct=$(field train_images_per_s "$tmp/cpp.$p"); cf=$(field forward_images_per_s "$tmp/cpp.$p")
  tt=- tf=- rt=- rf=- dl=-
  if [ $have_torch = 1 ]; then
    "$py" "$repo/bench/train_step.py" "$tmp/dump" "$steps" 1 cuda "$p" >"$tmp/py.$p"
    tt=$(field train_images_per_s "$tmp/py.$p"); tf=$(field forward_images_per_s "$tmp/py.$p")
    rt=$(calc "$ct/$tt" .2f); rf=$(calc "$cf/$tf" .2f)
    dl=$("$py" -c 'import sys
a=[float(x) for x in sys.argv[1].split(",")]; b=[float(x) for x in sys.argv[2].split(",")]
print(format(max(abs(x-y)/abs(y) for x,y in zip(a,b)), ".2g"))' "$(field losses "$tmp/cpp.$p")" "$(field losses "$tmp/py.$p")")
  fi
  printf "%-6s %10s %10s %10s %10s %10s %10s %10s\n" "$p" "$ct" "$cf" "$tt" "$tf" "$rt" "$rf" "$dl" | tee -a "$out/bench_gpu.txt"
  json+="\"$p\": {\"cpp_train\": \"$ct\", \"cpp_forward\": \"$cf\", \"torch_train\": \"$tt\", \"torch_forward\": \"$tf\", \"train_ratio\": \"$rt\", \"forward_ratio\": \"$rf\", \"max_rel_loss_diff\": \"$dl\"}, "
done
json+="\"gpu\": \"$(field gpu "$tmp/dump.log" | tr _ ' ')\", \"steps\": $steps}"
echo "$json" >"$out/bench_gpu.json"
echo "(x: C++ images/s over PyTorch eager's; goal at bf16: train x >= 1.2)" | tee -a "$out/bench_gpu.txt"
