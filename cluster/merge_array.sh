#!/usr/bin/env bash
# merge_array.sh ARRAY_DIR [report options...]: joins the run directories of a job array
# (ARRAY_DIR/<task>/units/<unit>) into ARRAY_DIR/merged/units/ as symbolic links, writes the
# summary table of all of them to ARRAY_DIR/merged/summary.txt and prints it; with report
# options (--format html --output FILE, ...) runs `sct_dist report` with them instead. Elements
# still running or failed show up in the report's notes. Safe to run again at any time.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: cluster/merge_array.sh ARRAY_DIR [sct_dist report options...]" >&2; exit 2; }
dir=${1%/}
shift
bin="${SCT_DIST:-$repo/build/bin/sct_dist}"
[ -x "$bin" ] || bin=$(command -v sct_dist) || { echo "merge_array.sh: sct_dist not found; set SCT_DIST" >&2; exit 2; }
[ -d "$dir" ] || { echo "merge_array.sh: $dir: no such directory" >&2; exit 2; }

merged="$dir/merged"
mkdir -p "$merged/units"
find "$merged/units" -maxdepth 1 -type l -delete
n=0
for unit in "$dir"/*/units/*/; do
  [ -d "$unit" ] || continue
  element=$(basename "$(dirname "$(dirname "$unit")")")
  [ "$element" = merged ] && continue
  name=$(basename "$unit")
  if [ -e "$merged/units/$name" ]; then
    echo "merge_array.sh: unit $name appears in more than one element; keeping the first" >&2
    continue
  fi
  ln -s "../../$element/units/$name" "$merged/units/$name"
  n=$((n + 1))
done
echo "merge_array.sh: $n unit(s) from $dir/*/units" >&2
if [ $# -gt 0 ]; then
  exec "$bin" report "$merged" "$@"
fi
"$bin" report "$merged" --output "$merged/summary.txt"
cat "$merged/summary.txt"
