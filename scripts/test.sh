#!/usr/bin/env bash
# Builds embargo and runs the whole test suite: Criterion unit tests and the
# end-to-end pcap cases (tests/pcap/<case>/), through ctest.
#   BUILD_DIR=build-asan CMAKE_ARGS=-DEMBARGO_SANITIZE=ON scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
