#!/usr/bin/env bash
# A unit's identity covers the content of the files it reads: resuming a started or finished unit
# over a changed task file or backbone checkpoint is refused (exit 2, naming the file) and leaves
# its files alone; the same content written again (a new file, a new mtime) is accepted; --force
# runs the unit again.
source "$SCT_SRC/tests/train/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 32 8 3 16 1
write_recipe "$tmp/r.toml" 16 2 16 "eval_every = 1"
u=units/r__sct__s5
run() { "$bin" --threads 1 run "$tmp/r.toml" "$@" >"$tmp/log" 2>&1; }
# Two backbones of the same shapes but other weights, exported by this trainer.
run --out "$tmp/bb1" --set peft.method=\"linear\" --set "train.export=\"$tmp/bb1.safetensors\"" || { cat "$tmp/log"; fail "export 1"; }
run --out "$tmp/bb2" --set seed=6 --set peft.method=\"linear\" --set "train.export=\"$tmp/bb2.safetensors\"" || { cat "$tmp/log"; fail "export 2"; }
cp "$tmp/bb1.safetensors" "$tmp/backbone.safetensors"
ck="model.checkpoint=\"$tmp/backbone.safetensors\""

# A finished unit (done) and a started one (cut: stopped after 1 step, with a checkpoint).
run --out "$tmp/done" --set "$ck" || { cat "$tmp/log"; fail "finished unit"; }
run --out "$tmp/cut" --set "$ck" --stop-after-steps 1; [ $? = 3 ] || { cat "$tmp/log"; fail "started unit"; }
"$py" - "$tmp/done/$u/inputs.json" "$tmp/task.h5" "$tmp/backbone.safetensors" <<'PY' || fail "inputs.json content"
import json, sys, zlib
j = json.load(open(sys.argv[1]))
assert j["data"]["path"] == sys.argv[2] and j["data"]["checksum"].startswith("crc32:"), j
crc = zlib.crc32(open(sys.argv[3], "rb").read())
assert j["backbone"] == {"path": sys.argv[3], "checksum": f"crc32:{crc:08x}"}, (j, crc)
PY
snapshot() { sha256sum "$tmp"/done/$u/* "$tmp"/cut/$u/* | sort; }
before=$(snapshot)

# Another task file at the same path: both units refused, naming the file.
make_task "$tmp" 32 8 3 16 2
for d in done cut; do
  run --out "$tmp/$d" --set "$ck"; rc=$?
  [ $rc = 2 ] || { cat "$tmp/log"; fail "$d over a changed task file: exit $rc, expected 2"; }
  grep -q "unit r__sct__s5: the task file $tmp/task.h5 changed since the unit started (crc32:" "$tmp/log" ||
    { cat "$tmp/log"; fail "$d: the refusal does not name the task file"; }
done
# The same content again (a fresh file with a new mtime): accepted, the finished unit skipped.
make_task "$tmp" 32 8 3 16 1
run --out "$tmp/done" --set "$ck" || { cat "$tmp/log"; fail "the same task content again was refused"; }
grep -q "1 of 1 units already finished" "$tmp/log" || fail "the finished unit was not skipped"

# Another backbone at the same path: refused for both, naming the checkpoint.
cp "$tmp/bb2.safetensors" "$tmp/backbone.safetensors"
for d in done cut; do
  run --out "$tmp/$d" --set "$ck"; rc=$?
  [ $rc = 2 ] || { cat "$tmp/log"; fail "$d over a changed backbone: exit $rc, expected 2"; }
  grep -q "the backbone checkpoint $tmp/backbone.safetensors changed since the unit started" "$tmp/log" ||
    { cat "$tmp/log"; fail "$d: the refusal does not name the backbone"; }
done
[ "$(snapshot)" = "$before" ] || fail "a refused run changed the units' files"

# --force runs the started unit again from the start over the new backbone.
run --out "$tmp/cut" --set "$ck" --force || { cat "$tmp/log"; fail "--force over a changed backbone"; }
grep -q "resuming" "$tmp/log" && fail "--force resumed the checkpoint of the old backbone"
new=$("$py" -c 'import sys, zlib; print("crc32:%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$tmp/bb2.safetensors")
grep -q "\"$new\"" "$tmp/cut/$u/inputs.json" || fail "inputs.json does not record the new backbone"
finish sweep_inputs_changed
