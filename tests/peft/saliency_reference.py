"""Independent NumPy check of `sct_dist saliency`: a tiny ViT (weights written here as
.safetensors), images read from the task file with h5py, the timm forward pass in float64, the
per-class sums of squares over the patch tokens, CAIS / task scores, top-K with the documented
tie-break, and the documented splitmix64 random selection. The C++ side runs with --float64, so
scores must agree to 1e-9 relative and indices exactly; one float32 run is checked loosely.

usage: saliency_reference.py SCT_DIST SCT_DATA MPIRUN WORKDIR"""
import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np

SCT_DIST, SCT_DATA, MPIRUN, WORK = sys.argv[1:5]
D, L, H, P, S, MLP = 24, 3, 2, 4, 16, 4
MASK = (1 << 64) - 1
failures = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def random_weights(rng):
    T = (S // P) ** 2 + 1
    n = lambda *shape, s=0.2: rng.normal(0.0, s, shape).astype(np.float32)
    w = {"cls_token": n(1, 1, D, s=0.5), "pos_embed": n(1, T, D, s=0.5),
         "patch_embed.proj.weight": n(D, 3, P, P, s=0.15), "patch_embed.proj.bias": n(D, s=0.1)}
    for i in range(L):
        b = f"blocks.{i}."
        w[b + "norm1.weight"] = 1 + n(D, s=0.1)
        w[b + "norm1.bias"] = n(D, s=0.1)
        w[b + "attn.qkv.weight"] = n(3 * D, D)
        w[b + "attn.qkv.bias"] = n(3 * D, s=0.1)
        w[b + "attn.proj.weight"] = n(D, D)
        w[b + "attn.proj.bias"] = n(D, s=0.1)
        w[b + "norm2.weight"] = 1 + n(D, s=0.1)
        w[b + "norm2.bias"] = n(D, s=0.1)
        w[b + "mlp.fc1.weight"] = n(MLP * D, D)
        w[b + "mlp.fc1.bias"] = n(MLP * D, s=0.1)
        w[b + "mlp.fc2.weight"] = n(D, MLP * D)
        w[b + "mlp.fc2.bias"] = n(D, s=0.1)
    w["norm.weight"] = 1 + n(D, s=0.1)
    w["norm.bias"] = n(D, s=0.1)
    w["head.weight"] = n(3, D)  # 3 classes: dropped by the C++ side (no head for saliency)
    w["head.bias"] = n(3)
    return w


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-6) * g + b


_erf = np.vectorize(math.erf)


