"""Independent NumPy implementation of the ViT forward pass (timm semantics, float64) and of
the two checkpoint formats it reads: Google .npz (Flax layout, numpy's own reader) and
.safetensors (parsed here with json + numpy). Used to check `sct_dist forward`."""
import json
import math

import numpy as np

_BLOCK = "Transformer/encoderblock_"
_ATTN = "MultiHeadDotProductAttention_1/"


def read_safetensors(path):
    """Returns ({name: float64 array}, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        buf = data[b:end]
        if e["dtype"] == "F32":
            a = np.frombuffer(buf, "<f4")
        elif e["dtype"] == "F16":
            a = np.frombuffer(buf, "<f2")
        elif e["dtype"] == "BF16":  # the upper half of a float32
            a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F64":
            a = np.frombuffer(buf, "<f8")
        else:
            raise ValueError(f"{path}: {name}: dtype {e['dtype']}")
        out[name] = a.astype(np.float64).reshape(e["shape"])
    return out, meta


def google_to_timm(g):
    """Google ViT keys (Flax layout) to timm names and layouts; returns (weights, heads)."""
    if "opt/target/embedding/kernel" in g:
        g = {k[len("opt/target/"):]: v for k, v in g.items()}
    w = {
        "patch_embed.proj.weight": g["embedding/kernel"].transpose(3, 2, 0, 1),
        "patch_embed.proj.bias": g["embedding/bias"],
        "cls_token": g["cls"],
        "pos_embed": g["Transformer/posembed_input/pos_embedding"],
        "norm.weight": g["Transformer/encoder_norm/scale"],
        "norm.bias": g["Transformer/encoder_norm/bias"],
    }
    if "head/kernel" in g:
        w["head.weight"] = g["head/kernel"].T
        w["head.bias"] = g["head/bias"]
    depth = len({k.split("/")[1] for k in g if k.startswith(_BLOCK)})
    heads = g[_BLOCK + "0/" + _ATTN + "query/kernel"].shape[1]
    for i in range(depth):
        p, t = f"{_BLOCK}{i}/", f"blocks.{i}."
        a = p + _ATTN
        D = g[a + "query/kernel"].shape[0]
        w[t + "norm1.weight"] = g[p + "LayerNorm_0/scale"]
        w[t + "norm1.bias"] = g[p + "LayerNorm_0/bias"]
        w[t + "attn.qkv.weight"] = np.concatenate(
            [g[a + n + "/kernel"].reshape(D, D).T for n in ("query", "key", "value")], 0)
        w[t + "attn.qkv.bias"] = np.concatenate(
            [g[a + n + "/bias"].reshape(D) for n in ("query", "key", "value")], 0)
        w[t + "attn.proj.weight"] = g[a + "out/kernel"].transpose(2, 0, 1).reshape(D, D)
        w[t + "attn.proj.bias"] = g[a + "out/bias"]
        w[t + "norm2.weight"] = g[p + "LayerNorm_2/scale"]
        w[t + "norm2.bias"] = g[p + "LayerNorm_2/bias"]
        w[t + "mlp.fc1.weight"] = g[p + "MlpBlock_3/Dense_0/kernel"].T
        w[t + "mlp.fc1.bias"] = g[p + "MlpBlock_3/Dense_0/bias"]
        w[t + "mlp.fc2.weight"] = g[p + "MlpBlock_3/Dense_1/kernel"].T
        w[t + "mlp.fc2.bias"] = g[p + "MlpBlock_3/Dense_1/bias"]
    return w, heads


def timm_to_google(w, heads, prefix=""):
    """Inverse of google_to_timm, for writing fixtures with numpy.savez."""
    D = w["patch_embed.proj.weight"].shape[0]
    hd = D // heads
    g = {
        "embedding/kernel": w["patch_embed.proj.weight"].transpose(2, 3, 1, 0),
        "embedding/bias": w["patch_embed.proj.bias"],
        "cls": w["cls_token"],
        "Transformer/posembed_input/pos_embedding": w["pos_embed"],
        "Transformer/encoder_norm/scale": w["norm.weight"],
        "Transformer/encoder_norm/bias": w["norm.bias"],
    }
    if "head.weight" in w:
        g["head/kernel"] = w["head.weight"].T
        g["head/bias"] = w["head.bias"]
    depth = len({k.split(".")[1] for k in w if k.startswith("blocks.")})
    for i in range(depth):
        p, t = f"{_BLOCK}{i}/", f"blocks.{i}."
        a = p + _ATTN
        qkv_w = np.split(w[t + "attn.qkv.weight"], 3, 0)
        qkv_b = np.split(w[t + "attn.qkv.bias"], 3, 0)
        for n, kw, kb in zip(("query", "key", "value"), qkv_w, qkv_b):
            g[a + n + "/kernel"] = kw.T.reshape(D, heads, hd)
            g[a + n + "/bias"] = kb.reshape(heads, hd)
        g[a + "out/kernel"] = w[t + "attn.proj.weight"].reshape(D, heads, hd).transpose(1, 2, 0)
        g[a + "out/bias"] = w[t + "attn.proj.bias"]
        g[p + "LayerNorm_0/scale"] = w[t + "norm1.weight"]
        g[p + "LayerNorm_0/bias"] = w[t + "norm1.bias"]
        g[p + "LayerNorm_2/scale"] = w[t + "norm2.weight"]
        g[p + "LayerNorm_2/bias"] = w[t + "norm2.bias"]
        g[p + "MlpBlock_3/Dense_0/kernel"] = w[t + "mlp.fc1.weight"].T
        g[p + "MlpBlock_3/Dense_0/bias"] = w[t + "mlp.fc1.bias"]
        g[p + "MlpBlock_3/Dense_1/kernel"] = w[t + "mlp.fc2.weight"].T
        g[p + "MlpBlock_3/Dense_1/bias"] = w[t + "mlp.fc2.bias"]
    return {prefix + k: np.ascontiguousarray(v) for k, v in g.items()}


def load(path):
    """(timm-named float64 weights, heads) from a .npz or .safetensors file."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            g = {k: z[k].astype(np.float64) for k in z.files}
        return google_to_timm(g)
    w, meta = read_safetensors(path)
    return w, int(meta["num_heads"])


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights for offsets t in [0, 1) (PyTorch's upsample_bicubic2d)."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], -1)


def _resize_matrix(n_in, n_out):
    """(n_out, n_in) matrix of bicubic interpolation, align_corners=False, border clamped."""
    m = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        src = scale * (i + 0.5) - 0.5  # not clamped at 0 for cubic, as in PyTorch
        base = math.floor(src)
        wts = _cubic_weights(src - base)
        for k in range(4):
            m[i, min(max(base - 1 + k, 0), n_in - 1)] += wts[k]
    return m


def resize_pos_embed(pos, grid):
    """(1, 1+G*G, D) -> (1, 1+grid*grid, D), CLS row kept; separable bicubic."""
    G = int(round(math.sqrt(pos.shape[1] - 1)))
    if G == grid:
        return pos
    D = pos.shape[2]
    g = pos[0, 1:].reshape(G, G, D)
    m = _resize_matrix(G, grid)
    r = np.einsum("yi,xj,ijd->yxd", m, m, g).reshape(1, grid * grid, D)
    return np.concatenate([pos[:, :1], r], 1)


def _layer_norm(x, w, b, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def forward(w, heads, images, what="logits"):
    """images (N, 3, S, S) float -> logits (N, C) or features (N, D), in float64."""
    x = images.astype(np.float64)
    N, _, S, _ = x.shape
    pw = w["patch_embed.proj.weight"]
    D, _, P, _ = pw.shape
    G = S // P
    patches = x.reshape(N, 3, G, P, G, P).transpose(0, 2, 4, 1, 3, 5).reshape(N, G * G, 3 * P * P)
    t = patches @ pw.reshape(D, -1).T + w["patch_embed.proj.bias"]
    t = np.concatenate([np.broadcast_to(w["cls_token"], (N, 1, D)), t], 1)
    t = t + resize_pos_embed(w["pos_embed"], G)
    depth = len({k.split(".")[1] for k in w if k.startswith("blocks.")})
    hd = D // heads
    T = t.shape[1]
    for i in range(depth):
        p = f"blocks.{i}."
        y = _layer_norm(t, w[p + "norm1.weight"], w[p + "norm1.bias"])
        qkv = y @ w[p + "attn.qkv.weight"].T + w[p + "attn.qkv.bias"]
        q, k, v = (qkv[..., j * D:(j + 1) * D].reshape(N, T, heads, hd).transpose(0, 2, 1, 3)
                   for j in range(3))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        o = (s @ v).transpose(0, 2, 1, 3).reshape(N, T, D)
        t = t + o @ w[p + "attn.proj.weight"].T + w[p + "attn.proj.bias"]
        y = _layer_norm(t, w[p + "norm2.weight"], w[p + "norm2.bias"])
        y = _gelu(y @ w[p + "mlp.fc1.weight"].T + w[p + "mlp.fc1.bias"])
        t = t + y @ w[p + "mlp.fc2.weight"].T + w[p + "mlp.fc2.bias"]
    f = _layer_norm(t, w["norm.weight"], w["norm.bias"])[:, 0]
    if what == "features":
        return f
    return f @ w["head.weight"].T + w["head.bias"]
