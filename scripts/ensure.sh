#!/usr/bin/env bash
# Brings a machine to the point where isol8 runs: Debian packages, a running Docker engine,
# the project built with the given CMake preset, and the runtime images. Everything already
# in place is reused, so a second run takes seconds.
#   usage: scripts/ensure.sh <preset>      (debug | release | ci)
set -euo pipefail
preset=${1:-release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[isol8] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Packages. Boost 1.81 comes as versioned packages; never libboost-all-dev (1.74, and it
#    removes 1.81).
packages=(cmake ninja-build g++ pkg-config ccache libboost1.81-dev libboost-json1.81-dev
  libboost-program-options1.81-dev libfmt-dev libssl-dev catch2 docker.io debootstrap
  ca-certificates iptables libsqlite3-dev libpq-dev postgresql clang libclang-rt-14-dev)
# libsqlite3-dev, libpq-dev: isol8-server's API-key stores. postgresql: only the tests use its
# server binaries (/usr/lib/postgresql/<v>/bin), to start a throwaway server of their own.
# clang, libclang-rt-14-dev (libFuzzer): only scripts/fuzz.sh (docs/fuzzing.md).
command -v npm >/dev/null 2>&1 || packages+=(npm)  # fetches node/bun/deno for the images
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Docker engine: start one if none answers.
docker_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_up; then
  say "starting the Docker engine"
  if command -v systemctl >/dev/null 2>&1 && systemctl start docker >/dev/null 2>&1; then :; else
    as_root bash -c 'setsid dockerd >/var/log/isol8-dockerd.log 2>&1 < /dev/null &'
  fi
  for _ in $(seq 1 120); do docker_up && break; sleep 0.5; done
  docker_up || { say "the Docker engine did not start; see /var/log/isol8-dockerd.log"; exit 1; }
fi

# 3. Build.
cd "$root"
if [ ! -f "build/$preset/CMakeCache.txt" ]; then
  say "configuring (preset $preset)"
  cmake --preset "$preset" >&2
fi
say "building (preset $preset)"
# Build output goes to stderr: stdout belongs to the program isol8 runs.
cmake --build --preset "$preset" -- -j"$(nproc)" >&2

# 4. Runtime images: built when missing or stale (the build-hash label), else left alone.
say "checking the runtime images"
"build/$preset/apps/isol8/isol8" setup >&2
