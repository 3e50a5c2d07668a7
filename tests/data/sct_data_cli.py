"""Integration test of the sct_data binary against independent Python readers.

Conversions are checked with h5py + NumPy + PIL (the reference pipeline's library):
IDX round trip (gzip written here), list/VTAB folders of PNG and JPEG images resized
with Pillow's bicubic, checksums recomputed with zlib, and every user error is one line
on stderr with exit code 2 naming the file (and dataset).
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import h5py
import numpy as np
from PIL import Image

BICUBIC = getattr(Image, "Resampling", Image).BICUBIC
SCT_DATA = os.path.join(os.environ["SCT_BUILD"], "bin", "sct_data")
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def run(*args, env=None):
    p = subprocess.run([SCT_DATA, *map(str, args)], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def ok(*args):
    rc, out, err = run(*args)
    if rc != 0:
        print(out, err)
    check(rc == 0, "sct_data " + " ".join(map(str, args[:1])) + " succeeds")
    return out


def expect_error(args, *needles, env=None):
    rc, out, err = run(*args, env=env)
    lines = err.strip().splitlines()
    good = rc == 2 and len(lines) == 1 and lines[0].startswith("sct_data: error: ") and all(n in err for n in needles)
    check(good, f"{args[0]} error {needles}: rc {rc}, stderr {err.strip()!r}")


def write_idx(path, arr):
    codes = {np.uint8: 0x08}
    header = bytes([0, 0, codes[arr.dtype.type], arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def split_checksum(g):
    c = zlib.crc32(g["images"][...].tobytes())
    return "crc32:%08x" % zlib.crc32(g["labels"][...].astype("<i8").tobytes(), c)


def test_idx(tmp, rng):
    images = rng.integers(0, 256, (9, 7, 5), dtype=np.uint8)
    labels = rng.integers(0, 4, 9).astype(np.uint8)
    write_idx(f"{tmp}/img.gz", images)
    write_idx(f"{tmp}/lab.gz", labels)
    ok("convert-idx", "--task", "toy", "--classes", 4, "--output", f"{tmp}/idx.h5",
       "--split", f"a={tmp}/img.gz,{tmp}/lab.gz,0:6", "--split", f"b={tmp}/img.gz,{tmp}/lab.gz,6:9")
    with h5py.File(f"{tmp}/idx.h5", "r") as f:
        got = np.concatenate([f["a/images"][...], f["b/images"][...]])
        check(np.array_equal(got, np.repeat(images[..., None], 3, -1)), "IDX images round trip (gray -> RGB)")
        check(np.array_equal(np.concatenate([f["a/labels"][...], f["b/labels"][...]]), labels), "IDX labels round trip")
        check(f.attrs["num_classes"] == 4 and list(f.attrs["image_size"]) == [7, 5], "IDX attributes")
        sums = sorted((k, split_checksum(f[k])) for k in f.keys())
        check(all(f[k].attrs["checksum"] == s for k, s in sums), "split checksums equal zlib.crc32")
        text = "".join(f"{k}={s}\n" for k, s in sums)
        check(f.attrs["checksum"] == "crc32:%08x" % zlib.crc32(text.encode()), "file checksum equals zlib.crc32")
    ok("convert-idx", "--task", "toy", "--classes", 4, "--output", f"{tmp}/idx16.h5", "--size", 16,
       "--split", f"a={tmp}/img.gz,{tmp}/lab.gz")
    with h5py.File(f"{tmp}/idx16.h5", "r") as f:
        ref = np.stack([np.asarray(Image.fromarray(im).convert("RGB").resize((16, 16), BICUBIC)) for im in images])
        d = np.abs(f["a/images"][...].astype(int) - ref).max()
        check(d <= 1, f"IDX upscale 7x5 -> 16x16 vs Pillow bicubic: max |diff| {d}")
        check(f.attrs["resize_method"] == "pillow-bicubic-antialias", "resize_method recorded")


def test_vtab_folder(tmp, rng, exact_jpeg):
    root = f"{tmp}/vtab/dtd"
    files = {}
    for split, n in [("train800", 5), ("val200", 3), ("test", 4)]:
        os.makedirs(f"{root}/images/{split}")
        lines = []
        for i in range(n):
            h, w = int(rng.integers(20, 90)), int(rng.integers(20, 90))
            y, x = np.mgrid[0:h, 0:w]
            a = np.stack([127 + 110 * np.sin(x / 5.0 + c) * np.cos(y / 7.0 - c) for c in range(3)], -1)
            a = np.clip(a + rng.normal(0, 8, a.shape), 0, 255).astype(np.uint8)
            kind = ["png", "jpg", "gray.png", "gray.jpg"][i % 4]
            rel = f"images/{split}/{i:06d}.{kind}"
            im = Image.fromarray(a[..., 0] if kind.startswith("gray") else a)
            im.save(f"{root}/{rel}", quality=90) if kind.endswith("jpg") else im.save(f"{root}/{rel}")
            lines.append(f"{rel} {int(rng.integers(0, 47))}")
            files.setdefault(split, []).append(rel)
        open(f"{root}/{split}.txt", "w").write("\n".join(lines) + "\n")
    open(f"{root}/train800val200.txt", "w").write(open(f"{root}/train800.txt").read() + open(f"{root}/val200.txt").read())
    files["train800val200"] = files["train800"] + files["val200"]
    ok("convert-vtab", "--root", f"{tmp}/vtab", "--task", "dtd", "--size", 24, "--output", f"{tmp}/dtd.h5")
    with h5py.File(f"{tmp}/dtd.h5", "r") as f:
        check(sorted(f.keys()) == ["test", "train800", "train800val200", "val200"], "four VTAB splits")
        check(f.attrs["group"] == "Natural" and f.attrs["num_classes"] == 47, "VTAB task table: group, classes")
        worst = {"png": 0, "jpg": 0}
        for split, rels in files.items():
            got = f[f"{split}/images"][...]
            for i, rel in enumerate(rels):
                ref = np.asarray(Image.open(f"{root}/{rel}").convert("RGB").resize((24, 24), BICUBIC)).astype(int)
                key = "jpg" if rel.endswith("jpg") else "png"
                worst[key] = max(worst[key], int(np.abs(got[i].astype(int) - ref).max()))
        check(worst["png"] <= 1, f"PNG decode + resize vs PIL: max |diff| {worst['png']}")
        jpeg_tol = 1 if exact_jpeg else 8
        check(worst["jpg"] <= jpeg_tol, f"JPEG decode + resize vs PIL: max |diff| {worst['jpg']} (<= {jpeg_tol})")
    # The general list-file form gives the same pixels for the same list.
    ok("convert-list", "--task", "mine", "--classes", 47, "--size", 24, "--output", f"{tmp}/list.h5",
       "--split", f"part={root}/val200.txt", "--root", root)
    with h5py.File(f"{tmp}/list.h5", "r") as f, h5py.File(f"{tmp}/dtd.h5", "r") as g:
        check(np.array_equal(f["part/images"][...], g["val200/images"][...]) and
              np.array_equal(f["part/labels"][...], g["val200/labels"][...]), "convert-list equals convert-vtab")
    test_scored_classes(tmp, root)
    out = ok("validate", f"{tmp}/dtd.h5")
    check("valid (4 splits" in out, "validate reports the four splits")
    out = ok("inspect", f"{tmp}/dtd.h5")
    check("train800val200" in out and "histogram" in out, "inspect lists splits and histograms")
    # A label beyond the task's classes in a list file names the file and line.
    open(f"{root}/test.txt", "a").write(f"{files['test'][0]} 47\n")
    expect_error(["convert-vtab", "--root", f"{tmp}/vtab", "--task", "dtd", "--output", f"{tmp}/bad.h5"],
                 "test.txt:5", "label 47 outside [0, 47)")
    check(not os.path.exists(f"{tmp}/bad.h5"), "failed conversion leaves no output file")
    check(not [n for n in os.listdir(tmp) if ".tmp." in n], "failed conversion leaves no temporary file")


def test_scored_classes(tmp, root):
    """--scored-classes: taken from a split's labels, or listed by class name (as wnids would be)."""
    labels = sorted({int(line.split()[-1]) for line in open(f"{root}/val200.txt")})
    names = [f"n{c:08d}" for c in range(47)]
    open(f"{tmp}/names.txt", "w").write("\n".join(names) + "\n")
    listed = sorted(labels + [c for c in range(47) if c not in labels][:2])
    open(f"{tmp}/scored.txt", "w").write("\n".join(names[c] for c in reversed(listed)) + "\n")
    common = ["--task", "mine", "--classes", 47, "--size", 24, "--root", root, "--class-names", f"@{tmp}/names.txt",
              "--split", f"part={root}/val200.txt", "--split", f"named={root}/val200.txt"]
    ok("convert-list", *common, "--output", f"{tmp}/scored.h5", "--scored-classes", "part=labels",
       "--scored-classes", f"named=@{tmp}/scored.txt")
    with h5py.File(f"{tmp}/scored.h5", "r") as f:
        check(list(f["part"].attrs["classes"]) == labels, "scored classes from the labels")
        check(list(f["named"].attrs["classes"]) == listed, "scored classes by name, ascending")
        g = f["named"]
        crc = zlib.crc32(np.asarray(listed, "<i8").tobytes(), int(split_checksum(g)[6:], 16))
        check(g.attrs["checksum"] == "crc32:%08x" % crc, "the split checksum continues over the classes")
    out = ok("validate", f"{tmp}/scored.h5")
    check(f"scored over {len(labels)} classes" in out and f"scored over {len(listed)} classes" in out,
          "validate shows them")
    out = ok("inspect", f"{tmp}/scored.h5", "--split", "named")
    check(f"scored over {len(listed)} of 47 classes" in out, "inspect shows them")
    open(f"{tmp}/short.txt", "w").write(names[labels[0]] + "\n")
    expect_error(["convert-list", *common, "--output", f"{tmp}/bad.h5", "--scored-classes", f"part=@{tmp}/short.txt"],
                 f"--scored-classes part=@{tmp}/short.txt: split 'part' holds label", "not among its 1 scored classes")
    expect_error(["convert-list", *common, "--output", f"{tmp}/bad.h5", "--scored-classes", "part=n99"],
                 "'n99' is neither a class index nor one of the 47 class names")
    check(not os.path.exists(f"{tmp}/bad.h5"), "a bad class list leaves no file")


