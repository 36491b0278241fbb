#!/usr/bin/env bash
# The whole test suite, from nothing: set-up (scripts/ensure.sh), then every test label
# (unit, integration) against the real Docker engine. Extra arguments go to ctest, e.g.
#   scripts/test.sh -L unit
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start=$(date +%s)
"$root/scripts/ensure.sh" ci
cd "$root"
ctest --preset ci -j2 "$@"
echo "[isol8] tests done in $(( $(date +%s) - start ))s" >&2
