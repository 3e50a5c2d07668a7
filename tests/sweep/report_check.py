#!/usr/bin/env python3
"""Checks `sct_dist report` outputs against numbers recomputed here from the result files.

usage: report_check.py RUN_DIR REPORT.md REPORT.csv REPORT.html [--broken]

Everything is recomputed independently with NumPy: per (task, configuration) mean and sample
std over seeds, group and overall means (std over seeds of the per-seed means), the published
rows (transcribed separately below) and their means over the same tasks, the labels, the chart
mark counts. --broken: the run also holds the broken units of report_fixture.py --broken, which
every output must name while the numbers stay those of the readable units.
"""
import csv
import json
import math
import os
import sys
from html.parser import HTMLParser

import numpy as np

TASKS = ["cifar100", "caltech101", "dtd", "oxford_flowers102", "oxford_iiit_pet", "svhn", "sun397",
         "patch_camelyon", "eurosat", "resisc45", "diabetic_retinopathy", "clevr_count", "clevr_dist", "dmlab",
         "kitti", "dsprites_loc", "dsprites_ori", "smallnorb_azi", "smallnorb_ele"]
GROUP_SIZE = {"Natural": 7, "Specialized": 4, "Structured": 8}
PUBLISHED = """
Full fine-tuning | 68.9 87.7 64.3 97.2 86.9 87.4 38.8 79.7 95.7 84.2 73.9 56.3 58.6 41.7 65.5 57.5 46.7 25.7 29.1
Linear probing | 63.4 85.0 63.2 97.0 86.3 36.6 51.0 78.5 87.5 68.6 74.0 34.3 30.6 33.2 55.4 12.5 20.0 9.6 19.2
VPT-Deep | 78.8 90.8 65.8 98.0 88.3 78.1 49.6 81.8 96.1 83.4 68.4 68.5 60.0 46.5 72.8 73.6 47.9 32.9 37.8
LoRA | 67.1 91.4 69.4 98.8 90.4 85.3 54.0 84.9 95.3 84.4 73.6 82.9 69.2 49.8 78.5 75.7 47.1 31.0 44.0
NOAH | 69.6 92.7 70.2 99.1 90.4 86.1 53.7 84.4 95.4 83.9 75.8 82.8 68.9 49.9 81.7 81.8 48.3 32.8 44.2
SCT (K=96) | 75.3 91.6 72.2 99.2 91.1 91.2 55.0 85.0 96.1 86.3 76.2 81.5 65.1 51.7 80.2 75.4 46.2 33.2 45.7
"""
REFS = {}
for line in PUBLISHED.strip().splitlines():
    name, values = line.split(" | ")
    REFS[name] = dict(zip(TASKS, map(float, values.split())))
BROKEN = {"kitti__sct__s0", "kitti__linear__s0", "eurosat__sct__s2"}
FAILED = {"dtd__linear__s2"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def close(a, b, tol=1e-9):
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))
    return abs(a - b) <= tol * max(1.0, abs(b))


def vtab(task):
    return "cifar100" if task == "cifar" else task if task in TASKS else None


def load(run_dir):
    units, unreadable = [], set()
    for d in sorted(os.listdir(os.path.join(run_dir, "units"))):
        path = os.path.join(run_dir, "units", d, "result.json")
        try:
            with open(path) as f:
                j = json.load(f)
            j["accuracy"]["best"], j["accuracy"]["last"], j["params"]["trainable_without_head"]
            j["timings"]["total_s"]
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.add(d)
            continue
        j["_unit"] = d
        j["config"] = j["method"] + (f"[{j['variant']}]" if j.get("variant") else "")
        units.append(j)
    return units, unreadable


def sample_std(x):
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")


