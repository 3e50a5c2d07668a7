#!/bin/bash
# Short bounded fuzz run of the checkpoint parsers (ctest -L fuzz). A longer run, e.g. before a
# release, keeps its corpus between runs:
#   mkdir -p fuzz-corpus && cp tests/fuzz/corpus/* fuzz-corpus/
#   BUILD/bin/fuzz_checkpoint -max_total_time=3600 -rss_limit_mb=2048 -jobs=2 fuzz-corpus
# SCT_FUZZ_RUNS / SCT_FUZZ_SECONDS override the bounds of this short run.
set -euo pipefail
bin="$SCT_BUILD/bin/fuzz_checkpoint"
if [[ ! -x "$bin" ]]; then
  echo "run_fuzz.sh: $bin is not built (cmake --build BUILD --target fuzz_checkpoint)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$SCT_SRC"/tests/fuzz/corpus/* "$work/"  # libFuzzer adds new inputs to its first directory
cd "$work"
"$bin" -runs="${SCT_FUZZ_RUNS:-20000}" -max_total_time="${SCT_FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 "$work" 2>&1 | tail -25
exit "${PIPESTATUS[0]}"
