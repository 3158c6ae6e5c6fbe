#!/usr/bin/env python3
"""PyTorch side of `npm run bench -- vit`: ViT-small MAE training img/s, the same network and step as
bench/vit-worker.ts (the reference modules of scripts/fixtures/torch_vit_model.py, official-MAE layout).

usage: /usr/bin/python3 bench/vit_torch.py [--size 64] [--batch 32] [--steps 10] [--warmup 3] [--threads 2]
       [--vit small] [--zero-grad inplace|none]
Config: 3 x size x size random images, patch 8, ViT-small encoder (384 x 12, 6 heads), decoder 256 x 4 (8 heads),
mask ratio 0.75, pixel MSE on masked patches, AdamW lr 1.5e-4 wd 0.05. One JSON line: median step wall ms and
img/s, and median step CPU ms (user+sys, all threads) and images per CPU-second (steadier on a loaded machine).
"""
import argparse, json, os, resource, sys, time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures"))
from torch_vit_model import MAE, SIZES  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--vit", default="small")
ap.add_argument("--zero-grad", choices=["inplace", "none"], default="inplace", help="zero_grad() (1.13 default) or zero_grad(set_to_none=True)")
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
dim, depth, heads = SIZES[a.vit]
model = MAE(img=(a.size, a.size), p=8, in_chans=3, dim=dim, depth=depth, heads=heads).train()
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1.5e-4, weight_decay=0.05)
x = torch.rand(a.batch, 3, a.size, a.size)
L = (a.size // 8) ** 2
times, cpu, loss = [], [], 0.0
for i in range(a.warmup + a.steps):
    t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad(set_to_none=a.zero_grad == "none")
    out, _, _ = model(x, torch.rand(a.batch, L))
    out.backward()
    opt.step()
    loss = out.item()
    if i >= a.warmup:
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)


def median(xs):
    xs, n = sorted(xs), len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


med, cpu_med = median(times), median(cpu)
print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "kind": "train", "vit": a.vit, "zero_grad": a.zero_grad, "hw": a.size, "batch": a.batch,
                  "median_ms": round(med, 1), "img_s": round(a.batch * 1000 / med, 2),
                  "cpu_ms": round(cpu_med, 1), "img_per_cpu_s": round(a.batch * 1000 / cpu_med, 2), "loss": loss,
                  "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
