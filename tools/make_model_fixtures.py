#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/*.json: PyTorch's own numbers for the test models.

Run with Debian's torch 1.13 (apt-get install python3-torch): /usr/bin/python3 tools/make_model_fixtures.py
Each fixture builds the PyTorch twin of a model in Runtime.Tests/Models/TestModels.cs exactly as
DslModels documents ResetParameters(seed): torch.manual_seed(seed), the nn.Linear modules in
declaration order, then the [Init] calls in declaration order. It then records the initial
parameters and a few SGD training steps on fixed data.
"""
import json, math, torch, torch.nn as nn, torch.nn.functional as F

SUMMARY_ONLY = False

def full(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).double().tolist()]}

def tensor(t):
    flat = t.detach().reshape(-1).double()
    if SUMMARY_ONLY and flat.numel() > 64:
        # Large tensors: the first 64 values exactly, plus float64 sums of all of them.
        return {"shape": list(t.shape), "first": [float(v) for v in flat[:64].tolist()],
                "sum": float(flat.sum()), "sum_abs": float(flat.abs().sum()), "sum_sq": float((flat * flat).sum())}
    return {"shape": list(t.shape), "data": [float(v) for v in flat.tolist()]}

def run(name, seed, build, inputs, batch, targets, opt_kwargs, steps, loss_fn):
    torch.manual_seed(seed)
    named, model = build()
    initial = {k: tensor(p) for k, p in named}
    opt = torch.optim.SGD([p for _, p in named], **opt_kwargs)
    g = torch.Generator().manual_seed(1234)
    x = (torch.rand(steps, batch, inputs, generator=g) * 2 - 1).float()
    losses, after = [], []
    for s in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x[s]), targets[s])
        loss.backward()
        opt.step()
        losses.append(float(loss))
        after.append({k: tensor(p) for k, p in named})
    out = {"model": name, "seed": seed, "torch_version": torch.__version__, "batch": batch,
           "inputs": [full(x[s]) for s in range(steps)],
           "targets": [full(t) for t in targets], "initial": initial, "loss": losses, "params_after_step": after}
    with open(f"Runtime.Tests/Fixtures/{name}.json", "w") as f:
        json.dump(out, f)

def odd():
    first, second, third = nn.Linear(19, 37), nn.Linear(37, 21), nn.Linear(21, 13)
    fourth, logits = nn.Linear(13, 9), nn.Linear(9, 5, bias=False)
    nn.init.xavier_uniform_(third.weight, gain=1.0)
    nn.init.kaiming_normal_(fourth.weight, a=0.1, nonlinearity="leaky_relu")
    model = nn.Sequential(first, nn.Tanh(), second, nn.ReLU(), third, nn.Sigmoid(), fourth, nn.LeakyReLU(0.1), logits)
    named = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight),
             ("second.bias", second.bias), ("third.weight", third.weight), ("third.bias", third.bias),
             ("fourth.weight", fourth.weight), ("fourth.bias", fourth.bias), ("logits.weight", logits.weight)]
    return named, model

def fashion():
    hidden, output = nn.Linear(784, 128), nn.Linear(128, 10)
    nn.init.kaiming_uniform_(hidden.weight)
    model = nn.Sequential(hidden, nn.ReLU(), output)
    return [("hidden.weight", hidden.weight), ("hidden.bias", hidden.bias),
            ("output.weight", output.weight), ("output.bias", output.bias)], model

def tiny():
    out = nn.Linear(3, 2)
    return [("out.weight", out.weight), ("out.bias", out.bias)], out

tg = torch.Generator().manual_seed(99)
run("OddMlp", 3, odd, 19, 7, [torch.randint(0, 5, (7,), generator=tg) for _ in range(4)],
    dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True), 4, F.cross_entropy)
SUMMARY_ONLY = True
run("FashionMlp", 0, fashion, 784, 5, [torch.randint(0, 10, (5,), generator=tg) for _ in range(3)],
    dict(lr=0.05, momentum=0.9), 3, F.cross_entropy)
SUMMARY_ONLY = False
run("TinyRegressor", 0, tiny, 3, 4, [(torch.rand(4, 2, generator=tg) * 2 - 1).float() for _ in range(3)],
    dict(lr=0.01, momentum=0.5, dampening=0.25), 3, lambda o, t: F.mse_loss(o, t, reduction="sum"))

# InitZoo: initial parameters only, for the init kinds beyond nn.Linear's default.
SUMMARY_ONLY = False
torch.manual_seed(21)
a, b, c, d = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 5), nn.Linear(5, 4)
nn.init.trunc_normal_(a.weight, std=0.5, a=-0.6, b=0.9); nn.init.constant_(a.bias, 0.1)
nn.init.eye_(b.weight); nn.init.normal_(b.bias, std=0.2)
nn.init.orthogonal_(c.weight, gain=2.0)
nn.init.sparse_(d.weight, sparsity=0.4, std=0.3); nn.init.uniform_(d.bias, -0.5, 0.5)
zoo = {"model": "InitZoo", "seed": 21, "torch_version": torch.__version__,
       "initial": {k: tensor(p) for k, p in [("a.weight", a.weight), ("a.bias", a.bias), ("b.weight", b.weight), ("b.bias", b.bias),
                                             ("c.weight", c.weight), ("c.bias", c.bias), ("d.weight", d.weight), ("d.bias", d.bias)]}}
with open("Runtime.Tests/Fixtures/InitZoo.json", "w") as f:
    json.dump(zoo, f)

# Activations: two networks chaining every activation DslModels offers beyond ReLU/LeakyReLU/Tanh/Sigmoid.
def act_net(spec):
    mods, named, width = [], [], 6
    for k, (units, act) in enumerate(spec):
        lin = nn.Linear(width, units)
        named += [(f"l{k}.weight", lin.weight), (f"l{k}.bias", lin.bias)]
        mods += [lin] + ([act] if act is not None else [])
        width = units
    return named, nn.Sequential(*mods)

SUMMARY_ONLY = False
run("ActZoo1", 5, lambda: act_net([(8, nn.GELU()), (8, nn.SiLU()), (8, nn.Mish()), (8, nn.ELU(alpha=0.5)), (8, nn.Hardswish()), (4, None)]),
    6, 5, [torch.randint(0, 4, (5,), generator=tg) for _ in range(3)], dict(lr=0.1, momentum=0.9), 3, F.cross_entropy)
run("ActZoo2", 6, lambda: act_net([(8, nn.SELU()), (8, nn.CELU(alpha=0.7)), (8, nn.Softplus(beta=2.0, threshold=5.0)),
                                   (8, nn.Hardtanh(-0.5, 0.7)), (8, nn.GELU(approximate="tanh")), (4, None)]),
    6, 5, [torch.randint(0, 4, (5,), generator=tg) for _ in range(3)], dict(lr=0.1, momentum=0.9), 3, F.cross_entropy)
