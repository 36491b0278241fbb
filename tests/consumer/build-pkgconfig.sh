#!/usr/bin/env bash
# The consumer built with pkg-config alone, as a Makefile or a plain compiler call would:
#   c++ -std=c++20 main.cpp $(pkg-config --cflags --libs isol8)
# (compile and link as two steps, so a compiler cache can serve the compile).
#   usage: build-pkgconfig.sh <main.cpp> <output>     (PKG_CONFIG_PATH names isol8.pc's folder)
# Writes <output>.d, the headers the compile read.
set -euo pipefail
source=$1
output=$2
cxx=${CXX:-c++}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(ccache)
cflags=$(pkg-config --cflags isol8)
libs=$(pkg-config --libs isol8)
# shellcheck disable=SC2086  # the flags are words
"${launcher[@]}" "$cxx" -std=c++20 $cflags -MD -MF "$output.d" -c "$source" -o "$output.o"
# shellcheck disable=SC2086
"$cxx" "$output.o" $libs -o "$output"
