#!/bin/bash
# NumPy reference check of `sct_dist forward` / `inspect` (see check_reference.py).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$SCT_PYTHON" "$SCT_SRC/tests/model/check_reference.py" "$SCT_BUILD/bin/sct_dist" \
  "$SCT_BUILD/tests/model/model_fixture" "$work"