def expected(units):
    cells = {}
    for u in units:
        cells.setdefault((u["task"], u["config"]), []).append(u)
    task_rows = {}
    for key, us in cells.items():
        us.sort(key=lambda u: u["seed"])
        b = np.array([u["accuracy"]["best"] for u in us])
        l = np.array([u["accuracy"]["last"] for u in us])
        task_rows[key] = dict(n=len(us), seeds=[u["seed"] for u in us], best=b.mean(), best_std=sample_std(b),
                              last=l.mean(), last_std=sample_std(l), best_seeds=b, last_seeds=l,
                              params=np.mean([u["params"]["trainable_without_head"] for u in us]),
                              time=np.mean([u["timings"]["total_s"] for u in us]))
    tasks = sorted({u["task"] for u in units})
    group = {u["task"]: u["group"] for u in units}
    configs = sorted({u["config"] for u in units})
    order = ["Natural", "Specialized", "Structured"] + sorted({g for g in group.values() if g and g not in GROUP_SIZE})
    rows = [(g, [t for t in tasks if group[t] == g]) for g in order if any(group[t] == g for t in tasks)]
    rows.append(("", tasks))
    means = {}
    for g, ts in rows:
        n_vtab = sum(vtab(t) is not None for t in ts)
        if g in GROUP_SIZE and n_vtab == len(ts) and len(ts) < GROUP_SIZE[g]:
            label = f"{g} mean ({len(ts)} of {GROUP_SIZE[g]} tasks)"
        elif g:
            label = f"{g} mean ({len(ts)} task{'s' if len(ts) > 1 else ''})"
        elif n_vtab == len(ts):
            label = f"Mean ({len(ts)} of 19 VTAB tasks)" if len(ts) < 19 else "Mean (19 tasks)"
        else:
            label = f"Mean ({len(ts)} tasks, {n_vtab} of them VTAB)" if n_vtab else f"Mean ({len(ts)} tasks)"
        for c in configs:
            cs = [task_rows[(t, c)] for t in ts]
            m = dict(label=label, best=np.mean([x["best"] for x in cs]), last=np.mean([x["last"] for x in cs]),
                     best_std=float("nan"), last_std=float("nan"), tasks=len(ts))
            if len(cs[0]["seeds"]) > 1 and all(x["seeds"] == cs[0]["seeds"] for x in cs):
                m["best_std"] = sample_std(np.mean([x["best_seeds"] for x in cs], axis=0))
                m["last_std"] = sample_std(np.mean([x["last_seeds"] for x in cs], axis=0))
            means[(g, c)] = m
        means[(g, None)] = dict(label=label, refs={r: np.mean([REFS[r][vtab(t)] for t in ts]) if n_vtab == len(ts)
                                                   else None for r in REFS}, tasks=ts)
    return task_rows, means, configs, tasks, group


def fmt_stat(mean, std):
    return f"{mean:.2f}" if math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def check_csv(path, units, task_rows, means, tasks, broken):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    num = lambda s: float(s) if s != "" else float("nan")
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r)
    check(len(by_kind.get("unit", [])) == len(units), "csv: one unit row per readable result")
    for r in by_kind.get("unit", []):
        u = next(u for u in units if u["_unit"] == r["unit"])
        check(close(num(r["best"]), u["accuracy"]["best"]) and close(num(r["last"]), u["accuracy"]["last"]),
              f"csv unit {r['unit']}: accuracies differ from its result.json")
        check(r["best_label"] == "best (test-selected)", f"csv unit {r['unit']}: best_label {r['best_label']!r}")
    check(len(by_kind.get("task", [])) == len(task_rows), "csv: one task row per (task, configuration)")
    for r in by_kind.get("task", []):
        e = task_rows[(r["task"], r["config"])]
        for key, col in [("best", "best"), ("best_std", "best_std"), ("last", "last"),
                         ("last_std", "last_std"), ("params", "trainable_without_head"), ("time", "total_s")]:
            check(close(num(r[col]), float(e[key])), f"csv task {r['task']} {r['config']} {col}: {r[col]} != {e[key]}")
        check(int(r["n_seeds"]) == e["n"], f"csv task {r['task']}: n_seeds")
    mean_rows = by_kind.get("group_mean", []) + by_kind.get("mean", [])
    check(len(mean_rows) == sum(1 for k in means if k[1] is not None), "csv: one mean row per (group, configuration)")
    for r in mean_rows:
        e = means[(r["group"], r["config"])]
        check(r["note"] == e["label"], f"csv mean label {r['note']!r} != {e['label']!r}")
        for key, col in [("best", "best"), ("best_std", "best_std"), ("last", "last"), ("last_std", "last_std")]:
            check(close(num(r[col]), float(e[key])), f"csv mean {r['group']!r} {r['config']} {col}: {r[col]} != {e[key]}")
    n_vtab = sum(vtab(t) is not None for t in tasks)
    check(len(by_kind.get("reference", [])) == n_vtab * len(REFS), "csv: published value per VTAB task and row")
    for r in by_kind.get("reference", []):
        check(close(num(r["best"]), REFS[r["config"]][vtab(r["task"])]),
              f"csv reference {r['config']} {r['task']}")
    for r in by_kind.get("reference_mean", []):
        e = means[(r["group"], None)]["refs"][r["config"]]
        check(e is not None and close(num(r["best"]), e), f"csv reference mean {r['config']} {r['group']!r}")
    named = {r["unit"] for r in by_kind.get("problem", [])} | {r["unit"] for r in by_kind.get("failed", [])}
    check(named == ((BROKEN | FAILED) if broken else set()), f"csv problems name {sorted(named)}")


