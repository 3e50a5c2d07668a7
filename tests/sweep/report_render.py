#!/usr/bin/env python3
"""Renders an HTML report in headless Chromium and checks every chart was drawn.

usage: report_render.py REPORT.html WORK_DIR

--dump-dom returns the page after its inline script ran: each svg.chart then carries
data-drawn (marks the browser laid out with a non-zero box) beside data-marks (marks emitted),
and data-box (its page rectangle). A screenshot is checked for content: many colours overall,
and inside the bar chart's rectangle the bar colours of both configurations.
Network is blocked (unresolvable hosts) to show the page needs none.
"""
import os
import re
import subprocess
import sys
import tempfile

from PIL import Image

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]
WIDTH, HEIGHT = 1400, 1000
CONFIG_COLOURS = [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)]  # first two series colours of report_svg.cpp


def chromium(args, work):
    profile = tempfile.mkdtemp(prefix="profile_", dir=work)
    cmd = ["chromium"] + FLAGS + [f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    if p.returncode != 0:
        sys.exit(f"chromium exited {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout


def main():
    html, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    url = "file://" + html
    dom = chromium(["--dump-dom", url], work)
    errors = []
    if 'data-drawn="' not in dom.split("<body", 1)[1][:200]:
        errors.append("the page script did not run (no data-drawn on <body>)")
    charts = re.findall(r"<svg class=\"chart\"([^>]*)>", dom)
    kinds = {}
    bar_box = None
    for attrs in charts:
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        kind, marks, drawn = a.get("data-kind"), int(a.get("data-marks", "-1")), int(a.get("data-drawn", "-1"))
        kinds[kind] = kinds.get(kind, 0) + 1
        if marks <= 0 or drawn != marks:
            errors.append(f"{kind} chart '{a.get('aria-label')}': {drawn} of {marks} marks drawn with a size")
        box = [int(v) for v in a.get("data-box", "0,0,0,0").split(",")]
        if box[2] <= 0 or box[3] <= 0:
            errors.append(f"{kind} chart '{a.get('aria-label')}': laid out with an empty box {box}")
        if kind == "bars":
            bar_box = box
    for kind in ("bars", "lines", "heatmap"):
        if not kinds.get(kind):
            errors.append(f"no {kind} chart in the rendered page")

    shot = os.path.join(work, "report.png")
    chromium([f"--screenshot={shot}", url], work)
    img = Image.open(shot).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    if len(colours) < 50:
        errors.append(f"screenshot has {len(colours)} colours: looks blank")
    if bar_box:
        x, y, w, h = bar_box
        region = img.crop((max(0, x), max(0, y), min(WIDTH, x + w), min(HEIGHT, y + h)))
        pixels = list(region.getdata())
        non_white = sum(1 for p in pixels if p != (255, 255, 255)) / max(1, len(pixels))
        if non_white < 0.03:
            errors.append(f"bar chart region is {non_white:.1%} non-white")
        for c in CONFIG_COLOURS:
            n = pixels.count(c)
            if n < 50:
                errors.append(f"bar chart region has {n} pixels of series colour {c}")
        print(f"bar chart at {bar_box}: {non_white:.1%} non-white, "
              f"{[pixels.count(c) for c in CONFIG_COLOURS]} pixels in the two series colours")
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"report_render: ok ({len(charts)} charts drawn: {kinds}; screenshot {img.size}, {len(colours)} colours)")


if __name__ == "__main__":
    main()
