#!/usr/bin/env python3
"""The SCT training step of bench_train, written in PyTorch (Debian python3-torch, the same
LibTorch version) as the comparison: same weights, channels, data, steps and optimizer.

usage: train_step.py DUMP_DIR STEPS THREADS [DEVICE [PRECISION]]  (DUMP_DIR from `bench_train --dump`)
DEVICE: cpu (default) | cuda; PRECISION: fp32 (default) | tf32 (TF32 CUDA products) |
bf16 (torch.autocast to bfloat16, as bench_train's --precision bf16).
Prints train/forward images/s (median step times), the matrix-product time per step when
sgemm_clock is preloaded, and the per-step losses, in bench_train's format.
"""
import ctypes
import json
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + b: 8 + n + end], dtype="<f4").copy()).reshape(e["shape"])
    return out, meta


class SctViT(torch.nn.Module):
    """timm's ViT forward with an SCT module on the selected channels of h (attn mode)."""

    def __init__(self, weights, heads, channels):
        super().__init__()
        self.heads = heads
        self.p = torch.nn.ParameterDict()
        self.trainable = []
        for name, t in weights.items():
            train = ".sct_attn." in name or name.startswith("head.")
            p = torch.nn.Parameter(t.clone(), requires_grad=train)
            self.p[name.replace(".", "__")] = p
            if train:
                self.trainable.append(p)
        self.depth = len(channels)
        self.idx = [torch.tensor(c, dtype=torch.long) for c in channels]

    def to_device(self, device):
        self.to(device)
        self.idx = [i.to(device) for i in self.idx]
        return self

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def forward(self, x):
        w = self.w
        x = F.conv2d(x, w("patch_embed.proj.weight"), w("patch_embed.proj.bias"), stride=w("patch_embed.proj.weight").shape[-1])
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([w("cls_token").expand(x.shape[0], -1, -1), x], 1) + w("pos_embed")
        B, N, D = x.shape
        H = self.heads
        for i in range(self.depth):
            b = f"blocks.{i}."
            y = F.layer_norm(x, (D,), w(b + "norm1.weight"), w(b + "norm1.bias"), 1e-6)
            qkv = F.linear(y, w(b + "attn.qkv.weight"), w(b + "attn.qkv.bias"))
            q, k, v = qkv.reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
            a = (q @ k.transpose(-2, -1)) * (D // H) ** -0.5
            y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, N, D)
            h = x + F.linear(y, w(b + "attn.proj.weight"), w(b + "attn.proj.bias"))
            idx = self.idx[i]
            h = h.index_add(-1, idx, F.linear(h.index_select(-1, idx), w(b + "sct_attn.weight"), w(b + "sct_attn.bias")))
            y = F.layer_norm(h, (D,), w(b + "norm2.weight"), w(b + "norm2.bias"), 1e-6)
            y = F.linear(F.gelu(F.linear(y, w(b + "mlp.fc1.weight"), w(b + "mlp.fc1.bias"))), w(b + "mlp.fc2.weight"), w(b + "mlp.fc2.bias"))
            x = h + y
        x = F.layer_norm(x, (D,), w("norm.weight"), w("norm.bias"), 1e-6)
        return F.linear(x[:, 0], w("head.weight"), w("head.bias"))


def main():
    dump, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    precision = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    assert device in ("cpu", "cuda") and precision in ("fp32", "tf32", "bf16"), (device, precision)
    torch.set_num_threads(threads)
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    weights, meta = read_safetensors(dump + "/model.safetensors")
    sel = json.load(open(dump + "/channels.json"))
    model = SctViT(weights, int(meta["num_heads"]), [l["h_indices"] for l in sel["layers"]])
    model.to_device(device)
    images = torch.from_numpy(np.load(dump + "/images.npy")).to(device)
    labels = torch.from_numpy(np.load(dump + "/labels.npy")).long().to(device)
    pool = images.shape[0]  # step i uses batch i % pool, as bench_train
    opt = torch.optim.AdamW(model.trainable, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4)
    batch = images.shape[1]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def forward(x):
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            return model(x).float()

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(forward(images[i % pool]), labels[i % pool], label_smoothing=0.1)
        loss.backward()
        opt.step()
        return loss.item()

    # Per-step times and medians, as bench_train; with sgemm_clock preloaded, also the time
    # spent inside matrix products during each step.
    try:
        clock = ctypes.CDLL(None).sgemm_clock_seconds
        clock.restype = ctypes.c_double
    except AttributeError:
        clock = None

    def timed(work, times, gemm):
        sync()
        t0, g0 = time.perf_counter(), clock() if clock else 0.0
        out = work()
        sync()
        times.append(time.perf_counter() - t0)
        gemm.append(clock() - g0 if clock else 0.0)
        return out

    model.train()
    step(steps)  # the same two warm-up steps as bench_train
    step(steps + 1)
    train_t, train_g, fwd_t, fwd_g = [], [], [], []
    losses = [timed(lambda: step(i), train_t, train_g) for i in range(steps)]
    with torch.no_grad():
        model.eval()
        forward(images[0])
        for i in range(steps):
            timed(lambda: forward(images[i % pool]), fwd_t, fwd_g)
    tr, fw = batch / statistics.median(train_t), batch / statistics.median(fwd_t)
    print(f"train_images_per_s={tr:.2f} forward_images_per_s={fw:.2f} train_over_forward_time={fw / tr:.3f}")
    if clock:
        print(f"train_step_s={statistics.median(train_t):.6f} train_gemm_s={statistics.median(train_g):.6f} "
              f"forward_step_s={statistics.median(fwd_t):.6f} forward_gemm_s={statistics.median(fwd_g):.6f}")
    print("losses=" + ",".join(f"{l:.9g}" for l in losses))


if __name__ == "__main__":
    main()
