#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/Activations.json: each activation of DslModels.ActivationKernels and its derivative at a
grid of float32 inputs, exactly (mpmath at 50 digits), and as PyTorch 1.13 computes them in float32 (forward and autograd).

Run with Debian's python3-torch and python3-mpmath: /usr/bin/python3 tools/make_activation_fixtures.py
The tests (ActivationKernelTests) hold the kernels to 1 ulp of the exact values and to a tolerance of PyTorch's.
"""
import json
import mpmath as mp
import numpy as np
import torch
import torch.nn as nn

mp.mp.dps = 50


def inputs(extra):
    xs = list(np.linspace(-40, 40, 321)) + list(np.linspace(-4, 4, 161))
    for e in range(-45, 5):
        for s in (1.0, -1.0, 1.7, -1.7):
            xs.append(s * 10.0 ** e)
    xs += [1e5, -1e5, 1e10, -1e10, 1e30, -1e30, 0.0, -0.0, 709.0, -709.0, 88.0, -88.0, 355.0, -355.0]
    out = [float(np.float32(x)) for x in xs]
    for x in list(extra) + [0.0, 1.0 / 1024, -1.0 / 1024]:
        f = np.float32(x)
        out += [float(f), float(np.nextafter(f, np.float32(np.inf))), float(np.nextafter(f, np.float32(-np.inf)))]
    seen, uniq = set(), []
    for v in out:  # unique float32 values, -0.0 kept apart from 0.0
        key = np.float32(v).tobytes()
        if key not in seen:
            seen.add(key)
            uniq.append(v)
    return sorted(uniq)


def sig(z):
    return 1 / (1 + mp.exp(-z))


def softplus(z, beta, threshold):
    return z if beta * z > threshold else mp.log1p(mp.exp(beta * z)) / beta


def make(name, module, exact, dexact, extra=()):
    xs = inputs(list(extra))
    y_exact, d_exact = [], []
    for x in xs:
        z = mp.mpf(x)
        y_exact.append(float(exact(z)))
        d_exact.append(float(dexact(z)))
    t = torch.tensor(xs, dtype=torch.float32, requires_grad=True)
    y = module(t)
    y.backward(torch.ones_like(y))
    return {"name": name, "x": xs, "exact": y_exact, "exact_derivative": d_exact,
            "torch": [finite(v) for v in y.detach().double().tolist()],
            "torch_derivative": [finite(v) for v in t.grad.double().tolist()]}


def finite(v):
    """JSON has no NaN or infinity: null (PyTorch's float32 overflows at some of the huge inputs)."""
    return float(v) if np.isfinite(v) else None


SELU_SCALE, SELU_ALPHA = mp.mpf("1.0507009873554804934193349852946"), mp.mpf("1.6732632423543772848170429916717")
B, K = mp.sqrt(2 / mp.pi), mp.mpf("0.044715")


def gelu_tanh(z):
    return z / 2 * (1 + mp.tanh(B * (z + K * z ** 3)))


def gelu_tanh_d(z):
    t = mp.tanh(B * (z + K * z ** 3))
    return (1 + t) / 2 + z / 2 * (1 - t * t) * B * (1 + 3 * K * z * z)


def mish(z):
    return z * mp.tanh(softplus(z, 1, 20))


def mish_d(z):
    sp = softplus(z, 1, 20)
    t = mp.tanh(sp)
    return t + z * (1 - t * t) * sig(z)


def cdf(z):
    return mp.erfc(-z / mp.sqrt(2)) / 2


cases = [
    make("Tanh", torch.tanh, mp.tanh, lambda z: 1 - mp.tanh(z) ** 2),
    make("Sigmoid", torch.sigmoid, sig, lambda z: sig(z) * (1 - sig(z))),
    make("Elu", nn.ELU(alpha=0.5), lambda z: z if z > 0 else mp.mpf("0.5") * mp.expm1(z),
         lambda z: 1 if z > 0 else mp.mpf("0.5") * mp.exp(z)),
    make("Selu", nn.SELU(), lambda z: SELU_SCALE * (z if z > 0 else SELU_ALPHA * mp.expm1(z)),
         lambda z: SELU_SCALE * (1 if z > 0 else SELU_ALPHA * mp.exp(z))),
    make("Celu", nn.CELU(alpha=0.7), lambda z: z if z > 0 else mp.mpf("0.7") * mp.expm1(z / mp.mpf("0.7")),
         lambda z: 1 if z > 0 else mp.exp(z / mp.mpf("0.7"))),
    make("Gelu", nn.GELU(), lambda z: z * cdf(z), lambda z: cdf(z) + z * mp.npdf(z)),
    make("GeluTanh", nn.GELU(approximate="tanh"), gelu_tanh, gelu_tanh_d),
    make("Softplus", nn.Softplus(beta=2.0, threshold=5.0), lambda z: softplus(z, 2, 5),
         lambda z: 1 if 2 * z > 5 else sig(2 * z), extra=[2.5]),
    make("Silu", nn.SiLU(), lambda z: z * sig(z), lambda z: sig(z) * (1 + z * (1 - sig(z)))),
    make("Mish", nn.Mish(), mish, mish_d, extra=[20.0]),
    make("Hardtanh", nn.Hardtanh(-0.5, 0.7), lambda z: min(max(z, mp.mpf(-0.5)), mp.mpf(0.7)),
         lambda z: 1 if mp.mpf(float(np.float32(-0.5))) < z < mp.mpf(float(np.float32(0.7))) else 0, extra=[-0.5, 0.7]),  # float bounds
    make("Hardswish", nn.Hardswish(), lambda z: 0 if z <= -3 else z if z >= 3 else z * (z + 3) / 6,
         lambda z: 0 if z < -3 else (z / 3 + mp.mpf(0.5) if z <= 3 else 1), extra=[-3.0, 3.0]),
]
out = {"torch_version": torch.__version__, "parameters": {"Elu": [0.5], "Celu": [0.7], "Softplus": [2.0, 5.0], "Hardtanh": [-0.5, 0.7]},
       "cases": cases}
with open("Runtime.Tests/Fixtures/Activations.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(len(cases), "activations,", len(cases[0]["x"]), "inputs each")
