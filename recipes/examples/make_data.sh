#!/usr/bin/env bash
# make_data.sh [DIR]: writes the synthetic task files of the example recipes into DIR
# (default: $SCT_DATA, else data/examples). Needs the sct_data tool ($SCT_DATA_TOOL, else
# build/bin/sct_data, else sct_data on the PATH).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-${SCT_DATA:-data/examples}}"
tool="${SCT_DATA_TOOL:-$repo/build/bin/sct_data}"
[ -x "$tool" ] || tool=$(command -v sct_data) || { echo "make_data.sh: sct_data not found; build it or set SCT_DATA_TOOL" >&2; exit 2; }
mkdir -p "$dir"
"$tool" synth --output "$dir/synth_a.h5" --task synth_a --classes 4 --size 16 --split train=256 --split test=128 --seed 1
"$tool" synth --output "$dir/synth_b.h5" --task synth_b --classes 6 --size 16 --split train=384 --split test=192 --seed 2
"$tool" synth --output "$dir/synth_c.h5" --task synth_c --classes 3 --size 16 --split train=128 --split test=96 --seed 3
