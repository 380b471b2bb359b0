#!/usr/bin/python3
"""Writes Runtime.Tests/Fixtures/Losses.json: PyTorch trajectories of the loss test models.

Run with Debian's torch 1.13: /usr/bin/python3 tools/make_loss_fixtures.py
Every model is Linear(6, 5) + Tanh, Linear(5, 4) + an optional final activation, built after
torch.manual_seed(0) (as DslModels' ResetParameters(0)), trained 3 steps with SGD(lr=0.1) on fixed
data. Must match Runtime.Tests/Models/LossModels.cs.
"""
import json, torch, torch.nn as nn

w = torch.tensor([1.0, 2.0, 0.5, 1.5])
pw = torch.tensor([2.0, 0.5, 1.0, 3.0])
g = torch.Generator().manual_seed(7)

def targets(kind, batch):
    if kind == "class":
        return torch.randint(0, 4, (batch,), generator=g)
    if kind == "prob":
        return torch.rand(batch, 4, generator=g)
    if kind == "dist":
        return torch.softmax(torch.randn(batch, 4, generator=g), dim=1)
    if kind == "count":
        return torch.randint(0, 5, (batch, 4), generator=g).float()
    if kind == "sign":
        return torch.randint(0, 2, (batch, 4), generator=g).float() * 2 - 1
    if kind == "multihot":
        return torch.randint(0, 2, (batch, 4), generator=g).float()
    if kind == "labels":
        out = torch.full((batch, 4), -1, dtype=torch.long)
        for n in range(batch):
            k = int(torch.randint(0, 5, (1,), generator=g))
            out[n, :k] = torch.randperm(4, generator=g)[:k]
        return out
    raise ValueError(kind)

cases = {
    "LossL1": (nn.L1Loss(), "prob", None),
    "LossSmoothL1": (nn.SmoothL1Loss(beta=0.5, reduction="sum"), "prob", None),
    "LossHuber": (nn.HuberLoss(delta=0.7), "prob", None),
    "LossNll": (nn.NLLLoss(weight=w, ignore_index=2), "class", nn.LogSoftmax(dim=1)),
    "LossCeSmooth": (nn.CrossEntropyLoss(weight=w, label_smoothing=0.1), "class", None),
    "LossBce": (nn.BCELoss(weight=w), "prob", nn.Sigmoid()),
    "LossBceLogits": (nn.BCEWithLogitsLoss(weight=w, pos_weight=pw), "prob", None),
    "LossKl": (nn.KLDivLoss(reduction="batchmean"), "dist", nn.LogSoftmax(dim=1)),
    "LossPoisson": (nn.PoissonNLLLoss(full=True), "count", None),
    "LossSoftMargin": (nn.SoftMarginLoss(), "sign", None),
    "LossMlsm": (nn.MultiLabelSoftMarginLoss(weight=w), "multihot", None),
    "LossMultiMargin": (nn.MultiMarginLoss(p=2, margin=0.5, weight=w), "class", None),
    "LossMlm": (nn.MultiLabelMarginLoss(), "labels", None),
    "LossHinge": (nn.HingeEmbeddingLoss(margin=1.5), "sign", None),
    "SoftmaxMse": (nn.MSELoss(), "dist", nn.Softmax(dim=1)),
}

batch, steps = 5, 3
result = {"torch_version": torch.__version__, "batch": batch, "models": {}}
for name, (loss_fn, kind, final) in cases.items():
    torch.manual_seed(0)
    first, second = nn.Linear(6, 5), nn.Linear(5, 4)
    layers = [first, nn.Tanh(), second] + ([final] if final is not None else [])
    model = nn.Sequential(*layers)
    params = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight), ("second.bias", second.bias)]
    opt = torch.optim.SGD([p for _, p in params], lr=0.1)
    record = {"inputs": [], "targets": [], "loss": [], "params": []}
    for s in range(steps):
        x = torch.rand(batch, 6, generator=g) * 2 - 1
        y = targets(kind, batch)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        record["inputs"].append([float(v) for v in x.reshape(-1).tolist()])
        record["targets"].append([float(v) for v in y.reshape(-1).tolist()])
        record["loss"].append(float(loss))
        record["params"].append({k: [float(v) for v in p.detach().reshape(-1).tolist()] for k, p in params})
    result["models"][name] = record


# GaussianNLL: per-sample variances given with the targets.
torch.manual_seed(0)
first, second = nn.Linear(6, 5), nn.Linear(5, 4)
model = nn.Sequential(first, nn.Tanh(), second)
params = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight), ("second.bias", second.bias)]
opt = torch.optim.SGD([p for _, p in params], lr=0.1)
loss_fn = nn.GaussianNLLLoss(full=True)
record = {"inputs": [], "targets": [], "variances": [], "loss": [], "params": []}
for s in range(steps):
    x = torch.rand(batch, 6, generator=g) * 2 - 1
    y = torch.randn(batch, 4, generator=g)
    var = torch.rand(batch, 1, generator=g) + 0.1
    opt.zero_grad()
    loss = loss_fn(model(x), y, var)
    loss.backward()
    opt.step()
    record["inputs"].append([float(v) for v in x.reshape(-1).tolist()])
    record["targets"].append([float(v) for v in y.reshape(-1).tolist()])
    record["variances"].append([float(v) for v in var.reshape(-1).tolist()])
    record["loss"].append(float(loss))
    record["params"].append({k: [float(v) for v in p.detach().reshape(-1).tolist()] for k, p in params})
result["gaussian"] = record

# Siamese models: the same network applied to two or three inputs, one loss over the outputs.
siamese = {
    "PairRanking": (nn.MarginRankingLoss(margin=0.2), 1, 2),
    "PairCosine": (nn.CosineEmbeddingLoss(margin=0.1), 4, 2),
    "TripletNet": (nn.TripletMarginLoss(margin=0.5, p=2, swap=True), 4, 3),
    "TripletDistanceNet": (nn.TripletMarginWithDistanceLoss(margin=0.7), 4, 3),
}
result["siamese"] = {}
for name, (loss_fn, outputs, inputs) in siamese.items():
    torch.manual_seed(0)
    first, second = nn.Linear(6, 5), nn.Linear(5, outputs)
    model = nn.Sequential(first, nn.Tanh(), second)
    params = [("first.weight", first.weight), ("first.bias", first.bias), ("second.weight", second.weight), ("second.bias", second.bias)]
    opt = torch.optim.SGD([p for _, p in params], lr=0.1)
    record = {"inputs": [], "targets": [], "loss": [], "params": []}
    for s in range(steps):
        xs = [torch.rand(batch, 6, generator=g) * 2 - 1 for _ in range(inputs)]
        opt.zero_grad()
        if inputs == 2:
            y = torch.randint(0, 2, (batch,), generator=g).float() * 2 - 1
            out1, out2 = model(xs[0]), model(xs[1])
            loss = loss_fn(out1.reshape(-1), out2.reshape(-1), y) if outputs == 1 else loss_fn(out1, out2, y)
            record["targets"].append([float(v) for v in y.tolist()])
        else:
            loss = loss_fn(model(xs[0]), model(xs[1]), model(xs[2]))
        loss.backward()
        opt.step()
        record["inputs"].append([[float(v) for v in x.reshape(-1).tolist()] for x in xs])
        record["loss"].append(float(loss))
        record["params"].append({k: [float(v) for v in p.detach().reshape(-1).tolist()] for k, p in params})
    result["siamese"][name] = record

with open("Runtime.Tests/Fixtures/Losses.json", "w") as f:
    json.dump(result, f)
