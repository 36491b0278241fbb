#!/usr/bin/env bash
# Throughput and latency of python print('hello') at several concurrency levels, through
# isol8-server's POST /execute and through the library in-process (the same configuration),
# with the targets: zero failures at every level, server runs/s at concurrency 8 >= 60
# (4 x 15), and p99 <= 3 x p50 at concurrency 8.
#   usage: scripts/bench-server.sh [seconds=5] [levels=1,8,64] [warmup-seconds=3]
# The build directory: $ISOL8_BENCH_BUILD, else build/release, else build/ci when configured,
# else the release preset is configured. Builds (unless $ISOL8_BENCH_NO_BUILD is set) isol8_server and isol8_bench_server_rps,
# starts the server on a free loopback port with a random master key and a config whose fast
# pool and maxConcurrent fit the highest level (prewarming python only), waits for /health
# and for the pool to be filled, runs bench/server_rps.cpp against it (a warm-up at the
# highest level, then each level), stops the server, then runs the in-process library.
# Needs the runtime image isol8:python (scripts/ensure.sh release); does not build images.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-5}
levels=${2:-1,8,64}
warmup=${3:-3}
max=$(tr ',' '\n' <<<"$levels" | sort -n | tail -1)

build=${ISOL8_BENCH_BUILD:-}
if [ -z "$build" ]; then
  if [ -f build/release/CMakeCache.txt ]; then build=build/release
  elif [ -f build/ci/CMakeCache.txt ]; then build=build/ci
  else cmake --preset release >&2; build=build/release; fi
fi
[ -n "${ISOL8_BENCH_NO_BUILD:-}" ] || cmake --build "$build" --target isol8_server isol8_bench_server_rps -- -j"$(nproc)" >&2
docker image inspect isol8:python >/dev/null 2>&1 || {
  echo "[isol8] image isol8:python is missing: run scripts/ensure.sh release first" >&2; exit 1; }
server_bin=$root/$build/apps/isol8-server/isol8-server
bench_bin=$root/$build/bench/isol8_bench_server_rps

source "$root/scripts/bench-server-lib.sh"

cat >"$work/config.json" <<EOF
{"poolStrategy": "fast", "poolSize": {"clean": $max, "dirty": $max}, "maxConcurrent": $max, "server": {"prewarm": ["python"]}}
EOF
start_server "$work/config.json" "$work/server.log" "$max"

echo "python print('hello'), ${seconds} s per level, warm-up ${warmup} s at concurrency $max; config $(cat "$work/config.json")"
echo "server: POST /execute on keep-alive connections; library: DockerIsol8::asyncExecute in-process"
echo
"$bench_bin" --url "http://127.0.0.1:$port" --key "$key" -c "$levels" -d "$seconds" --warmup "$warmup" \
  | tee "$work/server.txt"
stop_server
"$bench_bin" --local --config "$work/config.json" -c "$levels" -d "$seconds" --warmup "$warmup" --no-header \
  | tee "$work/local.txt"

echo
echo "| target | path | measured | limit | result |"
echo "|---|---|---:|---:|---|"
# Columns (split on '|'): 2 path, 3 concurrency, 6 failures, 7 runs/s, 8 p50, 10 p99.
awk -F'|' '
  function trim(s) { gsub(/^ +| +$/, "", s); return s }
  function row(what, path, measured, limit, pass) {
    printf "| %s | %s | %s | %s | %s |\n", what, path, measured, limit, pass ? "PASS" : "FAIL"; if (!pass) failed++ }
  $3 ~ /^ *[0-9]+ *$/ {
    p = trim($2); c = trim($3); f = trim($6) + 0; rps = trim($7) + 0; p50 = trim($8) + 0; p99 = trim($10) + 0
    row("no failures at concurrency " c, p, f, 0, f == 0)
    if (c == 8) {
      if (p == "server") row("python runs/s at concurrency 8 >= 4 x 15", p, rps, 60, rps >= 60)
      row("p99 <= 3 x p50 at concurrency 8", p, sprintf("%.1f ms", p99), sprintf("%.1f ms", 3 * p50), p99 <= 3 * p50)
    }
  }
  END { printf "\n%d target(s) missed.\n", failed }' "$work/server.txt" "$work/local.txt"
