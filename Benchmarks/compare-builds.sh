#!/bin/bash
# Compares builds of Benchmarks on the same cases, alternating them to spread the host's noise over all of them:
#   Benchmarks/compare-builds.sh ROUNDS "QUICK ARGS" DIR1 DIR2 [DIR3 ...]
# e.g.  cp -r Benchmarks/bin/Release/net10.0 /tmp/before   (build, change, build again)
#       Benchmarks/compare-builds.sh 5 "mlp128 1 32 128" /tmp/before Benchmarks/bin/Release/net10.0
# Each round runs `DslModels.Benchmarks --quick QUICK ARGS` once per build, in the order given in odd rounds and reversed in
# even ones; the table gives, per case and build,
# the minimum and the median over the rounds (us). Prefer the minimum when another tenant slows some rounds.
set -euo pipefail
if [ $# -lt 4 ]; then sed -n '2,8p' "$0"; exit 2; fi
rounds=$1; args=$2; shift 2
out=$(mktemp)
builds=("$@")
for ((r = 1; r <= rounds; r++)); do
  # Odd rounds run the builds in the order given, even rounds in reverse: on this VM the second process of a round tended
  # to run ~1.5 us faster with identical code (docs/benchmarks.md, "Session 18"), so a fixed order favours one build.
  order=("${builds[@]}")
  if ((r % 2 == 0)); then order=(); for ((i = ${#builds[@]} - 1; i >= 0; i--)); do order+=("${builds[i]}"); done; fi
  for dir in "${order[@]}"; do
    "$dir/DslModels.Benchmarks" --quick $args 2>&1 | grep -E '^[a-z0-9-]+/(train|infer)/' | sed "s|^|$dir |" >> "$out"
  done
done
python3 - "$out" "$@" <<'PY'
import collections, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, case, value = line.split()
    rows[(case, build)].append(float(value))
builds = sys.argv[2:]
for case in sorted({c for c, _ in rows}):
    cells = []
    for b in builds:
        v = sorted(rows.get((case, b), []))
        cells.append(f"{b}: min {v[0]:9.2f} med {v[len(v) // 2]:9.2f}" if v else f"{b}: -")
    print(case.ljust(24), "  ".join(cells))
PY
rm -f "$out"
