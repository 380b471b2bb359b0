#!/usr/bin/env bash
# DslModels vs PyTorch (single thread) on the issue's two MLPs, train step and inference at batch 1..512, and on a
# small online-learning model (tiny: 32-64-64-4, batch 1..32); act: mlp128 with eight other hidden activations (batch 1, 32); tab: 13 and 16 features (batch 1..128); cls: 256-512-1000 with cross-entropy and with LogSoftmax + NLLLoss (batch 1, 32).
#
#   Benchmarks/run-vs-pytorch.sh [--rounds N] [--adam] [--no-build] [--wait-idle S] [--avx2] [--tuned-malloc] [--flush-subnormals N] [--exe PATH] [mlp128] [mlp512] [tiny] [act] [tab] [cls] [table.md]
#
# Runs `DslModels.Benchmarks --quick` and Benchmarks/pytorch_peer.py alternately, N rounds each (default 3),
# takes the median of each `name microseconds` line across rounds, measures the FMA peak (`--peak fma`),
# and prints a markdown table: name, DslModels us, PyTorch us, ratio DslModels/PyTorch, DslModels GFLOP/s and
# fraction of the FMA peak, the spread between rounds, and the issue's targets. A trailing *.md argument
# also writes the report there. mlp512 trains with Adam(lr=1e-3) on both sides (--adam is accepted and is the default).
# --wait-idle S: before each run, wait up to S seconds (default 0) for the CPUs to be < 15% busy (other
# processes on a shared machine make the timings noisy); the report counts the runs that started busy.
# --avx2: both sides as on a machine without AVX-512: DslModels with DOTNET_EnableAVX512=0 (its Vector256 kernels),
# PyTorch with OpenBLAS's Haswell kernels (OPENBLAS_CORETYPE=Haswell) and ATen's AVX2 ones (ATEN_CPU_CAPABILITY=avx2).
# --tuned-malloc: PyTorch with glibc's allocator told to keep freed memory (MALLOC_MMAP_THRESHOLD_=4194304
# MALLOC_TRIM_THRESHOLD_=67108864): without it each train step maps and unmaps its fresh gradient buffers, and its page
# faults can dominate PyTorch's small-batch training (on this VM, one day, train/8 and train/32 ran up to 2.5x and 1.8x slower; inference is
# unaffected). The conservative peer; the report's header says which one ran.
# --flush-subnormals N: both sides with their knob against subnormal numbers, which change PyTorch's numbers: DslModels'
# mlp512 calls Optimizer.FlushSubnormalState() every N train steps (DSLMODELS_BENCH_FLUSH_SUBNORMALS), PyTorch runs with
# torch.set_flush_denormal(True) (every CPU operation flushes subnormals to zero). See docs/optim.md.
#
# PyTorch is /usr/bin/python3 (Debian torch 1.13) with a single-threaded OpenBLAS that uses its AVX-512
# (SkylakeX) kernels: OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1
# LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread (apt-get install -y libopenblas0-pthread).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rounds=3 build=1 out="" adam=(--adam) models=() wait_idle=0 busy_starts=0 avx2=0 exe="" tuned_malloc=0 flush=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --adam) adam=(--adam); shift ;;
    --no-build) build=0; shift ;;
    --wait-idle) wait_idle="$2"; shift 2 ;;
    --avx2) avx2=1; shift ;;
    --tuned-malloc) tuned_malloc=1; shift ;;
    --flush-subnormals) flush="$2"; shift 2 ;;
    --exe) exe="$2"; build=0; shift 2 ;; # a NativeAOT build of Benchmarks (docs/benchmarks.md, "NativeAOT") instead of `dotnet` the dll
    mlp128|mlp512|tiny|act|tab|cls) models+=("$1"); shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) out="$1"; shift ;;
  esac
done

blas=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [[ ! -e $blas/libopenblas.so.0 && ! -e $blas/libopenblasp-r0.3.21.so ]]; then
  echo "missing $blas: apt-get install -y libopenblas0-pthread" >&2
  exit 1
fi
torch_env=(env OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=$blas OMP_NUM_THREADS=1)
dsl_env=(env)
isa="AVX-512 on both sides"
if [[ $avx2 == 1 ]]; then
  torch_env=(env OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=$blas OMP_NUM_THREADS=1)
  dsl_env=(env DOTNET_EnableAVX512=0)
  isa="AVX2 on both sides (DslModels: DOTNET_EnableAVX512=0; PyTorch: OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2)"
