#!/usr/bin/env bash
# Two embargo builds, or two rule packs, on one generated capture, in the same run:
#   bench/ab.sh [--size MIB] [--runs N] A_BIN A_RULES B_BIN B_RULES
# Writes a mixed capture with gen-traffic -m (build-bench/bench/gen-traffic, made by
# bench/run.sh or `cmake --build build-bench --target gen-traffic`), runs `embargo scan`
# of A and B alternately N times each (default 7) with a warm compile cache, and prints
# the median CPU seconds (user+sys) of each and B/A. Example, the device rules' cost:
#   git worktree add /tmp/old 41969c2 && cmake -S /tmp/old -B /tmp/old/build-bench \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build-bench --target embargo
#   bench/ab.sh /tmp/old/build-bench/embargo /tmp/old/rules build-bench/embargo rules
set -euo pipefail
size=256 runs=7
while [ $# -gt 4 ]; do
    case $1 in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/ab.sh [--size MIB] [--runs N] A_BIN A_RULES B_BIN B_RULES" >&2; exit 2 ;;
    esac
done
[ $# -eq 4 ] || { echo "usage: bench/ab.sh [--size MIB] [--runs N] A_BIN A_RULES B_BIN B_RULES" >&2; exit 2; }
cd "$(dirname "$0")/.."
gen=build-bench/bench/gen-traffic
[ -x "$gen" ] || { echo "bench/ab.sh: $gen is missing (bench/run.sh builds it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" -m "$size" -o "$tmp/mix.pcap" >/dev/null
export EMBARGO_CACHE_DIR="$tmp/cache"
cpu() { # prints user+sys seconds of one scan (bash's time: millisecond resolution)
    local TIMEFORMAT='%3U %3S'
    { time "$1" scan -q --force -r "$2" -o /dev/null "$tmp/mix.pcap" >/dev/null 2>&1; } 2>"$tmp/t" ||
        true
    awk '{printf "%.3f\n", $1 + $2}' "$tmp/t"
}
cpu "$1" "$2" >/dev/null
cpu "$3" "$4" >/dev/null # warm the caches
: >"$tmp/a"
: >"$tmp/b"
for _ in $(seq "$runs"); do
    cpu "$1" "$2" >>"$tmp/a"
    cpu "$3" "$4" >>"$tmp/b"
done
med() { sort -n "$1" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
a=$(med "$tmp/a") b=$(med "$tmp/b")
echo "capture: gen-traffic -m $size, $runs runs each, median CPU seconds (user+sys)"
echo "A $1 -r $2: $a"
echo "B $3 -r $4: $b"
awk -v a="$a" -v b="$b" 'BEGIN {printf "B/A: %.3f\n", b / a}'
