#!/usr/bin/env bash
# The whole test suite, from nothing: set-up (scripts/ensure.sh), then every test label
# (unit, integration, server, security, load, install) against the real Docker engine, then
# the fuzzers for a bounded time (scripts/fuzz.sh, docs/fuzzing.md). Extra arguments go to
# ctest and skip the fuzzing, e.g.
#   scripts/test.sh -L unit
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start=$(date +%s)
"$root/scripts/ensure.sh" ci
cd "$root"
ctest --preset ci -j2 "$@"
[ $# -gt 0 ] || "$root/scripts/fuzz.sh" 20
echo "[isol8] tests done in $(( $(date +%s) - start ))s" >&2