def features(w, images):
    """Per block: qkv output, h (input of LN2), block output; all (N, T, width) float64."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    N, G = images.shape[0], S // P
    patches = images.reshape(N, 3, G, P, G, P).transpose(0, 2, 4, 1, 3, 5).reshape(N, G * G, 3 * P * P)
    x = patches @ w["patch_embed.proj.weight"].reshape(D, -1).T + w["patch_embed.proj.bias"]
    x = np.concatenate([np.broadcast_to(w["cls_token"], (N, 1, D)), x], 1) + w["pos_embed"]
    taps = []
    hd = D // H
    for i in range(L):
        b = f"blocks.{i}."
        qkv = layer_norm(x, w[b + "norm1.weight"], w[b + "norm1.bias"]) @ w[b + "attn.qkv.weight"].T
        qkv = qkv + w[b + "attn.qkv.bias"]
        T = qkv.shape[1]
        t = qkv.reshape(N, T, 3, H, hd).transpose(2, 0, 3, 1, 4)
        s = (t[0] * hd ** -0.5) @ t[1].transpose(0, 1, 3, 2)
        s = np.exp(s - s.max(-1, keepdims=True))
        o = ((s / s.sum(-1, keepdims=True)) @ t[2]).transpose(0, 2, 1, 3).reshape(N, T, D)
        h = x + o @ w[b + "attn.proj.weight"].T + w[b + "attn.proj.bias"]
        m = layer_norm(h, w[b + "norm2.weight"], w[b + "norm2.bias"]) @ w[b + "mlp.fc1.weight"].T
        m = m + w[b + "mlp.fc1.bias"]
        m = 0.5 * m * (1.0 + _erf(m / math.sqrt(2.0)))
        x = h + m @ w[b + "mlp.fc2.weight"].T + w[b + "mlp.fc2.bias"]
        taps.append({"qkv": qkv, "attn": h, "mlp": x})
    return taps


def load_images(path, split):
    with h5py.File(path, "r") as f:
        raw = f[split]["images"][...]
        labels = f[split]["labels"][...].astype(np.int64)
        classes = int(f.attrs["num_classes"])
    # The loader's float32 arithmetic, (v / 255 - mean) / std, then float64 for the model.
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    table = (np.arange(256, dtype=np.float32)[:, None] / np.float32(255) - mean) / std  # [256, 3]
    x = np.stack([table[raw[..., c], c] for c in range(3)], 1).astype(np.float64)  # N, 3, H, W
    return x, labels, classes


def parts_of(mode, X):
    patch = X[:, 1:, :]
    return [("q", patch[..., :D]), ("v", patch[..., 2 * D:])] if mode == "qkv" else [("h", patch)]


def scores_of(X, labels, classes, strategy):
    per_image = (X ** 2).sum(1)  # N, D
    if strategy == "task":
        return np.sqrt(per_image.sum(0))
    present = [c for c in range(classes) if (labels == c).any()]
    return np.mean([np.sqrt(per_image[labels == c].sum(0)) for c in present], 0)


def top_k(scores, k):
    order = sorted(range(len(scores)), key=lambda j: (-scores[j], j))
    return sorted(order[:k])


def random_channels(seed, layer, part, dim, k):
    state = (seed ^ ((2 * layer + part) * 0xD1B54A32D192ED03)) & MASK
    perm = list(range(dim))
    for i in range(k):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        j = i + z % (dim - i)
        perm[i], perm[j] = perm[j], perm[i]
    return sorted(perm[:k])


def run(recipe, out, sets, np_ranks=1, float64=True):
    cmd = [SCT_DIST, "saliency", recipe, "--output", out] + [a for s in sets for a in ("--set", s)]
    if float64:
        cmd.append("--float64")
    if np_ranks > 1:
        cmd = [MPIRUN, str(np_ranks)] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def compare(name, got, taps, labels, classes, mode, strategy, k, rtol, exact_indices=True):
    worst = 0.0
    for l in range(L):
        layer = got["layers"][l]
        for part, X in parts_of(mode, taps[l][mode]):
            ref = scores_of(X, labels, classes, strategy)
            c = np.array(layer[part + "_scores"])
            worst = max(worst, float(np.max(np.abs(c - ref) / np.abs(ref))))
            want = top_k(list(ref), k)
            if exact_indices:
                check(layer[part + "_indices"] == want, f"{name} layer {l} {part}: indices {want}")
            else:  # float32 features: only where the K-th and (K+1)-th scores are clearly apart
                s = np.sort(ref)[::-1]
                if (s[k - 1] - s[k]) / s[k - 1] > 1e-3:
                    check(layer[part + "_indices"] == want, f"{name} layer {l} {part}: indices {want}")
    check(worst <= rtol, f"{name}: scores within {rtol:g} relative (worst {worst:.3g})")


def main():
    rng = np.random.RandomState(7)
    ckpt = os.path.join(WORK, "tiny.safetensors")
    write_safetensors(ckpt, random_weights(rng), {"num_heads": str(H), "format": "pt"})
    weights = {}
    with open(ckpt, "rb") as f:  # read back what the C++ side reads
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__")
    for name, e in header.items():
        b, end = e["data_offsets"]
        weights[name] = np.frombuffer(raw[8 + n + b:8 + n + end], "<f4").reshape(e["shape"])

    tasks = {}
    # 11 images of 7 classes: classes 4..6 have one image each; 5 images of 7: two classes absent.
    for tag, count in (("full", 11), ("absent", 5)):
        path = os.path.join(WORK, f"task_{tag}.h5")
        subprocess.run([SCT_DATA, "synth", "--output", path, "--classes", "7", "--size", str(S), "--seed", "3",
                        "--split", f"train={count}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recipe = os.path.join(WORK, f"{tag}.toml")
        with open(recipe, "w") as f:
            f.write(f'seed = 11\nthreads = 1\n[model]\ncheckpoint = "{ckpt}"\nimage_size = {S}\n'
                    f'[task]\nname = "{tag}"\ndata = "{path}"\ntrain_split = "train"\n'
                    f'[peft]\nk = 5\nsaliency_batch = 4\n')
        images, labels, classes = load_images(path, "train")
        tasks[tag] = (recipe, features(weights, images), labels, classes)

    recipe, taps, labels, classes = tasks["full"]
    for mode in ("attn", "mlp", "qkv"):
        for strategy in ("cais", "task"):
            out = os.path.join(WORK, f"{mode}_{strategy}.json")
            got = run(recipe, out, [f'peft.mode="{mode}"', f'peft.strategy="{strategy}"'])
            check(got["k"] == 5 and got["images"] == 11 and got["classes_present"] == 7,
                  f"{mode}/{strategy}: k, images, classes_present")
            compare(f"{mode}/{strategy}", got, taps, labels, classes, mode, strategy, 5, 1e-9)
        got = run(recipe, os.path.join(WORK, f"{mode}_random.json"), [f'peft.mode="{mode}"', 'peft.strategy="random"'])
        for l in range(L):
            for p, part in enumerate(["q", "v"] if mode == "qkv" else ["h"]):
                want = random_channels(11, l, p, D, 5)
                check(got["layers"][l][part + "_indices"] == want, f"{mode}/random layer {l} {part}: {want}")

    # Classes absent from the split do not enter the CAIS mean.
    recipe_a, taps_a, labels_a, classes_a = tasks["absent"]
    got = run(recipe_a, os.path.join(WORK, "absent.json"), ["peft.k=0", "peft.k_fraction=0.25"])
    check(got["classes_present"] == 5 and got["num_classes"] == 7, "absent classes: 5 of 7 present")
    compare("absent/cais (K = round(0.25 D) = 6)", got, taps_a, labels_a, classes_a, "attn", "cais", 6, 1e-9)

    # Two ranks give the same file as one; the float32 pass is close to the float64 reference.
    one = os.path.join(WORK, "qkv_cais.json")
    two = os.path.join(WORK, "qkv_cais_n2.json")
    run(recipe, two, ['peft.mode="qkv"'], np_ranks=2)
    check(open(one, "rb").read() == open(two, "rb").read(), "qkv/cais float64: -n 2 file equals -n 1 byte for byte")
    got = run(recipe, os.path.join(WORK, "f32.json"), [], float64=False)
    compare("attn/cais float32", got, taps, labels, classes, "attn", "cais", 5, 1e-4, exact_indices=False)

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
