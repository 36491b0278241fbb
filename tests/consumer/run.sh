#!/usr/bin/env bash
# The installed library, used from outside (ctest label install): installs <build dir> into a
# fresh prefix, then builds tests/consumer (find_package), the same main.cpp through pkg-config,
# and examples/ against that prefix only, and runs them against the real Docker engine (the
# python image must exist: scripts/ensure.sh).
#   usage: tests/consumer/run.sh <build dir>
# Fails when a public header, a library or a package file is not installed, when a build reads
# any file of the source or build tree, or when a program's output is wrong.
# Environment: CMAKE (default cmake), CXX (default c++), ISOL8_CONSUMER_KEEP=1 keeps the folder.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
build=$(cd "${1:?usage: run.sh <build dir>}" && pwd -P)
cmake=${CMAKE:-cmake}
export CXX=${CXX:-c++}
jobs=$(nproc)
say() { printf '[consumer] %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# Everything happens in a folder outside the source and build trees.
work=$(mktemp -d "${TMPDIR:-/tmp}/isol8-consumer.XXXXXX")
work=$(cd "$work" && pwd -P)
case "$work/" in "$root/"* | "$build/"*) fail "$work is inside the source or build tree (set TMPDIR)";; esac
if [ "${ISOL8_CONSUMER_KEEP:-0}" = 1 ]; then say "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
cd "$work"
prefix=$work/prefix
# Compiler cache: paths under $work are hashed relative to it, so the random folder name does
# not defeat the cache from one run to the next.
ccache=()
if command -v ccache >/dev/null 2>&1; then
  ccache=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1
fi

# 1. Install.
say "installing $build into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"

# 2. The installed files: every public header, both libraries, the CMake package, isol8.pc,
#    the data files and the documents.
for header in "$root"/libisol8/include/isol8/*.hpp; do
  [ -f "$prefix/include/isol8/$(basename "$header")" ] || fail "header not installed: include/isol8/$(basename "$header")"
done
libdir=$(dirname "$(find "$prefix" -name libisol8.a -print -quit)")
[ "$libdir" != . ] || fail "libisol8.a not installed"
for f in "$libdir/libisol8_core.a" "$libdir/cmake/isol8/isol8Config.cmake" \
         "$libdir/cmake/isol8/isol8ConfigVersion.cmake" "$libdir/cmake/isol8/isol8Targets.cmake" \
         "$libdir/pkgconfig/isol8.pc" "$prefix/share/isol8/seccomp/default.json" \
         "$prefix/share/isol8/docker/python.Dockerfile" "$prefix/share/isol8/docker/bootstrap-rootfs.sh" \
         "$prefix/share/doc/isol8/LICENSE" "$prefix/share/doc/isol8/CHANGELOG.md" "$prefix/bin/isol8"; do
  [ -f "$f" ] || fail "not installed: ${f#"$prefix/"}"
done

# The programs' sources are copied out too, so nothing resolves next to them in the tree.
mkdir -p "$work/src"
cp -r "$root/tests/consumer" "$work/src/consumer"
cp -r "$root/examples" "$work/src/examples"

# What a compile read: one file a line, from a depfile (-MD) or from `ninja -t deps`.
depfile_inputs() { sed -e '1s/^[^:]*:[[:space:]]*//' -e 's/\\$//' "$1" | tr -s ' \t' '\n' | sed '/^$/d'; }
ninja_inputs() { ninja -C "$1" -t deps | sed -n 's/^    //p'; }
# No compile may read a file from the source or build tree; each must read the installed
# headers. Relative names are relative to <dir> (ccache's base directory makes them relative).
check_inputs() {  # <list> <dir> <what>
  local files leaks
  files=$(cd "$2" && xargs -r -d '\n' realpath -m <"$1" | sort -u)
  leaks=$(grep -E "^($root|$build)/" <<<"$files" || true)
  [ -z "$leaks" ] || fail "$3 read files of the source or build tree:"$'\n'"$leaks"
  grep -qxF "$prefix/include/isol8/types.hpp" <<<"$files" || fail "$3 did not read the installed headers"
}

# 3. CMake: find_package(isol8) from the prefix alone (no package registries).
cmake_build() {  # <name> <source dir>
  say "building $1 with find_package(isol8)"
  "$cmake" -S "$2" -B "$work/build-$1" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
    -DCMAKE_CXX_COMPILER="$CXX" "${ccache[@]}" >"$work/configure-$1.log" \
    || { cat "$work/configure-$1.log" >&2; fail "$1 does not configure"; }
  local found
  found=$(sed -n 's/^isol8_DIR:PATH=//p' "$work/build-$1/CMakeCache.txt")
  [ "$found" = "$libdir/cmake/isol8" ] || fail "$1 found isol8 in '$found', not in $libdir/cmake/isol8"
  "$cmake" --build "$work/build-$1" -j "$jobs" >"$work/build-$1.log" 2>&1 \
    || { cat "$work/build-$1.log" >&2; fail "$1 does not build"; }
  ninja_inputs "$work/build-$1" >"$work/deps-$1.txt"
  check_inputs "$work/deps-$1.txt" "$work/build-$1" "$1"
}
cmake_build consumer "$work/src/consumer"
cmake_build examples "$work/src/examples"

# 4. pkg-config: isol8.pc from the prefix (fmt and openssl from the system's .pc files).
say "building the consumer with pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --variable=includedir isol8)" -ef "$prefix/include" ] || fail "isol8.pc's includedir is not $prefix/include"
"$root/tests/consumer/build-pkgconfig.sh" "$work/src/consumer/main.cpp" "$work/consumer-pkgconfig" \
  >"$work/build-pkgconfig.log" 2>&1 || { cat "$work/build-pkgconfig.log" >&2; fail "the pkg-config build failed"; }
depfile_inputs "$work/consumer-pkgconfig.d" >"$work/deps-pkgconfig.txt"
check_inputs "$work/deps-pkgconfig.txt" "$work" "the pkg-config build"
# Every installed public header compiles with isol8.pc's flags alone (one file including them
# all: a header that includes one that is not installed fails here even if main.cpp misses it).
for header in "$prefix"/include/isol8/*.hpp; do
  printf '#include <isol8/%s>\n' "$(basename "$header")"
done >"$work/all_headers.cpp"
# shellcheck disable=SC2046
"$CXX" -std=c++20 $(pkg-config --cflags isol8) -fsyntax-only -MD -MF "$work/all_headers.d" "$work/all_headers.cpp" \
  || fail "the installed headers do not compile"
depfile_inputs "$work/all_headers.d" >"$work/deps-all_headers.txt"
check_inputs "$work/deps-all_headers.txt" "$work" "the installed headers"

# 5. Run them.
run() {  # <name> <expected line> <program>
  say "running $1"
  local out rc=0
  out=$("$3" 2>&1) || rc=$?
  [ "$rc" = 0 ] || { printf '%s\n' "$out" >&2; fail "$1 exited with $rc"; }
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  grep -qxF "$2" <<<"$out" || fail "$1 did not print: $2"
}
expected="isol8 $(pkg-config --modversion isol8): execute ok, stream ok"
run "consumer (find_package)" "$expected" "$work/build-consumer/isol8_consumer"
run "consumer (pkg-config)" "$expected" "$work/consumer-pkgconfig"
run "example_hello" "hello from the sandbox" "$work/build-examples/example_hello"
say "ok"
