#!/usr/bin/env bash
# Builds the benchmarks with the release preset and runs warm-vs-cold. Arguments go to the
# program: [runs=20] [gap-ms=500]. Needs the runtime images (scripts/ensure.sh release, or
# `isol8 setup`); this script does not build or touch them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ -f build/release/CMakeCache.txt ] || cmake --preset release >&2
cmake --build build/release --target isol8_bench_warm_vs_cold -- -j"$(nproc)" >&2
for rt in python bash; do
  docker image inspect "isol8:$rt" >/dev/null 2>&1 || {
    echo "[isol8] image isol8:$rt is missing: run scripts/ensure.sh release first" >&2; exit 1; }
done
exec build/release/bench/isol8_bench_warm_vs_cold "$@"
