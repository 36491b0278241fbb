#!/usr/bin/env bash
# Requests/s and latency of isol8-server's POST /execute (python print('hello')) at several
# concurrency levels, and of the same run through the library in-process, with the same
# configuration, so the table shows what the server adds.
#   usage: scripts/bench-server.sh [seconds=20] [levels=1,8] [warmup-seconds=3]
# Builds the release preset's isol8_server and isol8_bench_server_rps, starts the server on a
# free loopback port with a random master key and a config whose pool and maxConcurrent fit
# the highest level (prewarming python only, as the in-process engine does), waits for
# /health, runs bench/server_rps.cpp against it (a warm-up at the highest level, then each
# level), stops the server, then runs the in-process baseline.
# Needs the runtime image isol8:python (scripts/ensure.sh release); does not build images.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-20}
levels=${2:-1,8}
warmup=${3:-3}
max=$(tr ',' '\n' <<<"$levels" | sort -n | tail -1)

[ -f build/release/CMakeCache.txt ] || cmake --preset release >&2
cmake --build build/release --target isol8_server isol8_bench_server_rps -- -j"$(nproc)" >&2
docker image inspect isol8:python >/dev/null 2>&1 || {
  echo "[isol8] image isol8:python is missing: run scripts/ensure.sh release first" >&2; exit 1; }
server_bin=$root/build/release/apps/isol8-server/isol8-server
bench_bin=$root/build/release/bench/isol8_bench_server_rps

work=$(mktemp -d)
server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
trap 'stop_server; rm -rf "$work"' EXIT

cat >"$work/config.json" <<EOF
{"poolSize": {"clean": $max, "dirty": $max}, "maxConcurrent": $max, "server": {"prewarm": ["python"]}}
EOF
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# The key goes through the environment, not the command line (ps shows argv).
(cd "$work" && ISOL8_API_KEY=$key exec "$server_bin" --port "$port" --config "$work/config.json" \
  >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "[isol8] the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || {
  echo "[isol8] the server did not answer /health within 60 s:" >&2; cat "$work/server.log" >&2; exit 1; }

echo "python print('hello'), ${seconds} s per level, warm-up ${warmup} s; config $(cat "$work/config.json")"
echo "server: POST /execute on keep-alive connections; local: DockerIsol8::asyncExecute in-process"
echo
"$bench_bin" --url "http://127.0.0.1:$port" --key "$key" -c "$levels" -d "$seconds" --warmup "$warmup" \
  | tee "$work/server.txt"
stop_server
"$bench_bin" --local --config "$work/config.json" -c "$levels" -d "$seconds" --warmup "$warmup" --no-header \
  | tee "$work/local.txt"

echo
echo "server overhead (server minus local)"
awk 'FNR == 1 && FILENAME ~ /server/ { next }
     FILENAME ~ /server/ { rps[$2] = $6; p50[$2] = $7; p99[$2] = $9; order[++n] = $2; next }
     { lrps[$2] = $6; lp50[$2] = $7; lp99[$2] = $9 }
     END {
       printf "%5s %12s %12s %14s\n", "conc", "p50_ms", "p99_ms", "req/s ratio"
       for (i = 1; i <= n; i++) { c = order[i]
         printf "%5s %+12.1f %+12.1f %14.2f\n", c, p50[c] - lp50[c], p99[c] - lp99[c], (lrps[c] > 0 ? rps[c] / lrps[c] : 0) }
     }' "$work/server.txt" "$work/local.txt"
