"""Checks `sct_dist forward` and `sct_dist inspect` against the NumPy reference on random
tiny ViTs: checkpoints written by the C++ writers and by numpy.savez / savez_compressed /
a Python safetensors writer, several shapes, resized position embeddings, f16/bf16/f64.
usage: check_reference.py SCT_DIST MODEL_FIXTURE WORKDIR"""
import json
import os
import subprocess
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as ref  # noqa: E402

SCT_DIST, FIXTURE, WORK = sys.argv[1:4]
TOL = 1e-5
failures = []


def run(cmd, expect_rc=0):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != expect_rc:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode} (expected {expect_rc}):\n{p.stdout}\n{p.stderr}")
    return p


def random_timm(rng, D, L, P, S, classes, mlp_ratio=4.0):
    M = int(round(D * mlp_ratio))
    G = S // P
    w = {"cls_token": (1, 1, D), "pos_embed": (1, 1 + G * G, D), "patch_embed.proj.weight": (D, 3, P, P),
         "patch_embed.proj.bias": (D,), "norm.weight": (D,), "norm.bias": (D,)}
    for i in range(L):
        b = f"blocks.{i}."
        w.update({b + "norm1.weight": (D,), b + "norm1.bias": (D,), b + "attn.qkv.weight": (3 * D, D),
                  b + "attn.qkv.bias": (3 * D,), b + "attn.proj.weight": (D, D), b + "attn.proj.bias": (D,),
                  b + "norm2.weight": (D,), b + "norm2.bias": (D,), b + "mlp.fc1.weight": (M, D),
                  b + "mlp.fc1.bias": (M,), b + "mlp.fc2.weight": (D, M), b + "mlp.fc2.bias": (D,)})
    if classes:
        w.update({"head.weight": (classes, D), "head.bias": (classes,)})
    return {k: rng.normal(0, 0.3, s) for k, s in w.items()}


def write_safetensors(path, w, heads, dtype):
    header, blobs, off = {"__metadata__": {"num_heads": str(heads)}}, [], 0
    for k, v in w.items():
        b = np.ascontiguousarray(v.astype({"F16": "<f2", "F32": "<f4"}[dtype])).tobytes()
        header[k] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def compare(name, ckpt, size, what, n=3, batch=None):
    rng = np.random.default_rng(zlib.crc32(f"{name}/{size}".encode()))
    x = rng.normal(size=(n, 3, size, size)).astype(np.float32)
    inp, out = os.path.join(WORK, f"{name}_{size}_in.npy"), os.path.join(WORK, f"{name}_{size}_out.npy")
    np.save(inp, x)
    cmd = [SCT_DIST, "--threads", "1", "forward", "--checkpoint", ckpt, "--input", inp, "--output", out, "--what", what]
    if batch:
        cmd += ["--batch", str(batch)]
    run(cmd)
    got = np.load(out)
    w, heads = ref.load(ckpt)
    want = ref.forward(w, heads, x, what)
    err = np.linalg.norm(got.astype(np.float64) - want) / np.linalg.norm(want)
    status = "ok" if got.shape == want.shape and err <= TOL else "FAIL"
    print(f"{status:4} {name:22} image {size:3} {what:8} shape {got.shape}  rel L2 error {err:.2e}")
    if status != "ok":
        failures.append(name)


def inspect(ckpt, expect):
    p = run([SCT_DIST, "inspect", ckpt])
    for part in expect:
        if part not in p.stdout:
            failures.append(f"inspect {ckpt}")
            print(f"FAIL inspect {ckpt}: '{part}' not in output:\n{p.stdout}")
            return
    print(f"ok   inspect {os.path.basename(ckpt)}")


os.makedirs(WORK, exist_ok=True)
J = lambda f: os.path.join(WORK, f)  # noqa: E731

# Checkpoints from the C++ writers.
run([FIXTURE, J("a.safetensors"), "--dim", "32", "--depth", "2", "--heads", "4", "--patch", "4", "--image", "16",
     "--classes", "5", "--seed", "1"])
