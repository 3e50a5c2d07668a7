#!/usr/bin/env bash
# The sct_data binary end to end: conversions checked with h5py/PIL, errors as one line.
set -euo pipefail
exec "${SCT_PYTHON:-/usr/bin/python3}" "$SCT_SRC/tests/data/sct_data_cli.py"
