# Sourced by scripts/bench.sh and scripts/bench-server.sh: one isol8-server at a time for a
# benchmark. Needs $server_bin; sets $work (removed at exit), $port, $key, $server_pid.
work=$(mktemp -d)
server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
trap 'stop_server; rm -rf "$work"' EXIT
managed() { docker ps -q --no-trunc --filter label=isol8.managed=true | sort; }

# start_server CONFIG LOG WANT: starts the server with the config file on a free loopback port
# and a random master key (through the environment: ps shows argv), waits until it answers
# /health, then until WANT new isol8 containers run (its prewarmed pool; 120 s at most).
start_server() {
  local config=$1 log=$2 want=$3
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  managed >"$work/before"
  (cd "$work" && ISOL8_API_KEY=$key exec "$server_bin" --port "$port" --config "$config" >"$log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "[isol8] the server exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null || {
    echo "[isol8] the server did not answer /health within 60 s:" >&2; cat "$log" >&2; exit 1; }
  for _ in $(seq 1 240); do
    [ "$(managed | comm -13 "$work/before" - | wc -l)" -ge "$want" ] && break
    sleep 0.5
  done
}