compare("cpp_safetensors", J("a.safetensors"), 16, "logits")
compare("cpp_safetensors", J("a.safetensors"), 24, "features")  # grid 4 -> 6
run([FIXTURE, J("b.npz"), "--dim", "24", "--depth", "3", "--heads", "3", "--patch", "8", "--image", "32",
     "--classes", "0", "--seed", "2", "--prefix", "opt/target/"])
compare("cpp_npz_prefixed", J("b.npz"), 32, "features")
compare("cpp_npz_prefixed", J("b.npz"), 48, "features", n=5, batch=2)  # grid 4 -> 6
compare("cpp_npz_prefixed", J("b.npz"), 16, "features")  # grid 4 -> 2
run([FIXTURE, J("c.safetensors"), "--dim", "16", "--depth", "1", "--heads", "2", "--patch", "2", "--image", "8",
     "--classes", "3", "--seed", "3", "--dtype", "bf16"])
compare("cpp_safetensors_bf16", J("c.safetensors"), 8, "logits")
run([FIXTURE, J("d.npz"), "--dim", "16", "--depth", "2", "--heads", "4", "--patch", "4", "--image", "12",
     "--classes", "2", "--seed", "4", "--dtype", "f16", "--compress"])
compare("cpp_npz_f16_deflated", J("d.npz"), 20, "logits")  # grid 3 -> 5

# Checkpoints written by NumPy and Python alone.
rng = np.random.default_rng(7)
w = random_timm(rng, D=48, L=2, P=4, S=20, classes=7, mlp_ratio=2.0)
np.savez(J("py.npz"), **ref.timm_to_google(w, heads=6, prefix="opt/target/"))
compare("numpy_savez_f8", J("py.npz"), 20, "logits")
compare("numpy_savez_f8", J("py.npz"), 28, "logits")  # grid 5 -> 7
w = random_timm(rng, D=32, L=2, P=8, S=32, classes=0)
np.savez_compressed(J("pyz.npz"), **{k: v.astype(np.float16) for k, v in ref.timm_to_google(w, heads=2).items()})
compare("numpy_compressed_f2", J("pyz.npz"), 32, "features")
w = random_timm(rng, D=24, L=3, P=4, S=16, classes=4)
write_safetensors(J("py.safetensors"), w, heads=2, dtype="F16")
compare("python_safetensors_f16", J("py.safetensors"), 16, "logits", n=5, batch=2)

inspect(J("a.safetensors"), ["D=32 L=2 H=4 P=4 image 16", "blocks.1.mlp.fc2.weight", f"{sum(v.size for v in ref.load(J('a.safetensors'))[0].values()):,}"])
inspect(J("py.npz"), ["D=48 L=2 H=6 P=4 image 20", "MLP 96", "classes 7", "opt/target/embedding/kernel"])

# A defect is one line naming file and tensor, exit code 2.
with open(J("a.safetensors"), "rb") as f:
    data = f.read()
with open(J("cut.safetensors"), "wb") as f:
    f.write(data[:-100])
p = run([SCT_DIST, "inspect", J("cut.safetensors")], expect_rc=2)
lines = [l for l in p.stderr.splitlines() + p.stdout.splitlines() if "cut.safetensors" in l]
if len(lines) != 1 or "lie outside" not in lines[0]:
    failures.append("defect message")
    print("FAIL defect message:", p.stdout, p.stderr)
else:
    print("ok   defect:", lines[0])
p = run([SCT_DIST, "forward", "--checkpoint", J("b.npz"), "--input", J("cpp_npz_prefixed_32_in.npy"),
         "--output", J("x.npy"), "--what", "logits"], expect_rc=2)
if "head" in p.stderr + p.stdout and not os.path.exists(J("x.npy")):
    print("ok   logits without a head refused")
else:
    failures.append("logits without head")

print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all reference checks passed'}")
sys.exit(1 if failures else 0)
