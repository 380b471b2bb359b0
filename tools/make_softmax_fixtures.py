#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/Softmax.json: rows of float32 logits with PyTorch 1.13's float32 softmax and log_softmax
(dim=1) and their autograd gradients for an upstream gradient dy, and the exact values (mpmath, 40 digits) of the outputs
from the float32 logits and of the gradients from the float32 outputs and dy (what a backward pass receives).

Run with Debian's python3-torch and python3-mpmath: /usr/bin/python3 tools/make_softmax_fixtures.py
The tests (SoftmaxKernelTests) hold the kernels to 1 ulp of the exact values and to PyTorch's non-finite results.
"""
import json
import math
import mpmath as mp
import numpy as np
import torch

mp.mp.dps = 40
rng = np.random.default_rng(20261201)


def enc(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def rows():
    for width in (1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 33, 64, 100, 1000):
        for scale in (1.0, 10.0, 100.0):
            yield f"random {width} x{scale:g}", (rng.standard_normal(width) * scale).astype(np.float32)
    yield "equal", np.full(13, 2.5, np.float32)
    yield "huge spread", np.array([1e30, -1e30, 0, 3e38, -3e38, 1], np.float32)
    yield "tiny", np.array([1e-40, -1e-40, 0, -0.0, 1e-30], np.float32)
    yield "one -inf", np.array([1, -np.inf, 2, 0.5, -3], np.float32)
    yield "many -inf", np.array([-np.inf] * 20 + [4.0] + [-np.inf] * 3, np.float32)
    yield "below -708", np.array([0, -800, -1000, -103, -104, -88], np.float32)
    yield "all -inf", np.array([-np.inf] * 5, np.float32)
    yield "nan", np.array([1, 2, np.nan, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], np.float32)
    yield "+inf", np.array([1, np.inf, 2], np.float32)


def exact_softmax(x):
    finite = [mp.mpf(float(v)) for v in x]
    m = max(finite)
    e = [mp.exp(v - m) for v in finite]
    s = mp.fsum(e)
    # log(s) as log1p of the terms other than the max's, which can be far below 40 digits of 1
    k = sum(1 for v in finite if v == m)
    t = mp.fsum(mp.exp(v - m) for v in finite if v != m)
    log_s = mp.log1p(t) if k == 1 else mp.log(k + t)
    return [v / s for v in e], [v - m - log_s for v in finite]


cases = []
for name, x in rows():
    dy = (rng.standard_normal(len(x))).astype(np.float32)
    case = {"name": name, "x": [enc(v) for v in x], "dy": [enc(v) for v in dy]}
    for op, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        t = torch.tensor(x).reshape(1, -1).requires_grad_(True)
        y = fn(t, 1)
        y.backward(torch.tensor(dy).reshape(1, -1))
        yf = y.detach().numpy().reshape(-1)
        gf = t.grad.numpy().reshape(-1)
        case[op] = [enc(v) for v in yf]
        case[op + "_grad"] = [enc(v) for v in gf]
        if np.all(np.isfinite(x)):
            p, lp = exact_softmax(x)
            case[op + "_exact"] = [enc(v) for v in (p if op == "softmax" else lp)]
        if np.all(np.isfinite(yf)):
            # the exact gradient from the float32 outputs and dy, as the backward pass sees them
            ym = [mp.mpf(float(v)) for v in yf]
            dm = [mp.mpf(float(v)) for v in dy]
            if op == "softmax":
                s = mp.fsum(a * b for a, b in zip(dm, ym))
                g = [a * (b - s) for a, b in zip(ym, dm)]
            else:
                s = mp.fsum(dm)
                g = [b - mp.exp(a) * s for a, b in zip(ym, dm)]
            case[op + "_grad_exact"] = [enc(v) for v in g]
    cases.append(case)

with open("Runtime.Tests/Fixtures/Softmax.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=None, separators=(",", ":"))
print(len(cases), "cases")
