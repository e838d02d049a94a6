#!/usr/bin/env bash
# Builds embargo and runs the whole test suite: Criterion unit tests and the
# end-to-end pcap cases (tests/pcap/<case>/), through ctest; with Suricata's headers
# (scripts/install-suricata.sh) also the Suricata plugin and its cases (tests/suricata/).
#   BUILD_DIR=build-asan CMAKE_ARGS=-DEMBARGO_SANITIZE=ON scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
# The Suricata plugin is built when Suricata's headers are there: $SURICATA_INCLUDE_DIR,
# else the dir scripts/install-suricata.sh recorded.
sc_inc="${SURICATA_INCLUDE_DIR:-}"
if [ -z "$sc_inc" ] && [ -f .suricata-src/include-dir ]; then
    sc_inc="$(cat .suricata-src/include-dir)"
fi
sc_args=()
if [ -n "$sc_inc" ]; then
    sc_args=(-DSURICATA_INCLUDE_DIR="$sc_inc")
fi
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBARGO_WERROR=ON "${sc_args[@]}" \
    ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
# shellcheck disable=SC2086
ctest --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
