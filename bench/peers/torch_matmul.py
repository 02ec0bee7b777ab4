#!/usr/bin/env python3
"""Peer benchmark for `npm run bench`: torch.matmul at the same shapes as bench/gemm.bench.ts,
in fp32 with TF32 off, TF32, and fp16, timed with CUDA events on the same card.

    python3 bench/peers/torch_matmul.py [--sizes 256,512,...] [--no-classifier] [--out FILE]

Prints a table and writes JSON rows {group, case, variant, m, n, k, seconds, gflops}.
"""
import argparse
import json
import sys

import torch

D, C = 224 * 224 * 3, 525


def classifier_cases(batch, hidden):
    tag = f"B{batch} H{hidden}"
    return [
        (f"{tag} L1 fwd X·W1", batch, hidden, D, False, False),
        (f"{tag} L1 dW1=Xᵀ·dH", D, hidden, batch, True, False),
        (f"{tag} L1 dX=dH·W1ᵀ", batch, D, hidden, False, True),
        (f"{tag} L2 fwd H·W2", batch, C, hidden, False, False),
        (f"{tag} L2 dW2=Hᵀ·dY", hidden, C, batch, True, False),
        (f"{tag} L2 dH=dY·W2ᵀ", batch, hidden, C, False, True),
    ]


def time_matmul(m, n, k, trans_a, trans_b, dtype, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    a = torch.rand((k, m) if trans_a else (m, k), device="cuda", dtype=dtype) * 2 - 1
    b = torch.rand((n, k) if trans_b else (k, n), device="cuda", dtype=dtype) * 2 - 1
    a_op = a.t() if trans_a else a
    b_op = b.t() if trans_b else b
    out = torch.empty((m, n), device="cuda", dtype=dtype)
    for _ in range(3):
        torch.matmul(a_op, b_op, out=out)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.matmul(a_op, b_op, out=out)
    end.record()
    torch.cuda.synchronize()
    once = start.elapsed_time(end) / 1e3
    reps = max(1, min(50, int(0.1 / max(once, 1e-6)) + 1))
    samples = []
    for _ in range(5):
        start.record()
        for _ in range(reps):
            torch.matmul(a_op, b_op, out=out)
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 1e3 / reps)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="256,512,1024,2048,4096,8192")
    p.add_argument("--no-classifier", action="store_true")
    p.add_argument("--no-square", action="store_true")
    p.add_argument("--out")
    args = p.parse_args()
    cases = []
    if not args.no_square:
        cases += [("square", f"{s}³", s, s, s, False, False) for s in map(int, args.sizes.split(","))]
    if not args.no_classifier:
        for bh in [(32, 1024), (256, 1024), (256, 2048)]:
            cases += [("classifier",) + c for c in classifier_cases(*bh)]
    variants = [("torch-fp32", torch.float32, False), ("torch-tf32", torch.float32, True), ("torch-fp16", torch.float16, False)]
    rows = []
    for name, dtype, tf32 in variants:
        for group, label, m, n, k, ta, tb in cases:
            sec = time_matmul(m, n, k, ta, tb, dtype, tf32)
            rows.append(dict(group=group, case=label, variant=name, m=m, n=n, k=k, seconds=sec, gflops=2 * m * n * k / sec / 1e9))
    card = torch.cuda.get_device_name(0)
    print(f"torch {torch.__version__} on {card}")
    print(f"{'case':30}{'M×N×K':22}" + "".join(f"{v[0]:>14}" for v in variants))
    for group, label, m, n, k, _, _ in cases:
        cells = []
        for v in variants:
            r = next(r for r in rows if r["variant"] == v[0] and r["case"] == label)
            g = r["gflops"]
            cells.append(f"{g / 1000:.1f} T" if g >= 1000 else f"{g:.1f} G")
        print(f"{label:30}{f'{m}×{n}×{k}':22}" + "".join(f"{c:>14}" for c in cells))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(card=card, torch=torch.__version__, rows=rows), f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
