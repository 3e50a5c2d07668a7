#!/usr/bin/env bash
# Faults at -n 2, each ending the run on every rank with one message and the documented exit
# code, within the launcher's time limit (a hang fails the test):
#   - a write that fails on rank 0 (full disk, injected with SCT_FAULT_WRITE) in the middle of
#     training, and when the result is written: exit 1, the previous checkpoint intact;
#   - a checkpoint with flipped bytes: exit 2 naming the file, --force restarts the unit;
#   - a checkpoint holding NaN under a valid checksum, and a diverging run: the unit fails
#     naming the epoch and step, the last good checkpoint stays;
#   - flipped image bytes in the task file: exit 2 naming the file and split;
#   - the exit codes of launchers/run_local.sh (mpirun) under SIGTERM (3), and the stop reason
#     when the signal reached one rank only.
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export SCT_MPI_TIMEOUT=90
make_task "$tmp" 64 32 3 16
# 4 steps per epoch at batch 16 over 2 ranks; a checkpoint after every epoch.
write_recipe "$tmp/r.toml" 16 4 16 "eval_every = 1" "checkpoint_every = 1"
u=units/r__sct__s5
mpi() { "$SCT_MPIRUN" 2 "$bin" --threads 1 "$@"; }
ckpt_sha() { sha256sum "$1" | cut -d' ' -f1; }

# 1. Full disk, in a resumed run, at its first checkpoint write, at its first metrics line (the
# second write of metrics.jsonl) and at result.json.
for fault in checkpoint.safetensors metrics.jsonl#2 result.json; do
  n=$((${n:-0} + 1)); out="$tmp/w$n"
  mpi run "$tmp/r.toml" --out "$out" --stop-after-steps 8 >/dev/null 2>&1  # two epochs, two checkpoints
  before=$(ckpt_sha "$out/$u/checkpoint.safetensors")
  start=$(date +%s)
  SCT_FAULT_WRITE=$fault mpi run "$tmp/r.toml" --out "$out" >"$tmp/log" 2>&1; rc=$?
  [ $rc = 1 ] || { cat "$tmp/log"; fail "$fault: exit $rc, expected 1 (124 = hang)"; }
  [ $(($(date +%s) - start)) -lt 60 ] || fail "$fault: took over 60 s"
  grep -q "No space left on device" "$tmp/log" || { cat "$tmp/log"; fail "$fault: the reason is not printed"; }
  grep -q "unit r__sct__s5 failed" "$tmp/log" || fail "$fault: the unit is not reported failed"
  [ -f "$out/$u/result.json" ] && fail "$fault: a failed unit has a result"
  if [ "$fault" = checkpoint.safetensors ]; then
    [ "$(ckpt_sha "$out/$u/checkpoint.safetensors")" = "$before" ] || fail "$fault: the previous checkpoint changed"
  fi
  # The disk has room again: the same command resumes and finishes.
  mpi run "$tmp/r.toml" --out "$out" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "$fault: the re-run failed"; }
  grep -q "resuming" "$tmp/log" || fail "$fault: the re-run did not resume from the last checkpoint"
done

# 2. Twenty flipped data bytes in a checkpoint.
"$bin" run "$tmp/r.toml" --out "$tmp/c" --stop-after-steps 6 >/dev/null 2>&1
flip() {  # file offset count
  "$py" - "$@" <<'PY'
import sys
path, offset, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = bytearray(open(path, "rb").read())
for i in range(offset, offset + count):
    raw[i] ^= 0x5A
open(path, "wb").write(raw)
PY
}
size=$(stat -c %s "$tmp/c/$u/checkpoint.safetensors")
flip "$tmp/c/$u/checkpoint.safetensors" $((size - 200)) 20
mpi run "$tmp/r.toml" --out "$tmp/c" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log"; fail "corrupt checkpoint: exit $rc, expected 2"; }
grep -q "checkpoint.safetensors: corrupt checkpoint" "$tmp/log" || { cat "$tmp/log"; fail "corrupt checkpoint not named"; }
grep -q -- "--force" "$tmp/log" || fail "the corrupt-checkpoint error does not say how to restart"
[ -f "$tmp/c/$u/result.json" ] && fail "a unit resumed from a corrupt checkpoint has a result"
mpi run "$tmp/r.toml" --out "$tmp/c" --force >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "--force over a corrupt checkpoint"; }
grep -q "discarding a checkpoint that cannot be resumed" "$tmp/log" || fail "--force did not say what it discarded"

# 3a. NaN in a checkpoint whose checksum is valid (recomputed here as the format defines it).
"$bin" run "$tmp/r.toml" --out "$tmp/n" --stop-after-steps 6 >/dev/null 2>&1
"$py" - "$tmp/n/$u/checkpoint.safetensors" <<'PY' || fail "could not write the NaN checkpoint"
import json, struct, sys, zlib
path = sys.argv[1]
raw = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n])
meta = head["__metadata__"]
begin = 8 + n + head["values"]["data_offsets"][0]
raw[begin:begin + 4] = struct.pack("<f", float("nan"))
crc = 0
for key in sorted(meta):
    if key != "checksum":
        crc = zlib.crc32(f"{key}={meta[key]}\n".encode(), crc)
