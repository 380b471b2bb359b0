#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/Lbfgs.json: PyTorch trajectories of the LBFGS test models (Runtime.Tests/Models/LbfgsModels.cs).

Run with Debian's torch 1.13: /usr/bin/python3 tools/make_lbfgs_fixtures.py
Each model is Linear(6, 5) + Tanh, Linear(5, 4), cross-entropy, built after torch.manual_seed(0), and trained 4 steps
on the same fixed data as tools/make_optim_fixtures.py; a step is optimizer.step(closure) with the usual closure
(zero_grad, loss, backward, return loss), and the loss recorded is what step returns (the closure's first value).

L-BFGS amplifies rounding (PyTorch's own float32 and float64 runs drift apart step by step), so each step also records
"spread": the largest |float32 - float64| over the parameters, and "loss_spread" the same for the loss; the test allows
a multiple of it on top of the usual tolerance.
"""
import json, torch, torch.nn as nn, torch.nn.functional as F

def build(dtype=torch.float32):
    torch.manual_seed(0)
    first, second = nn.Linear(6, 5), nn.Linear(5, 4)
    return first, second, nn.Sequential(first, nn.Tanh(), second).to(dtype)

cases = {
    "LbfgsPlain": lambda ps: torch.optim.LBFGS(ps, lr=0.5, max_iter=5, history_size=4),
    "LbfgsWolfe": lambda ps: torch.optim.LBFGS(ps, max_iter=6, line_search_fn="strong_wolfe"),
}

g = torch.Generator().manual_seed(11)
batch, steps = 5, 4
data = [(torch.rand(batch, 6, generator=g) * 2 - 1, torch.randint(0, 4, (batch,), generator=g)) for _ in range(steps)]
result = {"torch_version": torch.__version__, "batch": batch,
          "inputs": [[float(v) for v in x.reshape(-1).tolist()] for x, _ in data],
          "targets": [[int(v) for v in y.tolist()] for _, y in data], "models": {}}
def trajectory(make, dtype):
    first, second, model = build(dtype)
    params = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight), ("second.bias", second.bias)]
    opt = make([p for _, p in params])
    losses, states = [], []
    for x, y in data:
        x = x.to(dtype)
        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss
        losses.append(float(opt.step(closure)))
        states.append({k: [float(v) for v in p.detach().reshape(-1).tolist()] for k, p in params})
    return losses, states

for name, make in cases.items():
    losses, states = trajectory(make, torch.float32)
    losses64, states64 = trajectory(make, torch.float64)
    spread = [max(abs(a - b) for k in s32 for a, b in zip(s32[k], s64[k])) for s32, s64 in zip(states, states64)]
    result["models"][name] = {"loss": losses, "params": states, "spread": spread,
                              "loss_spread": [abs(a - b) for a, b in zip(losses, losses64)]}

with open("Runtime.Tests/Fixtures/Lbfgs.json", "w") as f:
    json.dump(result, f)