def write_task(path, images, labels, num_classes=5, split="train"):
    with h5py.File(path, "w") as f:
        f.attrs["num_classes"] = num_classes
        f.attrs["task"] = "handmade"
        f.create_dataset(f"{split}/images", data=images)
        f.create_dataset(f"{split}/labels", data=labels)


def test_errors(tmp, rng):
    good = rng.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    expect_error(["inspect", f"{tmp}/missing.h5"], f"{tmp}/missing.h5: no such task file")
    open(f"{tmp}/junk.h5", "wb").write(os.urandom(4096))
    expect_error(["inspect", f"{tmp}/junk.h5"], f"{tmp}/junk.h5", "not an HDF5 file")
    write_task(f"{tmp}/h5py.h5", good, np.array([0, 1, 4, 2], dtype=np.int32))
    out = ok("inspect", f"{tmp}/h5py.h5")
    check("handmade" in out and "4 images" in out, "a file written with plain h5py (int32 labels) is readable")
    ok("validate", f"{tmp}/h5py.h5")
    expect_error(["inspect", f"{tmp}/h5py.h5", "--split", "tain"], f"{tmp}/h5py.h5", "no split 'tain'",
                 "splits: train", "did you mean 'train'")
    write_task(f"{tmp}/range.h5", good, np.array([0, 1, 5, 2]))
    expect_error(["inspect", f"{tmp}/range.h5"], f"{tmp}/range.h5", "'/train/labels'", "label 5 at index 2", "[0, 5)")
    write_task(f"{tmp}/dtype.h5", good.astype(np.float32), np.zeros(4, dtype=np.int64))
    expect_error(["inspect", f"{tmp}/dtype.h5"], f"{tmp}/dtype.h5", "'/train/images'", "float32", "uint8")
    write_task(f"{tmp}/shape.h5", good[..., 0], np.zeros(4, dtype=np.int64))
    expect_error(["inspect", f"{tmp}/shape.h5"], "'/train/images'", "(4, 6, 6)", "(N, H, W, 3)")
    write_task(f"{tmp}/count.h5", good, np.zeros(3, dtype=np.int64))
    expect_error(["inspect", f"{tmp}/count.h5"], "'/train/labels'", "(3)", "(4,)")
    write_task(f"{tmp}/empty.h5", good[:0], np.zeros(0, dtype=np.int64))
    expect_error(["validate", f"{tmp}/empty.h5"], f"{tmp}/empty.h5", "split 'train' is empty")
    with h5py.File(f"{tmp}/noclasses.h5", "w") as f:
        f.create_dataset("train/images", data=good)
        f.create_dataset("train/labels", data=np.zeros(4, dtype=np.int64))
    expect_error(["inspect", f"{tmp}/noclasses.h5"], "'num_classes' is missing")

    # Corruption: a flipped byte inside image data is caught by the checksum; a truncated
    # file cannot be opened. Both name the file.
    ok("synth", "--output", f"{tmp}/s.h5", "--classes", 3, "--size", 16, "--split", "train=20", "--seed", 2)
    with h5py.File(f"{tmp}/s.h5", "r") as f:
        chunk = f["train/images"].id.get_chunk_info(7)
    raw = bytearray(open(f"{tmp}/s.h5", "rb").read())
    raw[chunk.byte_offset + 100] ^= 0xFF
    open(f"{tmp}/flip.h5", "wb").write(raw)
    expect_error(["validate", f"{tmp}/flip.h5"], f"{tmp}/flip.h5", "split 'train': checksum mismatch")
    open(f"{tmp}/trunc.h5", "wb").write(raw[: len(raw) // 2])
    expect_error(["inspect", f"{tmp}/trunc.h5"], f"{tmp}/trunc.h5", "truncated")
    rc, _, err = run("inspect", f"{tmp}/trunc.h5")
    check("LOCKING" not in err, "a truncated file is not reported as a locking problem")
    # A damaged gzip chunk fails the read itself; the loader rethrows it on the caller's thread.
    images = rng.integers(0, 256, (12, 20, 20), dtype=np.uint8)
    write_idx(f"{tmp}/cimg.gz", images)
    write_idx(f"{tmp}/clab.gz", np.zeros(12, dtype=np.uint8))
    ok("convert-idx", "--task", "c", "--classes", 2, "--compress", 6, "--output", f"{tmp}/c.h5",
       "--split", f"train={tmp}/cimg.gz,{tmp}/clab.gz")
    with h5py.File(f"{tmp}/c.h5", "r") as f:
        chunk = f["train/images"].id.get_chunk_info(5)
    raw = bytearray(open(f"{tmp}/c.h5", "rb").read())
    for k in range(8, 40):
        raw[chunk.byte_offset + k] ^= 0x5A
    open(f"{tmp}/cflip.h5", "wb").write(raw)
    expect_error(["validate", f"{tmp}/cflip.h5"], f"{tmp}/cflip.h5", "train")
    bench = os.path.join(os.environ["SCT_BUILD"], "bin", "bench_data")
    p = subprocess.run([bench, f"{tmp}/cflip.h5", "--batch", "12", "--batches", "2"], capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and "'/train/images'" in p.stderr,
          f"loader: a corrupt chunk is one error line from the reading thread: {p.stderr.strip()!r}")
    ok("synth", "--output", f"{tmp}/z.h5", "--classes", 3, "--size", 16, "--split", "train=20")
    # Locking: a writer holding the file makes a locking reader fail with the hint.
    env = dict(os.environ)
    env.pop("HDF5_USE_FILE_LOCKING", None)
    holder = subprocess.Popen([sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'a'); "
                               "print('held', flush=True); time.sleep(60)", f"{tmp}/z.h5"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        holder.stdout.readline()
        expect_error(["inspect", f"{tmp}/z.h5"], f"{tmp}/z.h5", "HDF5_USE_FILE_LOCKING=FALSE", env=env)
        rc, _, _ = run("inspect", f"{tmp}/z.h5", env=dict(env, HDF5_USE_FILE_LOCKING="FALSE"))
        check(rc == 0, "HDF5_USE_FILE_LOCKING=FALSE lets a reader open the held file")
    finally:
        holder.kill()
        holder.wait()
    expect_error(["synth", "--output", f"{tmp}/x.h5", "--classes", 3], "--size is required")
    expect_error(["convert-idx", "--task", "t", "--classes", 2, "--output", f"{tmp}/x.h5",
                  "--split", f"a={tmp}/nothere.gz,{tmp}/nothere.gz"], f"{tmp}/nothere.gz")
    expect_error(["inspekt", "x"], "unknown command 'inspekt'", "did you mean 'inspect'")


def test_fashion_mnist(tmp):
    d = "/usr/share/datasets/fashion-mnist"
    img, lab = f"{d}/t10k-images-idx3-ubyte.gz", f"{d}/t10k-labels-idx1-ubyte.gz"
    if not os.path.exists(img):
        print("skip Fashion-MNIST (dataset-fashion-mnist not installed)")
        return
    ok("convert-idx", "--task", "fashion_mnist", "--classes", 10, "--output", f"{tmp}/fm.h5",
       "--split", f"train800={img},{lab},0:800", "--split", f"val200={img},{lab},800:1000", "--compress", 4)
    raw = np.frombuffer(gzip.open(img).read()[16:], dtype=np.uint8).reshape(-1, 28, 28)
    labels = np.frombuffer(gzip.open(lab).read()[8:], dtype=np.uint8)
    with h5py.File(f"{tmp}/fm.h5", "r") as f:
        check(np.array_equal(f["val200/images"][..., 1], raw[800:1000]), "Fashion-MNIST pixels equal the IDX file")
        check(np.array_equal(f["train800/labels"][...], labels[:800]), "Fashion-MNIST labels equal the IDX file")
    bench = os.path.join(os.environ["SCT_BUILD"], "bin", "bench_data")
    p = subprocess.run([bench, f"{tmp}/fm.h5", "--batch", "32", "--batches", "4"], capture_output=True, text=True)
    check(p.returncode == 0 and "img/s per core" in p.stdout and "0.57 img/s per core" in p.stdout,
          "bench_data prints rates and the consumption reference")
    p = subprocess.run([bench, f"{tmp}/fm.h5", "--split", "test"], capture_output=True, text=True)
    check(p.returncode == 2 and "no split 'test'" in p.stderr, "bench_data: a missing split is one error line, exit 2")


def main():
    rng = np.random.default_rng(7)
    version = subprocess.run([SCT_DATA, "--version"], capture_output=True, text=True).stdout
    exact_jpeg = "libjpeg" in version
    with tempfile.TemporaryDirectory() as tmp:
        test_idx(tmp, rng)
        test_vtab_folder(tmp, rng, exact_jpeg)
        test_errors(tmp, rng)
        test_fashion_mnist(tmp)
    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
