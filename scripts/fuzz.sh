#!/usr/bin/env bash
# Fuzzes every libFuzzer target (tests/fuzz, docs/fuzzing.md) for a bounded time under
# ASan+UBSan: builds the fuzz preset, then runs the targets one after another, each in one
# process on a scratch copy of its checked-in corpus (CI never grows the corpus). Prints one
# line per target and fails when any target found a crash, leak, timeout or broken invariant,
# naming the input that reproduces it.
#   usage: scripts/fuzz.sh [seconds-per-target, default 20] [target...]   (targets: tests/fuzz/fuzz_<target>.cpp)
#   reproduce: build/fuzz/tests/fuzz/fuzz_<target> <reproducer>
set -euo pipefail
seconds=${1:-20}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[fuzz] %s\n' "$*" >&2; }
start=$(date +%s)
cd "$root"

[ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >&2
cmake --build --preset fuzz -- -j2 >&2  # 2 cores in CI, shared with nothing else at this point
say "built in $(( $(date +%s) - start ))s"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp | sed 's/^fuzz_//')"); done
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/isol8-fuzz.XXXXXX")
failed=()
for t in "${targets[@]}"; do
  dir=$work/$t
  mkdir -p "$dir/artifacts"
  cp -r "tests/fuzz/corpus/$t" "$dir/corpus"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  status=0
  "build/fuzz/tests/fuzz/fuzz_$t" "$dir/corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1 || status=$?
  # The last status line: "#123456 DONE cov: 812 ft: 2391 corp: 301/40Kb lim: 4096 exec/s: 6172 rss: 60Mb"
  stats=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  field() { sed -n "s|.* $1 \([^ ]*\).*|\1|p" <<<"$stats"; }
  printf '[fuzz] %-17s %s: %9s execs, %6s exec/s, cov %5s, ft %6s, corpus %s, %ss\n' "$t" \
    "$([ $status -eq 0 ] && echo ok || echo FAILED)" "${execs:-?}" "$(field exec/s:)" "$(field cov:)" "$(field ft:)" \
    "$(field corp:)" "$seconds"
  if [ $status -ne 0 ]; then
    failed+=("$t")
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$dir/log" | head -8 >&2 || true
    for r in "$dir"/artifacts/*; do [ -e "$r" ] && say "reproducer: $r (log: $dir/log)"; done
  fi
done
say "done in $(( $(date +%s) - start ))s (build and ${#targets[@]} targets of ${seconds}s)"
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
rm -rf "$work"
