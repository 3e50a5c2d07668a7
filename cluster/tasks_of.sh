#!/usr/bin/env bash
# tasks_of.sh RECIPE [sct_dist run options...]: prints the task names of a sweep, one per line,
# in the recipe's order: the list cluster/array.sbatch takes (line i+1 = array element i).
# Reads the plan of `sct_dist run --dry-run`, so it sees exactly the tasks a run would.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: cluster/tasks_of.sh RECIPE [sct_dist run options...]" >&2; exit 2; }
bin="${SCT_DIST:-$repo/build/bin/sct_dist}"
[ -x "$bin" ] || bin=$(command -v sct_dist) || { echo "tasks_of.sh: sct_dist not found; set SCT_DIST" >&2; exit 2; }
plan=$("$bin" run "$@" --dry-run) || { echo "tasks_of.sh: the dry run failed" >&2; exit 2; }
# Plan rows: "[sweep]   <task>__<method>__s<seed>[__<variant>]  <method> ...".
awk '$1 == "[sweep]" && $2 ~ /__/ { split($2, p, "__"); if (!seen[p[1]]++) print p[1] }' <<<"$plan"
