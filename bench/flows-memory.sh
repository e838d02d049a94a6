#!/usr/bin/env bash
# Peak memory of `embargo scan` as the number of distinct flows grows, with
# the default bounds (65,536 flows, 64 MiB of reassembly buffers). The flow
# table and the buffers are fixed-size: peak RSS should stay flat past the
# table size while evictions grow.
#   bench/flows-memory.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" -j2 --target embargo gen-traffic >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-10s %-12s %-14s %-12s %-16s\n' flows packets evicted "peak RSS" "stream peak"
for n in 10000 100000 1000000; do
    "$build/bench/gen-traffic" -n "$n" -o "$tmp/f.pcap"
    "$build/embargo" scan -o /dev/null "$tmp/f.pcap" 2>"$tmp/err" || true
    packets=$(sed -n 's/.* file, \([0-9]*\) packets.*/\1/p' "$tmp/err")
    evicted=$(sed -n 's/.*flows: \([0-9]*\) evicted.*/\1/p' "$tmp/err")
    rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$tmp/err")
    speak=$(sed -n 's/.*peak \([0-9]*\) KiB; peak RSS.*/\1/p' "$tmp/err")
    printf '%-10s %-12s %-14s %-12s %-16s\n' "$n" "$packets" "$evicted" "$((rss / 1024)) MiB" \
        "$((speak / 1024)) MiB"
    rm -f "$tmp/f.pcap"
done
