#!/bin/bash
# NumPy reference of `sct_dist saliency` (see saliency_reference.py). Exit 77 (skipped) without h5py.
set -euo pipefail
if ! "$SCT_PYTHON" -c "import h5py" 2>/dev/null; then
  echo "skipped: $SCT_PYTHON has no h5py (Debian: python3-h5py)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$SCT_PYTHON" "$SCT_SRC/tests/peft/saliency_reference.py" "$SCT_BUILD/bin/sct_dist" "$SCT_BUILD/bin/sct_data" \
  "$SCT_MPIRUN" "$work"
