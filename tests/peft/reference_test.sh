#!/bin/bash
# NumPy reference of `sct_dist saliency` (see saliency_reference.py).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$SCT_PYTHON" "$SCT_SRC/tests/peft/saliency_reference.py" "$SCT_BUILD/bin/sct_dist" "$SCT_BUILD/bin/sct_data" \
  "$SCT_MPIRUN" "$work"
