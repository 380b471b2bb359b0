#!/bin/bash
# Checks that train steps and predictions run no unoptimized runtime code once the first two steps are done: every method of
# the runtime (DslModels.dll) that they call is either compiled fully optimized on its first call (AggressiveOptimization) or
# inlined into one that is. The generated kernels are always compiled so; the generated methods that call them (TrainStep,
# DslRange...) are left to the JIT's tiers, which keeps the first call short (docs/benchmarks.md, "Session 14").
# For each of 15 models (ReLU, Tanh, GELU, Mish, SiLU, ELU; cross-entropy over 10 and 1,000 classes, LogSoftmax + NLL, MSE,
# Huber, L1, BCE with logits; SGD, Adam, AdamW, NAdam, ASGD, RMSprop), `--warm-up MODEL 8` runs with the JIT's log
# (DOTNET_JitStdOutFile, DOTNET_JitDisasmSummary); a DslModels method recompiled at tier 1 after WarmUp.AfterSecondStep ran
# tier-0 code in every step until then. Exits 1 and lists them.
# Usage: Benchmarks/check-warm-code.sh [BUILD_DIR] (default Benchmarks/bin/Release/net10.0; `dotnet build Benchmarks -c Release` first).
set -euo pipefail
dir=${1:-$(dirname "$0")/bin/Release/net10.0}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for model in mlp128 gelu tanh mish logsoftmax cls tiny tiny-adam tiny-nadam tiny-asgd mlp512 mse huber bce l1; do
  DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile="$logs/$model.txt" "$dir/DslModels.Benchmarks" --warm-up "$model" 8 > "$logs/$model.out"
  echo "checked $(cat "$logs/$model.out")"
done
python3 - "$logs" <<'PY'
import glob, os, re, sys
# The runtime's methods only: the models (generated) and the harness live in DslModels.Benchmarks. Accessors and checks of a few
# instructions, which the generated TrainStep calls and an optimizing caller inlines, may tier up with it: unoptimized they cost
# nanoseconds, and AggressiveOptimization would keep them from being inlined everywhere else.
trivial = {"DslModels.AlignedBuffer:get_Length", "DslModels.AlignedBuffer:get_Pointer", "DslModels.AlignedBuffer:get_Span",
           "DslModels.ModelChecks:Batch", "DslModels.ModelChecks:Length", "DslModels.Optim.Optimizer:get_ParamGroups"}
late = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.txt"))):
    steady = False
    for line in open(path):
        if "WarmUp:AfterSecondStep" in line:
            steady = True
            continue
        m = re.search(r"JIT compiled (\S+?)\(.*\[([^,\]]*)", line)
        if not (steady and m) or "Tier1" not in m.group(2) or "OSR" in m.group(2):
            continue
        name = m.group(1)
        if name.startswith("DslModels.") and not name.startswith("DslModels.Benchmarks.") and name not in trivial:
            late.setdefault(name, []).append(os.path.basename(path)[:-4])
for name, models in sorted(late.items()):
    print(f"ran unoptimized code until its tier-up: {name} ({', '.join(models)})")
print(f"{len(late)} method(s) ran unoptimized code after the second step")
sys.exit(1 if late else 0)
PY
