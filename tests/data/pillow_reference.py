"""Compares the C++ image operations with Pillow, the reference pipeline's library.

Runs data_optool once over all cases and checks every output against PIL:
antialiased bicubic resize (down and up, RGB and gray; tolerance 1 level, as promised),
and the RandAugment primitives (point ops, ImageEnhance, bicubic affine/rotate with a
fill colour), which must match exactly.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

BICUBIC = getattr(Image, "Resampling", Image).BICUBIC
FLIP = getattr(Image, "Transpose", Image).FLIP_LEFT_RIGHT
AFFINE = getattr(Image, "Transform", Image).AFFINE
FILL = (124, 116, 104)


def test_images(rng):
    """Noise (worst case for rounding) and a smooth natural-like image, odd sizes."""
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    y, x = np.mgrid[0:61, 0:45]
    smooth = np.stack([127 + 120 * np.sin(x / 7.0 + c) * np.cos(y / 9.0 - c) for c in range(3)], -1)
    smooth = np.clip(smooth + rng.normal(0, 6, smooth.shape), 0, 255).astype(np.uint8)
    return {"noise": noise, "smooth": smooth}


def solarize_add(img, add, thresh=128):
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * 3)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(1234)
    imgs = test_images(rng)
    cases = []  # (name, op, array, params, reference array, tolerance)

    def add(name, op, arr, params, ref, tol=0):
        cases.append((name, op, arr, params, np.asarray(ref), tol))

    for key, a in imgs.items():
        im = Image.fromarray(a)
        h, w = a.shape[:2]
        for oh, ow in [(224, 224), (16, 16), (h // 3, w - 5), (2 * h + 1, w // 2), (h, 3 * w), (7, w)]:
            add(f"resize {key} {h}x{w}->{oh}x{ow}", "resize", a, [oh, ow], im.resize((ow, oh), BICUBIC), tol=1)
        gray = np.asarray(im.convert("L"))
        add(f"resize gray {key}", "resize", gray[..., None], [224, 224],
            np.asarray(Image.fromarray(gray).resize((224, 224), BICUBIC))[..., None], tol=1)
        add(f"autocontrast {key}", "autocontrast", a, [], ImageOps.autocontrast(im))
        low = (a // 3 + 40).astype(np.uint8)  # a narrow range, so autocontrast stretches
        add(f"autocontrast narrow {key}", "autocontrast", low, [], ImageOps.autocontrast(Image.fromarray(low)))
        add(f"equalize {key}", "equalize", a, [], ImageOps.equalize(im))
        add(f"equalize narrow {key}", "equalize", low, [], ImageOps.equalize(Image.fromarray(low)))
        add(f"invert {key}", "invert", a, [], ImageOps.invert(im))
        add(f"hflip {key}", "hflip", a, [], im.transpose(FLIP))
        for bits in [0, 1, 3, 4]:
            add(f"posterize {bits} {key}", "posterize", a, [bits], ImageOps.posterize(im, bits))
        for t in [0, 29, 128, 256]:
            add(f"solarize {t} {key}", "solarize", a, [t], ImageOps.solarize(im, t))
        for v in [0, 37, 110]:
            add(f"solarize_add {v} {key}", "solarize_add", a, [v], solarize_add(im, v))
        for f in [0.1, 0.37, 1.0, 1.46, 1.9]:
            add(f"color {f} {key}", "color", a, [f], ImageEnhance.Color(im).enhance(f))
            add(f"contrast {f} {key}", "contrast", a, [f], ImageEnhance.Contrast(im).enhance(f))
            add(f"brightness {f} {key}", "brightness", a, [f], ImageEnhance.Brightness(im).enhance(f))
            add(f"sharpness {f} {key}", "sharpness", a, [f], ImageEnhance.Sharpness(im).enhance(f))
        for deg in [-27.3, 13.0, 90.0, 180.0, 0.0]:
            add(f"rotate {deg} {key}", "rotate", a, [deg], im.rotate(deg, resample=BICUBIC, fillcolor=FILL))
        for m in [(1, 0.27, 0, 0, 1, 0), (1, 0, 0, -0.21, 1, 0), (1, 0, -0.4 * w, 0, 1, 0),
                  (1, 0, 0, 0, 1, 0.33 * h), (1, 0, 3.25, 0, 1, -2.5)]:
            add(f"affine {m} {key}", "affine", a, list(m),
                im.transform(im.size, AFFINE, m, resample=BICUBIC, fillcolor=FILL))

    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for i, (name, op, a, params, ref, tol) in enumerate(cases):
            a = np.ascontiguousarray(a)
            src, dst = os.path.join(tmp, f"{i}.in"), os.path.join(tmp, f"{i}.out")
            a.tofile(src)
            h, w, c = a.shape
            lines.append(" ".join([op, src, dst, str(h), str(w), str(c)] + [repr(float(p)) for p in params]))
        with open(os.path.join(tmp, "cases.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([tool, os.path.join(tmp, "cases.txt")], check=True, stdout=subprocess.DEVNULL)
        failures = 0
        worst = 0
        for i, (name, op, a, params, ref, tol) in enumerate(cases):
            ref = ref.reshape(ref.shape[0], ref.shape[1], -1)
            out = np.fromfile(os.path.join(tmp, f"{i}.out"), dtype=np.uint8)
            if out.size != ref.size:
                print(f"FAIL {name}: size {out.size}, PIL {ref.size}")
                failures += 1
                continue
            out = out.reshape(ref.shape)
            diff = np.abs(out.astype(int) - ref.astype(int))
            worst = max(worst, int(diff.max()))
            if diff.max() > tol:
                y, x, c = np.unravel_index(np.argmax(diff), diff.shape)
                print(f"FAIL {name}: max |diff| {diff.max()} > {tol} at (y={y}, x={x}, c={c}): "
                      f"ours {out[y, x, c]}, PIL {ref[y, x, c]}; {np.count_nonzero(diff)} of {diff.size} differ")
                failures += 1
        print(f"{len(cases)} cases compared with Pillow {Image.__version__}: {failures} failed, "
              f"largest difference {worst}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
