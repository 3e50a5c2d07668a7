#!/usr/bin/env python3
"""Writes a synthetic finished sweep (framework/report/RESULTS.md, schema 1) for the report tests.

usage: report_fixture.py RUN_DIR [--broken]

Tasks: five VTAB tasks (one under the alias "cifar"), one task without a group and one in a
group of its own; methods sct
(with channels and scores) and linear; seeds 0 and 1. --broken adds units whose files are
missing, corrupt, incomplete or failed, which a report must name while printing the rest.
"""
import json
import os
import sys

import numpy as np

TASKS = [("dtd", "Natural", 47), ("svhn", "Natural", 10), ("cifar", "Natural", 100),
         ("eurosat", "Specialized", 10), ("dmlab", "Structured", 6), ("fashion_mnist", "", 10),
         ("blobs", "Synthetic", 3)]
METHODS = ["sct", "linear"]
SEEDS = [0, 1]
LAYERS, DIM, K = 4, 32, 8
EPOCHS = 6


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def unit(rng, task, group, classes, method, seed, base):
    uid = f"{task}__{method}__s{seed}"
    last = float(np.round(base + rng.normal(0, 1.5), 3))
    best = float(np.round(last + rng.uniform(0, 3), 3))
    curve = []
    for e in range(EPOCHS):
        curve.append({"epoch": e, "lr": 0.01 * (e + 1) / EPOCHS, "loss": float(2.5 * np.exp(-0.3 * e) + rng.uniform(0, 0.1)),
                      "train_acc": float(min(100, 15 * (e + 1) + rng.uniform(0, 5))),
                      "eval_acc": float(last * (e + 1) / EPOCHS) if e % 2 == 1 else None,
                      "images_per_s": 800.0, "seconds": 1.5})
    head = 96 * classes + classes
    trainable = (LAYERS * K * 2 if method == "sct" else 0)
    result = {
        "schema": 1, "unit": uid, "task": task, "group": group, "method": method, "seed": seed, "variant": "",
        "mode": "attn" if method == "sct" else None, "k": K if method == "sct" else None,
        "num_classes": classes, "train_split": "train800val200", "eval_split": "test",
        "accuracy": {"best": best, "best_epoch": EPOCHS - 1, "last": last},
        "params": {"trainable": trainable + head, "trainable_without_head": trainable, "head": head,
                   "backbone": 5000},
        "channels": None, "channel_scores": None, "curve": curve,
        "timings": {"saliency_s": 1.0, "train_s": float(rng.uniform(50, 150)), "eval_s": 2.0},
        "recipe_hash": "0123456789abcdef", "world": {"ranks": 2, "backend": "mpi", "group": 0},
        "finished_at": "2026-11-25T10:00:00Z",
    }
    result["timings"]["total_s"] = result["timings"]["train_s"] + 3.0
    if method == "sct":
        scores = rng.uniform(0, 1, size=(LAYERS, DIM))
        result["channels"] = [sorted(int(c) for c in np.argsort(-row)[:K]) for row in scores]
        if not (task == "svhn" and seed == 1):  # one unit without scores: the map falls back to selection only
            result["channel_scores"] = scores.round(4).tolist()
    metrics = "".join(json.dumps(c) + "\n" for c in curve)
    return uid, result, metrics


def main():
    run_dir = sys.argv[1]
    broken = "--broken" in sys.argv[2:]
    rng = np.random.default_rng(7)
    write(os.path.join(run_dir, "resolved.toml"), "name = \"fixture\"\n")
    for task, group, classes in TASKS:
        for method in METHODS:
            base = rng.uniform(30, 85)
            for seed in SEEDS:
                uid, result, metrics = unit(rng, task, group, classes, method, seed, base)
                write(os.path.join(run_dir, "units", uid, "result.json"), json.dumps(result, indent=1))
                write(os.path.join(run_dir, "units", uid, "metrics.jsonl"), metrics)
    if broken:
        units = os.path.join(run_dir, "units")
        # Unfinished or lost: metrics but no result.
        write(os.path.join(units, "kitti__sct__s0", "metrics.jsonl"), '{"epoch": 0, "loss": 2.0}\n')
        # Truncated mid-write by something other than the atomic writer.
        write(os.path.join(units, "kitti__linear__s0", "result.json"), '{"schema": 1, "task": "kitti", "accu')
        # A required field missing.
        _, result, _ = unit(rng, "eurosat", "Specialized", 10, "sct", 2, 60.0)
        del result["accuracy"]["best"]
        write(os.path.join(units, "eurosat__sct__s2", "result.json"), json.dumps(result))
        # A unit that failed and said why.
        write(os.path.join(units, "dtd__linear__s2", "error.json"),
              json.dumps({"schema": 1, "unit": "dtd__linear__s2", "error": "out of memory in epoch 3"}))


if __name__ == "__main__":
    main()
