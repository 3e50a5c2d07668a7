#!/usr/bin/env bash
# The HTML report of a synthetic sweep rendered in headless Chromium: every chart drawn, the
# screenshot not blank. Exits 77 (CTest skip) when chromium is not installed.
set -euo pipefail
if ! command -v chromium > /dev/null; then
  echo "SKIP: chromium is not installed (Debian package 'chromium'); the HTML render test needs it"
  exit 77
fi
PY=${SCT_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$PY" "$HERE/report_fixture.py" "$T/run" --broken
"$SCT_BUILD/bin/sct_dist" report "$T/run" --format html --output "$T/report.html" > /dev/null 2>&1
"$PY" "$HERE/report_render.py" "$T/report.html" "$T"