def check_tables(tables, where, task_rows, means, configs, tasks):
    """tables: {'best': [[cells]...], 'last': ...} with the header as first row."""
    for which in ["best", "last"]:
        t = tables[which]
        header, body = t[0], {r[0]: r for r in t[1:]}
        label = "best (test-selected)" if which == "best" else "last"
        for task in tasks:
            check(task in body, f"{where} {which}: row {task} missing")
            for c in configs:
                col = header.index(f"{c} {label}")
                e = task_rows[(task, c)]
                want = fmt_stat(e[which], e[which + "_std"])
                check(body[task][col] == want, f"{where} {which} {task} {c}: {body[task][col]!r} != {want!r}")
            if vtab(task):
                col = header.index("SCT (K=96) (published)")
                check(body[task][col] == f"{REFS['SCT (K=96)'][vtab(task)]:.1f}", f"{where} {task}: published SCT")
        for (g, c), e in means.items():
            check(e["label"] in body, f"{where} {which}: row {e['label']!r} missing")
            if e["label"] not in body:
                continue
            if c is None:
                for r, v in e["refs"].items():
                    col = header.index(f"{r} (published)")
                    want = "–" if v is None else f"{v:.1f}"
                    check(body[e["label"]][col] == want, f"{where} {e['label']} {r}: {body[e['label']][col]!r} != {want!r}")
                continue
            col = header.index(f"{c} {label}")
            want = fmt_stat(e[which], e[which + "_std"])
            check(body[e["label"]][col] == want, f"{where} {which} {e['label']} {c}: {body[e['label']][col]!r} != {want!r}")


def md_tables(text):
    tables, current, section = {}, None, None
    for line in text.splitlines():
        if line.startswith("## Accuracy, best"):
            section = "best"
        elif line.startswith("## Accuracy, last"):
            section = "last"
        elif line.startswith("## "):
            section = None
        elif section and line.startswith("|"):
            cells = [c.strip() for c in line.strip()[1:-1].split(" | ")]
            if set(cells[0]) <= set("-: "):
                continue
            tables.setdefault(section, []).append(cells)
    return tables


class HtmlScan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.row, self.table = [], None, None, None
        self.svgs, self.titles, self.title, self.items, self.item = [], [], None, [], None
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.external.append(f"<{tag} {k}={a[k]}>")
        if tag == "link":
            self.external.append("<link>")
        if tag == "table":
            self.table = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "svg":
            self.svgs.append(dict(a, bars=0))
        elif tag == "rect" and "mark" in a.get("class", ""):
            self.svgs[-1]["bars"] += 1
        elif tag == "title" and self.svgs:
            self.title = ""
        elif tag == "li":
            self.item = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr":
            self.table.append(self.row)
        elif tag == "table":
            self.tables.append(self.table)
        elif tag == "title" and self.title is not None:
            self.titles.append(self.title)
            self.title = None
        elif tag == "li":
            self.items.append(self.item)
            self.item = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.title is not None:
            self.title += data
        if self.item is not None:
            self.item += data


