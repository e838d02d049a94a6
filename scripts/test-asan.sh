#!/usr/bin/env bash
# The whole test suite (scripts/test.sh) built with AddressSanitizer and UBSan
# (-DEMBARGO_SANITIZE=ON) in its own build dir. Any sanitizer report fails its test:
# UBSan is built with -fno-sanitize-recover, ASan aborts on the first error and
# reports leaks at exit.
#   scripts/test-asan.sh                 (build dir: build-asan)
#   BUILD_DIR=build-asan-x scripts/test-asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build-asan}
export CMAKE_ARGS="-DEMBARGO_SANITIZE=ON ${CMAKE_ARGS:-}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The Suricata integration runs load embargo.so into Suricata binaries built without
# ASan; they are covered by the normal run, and the plugin's record parser by its unit
# tests and fuzz-record here.
# The Release builds and the install test build trees of their own, without the
# sanitizers: the normal run covers them.
export CTEST_ARGS="-E ^(suricata|build/|install/) ${CTEST_ARGS:-}"
exec scripts/test.sh
