#!/usr/bin/env bash
# `sct_dist report` on a synthetic finished sweep: md, csv and html agree with numbers recomputed
# from the result files; a sweep with missing, corrupt and failed units names each of them and
# still reports the rest; --strict and bad options exit 2 with one line.
set -euo pipefail
PY=${SCT_PYTHON:-/usr/bin/python3}
BIN=$SCT_BUILD/bin/sct_dist
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for kind in clean broken; do
  flag=""
  [ "$kind" = broken ] && flag=--broken
  "$PY" "$HERE/report_fixture.py" "$T/$kind" $flag
  "$BIN" report "$T/$kind" > "$T/$kind.md" 2> "$T/$kind.err"   # md is the default, on stdout
  "$BIN" report "$T/$kind" --format csv --output "$T/$kind.csv" 2>> "$T/$kind.err" >/dev/null
  "$BIN" report "$T/$kind" --format=html --output "$T/$kind.html" 2>> "$T/$kind.err" >/dev/null
  "$PY" "$HERE/report_check.py" "$T/$kind" "$T/$kind.md" "$T/$kind.csv" "$T/$kind.html" $flag
done

# Clean: nothing on stderr. Broken: every bad file named on stderr (once per format run).
if [ -s "$T/clean.err" ]; then echo "unexpected stderr on a clean sweep:"; cat "$T/clean.err"; exit 1; fi
for f in kitti__sct__s0/result.json kitti__linear__s0/result.json eurosat__sct__s2/result.json \
         dtd__linear__s2/error.json; do
  n=$(grep -c "units/$f" "$T/broken.err" || true)
  if [ "$n" != 3 ]; then echo "stderr names $f $n times, want 3:"; cat "$T/broken.err"; exit 1; fi
done
grep -q "kitti__linear__s0/result.json: not valid JSON" "$T/broken.err"
grep -q "eurosat__sct__s2/result.json: key 'accuracy.best': expected a number, found nothing" "$T/broken.err"

expect_exit() {  # CODE PATTERN ARGS...: exit code and a one-line message matching PATTERN
  local code=$1 pattern=$2
  shift 2
  set +e
  "$BIN" report "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  set -e
  if [ $rc -ne "$code" ] || ! grep -q -- "$pattern" "$T/err"; then
    echo "report $*: exit $rc (want $code), stderr:"; cat "$T/err"; exit 1
  fi
}
expect_exit 2 "unit failed: out of memory" "$T/broken" --strict
expect_exit 2 "expects md, csv or html, found 'pdf'" "$T/clean" --format pdf
expect_exit 2 "no units/ folder" "$T"
echo "report_cli: ok"
