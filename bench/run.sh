#!/usr/bin/env bash
# The benchmark in one command, from a fresh checkout:
#   bench/run.sh [--size MIB] [--runs N] [--real DIR ...]
# Installs what it compares against (Suricata from bookworm-backports, nDPI's
# reader), builds a Release tree in build-bench, and prints the table; with
# --real, the throughput rows again on public captures concatenated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
if ! command -v suricata >/dev/null && [ -x scripts/install-suricata.sh ]; then
    scripts/install-suricata.sh >/dev/null || echo "bench: Suricata could not be installed" >&2
fi
command -v ndpiReader >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libndpi-bin >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DEMBARGO_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target embargo gen-traffic floor >/dev/null
exec /usr/bin/python3 bench/bench.py --build build-bench "$@"
