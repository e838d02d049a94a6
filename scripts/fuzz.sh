#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) in build-fuzz with clang, ASan and
# UBSan, and runs one of them, or all, for a given time each.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all 60)
#   FUZZ_PARALLEL=2 scripts/fuzz.sh all 600     two targets at a time
#   FUZZ_BUILD_DIR=build-fuzz                   where to build and keep corpora
#   FUZZ_RUNS=10000000                          stop a target after that many runs too
# Corpora grow in $FUZZ_BUILD_DIR/corpus/<target>/ (seeded from the captures by
# tests/fuzz/make-seeds.py on first use); a crash is saved to
# $FUZZ_BUILD_DIR/crashes/<target>/ and makes the script exit 1. Each target's
# log is $FUZZ_BUILD_DIR/logs/<target>.log; a summary line per target is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-all}
secs=${2:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}
parallel=${FUZZ_PARALLEL:-1}
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
targets=(decode dns tls-hello tls-cert quic http starttls rules pipeline record device)

# Longest input per target: a frame, a DNS message, a handshake message, a
# capture. Longer inputs only slow the search down.
max_len() {
    case $1 in
    decode) echo 4096 ;; dns) echo 4096 ;; quic) echo 4096 ;; http) echo 8192 ;;
    starttls) echo 8192 ;;
    tls-hello) echo 8192 ;; tls-cert) echo 16384 ;; rules) echo 16384 ;;
    record) echo 8192 ;; pipeline) echo 65536 ;; device) echo 8192 ;;
    esac
}

if [ "$want" = all ]; then
    run=("${targets[@]}")
else
    found=0
    for t in "${targets[@]}"; do [ "$t" = "$want" ] && found=1; done
    [ $found -eq 1 ] || { echo "fuzz.sh: unknown target '$want' (${targets[*]})" >&2; exit 2; }
    run=("$want")
fi

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DEMBARGO_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz-%s ' "${run[@]}") >/dev/null

if [ ! -d "$build/corpus" ]; then
    /usr/bin/python3 tests/fuzz/make-seeds.py "$build/corpus" >/dev/null 2>&1
fi
mkdir -p "$build/logs"

fuzz_one() {
    local t=$1
    local corpus="$build/corpus/$t" crashes="$build/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    # The committed seeds and regressions are read too (not written to).
    local extra=()
    [ -d "tests/fuzz/seeds/$t" ] && extra+=("tests/fuzz/seeds/$t")
    [ -d "tests/fuzz/regressions/$t" ] && extra+=("tests/fuzz/regressions/$t")
    local rc=0
    # A smaller quarantine keeps ASan's RSS well under the limit; an input that makes a
    # target grow past 4 GiB is reported as out-of-memory (an oom- file in crashes/).
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64 \
        "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -max_len="$(max_len "$t")" \
        -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 "${runs[@]}" \
        -artifact_prefix="$crashes/" "$corpus" "${extra[@]}" >"$build/logs/$t.log" 2>&1 || rc=$?
    local last execs cov ft
    last=$(grep -E '^#[0-9]+' "$build/logs/$t.log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    local ncrash
    ncrash=$(find "$crashes" -type f | wc -l)
    printf '%-10s rc=%-3s execs=%-10s cov=%-6s ft=%-7s crashes=%s\n' "$t" "$rc" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "$ncrash"
    return "$rc"
}

status=0
pids=()
for t in "${run[@]}"; do
    if [ "$parallel" -le 1 ]; then
        fuzz_one "$t" || status=1
    else
        fuzz_one "$t" &
        pids+=($!)
        if [ ${#pids[@]} -ge "$parallel" ]; then
            wait "${pids[0]}" || status=1
            pids=("${pids[@]:1}")
        fi
    fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
