#!/usr/bin/python3
"""PyTorch peer of `dotnet run -c Release --project Benchmarks -- --quick`.

Same models, optimizers, loss, batch sizes, batch pool and timing method as Benchmarks/Quick.cs, and the
same output lines (`name microseconds`), so run-vs-pytorch.sh can pair them by name.

Run it with the Debian python and torch 1.13 and a correctly detected single-threaded OpenBLAS:

    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
    /usr/bin/python3 Benchmarks/pytorch_peer.py [--adam] [--flush-denormal] [mlp128] [mlp512] [tiny] [act] [tab] [cls]

Without OPENBLAS_CORETYPE, OpenBLAS 0.3.21 takes this Zen CPU for Haswell (AVX2 kernels); without the
openblas-pthread path torch may load the reference BLAS (11-30x slower). The BLAS core in use is printed
to stderr.

mlp128: 784-128-10 ReLU, cross-entropy, SGD(lr=0.01, momentum=0.9).
mlp512: 784-512-512-10 ReLU, cross-entropy, SGD(lr=0.01, momentum=0.9), or Adam(lr=1e-3) with --adam.
tiny: 32-64-64-4 ReLU, cross-entropy, SGD(lr=0.01, momentum=0.9), at batch 1, 8 and 32 (Benchmarks/Models.cs: a model
      trained online, one sample at a time).
"""
import argparse
import ctypes
import statistics
import sys
import time

import torch
from torch import nn

POOL_SIZE = 16
BATCHES = (1, 8, 32, 128, 512)
TINY_BATCHES = (1, 8, 32)
# (inputs, classes) of each model
SHAPES = {"mlp128": (784, 10), "mlp512": (784, 10), "tiny": (32, 4), "tab13": (13, 3), "tab16": (16, 3), "cls1000": (256, 1000)}
TAB_BATCHES = (1, 32, 128)
# "act": mlp128 with each other hidden activation, at batch 1 and 32 (Benchmarks/Models.cs, Quick.cs: --quick act)
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "gelu-tanh": lambda: nn.GELU(approximate="tanh"),
               "silu": nn.SiLU, "elu": nn.ELU, "mish": nn.Mish, "leaky-relu": nn.LeakyReLU}
ACT_BATCHES = (1, 32)
# "cls": 256-512-1000, logits with cross-entropy and LogSoftmax with NLLLoss (Quick.cs: --quick cls)
CLS_BATCHES = (1, 32)


def build(name, adam):
    torch.manual_seed(0)
    inputs, classes = SHAPES[name.split("-")[0]]
    if name == "mlp128":
        model = nn.Sequential(nn.Linear(inputs, 128), nn.ReLU(), nn.Linear(128, classes))
    elif name == "mlp128-logsoftmax":
        model = nn.Sequential(nn.Linear(inputs, 128), nn.ReLU(), nn.Linear(128, classes), nn.LogSoftmax(dim=1))
    elif name.startswith("mlp128-"):
        model = nn.Sequential(nn.Linear(inputs, 128), ACTIVATIONS[name[len("mlp128-"):]](), nn.Linear(128, classes))
    elif name == "mlp512":
        model = nn.Sequential(nn.Linear(inputs, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                              nn.Linear(512, classes))
    elif name in ("cls1000", "cls1000-logsoftmax"):
        layers = [nn.Linear(inputs, 512), nn.ReLU(), nn.Linear(512, classes)]
        model = nn.Sequential(*(layers + ([nn.LogSoftmax(dim=1)] if name == "cls1000-logsoftmax" else [])))
    elif name in ("tab13", "tab16"):
        width = 100 if name == "tab13" else 96
        model = nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, classes))
    else:
        model = nn.Sequential(nn.Linear(inputs, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, classes))
    if name == "mlp512" and adam:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt


