#!/usr/bin/env bash
# Every shipped recipe passes `sct_dist run --dry-run` (task files through the sweeps that list
# them) and plans exactly the units its sweep section implies; the VTAB-1k recipes carry the
# reference per-task hyperparameters of the published table below and count 111,744 SCT
# parameters for ViT-B/16 with K = 96. Data and checkpoints are absent here: the dry run notes
# them per unit and still succeeds.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset SCT_DATA SCT_CHECKPOINTS SCT_FEWSHOT_DATA SCT_DG_DATA
export TMPDIR_TEST="$tmp"
exec "$SCT_PYTHON" - <<'EOF'
import os, re, subprocess, sys, tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

src, build, tmp = Path(os.environ["SCT_SRC"]), Path(os.environ["SCT_BUILD"]), Path(os.environ["TMPDIR_TEST"])
bin_ = str(build / "bin" / "sct_dist")
recipes = src / "recipes"
fails = []
def fail(msg): fails.append(msg); print("FAIL:", msg)

# --- an independent reading of the recipes: TOML with extends and deep merge ---------------
def merge(base, top):
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict): merge(base[k], v)
        else: base[k] = v
    return base

def load(path):
    path = Path(path)
    t = tomllib.loads(path.read_text())
    tasks = t.get("sweep", {}).get("tasks")
    if tasks is not None:  # relative to the file that lists them
        t["sweep"]["tasks"] = [str((path.parent / p).resolve()) for p in tasks]
    ext = t.pop("extends", None)
    return merge(load(path.parent / ext), t) if ext else t

all_tomls = sorted(p.resolve() for p in recipes.rglob("*.toml"))
parsed = {p: load(p) for p in all_tomls}
fragments = {Path(f) for t in parsed.values() for f in t.get("sweep", {}).get("tasks", [])}
for f in sorted(fragments):
    if f not in parsed: fail(f"a sweep lists {f}, which does not exist")
top_level = [p for p in all_tomls if p not in fragments]
for p in top_level:
    if p.parent.name == "tasks":
        print(f"note: {p.relative_to(src)} is in a tasks/ folder but no sweep lists it; dry-run on its own")

def sanitize(s): return re.sub(r"[^A-Za-z0-9_.\-]", "_", s)

def expected_units(path, t):
    sw = t.get("sweep", {})
    methods = sw.get("methods") or [t.get("peft", {}).get("method", "sct")]
    seeds = sw.get("seeds") or [t.get("seed", 0)]
    variants = sorted(sw.get("variants", {})) or [""]
    name = t.get("name") or path.stem
    if sw.get("tasks"):
        tasks = []
        for f in sw["tasks"]:
            frag = tomllib.loads(Path(f).read_text())
            tasks.append(frag.get("task", {}).get("name") or t.get("task", {}).get("name") or Path(f).stem)
    else:
        tasks = [t.get("task", {}).get("name") or name]
    return {sanitize(f"{task}__{m}__s{s}" + (f"__{v}" if v else "")) for task in tasks for m in methods
            for s in seeds for v in variants}

