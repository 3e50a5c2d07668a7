#!/usr/bin/env bash
# A sweep at -n 2 killed with SIGKILL (mpirun and all its children at once) at several moments:
# just after it took the run lock, just after a unit finished, and in the middle of a unit (a
# checkpoint written, no result yet). Every re-run takes over the stale lock and resumes; the
# results of finished units are never rewritten (bytes and mtime) nor their units run again,
# and the last run completes the set with whole metrics files.
source "$SCT_SRC/tests/train/common.sh"
tmp=$(mktemp -d); job=; trap '[ -n "$job" ] && kill_tree $job; rm -rf "$tmp"' EXIT
descendants() { local p; for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done; }
kill_tree() { local all="$1 $(descendants "$1")"; kill -9 $all 2>/dev/null; wait "$1" 2>/dev/null; }
mkdir -p "$tmp/tasks"
# 24, 20, 16 training images: units run largest first (a, b, c), 40 epochs of 2-3 steps each.
for spec in "a 24 1" "b 20 2" "c 16 3"; do
  set -- $spec
  "$data_bin" synth --output "$tmp/$1.h5" --classes 3 --size 16 --split train="$2" --split test=8 \
    --seed "$3" --task "$1" >/dev/null || fail "synth $1"
  printf '[task]\ndata = "%s/%s.h5"\n' "$tmp" "$1" >"$tmp/tasks/$1.toml"
done
cat >"$tmp/sweep.toml" <<TOML
seed = 1
model = { dim = 32, depth = 2, heads = 2, patch = 4, image_size = 16, drop_path = 0.0 }
task = { train_split = "train", eval_split = "test" }
peft = { method = "sct", k = 8 }
train = { epochs = 40, warmup_epochs = 1, batch_size = 8, eval_every = 10, checkpoint_every = 1 }
[sweep]
tasks = ["tasks/a.toml", "tasks/b.toml", "tasks/c.toml"]
ranks_per_task = 2
TOML
start() {  # start LOG: the sweep at -n 2 in the background, in its own session
  setsid "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" >"$1" 2>&1 &
  job=$!
}
wait_for() {  # wait_for TEST...: poll (up to 120 s) until the test holds or the job ended
  for _ in $(seq 1200); do eval "$@" && return 0; kill -0 $job 2>/dev/null || return 1; sleep 0.1; done
  return 1
}
finished() { ls "$tmp"/run/units/*/result.json 2>/dev/null; }
snapshot() { for f in $(finished); do echo "$f $(sha256sum <"$f") $(stat -c %Y.%y "$f")"; done; }
mid_unit() {  # a unit with a checkpoint of this run and no result
  local c
  for c in "$tmp"/run/units/*/checkpoint.safetensors; do
    [ -f "$c" ] && [ ! -f "$(dirname "$c")/result.json" ] && [ "$c" -nt "$tmp/started" ] && return 0
  done
  return 1
}
check_kept() {  # the finished results of SNAPSHOT are unchanged
  local line f
  while read -r line; do
    f=${line%% *}
    grep -qxF "$line" <(snapshot) || fail "$1: $f was rewritten or lost"
  done <<<"$2"
}

# 1: killed just after taking the lock.
start "$tmp/log1"
wait_for '[ -s "$tmp/run/run.lock" ]' || { cat "$tmp/log1"; fail "no run lock"; }
kill_tree $job; job=
# 2: killed just after the first unit finished.
start "$tmp/log2"
wait_for '[ -n "$(finished)" ]' || { cat "$tmp/log2"; fail "no unit finished"; }
kill_tree $job; job=
grep -q "taking over the stale lock" "$tmp/log2" || fail "the lock of the killed run was not taken over"
kept=$(snapshot)
[ -n "$kept" ] || fail "no finished unit to keep"
# 3: killed in the middle of a unit, after one of its checkpoints.
touch "$tmp/started"
start "$tmp/log3"
wait_for mid_unit || { cat "$tmp/log3"; fail "no checkpoint of an unfinished unit"; }
kill_tree $job; job=
check_kept "after the mid-unit kill" "$kept"
kept=$(snapshot)
mid=$(for c in "$tmp"/run/units/*/checkpoint.safetensors; do [ -f "$(dirname "$c")/result.json" ] || basename "$(dirname "$c")"; done)
# The kill came at least 39 epochs before the unit's end, so it is still unfinished.
[ -n "$mid" ] || fail "no unit was left half-way by the mid-unit kill"
echo "killed with $(echo "$kept" | wc -l) unit(s) finished; half-way: $mid"
# 4: runs to the end.
SCT_MPI_QUIET=1 "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/sweep.toml" --out "$tmp/run" >"$tmp/log4" 2>&1 ||
  { cat "$tmp/log4"; fail "the final run"; }
check_kept "after the final run" "$kept"
n=$(echo "$kept" | wc -l)
grep -q "$n of 3 units already finished; skipping them" "$tmp/log4" || { cat "$tmp/log4"; fail "finished units not skipped"; }
for f in $(echo "$kept" | cut -d' ' -f1); do
  id=$(basename "$(dirname "$f")")
  grep -q "unit $id (" "$tmp/log4" && fail "finished unit $id ran again"
done
for id in $mid; do grep -q "resuming $tmp/run/units/$id at epoch" "$tmp/log4" || fail "$id did not resume"; done
for u in a b c; do
  d="$tmp/run/units/${u}__sct__s1"
  [ -f "$d/result.json" ] || fail "unit $u has no result"
  [ "$(wc -l <"$d/metrics.jsonl")" = 40 ] || fail "unit $u: metrics.jsonl has $(wc -l <"$d/metrics.jsonl") lines, not 40"
done
ls "$tmp"/run/units/*/*.tmp.* 2>/dev/null && fail "temporary files of the killed runs were left"
finish sweep_kill
