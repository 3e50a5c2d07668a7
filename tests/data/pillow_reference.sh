#!/usr/bin/env bash
# Image operations (resize, RandAugment primitives) against Pillow.
set -euo pipefail
exec "${SCT_PYTHON:-/usr/bin/python3}" "$SCT_SRC/tests/data/pillow_reference.py" "$SCT_BUILD/tests/data/data_optool"