PLAN = re.compile(r"^\[(?:r0 )?sweep\]\s+(\S+__\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$")
def dry_run(recipe, *extra, np=1, env=None):
    cmd = [bin_, "run", str(recipe), "--dry-run", *extra]
    if np > 1: cmd = [os.environ["SCT_MPIRUN"], str(np)] + cmd
    e = dict(os.environ, **(env or {}))
    if np > 1: e["SCT_MPI_QUIET"] = "1"
    p = subprocess.run(cmd, cwd=tmp, env=e, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    units = {}
    for line in out.splitlines():
        m = PLAN.match(line)
        if m and m.group(1) != "unit": units[m.group(1)] = m.groups()
    resolved = []
    if "# resolved recipe" in out:
        # "# resolved recipe" (a sweep) or "# resolved recipe of unit X" (one unit)
        for line in out.split("# resolved recipe", 1)[1].split("\n", 1)[1].splitlines():
            if re.match(r"^\[(r\d+ )?\w+\] ", line): break
            resolved.append(line)
    return p.returncode, out, units, "\n".join(resolved)

# --- every recipe --------------------------------------------------------------------------
plans = {}
for path in top_level:
    rel = path.relative_to(src)
    rc, out, units, _ = dry_run(path)
    if rc != 0:
        fail(f"{rel}: dry run exit code {rc}"); print(out[-2000:]); continue
    if "dry run: nothing trained" not in out: fail(f"{rel}: no 'dry run: nothing trained' line")
    want = expected_units(path, parsed[path])
    if set(units) != want:
        fail(f"{rel}: planned units differ: missing {sorted(want - set(units))[:5]}, unexpected {sorted(set(units) - want)[:5]}")
    m = re.search(r"plan: (\d+) units?", out)
    if not m or int(m.group(1)) != len(want): fail(f"{rel}: plan line does not say {len(want)} units")
    plans[rel.as_posix()] = (units, out)
    print(f"ok: {rel}: {len(units)} unit(s)")

# --- VTAB-1k: the published table (group, classes, lr, wd, label smoothing, train_aug) ------
VTAB = """cifar100 Natural 100 0.013 1.0 0.1 no
caltech101 Natural 102 0.006 0.35 0.1 no
dtd Natural 47 0.0032 0.04 0.1 yes
oxford_flowers102 Natural 102 0.05 0.11 0.1 no
oxford_iiit_pet Natural 37 0.0007 0.8 0.1 yes
svhn Natural 10 0.075 0.03 0.1 yes
sun397 Natural 397 0.0017 0.01 0.1 no
patch_camelyon Specialized 2 0.0072 0.002 0.1 yes
eurosat Specialized 10 0.06 0.001 0.1 yes
resisc45 Specialized 45 0.01 0.01 0.1 yes
diabetic_retinopathy Specialized 5 0.004 0.0003 0.1 yes
clevr_count Structured 8 0.0033 0.01 0 yes
clevr_dist Structured 6 0.0018 0.005 0 yes
dmlab Structured 6 0.009 0.1 0 yes
kitti Structured 4 0.0072 0.0001 0.1 yes
dsprites_loc Structured 16 0.003 0.001 0 no
dsprites_ori Structured 16 0.01 0.05 0 no
smallnorb_azi Structured 18 0.0062 0.005 0 no
smallnorb_ele Structured 9 0.0011 0.0005 0 no"""
table = {r[0]: (r[1], int(r[2]), float(r[3]), float(r[4]), float(r[5]), r[6] == "yes")
         for r in (l.split() for l in VTAB.splitlines())}
units, out = plans.get("recipes/vtab1k/sweep.toml", ({}, ""))
if len(units) != 19: fail(f"vtab1k/sweep.toml: {len(units)} units, expected 19")
for uid, g in units.items():
    task = uid.split("__")[0]
    if task not in table: fail(f"vtab1k: unknown task {task}"); continue
    group, classes, lr, wd, ls, aug = table[task]
    if (g[1], g[2], g[3]) != ("sct", "100", "64"): fail(f"vtab1k {task}: method/epochs/batch {g[1:4]}")
    if abs(float(g[4]) - lr) > 1e-12: fail(f"vtab1k {task}: plan lr {g[4]}, reference {lr}")
    head = (768 + 1) * classes
    if "sct attn K=96: 111,744 trainable without head" not in g[6]:
        fail(f"vtab1k {task}: no 'sct attn K=96: 111,744 trainable without head' in '{g[6]}'")
    if f"head ({head:,})" not in g[6]: fail(f"vtab1k {task}: head of {head:,} parameters expected in '{g[6]}'")

# Each task file merged over the base, resolved by the binary, against the table (two at a time).
base = recipes / "vtab1k" / "base.toml"
def resolve_single(task):
    single = tmp / f"{task}.toml"
    single.write_text(f'extends = "{base}"\n' + (recipes / "vtab1k" / "tasks" / f"{task}.toml").read_text())
    return dry_run(single)
with ThreadPoolExecutor(2) as pool:
    singles = dict(zip(table, pool.map(resolve_single, table)))
for task, (group, classes, lr, wd, ls, aug) in table.items():
    rc, out, _, resolved = singles[task]
    if rc != 0: fail(f"vtab1k {task}: single-task dry run exit {rc}"); continue
    r = tomllib.loads(resolved)
    got = (r["task"]["name"], r["task"]["group"], r["task"]["num_classes"], r["train"]["lr"],
           r["train"]["weight_decay"], r["train"]["label_smoothing"])
    if got != (task, group, classes, lr, wd, ls): fail(f"vtab1k {task}: resolved {got}, reference {(task, group, classes, lr, wd, ls)}")
    d = r["data"]
    if (d["hflip"], d["randaugment"]) != ((True, "rand-m9-mstd0.5-inc1") if aug else (False, "")):
        fail(f"vtab1k {task}: augmentation hflip={d['hflip']} randaugment='{d['randaugment']}', train_aug={aug}")
    common = dict(train_split=r["task"]["train_split"], eval_split=r["task"]["eval_split"],
                  epochs=r["train"]["epochs"], warmup=r["train"]["warmup_epochs"], batch=r["train"]["batch_size"],
                  wlr=r["train"]["warmup_lr_init"], lr_min=r["train"]["lr_min"], sched=r["train"]["schedule"],
                  eval_every=r["train"]["eval_every"], drop_last=r["train"]["drop_last"], betas=r["train"]["betas"],
                  arch=r["model"]["arch"], size=r["model"]["image_size"], dpr=r["model"]["drop_path"],
                  method=r["peft"]["method"], mode=r["peft"]["mode"], k=r["peft"]["k"], strategy=r["peft"]["strategy"])
    want = dict(train_split="train800val200", eval_split="test", epochs=100, warmup=10, batch=64, wlr=1e-6,
                lr_min=1e-5, sched="epoch", eval_every=10, drop_last=True, betas=[0.9, 0.999], arch="vit-b16",
                size=224, dpr=0.1, method="sct", mode="attn", k=96, strategy="cais")
    if common != want: fail(f"vtab1k {task}: " + ", ".join(f"{k}={common[k]} (want {want[k]})" for k in want if common[k] != want[k]))
    if r["model"]["checkpoint"] != "checkpoints/ViT-B_16.npz" or r["task"]["data"] != f"data/vtab1k/{task}.h5":
        fail(f"vtab1k {task}: paths {r['model']['checkpoint']}, {r['task']['data']}")

# Paths follow SCT_DATA / SCT_CHECKPOINTS; 2 ranks make 2 groups of 1.
rc, out, units, _ = dry_run(recipes / "vtab1k" / "sweep.toml", "--task", "kitti", np=2,
                            env={"SCT_DATA": "/nowhere/vtab", "SCT_CHECKPOINTS": "/nowhere/ckpt"})
if rc != 0 or set(units) != {"kitti__sct__s0"}: fail(f"vtab1k --task kitti at -n 2: exit {rc}, units {sorted(units)}")
if "plan: 1 unit in 2 groups of 1 rank" not in out: fail("vtab1k at -n 2: plan does not show 2 groups of 1 rank")
if "/nowhere/vtab/kitti.h5" not in out or "/nowhere/ckpt/ViT-B_16.npz" not in out:
    fail("vtab1k: SCT_DATA / SCT_CHECKPOINTS not used in the paths")

# Few-shot: 5 datasets x 5 shot counts x 3 subsets; domain generalisation: 3 subsets, each unit
# trained once and evaluated on the 5 targets.
fs = plans.get("recipes/fewshot/sweep.toml", ({}, ""))[0]
want = {f"{d}_{n}shot_seed{s}__sct__s0" for d in ("fgvc_aircraft", "food101", "oxford_flowers102", "oxford_pets",
        "stanford_cars") for n in (1, 2, 4, 8, 16) for s in (0, 1, 2)}
if set(fs) != want: fail(f"fewshot/sweep.toml: {len(fs)} units, expected the 75 dataset x shots x subset units")
for uid in fs:
    n, s = re.search(r"_(\d+)shot_seed(\d)__", uid).groups()
    frag = tomllib.loads((recipes / "fewshot" / "tasks" / f"{uid.split('__')[0]}.toml").read_text())
    if frag["task"]["train_split"] != f"train_{n}shot_seed{s}": fail(f"fewshot {uid}: train split {frag['task']['train_split']}")
dg = plans.get("recipes/domain_generalization/sweep.toml", ({}, ""))[0]
want = {f"imagenet_16shot_seed{s}__sct__s0" for s in (0, 1, 2)}
if set(dg) != want: fail(f"domain_generalization/sweep.toml: units {sorted(dg)}, expected the 3 subset units")
for uid in dg:
    s = re.search(r"_seed(\d)__", uid).group(1)
    frag = tomllib.loads((recipes / "domain_generalization" / "tasks" / f"{uid.split('__')[0]}.toml").read_text())
    if frag["task"]["train_split"] != f"train_16shot_seed{s}": fail(f"domain_generalization {uid}: train split {frag['task']['train_split']}")
    if "eval_split" in frag["task"] or "eval_splits" in frag["task"]: fail(f"domain_generalization {uid}: a task file sets its own evaluation split")
_, out, _, resolved = dry_run(recipes / "domain_generalization" / "sweep.toml")
r = tomllib.loads(resolved) if resolved else {}
if r.get("task", {}).get("eval_splits") != ["val", "v2", "sketch", "a", "r"]:
    fail(f"domain_generalization: resolved eval_splits {r.get('task', {}).get('eval_splits')}, expected the 5 targets")

if fails: print(f"recipes_dry_run: {len(fails)} failures"); sys.exit(1)
print(f"recipes_dry_run: all checks passed ({len(top_level)} recipes)")
EOF
