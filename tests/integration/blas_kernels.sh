#!/usr/bin/env bash
# OpenBLAS's generic-kernel fallback is replaced at start-up: with OpenBLAS's choice stood in for
# by SCT_BLAS_TEST_CORENAME=Prescott and no OPENBLAS_CORETYPE, sct_dist re-executes itself with
# the kernels the CPU supports, and the real OpenBLAS reports them (--version, the rank-0 log
# line, provenance.json), also under mpiexec at -n 2; a value the user set is kept.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cd "$tmp" || exit 1

flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx512f && has avx512bw && has avx512vl; then want=SkylakeX cpu=AVX-512
elif has avx2 && has fma; then want=Haswell cpu=AVX2
else echo "SKIP: this CPU has no AVX2, so no kernel set is better than the generic one"; exit 77; fi
"$bin" --version | grep -q '^BLAS: OpenBLAS' || { echo "SKIP: the BLAS is not OpenBLAS"; exit 77; }

fallback=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE SCT_BLAS_TEST_CORENAME=Prescott)
out=$("${fallback[@]}" "$bin" --version 2>&1)
echo "$out" | grep -qx "BLAS kernels: $want (set at start-up: OpenBLAS chose Prescott on a CPU with $cpu)" ||
  { fail "--version after the fallback does not report $want"; echo "$out"; }

# The unit tests' main applies the same fix, so their parity checks run on the kernels of a real run.
out=$("${fallback[@]}" "$SCT_BUILD/tests/model/test_model" --gtest_filter='Attention.*:Gelu.*' 2>&1)
echo "$out" | grep -qxF "blas: OpenBLAS chose Prescott on a CPU with $cpu; using $want kernels" ||
  { fail "the unit tests' main did not replace the kernels"; echo "$out" | head -5; }
echo "$out" | grep -q '^\[  PASSED  \]' || { fail "test_model's attention and GELU tests on $want kernels"; echo "$out" | tail -20; }

out=$(env OPENBLAS_CORETYPE=Prescott SCT_BLAS_TEST_CORENAME=Prescott "$bin" --version 2>&1)
echo "$out" | grep -qx "BLAS kernels: Prescott (OPENBLAS_CORETYPE=Prescott in the environment)" ||
  { fail "a user's OPENBLAS_CORETYPE was not kept"; echo "$out"; }

"$SCT_BUILD/bin/sct_data" synth --output synth_a.h5 --task synth_a --classes 4 --size 16 --split train=64 \
  --split test=32 --seed 1 >/dev/null || fail "sct_data synth"
export SCT_DATA="$tmp"
"${fallback[@]}" "$SCT_MPIRUN" 2 "$bin" run "$SCT_SRC/recipes/examples/tiny.toml" --set train.epochs=1 \
  --out run >run.log 2>&1 || { fail "the -n 2 run after re-executing failed"; tail -20 run.log; }
line="[r0 blas] OpenBLAS chose Prescott on a CPU with $cpu; using $want kernels"
[ "$(grep -cxF "$line" run.log)" = 1 ] || { fail "expected the line '$line' once"; grep blas run.log; }
"$SCT_PYTHON" - run/provenance.json "$want" <<'PY' || fail "provenance.json does not record the kernels"
import json, sys
p = json.load(open(sys.argv[1]))["starts"][-1]
k = p["versions"]["blas_kernels"]
assert k.startswith(sys.argv[2] + " (set at start-up: OpenBLAS chose Prescott"), k
assert p["versions"]["cpu_features"], p["versions"]
assert p["cpu"]["blas_kernels"] == k, (p["cpu"], k)
PY

if [ $fails = 0 ]; then echo "blas_kernels: all checks passed ($want)"; else echo "blas_kernels: $fails failures"; exit 1; fi