fi
allocator="glibc's defaults (as installed)"
if [[ $tuned_malloc == 1 ]]; then
  torch_env+=(MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864)
  allocator="tuned: MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864"
fi

[[ $flush =~ ^[0-9]+$ ]] || { echo "--flush-subnormals takes a number of steps (0: off), not '$flush'" >&2; exit 2; }
subnormals="as the arithmetic gives them (both sides)"
peer_flags=()
if (( 10#$flush > 0 )); then
  dsl_env+=(DSLMODELS_BENCH_FLUSH_SUBNORMALS=$flush)
  peer_flags=(--flush-denormal)
  subnormals="flushed: DslModels' mlp512 calls Optimizer.FlushSubnormalState() every $flush steps; PyTorch runs with torch.set_flush_denormal(True)"
fi

if [[ $build == 1 ]]; then
  dotnet build Benchmarks -c Release -v quiet -nologo >/dev/null
fi
dll=Benchmarks/bin/Release/net10.0/DslModels.Benchmarks.dll
if [[ -n $exe ]]; then
  [[ -x $exe ]] || { echo "no executable $exe" >&2; exit 1; }
  # A NativeAOT executable's instruction set is fixed when it is published; DOTNET_EnableAVX512=0 does not reach it.
  [[ $avx2 == 0 ]] || { echo "--avx2 does not apply to --exe: publish with -p:IlcInstructionSet=x86-64-v3 for the AVX2 path" >&2; exit 2; }
  dsl=("$exe")
else
  [[ -f $dll ]] || { echo "no $dll: build first (dotnet build Benchmarks -c Release)" >&2; exit 1; }
  dsl=(dotnet "$dll")
fi

# Busy fraction of all CPUs over one second, in percent, from /proc/stat.
busy_percent() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
wait_quiet() {
  [[ $wait_idle -gt 0 ]] || return 0
  local start=$SECONDS
  while (( SECONDS - start < wait_idle )); do
    (( $(busy_percent) < 15 )) && return 0
  done
  busy_starts=$((busy_starts + 1))
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  wait_quiet
  echo "round $r/$rounds: DslModels" >&2
  "${dsl_env[@]}" "${dsl[@]}" --quick "${models[@]}" >"$tmp/dsl.$r"
  wait_quiet
  echo "round $r/$rounds: PyTorch" >&2
  "${torch_env[@]}" /usr/bin/python3 Benchmarks/pytorch_peer.py "${adam[@]}" "${peer_flags[@]}" "${models[@]}" >"$tmp/torch.$r" 2>"$tmp/torch.info"
done
echo "FMA peak" >&2
"${dsl_env[@]}" "${dsl[@]}" --peak fma >"$tmp/peak"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores=$(nproc) logical CPUs, $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core, family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p')"
  echo "avx512=$(grep -o -w 'avx512[a-z0-9_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "kernel=$(uname -r)"
  echo "dotnet=$(dotnet --version)"
  echo "dslmodels=${dsl[*]}"
  echo "torch=$(sed -n 's/^# //p' "$tmp/torch.info")"
  echo "python=$(/usr/bin/python3 --version 2>&1)"
  echo "load=$load_before (before) -> $load_after (after), 1/5/15-min load averages"
  echo "isa=$isa"
  echo "torch allocator=$allocator"
  echo "subnormals=$subnormals"
  echo "rounds=$rounds"
  if [[ $wait_idle -gt 0 ]]; then
    echo "idle wait=up to ${wait_idle}s for < 15% CPU busy before each run; $busy_starts of $((2 * rounds)) runs started busy"
  fi
} >"$tmp/machine"

/usr/bin/python3 - "$tmp" "$rounds" "$out" <<'PY'
import statistics, sys
tmp, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PARAMS = {"mlp128": 784 * 128 + 128 + 128 * 10 + 10, "mlp512": 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10,
          "tiny": 32 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4,
          "tab13": 13 * 100 + 100 + 100 * 100 + 100 + 100 * 3 + 3, "tab16": 16 * 96 + 96 + 96 * 96 + 96 + 96 * 3 + 3,
          "cls1000": 256 * 512 + 512 + 512 * 1000 + 1000}
# The issue's targets: mlp128 (SGD momentum) train at batch 1, 32, 512 and inference at batch 1;
# mlp512 (Adam) train at batch 1 and 512.
TARGETS = {("mlp128", "train", 1): (1 / 15, "<= 1/15"), ("mlp128", "train", 32): (1 / 4, "<= 1/4"),
           ("mlp128", "train", 512): (0.8, "<= 0.8"), ("mlp128", "infer", 1): (1 / 4, "<= 1/4"),
           ("mlp512", "train", 1): (1 / 6, "<= 1/6"), ("mlp512", "train", 512): (0.8, "<= 0.8")}

def read(prefix):
    runs = {}
    for r in range(1, rounds + 1):
        for line in open(f"{tmp}/{prefix}.{r}"):
            if line.strip() and not line.startswith("#"):
                name, us = line.split()[:2]
                runs.setdefault(name, []).append(float(us))
    return runs

dsl, torch = read("dsl"), read("torch")
peak = {l.split()[0]: float(l.split()[1]) for l in open(f"{tmp}/peak") if l.startswith("peak/")}
machine = [l.rstrip("\n") for l in open(f"{tmp}/machine")]

def key(name):
    model, kind, batch = name.split("/")
    return (model, kind != "train", int(batch))

def us(v):
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"  # sub-microsecond times (the tiny model) keep their digits

def spread(v):
    return (max(v) - min(v)) / statistics.median(v)

lines = ["Machine and versions:", ""] + [f"- {l.replace('=', ': ', 1)}" for l in machine]
lines += [f"- FMA peak (1 core): Vector512 {peak.get('peak/vector512/12chains', float('nan')):.1f} GFLOP/s, "
          f"Vector256 {peak.get('peak/vector256/12chains', float('nan')):.1f} GFLOP/s (12 independent FMA chains)", ""]
lines += ["Times are medians over rounds of each side's median-of-7; ratio = DslModels / PyTorch (< 1: DslModels faster).",
          "GFLOP/s: train = 6*P*B flops, infer = 2*P*B (P = parameters, B = batch); % = of the FMA peak of the widest vector DslModels used.",
          "Spread = (max - min) / median across rounds, the larger of the two sides. Min ratio = the fastest round of each",
          "side, DslModels / PyTorch: steadier than the medians when another tenant slows some rounds (the targets use the",
          "medians).", ""]
lines.append("| name | DslModels us | PyTorch us | ratio | min ratio | DslModels GFLOP/s | % peak | PyTorch GFLOP/s | spread | target |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
p = peak.get("peak/gflops", float("nan"))
for name in sorted(set(dsl) & set(torch), key=key):
    model, kind, batch = name.split("/")
    d, t = statistics.median(dsl[name]), statistics.median(torch[name])
    ratio = d / t
    flops = (6 if kind == "train" else 2) * PARAMS[model.split("-")[0]] * int(batch)
    gd, gt = flops / (d * 1e3), flops / (t * 1e3)
    target = ""
    if (model, kind, int(batch)) in TARGETS:
        limit, text = TARGETS[(model, kind, int(batch))]
        target = f"{text}: {'met' if ratio <= limit else 'NOT met'}"
    lines.append(f"| {name} | {us(d)} | {us(t)} | {ratio:.3f} | {min(dsl[name]) / min(torch[name]):.3f} | {gd:.1f} | {gd / p:.1%} | {gt:.1f} | "
                 f"{max(spread(dsl[name]), spread(torch[name])):.0%} | {target} |")
dz = [l[2:].rstrip("\n") for l in open(f"{tmp}/dsl.{rounds}") if l.startswith("# dz nonzero")]
if dz:
    lines += ["", "DslModels skips the zeros of a ReLU layer's dz in the weight gradient; the fraction of nonzero dz after the",
              "last timed step of each train case (last round) shows the runs trained with realistic, live ReLUs:", ""]
    lines += [f"- {l}" for l in dz]
text = "\n".join(lines) + "\n"
sys.stdout.write(text)
if out:
    open(out, "w").write(text)
    print(f"\nwritten to {out}", file=sys.stderr)
PY
