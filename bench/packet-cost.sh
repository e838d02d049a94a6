#!/usr/bin/env bash
# The cost of the packet path, this tree against a baseline commit, in one run:
#   bench/packet-cost.sh [--base REF] [--size MIB] [--runs N]
# Builds both in Release (build-cost/; the baseline from a git worktree of REF,
# default the commit before docs/flows.md landed), writes the benchmark mix with
# gen-traffic, and reports for each:
#   - instructions per packet, from callgrind (repeatable whatever the machine
#     is doing): a scan of the mix less a scan of its first packet, so the start
#     (rule load, cache) is not counted, divided by the packets;
#   - the median CPU time (user + sys) of N scans, the two trees interleaved;
# and the ratio of this tree to the baseline for both.
set -euo pipefail
cd "$(dirname "$0")/.."
base_ref=$(git log --diff-filter=A --format=%H -- docs/flows.md 2>/dev/null | tail -1)
base_ref=${base_ref:+$base_ref~1}
size=8 runs=5
while [ $# -gt 0 ]; do
    case "$1" in
    --base) base_ref=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/packet-cost.sh [--base REF] [--size MIB] [--runs N]" >&2; exit 2 ;;
    esac
done
[ -n "$base_ref" ] || { echo "packet-cost: no baseline: give --base REF" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "packet-cost: valgrind is needed" >&2; exit 2; }

work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base_ref"
build() { # SRC BUILD
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DEMBARGO_TESTS=OFF >/dev/null
    cmake --build "$2" -j2 --target embargo gen-traffic >/dev/null
}
build . build-cost
build "$work/base" "$work/build-base"
new=build-cost/embargo old=$work/build-base/embargo

mix=$work/mix.pcap
build-cost/bench/gen-traffic -m "$size" -o "$mix" >/dev/null
# The first packet alone: what a scan costs before any traffic.
/usr/bin/python3 bench/pcaputil.py first "$mix" "$work/one.pcap"
packets=$(/usr/bin/python3 bench/pcaputil.py count "$mix")
export EMBARGO_CACHE_DIR=$work/cache
for b in "$new" "$old"; do "$b" scan -q -o /dev/null "$mix" || true; done # warm the cache

instructions() { # BIN PCAP
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$1" scan -q -o /dev/null "$2" \
        >/dev/null 2>"$work/cg.err" || true
    sed -n 's/^summary: //p' "$work/cg.out"
}
per_packet() { # BIN
    local all one
    # Under valgrind Hyperscan sees another CPU (another cache key): warm that cache first.
    instructions "$1" "$work/one.pcap" >/dev/null
    all=$(instructions "$1" "$mix")
    one=$(instructions "$1" "$work/one.pcap")
    echo $(((all - one) / (packets - 1)))
}
ipp_new=$(per_packet "$new")
ipp_old=$(per_packet "$old")

cpu() { # BIN: user+sys seconds of one scan
    { /usr/bin/time -f '%U %S' "$1" scan -q -o /dev/null "$mix" 2>&1 >/dev/null || true; } |
        tail -1 | awk '{printf "%.3f\n", $1 + $2}'
}
t_new=() t_old=()
for _ in $(seq "$runs"); do
    t_new+=("$(cpu "$new")")
    t_old+=("$(cpu "$old")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
m_new=$(median "${t_new[@]}") m_old=$(median "${t_old[@]}")

echo "mix: $size MiB, $packets packets; baseline $(git rev-parse --short "$base_ref")"
printf '%-12s %14s %14s\n' "" "instr/packet" "CPU s (median)"
printf '%-12s %14s %14s\n' baseline "$ipp_old" "$m_old"
printf '%-12s %14s %14s\n' "this tree" "$ipp_new" "$m_new"
awk -v a="$ipp_new" -v b="$ipp_old" -v c="$m_new" -v d="$m_old" \
    'BEGIN {printf "%-12s %14.3f %14.3f\n", "ratio", a / b, (d > 0 ? c / d : 0)}'
