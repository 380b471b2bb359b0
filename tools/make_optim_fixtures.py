#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/Optimizers.json: PyTorch trajectories of the optimizer test models.

Run with Debian's torch 1.13: /usr/bin/python3 tools/make_optim_fixtures.py
Every model is Linear(6, 5) + Tanh, Linear(5, 4), cross-entropy, built after torch.manual_seed(0), trained
4 steps on fixed data. Must match Runtime.Tests/Models/OptimizerModels.cs. NAdam uses foreach=True, which in
1.13 has the corrected (2.x) momentum product DslModels implements.
"""
import json, torch, torch.nn as nn, torch.nn.functional as F

def build():
    torch.manual_seed(0)
    first, second = nn.Linear(6, 5), nn.Linear(5, 4)
    return first, second, nn.Sequential(first, nn.Tanh(), second)

cases = {
    "OptAdam": lambda f, s: torch.optim.Adam(list(f.parameters()) + list(s.parameters()), lr=0.05, betas=(0.8, 0.99), weight_decay=0.01),
    "OptAdamW": lambda f, s: torch.optim.AdamW(list(f.parameters()) + list(s.parameters()), lr=0.05, amsgrad=True),
    "OptAdagrad": lambda f, s: torch.optim.Adagrad(list(f.parameters()) + list(s.parameters()), lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "OptRMSprop": lambda f, s: torch.optim.RMSprop(list(f.parameters()) + list(s.parameters()), lr=0.01, momentum=0.9, centered=True),
    "OptAdadelta": lambda f, s: torch.optim.Adadelta(list(f.parameters()) + list(s.parameters()), rho=0.8),
    "OptAdamax": lambda f, s: torch.optim.Adamax(list(f.parameters()) + list(s.parameters()), lr=0.05),
    "OptAsgd": lambda f, s: torch.optim.ASGD(list(f.parameters()) + list(s.parameters()), lr=0.1, t0=2),
    "OptRprop": lambda f, s: torch.optim.Rprop(list(f.parameters()) + list(s.parameters()), lr=0.02, etas=(0.4, 1.3)),
    "OptNAdam": lambda f, s: torch.optim.NAdam(list(f.parameters()) + list(s.parameters()), lr=0.05, foreach=True),
    "OptRAdam": lambda f, s: torch.optim.RAdam(list(f.parameters()) + list(s.parameters()), lr=0.05),
    # [ParamGroup(LearningRate = 0.01, Momentum = 0.5)] on the second layer, BiasWeightDecay = 0 on the optimizer:
    "OptSgdGroups": lambda f, s: torch.optim.SGD([{"params": [f.weight]}, {"params": [f.bias], "weight_decay": 0.0},
                                                  {"params": [s.weight, s.bias], "lr": 0.01, "momentum": 0.5}],
                                                 lr=0.1, momentum=0.9, weight_decay=0.05),
}

g = torch.Generator().manual_seed(11)
batch, steps = 5, 4
data = [(torch.rand(batch, 6, generator=g) * 2 - 1, torch.randint(0, 4, (batch,), generator=g)) for _ in range(steps)]
result = {"torch_version": torch.__version__, "batch": batch,
          "inputs": [[float(v) for v in x.reshape(-1).tolist()] for x, _ in data],
          "targets": [[int(v) for v in y.tolist()] for _, y in data], "models": {}}
for name, make in cases.items():
    first, second, model = build()
    opt = make(first, second)
    params = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight), ("second.bias", second.bias)]
    record = {"loss": [], "params": []}
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        record["loss"].append(float(loss))
        record["params"].append({k: [float(v) for v in p.detach().reshape(-1).tolist()] for k, p in params})
    result["models"][name] = record

with open("Runtime.Tests/Fixtures/Optimizers.json", "w") as f:
    json.dump(result, f)
