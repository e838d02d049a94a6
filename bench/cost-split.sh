#!/usr/bin/env bash
# Where a packet's cost goes, by stage, from callgrind (instructions are
# repeatable whatever else the machine does):
#   bench/cost-split.sh [--size MIB]
# Builds a Release tree with debug information (build-split/), writes the
# benchmark mix with gen-traffic, runs `embargo scan` on it and on its first
# packet alone under callgrind, and prints each stage's instructions per packet
# (the mix less the one-packet run, so rule loading and start-up are not
# counted) with its share. A stage is the source file a function comes from
# (bench/cost-split.py lists them); instructions spent in the C library
# (memcpy, malloc, ...) are shown apart, as callgrind charges them to the
# library, not to the caller. Kernel time (the read() copies) is not an
# instruction count: the user and system CPU seconds of one plain run are
# printed beside.
set -euo pipefail
cd "$(dirname "$0")/.."
size=16
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size=$2; shift 2 ;;
    *) echo "usage: bench/cost-split.sh [--size MIB]" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "cost-split: valgrind is needed" >&2; exit 2; }
command -v callgrind_annotate >/dev/null || { echo "cost-split: callgrind_annotate is needed" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S . -B build-split -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g -DEMBARGO_TESTS=OFF >/dev/null
cmake --build build-split -j2 --target embargo gen-traffic >/dev/null
embargo=build-split/embargo
mix=$work/mix.pcap
build-split/bench/gen-traffic -m "$size" -o "$mix" >/dev/null
/usr/bin/python3 bench/pcaputil.py first "$mix" "$work/one.pcap"
export EMBARGO_CACHE_DIR=$work/cache
profile() { # PCAP OUT
    valgrind --tool=callgrind --callgrind-out-file="$2" "$embargo" scan -q -o /dev/null "$1" \
        >/dev/null 2>"$work/cg.err" || true
    callgrind_annotate --inclusive=no --threshold=100 --auto=no "$2" >"$2.txt" 2>/dev/null
}
profile "$work/one.pcap" "$work/warm.out" # under valgrind Hyperscan sees another CPU: its own cache
profile "$mix" "$work/mix.out"
profile "$work/one.pcap" "$work/one.out"
cpu=$({ /usr/bin/time -f '%U %S' "$embargo" scan -q -o /dev/null "$mix" 2>&1 >/dev/null || true; } | tail -1)
exec /usr/bin/python3 bench/cost-split.py --mix "$work/mix.out.txt" --one "$work/one.out.txt" \
    --pcap "$mix" --size "$size" --cpu "$cpu"
