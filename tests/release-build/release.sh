#!/bin/sh
# The Release configuration builds, warnings as errors, with one compiler:
# what a user or a distribution gets from
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
# (-O3 finds warnings that RelWithDebInfo does not). The whole tree is built:
# engine, command, Suricata plugin when its headers are given, tests, benches.
#   release.sh SRC WORK CC [SURICATA_INCLUDE_DIR]
set -eu
src=$1 work=$2 cc=$3 sc_inc=${4:-}
command -v "$cc" >/dev/null 2>&1 || { echo "SKIP: $cc not installed"; exit 77; }
rm -rf "$work"
set -- -DCMAKE_BUILD_TYPE=Release -DEMBARGO_WERROR=ON -DCMAKE_C_COMPILER="$cc"
[ -n "$sc_inc" ] && set -- "$@" -DSURICATA_INCLUDE_DIR="$sc_inc"
cmake -S "$src" -B "$work" "$@" >"$work.log" 2>&1 || { tail -30 "$work.log"; exit 1; }
if ! cmake --build "$work" -j2 >>"$work.log" 2>&1; then
    grep -E 'error|warning' "$work.log" | head -30
    exit 1
fi
"$work/embargo" --version | head -1
echo "ok: Release build with $cc, warnings as errors"
rm -rf "$work" "$work.log"