names = ["values", "adamw.exp_avg", "adamw.exp_avg_sq"]
for name in names:
    a, b = head[name]["data_offsets"]
    crc = zlib.crc32(bytes(raw[8 + n + a:8 + n + b]), crc)
old = meta["checksum"]
meta["checksum"] = f"crc32:{crc:08x}"
header = json.dumps(head, separators=(",", ":")).encode()
header += b" " * ((8 - len(header) % 8) % 8)
open(path, "wb").write(struct.pack("<Q", len(header)) + header + bytes(raw[8 + n:]))
PY
mpi run "$tmp/r.toml" --out "$tmp/n" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log"; fail "NaN checkpoint: exit $rc, expected 2"; }
grep -q "holds non-finite values" "$tmp/log" || { cat "$tmp/log"; fail "NaN checkpoint not reported"; }
grep -q "corrupt checkpoint" "$tmp/log" && fail "the recomputed checksum was not accepted"

# 3b. A diverging run (learning rate 1e30): fails at the step where the loss or the gradient
# stops being finite; its last checkpoint (epoch 1) is kept and holds finite values.
mpi run "$tmp/r.toml" --out "$tmp/d" --set train.lr=1e30 --set train.warmup_epochs=0 \
  --set train.weight_decay=0 >"$tmp/log" 2>&1; rc=$?
[ $rc = 1 ] || { cat "$tmp/log"; fail "diverging run: exit $rc, expected 1"; }
grep -Eq "non-finite (training loss|gradient).* at epoch [0-9]+/4 step [0-9]+/4" "$tmp/log" ||
  { cat "$tmp/log"; fail "divergence is not reported with its epoch and step"; }
grep -q "non-finite" "$tmp/d/$u/error.json" || fail "error.json lacks the divergence"
[ -f "$tmp/d/$u/result.json" ] && fail "a diverged unit has a result"

# 4. Sixty-four flipped image bytes in the task file.
cp "$tmp/task.h5" "$tmp/bad.h5"
offset=$("$py" -c 'import h5py, sys
f = h5py.File(sys.argv[1], "r"); d = f["train/images"]
print(d.id.get_offset() if d.chunks is None else d.id.get_chunk_info(0).byte_offset)' "$tmp/bad.h5") ||
  fail "could not locate the images"
flip "$tmp/bad.h5" $((offset + 100)) 64
sed "s|task.h5|bad.h5|" "$tmp/r.toml" >"$tmp/bad.toml"
mpi run "$tmp/bad.toml" --out "$tmp/b" >"$tmp/log" 2>&1; rc=$?
[ $rc = 2 ] || { cat "$tmp/log"; fail "corrupt task file: exit $rc, expected 2"; }
grep -q "bad.h5: split 'train' does not match its stored checksum" "$tmp/log" ||
  { cat "$tmp/log"; fail "corrupt task file not named with its split"; }

# 5. SIGTERM to launchers/run_local.sh (mpirun underneath): the ranks checkpoint, exit 3.
write_recipe "$tmp/long.toml" 16 400 16 "eval_every = 0" "checkpoint_every = 0"
mpi_args=()
for a in --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none; do
  mpi_args+=(--mpirun-arg "$a")
done
MPIRUN=mpiexec "$SCT_SRC/launchers/run_local.sh" -n 2 "${mpi_args[@]}" --threads 1 run "$tmp/long.toml" --out "$tmp/s" \
  >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "epoch 2/400" "$tmp/log" && break; sleep 0.2; done
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "SIGTERM to run_local.sh: exit $rc, expected 3"; }
[ -f "$tmp/s/units/long__sct__s5/checkpoint.safetensors" ] || fail "no checkpoint after SIGTERM"
grep -q "stopped (signal 10)" "$tmp/log" || { cat "$tmp/log"; fail "the stop reason is not the signal"; }

# 6. A signal that reaches rank 1 only: rank 0 still names it as the reason.
mpi run "$tmp/long.toml" --out "$tmp/one" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "epoch 2/400" "$tmp/log" && break; sleep 0.2; done
rank1=$(pgrep -f "sct_dist --threads 1 run $tmp/long.toml --out $tmp/one" | while read -r p; do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && echo "$p"; done | head -1)
[ -n "$rank1" ] && kill -USR1 "$rank1" || fail "rank 1's process not found"
wait $pid; rc=$?
[ $rc = 3 ] || { cat "$tmp/log"; fail "signal to rank 1: exit $rc, expected 3"; }
grep -q "stopped (signal 10)" "$tmp/log" || { cat "$tmp/log"; fail "a signal on rank 1 is reported as another reason"; }
finish train_faults