def pool_size(batch, parameters):
    """As BatchPool.PoolSizeFor in Benchmarks/Data.cs: 16 batches, or 8,192 samples for a model small enough to memorise fewer."""
    return max(POOL_SIZE, 8192 // batch) if parameters < 50_000 else POOL_SIZE


class BatchPool:
    """Distinct random batches, cycled (as Benchmarks/Data.cs)."""

    def __init__(self, batch, inputs, classes, size, seed=1):
        g = torch.Generator().manual_seed(seed)
        # Uniform in [-1, 1), zero-mean, as Benchmarks/Data.cs (see its remarks).
        self.inputs = [torch.rand(batch, inputs, generator=g) * 2 - 1 for _ in range(size)]
        self.targets = [torch.randint(0, classes, (batch,), generator=g) for _ in range(size)]
        self.next = 0

    def take(self):
        k = self.next
        self.next = (k + 1) % len(self.inputs)
        return self.inputs[k], self.targets[k]


def median_time(action):
    """Median over 7 rounds of the mean time per call (us); warm-up 300 ms; a round = 1/3 of the warm-up calls."""
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 0.3:
        action()
        calls += 1
    per_round = max(1, calls // 3)
    rounds = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(per_round):
            action()
        rounds.append((time.perf_counter() - t0) * 1e6 / per_round)
    return statistics.median(rounds)


def blas_core():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "not OpenBLAS?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adam", action="store_true", help="mlp512 uses Adam(lr=1e-3) instead of SGD momentum")
    ap.add_argument("--flush-denormal", action="store_true",
                    help="torch.set_flush_denormal(True): subnormal results and operands as zero (run-vs-pytorch.sh --flush-subnormals)")
    ap.add_argument("models", nargs="*", metavar="mlp128|mlp512|tiny|act|tab|cls")
    args = ap.parse_args()
    models = args.models or ["mlp128", "mlp512", "tiny"]
    for m in models:
        if m not in SHAPES and m not in ("act", "tab", "cls"):
            ap.error(f"unknown model {m!r}")
    if "act" in models:
        models = [m for m in models if m != "act"] + ["mlp128-" + a for a in ACTIVATIONS] + ["mlp128-logsoftmax"]
    if "tab" in models:
        models = [m for m in models if m != "tab"] + ["tab13", "tab16"]
    if "cls" in models:
        models = [m for m in models if m != "cls"] + ["cls1000", "cls1000-logsoftmax"]

    torch.set_num_threads(1)
    flushing = args.flush_denormal and torch.set_flush_denormal(True)
    if args.flush_denormal and not flushing:
        sys.exit("torch.set_flush_denormal(True) is not supported on this CPU")
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, OpenBLAS core {blas_core()}, "
          f"mlp512 optimizer {'Adam' if args.adam else 'SGD momentum'}"
          f"{', flush denormal' if flushing else ''}", file=sys.stderr)

    loss_fn = nn.CrossEntropyLoss()
    for batch in BATCHES:
        for name in models:
            if (name == "tiny" and batch not in TINY_BATCHES or name.startswith("mlp128-") and batch not in ACT_BATCHES
                    or name.startswith("tab") and batch not in TAB_BATCHES
                    or name.startswith("cls") and batch not in CLS_BATCHES):
                continue
            model, opt = build(name, args.adam)
            parameters = sum(p.numel() for p in model.parameters())
            pool = BatchPool(batch, *SHAPES[name.split("-")[0]], pool_size(batch, parameters))

            step_loss = nn.NLLLoss() if name.endswith("-logsoftmax") else loss_fn

            def train():
                x, y = pool.take()
                opt.zero_grad()
                loss = step_loss(model(x), y)
                loss.backward()
                opt.step()

            def infer():
                x, _ = pool.take()
                with torch.no_grad():
                    model(x)

            for kind, action in (("train", train), ("infer", infer)):
                print(f"{name}/{kind}/{batch} {median_time(action):.2f}", flush=True)


if __name__ == "__main__":
    main()
