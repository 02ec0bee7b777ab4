#!/usr/bin/env python3
"""Fixture for test/model/optimizers-reference.test.ts: a few steps of torch.optim.SGD
(momentum, Nesterov, weight decay), Adam (L2 weight decay) and AdamW, on CPU in float64, from
fixed small inputs. The test checks halfwatt's float64 reference (src/model/reference/optimizers.ts)
against these values, so the reference is tied to PyTorch itself, not to our reading of its docs.

    python3 bench/peers/torch_optim_fixture.py > test/fixtures/torch-optim.json

Needs PyTorch (any recent CPU build). The JSON holds the inputs as well as the results, so the
test reads everything from it: {generator, torch, w0, grads, cases: [{name, optimizer, options,
steps: [{w, momentumBuffer?, expAvg?, expAvgSq?}]}]}. Gradients are set directly (no loss), one
list per step; `options` are torch.optim keyword arguments.
"""
import json
import sys

import torch

# Mixed signs, a zero weight, a zero gradient, values far apart in size: each element exercises
# a different path (sign of the step, the L2 term alone, eps mattering).
W0 = [0.5, -1.25, 2.0, 0.0, -0.003, 3.75]
GRADS = [
    [0.1, -0.2, 0.05, 0.3, -1.5, 0.0],
    [-0.05, 0.4, 0.0, -0.25, 0.7, 1e-3],
    [0.2, 0.1, -0.3, 0.0, -0.02, 2.5],
    [0.0, -0.6, 0.15, 0.12, 0.9, -0.4],
    [0.33, 0.01, -0.07, -0.5, 0.0, 0.25],
]

CASES = [
    {"name": "sgd", "optimizer": "SGD", "options": {"lr": 0.5}},
    {
        "name": "sgd-momentum-wd",
        "optimizer": "SGD",
        "options": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": False},
    },
    {
        "name": "sgd-nesterov-wd",
        "optimizer": "SGD",
        "options": {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.001, "nesterov": True},
    },
    {"name": "adam", "optimizer": "Adam", "options": {"lr": 1e-3, "betas": [0.8, 0.99], "eps": 1e-6}},
    {
        "name": "adam-l2",
        "optimizer": "Adam",
        "options": {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1},
    },
    {
        "name": "adamw",
        "optimizer": "AdamW",
        "options": {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1},
    },
    # A large eps makes its placement (after the bias correction, outside the sqrt) visible.
    {
        "name": "adamw-big-eps",
        "optimizer": "AdamW",
        "options": {"lr": 0.05, "betas": [0.5, 0.75], "eps": 0.1, "weight_decay": 0.5},
    },
]


def as_list(t):
    return [float(x) for x in t.detach().tolist()]


def run(case):
    p = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    options = dict(case["options"])
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    # foreach=False: the single-tensor implementation, the one that reads like the docs.
    opt = getattr(torch.optim, case["optimizer"])([p], foreach=False, **options)
    steps = []
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        state = opt.state[p]
        rec = {"w": as_list(p)}
        if state.get("momentum_buffer") is not None:
            rec["momentumBuffer"] = as_list(state["momentum_buffer"])
        if "exp_avg" in state:
            rec["expAvg"] = as_list(state["exp_avg"])
            rec["expAvgSq"] = as_list(state["exp_avg_sq"])
        steps.append(rec)
    return {**case, "steps": steps}


def main():
    torch.set_num_threads(1)
    out = {
        "generator": "bench/peers/torch_optim_fixture.py",
        "torch": torch.__version__,
        "w0": W0,
        "grads": GRADS,
        "cases": [run(c) for c in CASES],
    }
    # json writes floats with repr(): shortest round-trip digits, so the test reads the exact doubles.
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
