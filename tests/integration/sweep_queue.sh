#!/usr/bin/env bash
# The work queue is served whatever rank 0 is doing: a sweep of six units in two groups of one
# rank, where rank 0 waits SCT_FAULT_SLOW_START_S seconds before each of its units (as a slow
# backbone load would). Group 1's requests must be answered at once (each logged wait far below
# that delay), every unit must finish, and each unit is handed out once.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cd "$tmp" || exit 1
tool="$SCT_BUILD/bin/sct_data"
for t in a:4:1 b:6:2 c:3:3; do
  IFS=: read -r name classes seed <<<"$t"
  "$tool" synth --output "data/synth_$name.h5" --task "synth_$name" --classes "$classes" --size 16 \
    --split train=128 --split test=64 --seed "$seed" >/dev/null || { echo "FAIL: sct_data synth"; exit 1; }
done
export SCT_DATA="$tmp/data"
delay=4
SCT_FAULT_SLOW_START_S=$delay SCT_MPI_TIMEOUT=200 "$SCT_MPIRUN" 2 "$bin" --verbose --threads 1 run \
  "$SCT_SRC/recipes/examples/sweep.toml" --set train.epochs=2 --out q >q.log 2>&1 ||
  { cat q.log; fail "the sweep failed"; }
[ "$(ls q/units/*/result.json 2>/dev/null | wc -l)" = 6 ] || fail "not every unit has a result"
waits=$(sed -n 's/.*group 1: unit \([^ ]*\) .*; \([0-9.]*\) s waiting for the queue.*/\1 \2/p' q.log)
n=$(echo "$waits" | grep -c .)
[ "$n" -ge 2 ] || { cat q.log; fail "group 1 ran $n units while rank 0 was slow (expected 2 or more)"; }
# Generous: a wait for rank 0's own work would be about $delay s.
echo "$waits" | awk -v lim=1.0 '$2 > lim { bad = 1; print "  slow answer: " $0 } END { exit bad }' ||
  fail "group 1 waited for rank 0's work"
units=$(sed -n 's/.*group [01]: unit \([^ ]*\) .*waiting for the queue.*/\1/p' q.log | sort)
[ "$(echo "$units" | uniq | wc -l)" = 6 ] && [ "$(echo "$units" | wc -l)" = 6 ] ||
  fail "units were not handed out exactly once: $(echo $units)"
echo "group 1 waits (unit, seconds):"; echo "$waits" | sed 's/^/  /'
if [ $fails = 0 ]; then echo "sweep_queue: all checks passed"; else echo "sweep_queue: $fails failures"; exit 1; fi
