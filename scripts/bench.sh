#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md, about 6 minutes on 2 cores:
#   1. bench/latency.cpp: floors per runtime (the same command forked inside a running
#      container, the raw Engine API exec, `docker run --rm`), then warm fast / secure and
#      cold execute() latency per runtime through the library;
#   2. the same rows through isol8-server (one server per pool: fast {1,1}, secure {1,1},
#      cold {0,0}, each prewarmed before it is measured), with RemoteIsol8;
#   3. one table of every row with ratios to the floors, and the targets (PASS/FAIL);
#   4. scripts/bench-server.sh: python throughput at concurrency 1, 8, 64 through the server
#      and the library.
#   usage: scripts/bench.sh [latency options...]   (see bench/latency.cpp, e.g. --runs 30)
# The build directory: $ISOL8_BENCH_BUILD, else build/release, else build/ci when configured,
# else the release preset is configured. $ISOL8_BENCH_SECONDS (5) and $ISOL8_BENCH_LEVELS
# (1,8,64) go to bench-server.sh. Needs the runtime images (scripts/ensure.sh release, or
# `isol8 setup`); this script does not build or touch them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${ISOL8_BENCH_BUILD:-}
if [ -z "$build" ]; then
  if [ -f build/release/CMakeCache.txt ]; then build=build/release
  elif [ -f build/ci/CMakeCache.txt ]; then build=build/ci
  else cmake --preset release >&2; build=build/release; fi
fi
export ISOL8_BENCH_BUILD=$build
cmake --build "$build" --target isol8_bench_latency isol8_server isol8_bench_server_rps -- -j"$(nproc)" >&2
runtimes=python,node,bun,deno,bash
for rt in ${runtimes//,/ }; do
  docker image inspect "isol8:$rt" >/dev/null 2>&1 || {
    echo "[isol8] image isol8:$rt is missing: run scripts/ensure.sh release first" >&2; exit 1; }
done
latency=$root/$build/bench/isol8_bench_latency
server_bin=$root/$build/apps/isol8-server/isol8-server

source "$root/scripts/bench-server-lib.sh"

# Starts isol8-server with the pool $1 (fast|secure|cold); returns when it answers /health and
# its prewarmed containers (one per runtime) run.
start_pool_server() {
  local pool=$1 strategy=fast size=1 prewarm='["python","node","bun","deno","bash"]' want=5
  [ "$pool" = secure ] && strategy=secure
  [ "$pool" = cold ] && { size=0; prewarm='[]'; want=0; }
  cat >"$work/config-$pool.json" <<JSON
{"poolStrategy": "$strategy", "poolSize": {"clean": $size, "dirty": $size}, "server": {"prewarm": $prewarm}}
JSON
  start_server "$work/config-$pool.json" "$work/server-$pool.log" "$want"
}

status=0
echo "[bench] floors and library rows" >&2
"$latency" --runtimes "$runtimes" --floors-out "$work/floors.txt" --rows-out "$work/rows.tsv" "$@" \
  >"$work/library.md" || status=$?
[ -s "$work/floors.txt" ] || { cat "$work/library.md"; exit 1; }
for pool in fast secure cold; do
  echo "[bench] server rows, $pool pool" >&2
  start_pool_server "$pool"
  "$latency" --runtimes "$runtimes" --no-floors --floors "$work/floors.txt" --rows-out "$work/rows.tsv" \
    --remote "http://127.0.0.1:$port" --key "$key" --pool "$pool" "$@" >"$work/server-$pool.md" || status=$?
  stop_server
done

echo "## execute() latency per runtime ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
"$latency" --runtimes "$runtimes" --report --rows "$work/rows.tsv" --floors "$work/floors.txt"
echo
echo "## Throughput, python"
echo
ISOL8_BENCH_NO_BUILD=1 scripts/bench-server.sh "${ISOL8_BENCH_SECONDS:-5}" "${ISOL8_BENCH_LEVELS:-1,8,64}" 3 || status=$?
[ "$status" -eq 0 ] || echo "[bench] some runs failed (exit status $status): see the failures above" >&2
exit "$status"
