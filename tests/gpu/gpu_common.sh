# Shared by the GPU script tests: the trainer's helpers, and a skip (exit 77, which CTest
# reports as skipped) with the reason when no GPU is usable. SCT_GPU_TESTS_ON_CPU=1 runs the
# tests with the CPU standing in (a rehearsal of the scripts where no GPU is): $dev is the
# recipe's device, $want_device what result.json must record.
source "$SCT_SRC/tests/train/common.sh"
if [ "${SCT_GPU_TESTS_ON_CPU:-0}" = 1 ]; then
  echo "rehearsal: the CPU stands in for the GPU"
  dev=cpu want_device=cpu
else
  gpus=$("$bin" --version | sed -n 's/^GPUs: //p')
  case "$gpus" in
    0*|"") echo "skipped: no GPU for the GPU tests (sct_dist --version: GPUs: ${gpus:-?})"; exit 77 ;;
  esac
  echo "GPUs: $gpus"
  dev=cuda want_device=cuda:0
fi
# result FILE KEY: a dotted key of a result.json
result() { "$py" -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
