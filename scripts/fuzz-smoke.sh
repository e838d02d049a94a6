#!/usr/bin/env bash
# CI's short fuzz run: builds the libFuzzer targets (scripts/fuzz.sh, build-fuzz) and
# runs each one for FUZZ_SMOKE_SECONDS (default 15), two at a time, from the committed
# seeds (tests/fuzz/seeds/) and crash regressions. Fails if any target finds a crash;
# the input is left in build-fuzz/crashes/<target>/ (see tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_PARALLEL=${FUZZ_PARALLEL:-2}
exec scripts/fuzz.sh all "${FUZZ_SMOKE_SECONDS:-15}"