def main():
    run_dir, md_path, csv_path, html_path = sys.argv[1:5]
    broken = "--broken" in sys.argv[5:]
    units, unreadable = load(run_dir)
    check(unreadable == ((BROKEN | FAILED) if broken else set()), f"fixture: unreadable units {sorted(unreadable)}")
    task_rows, means, configs, tasks, group = expected(units)

    check_csv(csv_path, units, task_rows, means, tasks, broken)

    with open(md_path) as f:
        md = f.read()
    check(f"{len(units)} finished units" in md, "md: overview count")
    check_tables(md_tables(md), "md", task_rows, means, configs, tasks)
    for name in (BROKEN | FAILED) if broken else set():
        check(any(name in line and line.startswith("- ") for line in md.splitlines()), f"md: problem {name} not listed")

    with open(html_path) as f:
        html = f.read()
    scan = HtmlScan()
    scan.feed(html)
    check(not scan.external, f"html: external references {scan.external}")
    check("url(" not in html and "@import" not in html, "html: CSS pulls a resource")
    check(html.count("http") == html.count("http://www.w3.org/2000/svg"), "html: a URL besides the SVG namespace")
    check(len(scan.tables) == 3, f"html: {len(scan.tables)} tables, want 3")
    if len(scan.tables) == 3:
        check_tables({"best": scan.tables[0], "last": scan.tables[1]}, "html", task_rows, means, configs, tasks)
    kinds = [s.get("data-kind") for s in scan.svgs]
    n_means = sum(1 for k in means if k[1] is None)
    want_bars = len(configs) * (len(tasks) + n_means) + len(REFS) * (
        sum(vtab(t) is not None for t in tasks) + sum(1 for k, m in means.items() if k[1] is None and m["refs"]["NOAH"] is not None))
    bars = [s for s in scan.svgs if s.get("data-kind") == "bars"]
    check(len(bars) == 1 and int(bars[0]["data-marks"]) == want_bars == bars[0]["bars"],
          f"html: bar chart marks {[(b['data-marks'], b['bars']) for b in bars]}, want {want_bars}")
    for t in tasks:
        for c in configs:
            e = task_rows[(t, c)]
            check(f"{t} · {c} (this run): {fmt_stat(e['best'], e['best_std'])}" in scan.titles, f"html: bar of {t} {c}")
    lines = [s for s in scan.svgs if s.get("data-kind") == "lines"]
    want_lines = sorted([2 * sum(task_rows[(t, c)]["n"] for c in configs) for t in tasks] +
                        [sum(task_rows[(t, c)]["n"] for c in configs) for t in tasks])
    check(sorted(int(s["data-marks"]) for s in lines) == want_lines, "html: learning-curve line counts")
    with_channels = {(u["task"], u["config"]) for u in units if u.get("channels")}
    maps = [s for s in scan.svgs if s.get("data-kind") == "heatmap"]
    check(len(maps) == len(with_channels) and all(int(s["data-marks"]) > 0 for s in maps), "html: one heat map per "
          "(task, configuration) with channels")
    check(kinds.count(None) == 0, "html: every svg is a chart")
    for name in (BROKEN | FAILED) if broken else set():
        check(any(name in item for item in scan.items), f"html: problem {name} not listed")

    if failures:
        print(f"{len(failures)} check(s) failed:")
        for f in failures[:40]:
            print("  " + f)
        sys.exit(1)
    print(f"report_check: ok ({len(units)} units, {len(task_rows)} task cells, {len(means)} mean rows, "
          f"{len(scan.svgs)} charts)")


if __name__ == "__main__":
    main()
