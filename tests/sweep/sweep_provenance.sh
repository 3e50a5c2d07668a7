#!/usr/bin/env bash
# provenance.json gets one record per start: a run stopped after one step and resumed at -n 2 as
# a requeued SLURM job has two records whose content is checked against independent sources
# (restart count, argv, SLURM ids, world, backbone CRC-32 by Python's zlib, the CPU model from
# /proc/cpuinfo, the HDF5 and compiler versions, a git revision of this repository, device and
# precision). An older single-record file becomes the first start of the list.
source "$SCT_SRC/tests/train/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 32 8 3 16 1
write_recipe "$tmp/r.toml" 16 2 16 "eval_every = 1"
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/bb" --set peft.method=\"linear\" --set "train.export=\"$tmp/bb.safetensors\"" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "backbone export"; }
ck="model.checkpoint=\"$tmp/bb.safetensors\""
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/run" --set "$ck" --stop-after-steps 1 >"$tmp/log" 2>&1
[ $? = 3 ] || { cat "$tmp/log"; fail "first start: expected exit 3"; }
SLURM_JOB_ID=4321 SLURM_ARRAY_JOB_ID=4300 SLURM_ARRAY_TASK_ID=7 SLURM_RESTART_COUNT=1 \
  "$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/run" --set "$ck" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "second start"; }
hdf5=$(h5dump --version 2>/dev/null | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1)
"$py" - "$tmp/run/provenance.json" "$tmp/bb.safetensors" "$tmp/r.toml" "$SCT_SRC" "$hdf5" "$(hostname)" <<'PY' ||
import json, re, subprocess, sys, zlib
path, backbone, recipe, src, hdf5, host = sys.argv[1:]
p = json.load(open(path))
assert p["schema"] == 2 and len(p["starts"]) == 2, (p.get("schema"), len(p.get("starts", [])))
a, b = p["starts"]
assert [a["restart"], b["restart"]] == [0, 1], (a["restart"], b["restart"])
assert "run" in a["argv"] and recipe in a["argv"] and "--stop-after-steps" in a["argv"], a["argv"]
assert "--stop-after-steps" not in b["argv"], b["argv"]
assert a["slurm"] == {"job_id": None, "array_job_id": None, "array_task_id": None, "restart_count": 0}, a["slurm"]
assert b["slurm"] == {"job_id": "4321", "array_job_id": "4300", "array_task_id": "7", "restart_count": 1}, b["slurm"]
assert a["world"]["size"] == 1 and a["world"]["hosts"] == [host], a["world"]
assert b["world"]["size"] == 2 and b["world"]["hosts"] == [host, host] and b["world"]["backends"] == ["mpi"], b["world"]
assert a["started_at"] <= b["started_at"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b["started_at"])
crc = "crc32:%08x" % zlib.crc32(open(backbone, "rb").read())
for r in (a, b):
    assert r["backbones"] == {backbone: {"checksum": crc}}, (r["backbones"], crc)
    assert r["units"][0]["backbone"] == backbone
    model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    assert r["cpu"]["model"] == model, (r["cpu"], model)
    assert r["cpu"]["sct_kernels"] in ("avx512", "avx2", "baseline", "off (ATen)"), r["cpu"]
    assert r["cpu"]["features"] and "blas_kernels" in r["cpu"], r["cpu"]
    if hdf5:
        assert r["versions"]["hdf5"] == hdf5, (r["versions"]["hdf5"], hdf5)
    gxx = subprocess.run(["g++", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    assert gxx and gxx in r["versions"]["compiler"], (r["versions"]["compiler"], gxx)
    git = r["sct_dist"]["git"]
    try:  # a source tree without git (or no git program) builds as "unknown"
        in_git = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True).returncode == 0
    except FileNotFoundError:
        in_git = False
    if in_git:
        assert re.fullmatch(r"[0-9a-f]{12}", git), git
        assert subprocess.run(["git", "-C", src, "cat-file", "-e", git + "^{commit}"]).returncode == 0, git
        assert r["sct_dist"]["git_dirty"] in (True, False), r["sct_dist"]
    else:
        assert git == "unknown" and r["sct_dist"]["git_dirty"] is None, r["sct_dist"]
    # No GPU here: every rank on the CPU, the units at the default fp32.
    assert r["device"] == {"requested": "auto", "per_rank": ["cpu"] * r["world"]["size"],
                           "gpus": [""] * r["world"]["size"], "precision": "fp32"}, r["device"]
    assert all(u["precision"] == "fp32" for u in r["units"]), r["units"]
    data = r["units"][0]["data"]
    assert r["datasets"][data]["checksum"].startswith("crc32:"), r["datasets"]
print("two starts recorded:", a["started_at"], b["started_at"], r["cpu"]["model"], git)
PY
  fail "provenance content"

# A single-record file of an older version: kept as the first start.
mkdir -p "$tmp/old"
"$py" -c 'import json,sys; r=json.load(open(sys.argv[1]))["starts"][0]; r.pop("restart"); json.dump(r, open(sys.argv[2], "w"))' \
  "$tmp/run/provenance.json" "$tmp/old/provenance.json"
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/old" --set "$ck" --dry-run >/dev/null 2>&1
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/old" --set "$ck" --set train.epochs=1 >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "run over an older provenance.json"; }
"$py" - "$tmp/old/provenance.json" "$tmp/run/provenance.json" <<'PY' || fail "older file not converted"
import json, sys
p, q = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(p["starts"]) == 2 and [s.get("restart") for s in p["starts"]] == [None, 1], p["starts"]
old = dict(q["starts"][0]); old.pop("restart")
assert p["starts"][0] == old
PY
finish sweep_provenance
