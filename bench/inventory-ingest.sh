#!/usr/bin/env bash
# Inventory ingestion rate (issue 19): alerts per second into SQLite and into a
# PostgreSQL 15 started here (as `nobody`, on a Unix socket in a temp dir), for
# N distinct alerts (the bundled Kaspersky capture's alerts, flow ids moved on),
# a fresh database each run; median of RUNS. And a second ingestion of the same
# file (nothing new: the rate of reading and skipping).
#   bench/inventory-ingest.sh [BUILD_DIR] [N] [RUNS]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench} n=${2:-100000} runs=${3:-3}
embargo=$build/embargo
[ -x "$embargo" ] || { echo "no $embargo: build it first (bench/run.sh does)"; exit 2; }
dir=$(mktemp -d)
chmod 755 "$dir"
pg=""
trap '[ -n "$pg" ] && runuser -u nobody -- "$pg/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
export EMBARGO_CACHE_DIR="$dir/cache"
"$embargo" scan -q -o "$dir/one.json" pcaps/detect-kaspersky.pcap tests/pcap/dns-kaspersky/input.pcap || true
/usr/bin/python3 - "$dir/one.json" "$n" >"$dir/eve.json" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"alert"' in l]
n, i = int(sys.argv[2]), 0
while i < n:
    for a in alerts:
        if i == n:
            break
        a = dict(a)
        a["flow_id"] = a["flow_id"] + (i // len(alerts)) * 1000003
        print(json.dumps(a))
        i += 1
PY
rate() { # rate DB: median alerts/s of RUNS fresh ingestions, then the re-read rate
    local db=$1 reset=$2 times=() t0 t1
    for _ in $(seq "$runs"); do
        eval "$reset"
        t0=$(date +%s.%N)
        "$embargo" inventory add -q --db "$db" --sensor bench "$dir/eve.json"
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc)")
    done
    local med
    med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
    t0=$(date +%s.%N)
    "$embargo" inventory add -q --db "$db" --sensor bench "$dir/eve.json"
    t1=$(date +%s.%N)
    echo "$med $(echo "$t1 - $t0" | bc)"
}
printf '%-12s %10s %14s %18s\n' store alerts "alerts/s (new)" "re-read (nothing new)"
read -r med again < <(rate "$dir/inv.db" 'rm -f "$dir"/inv.db*')
printf '%-12s %10d %14.0f %16.2f s\n' sqlite "$n" "$(echo "$n / $med" | bc -l)" "$again"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$bin" ] && [ "$(id -u)" -eq 0 ]; then
    pg=$bin
    mkdir "$dir/pg" && chown nobody "$dir/pg"
    runuser -u nobody -- "$pg/initdb" -D "$dir/pg" -A trust -U nobody >/dev/null
    port=$((20000 + $$ % 20000))
    runuser -u nobody -- "$pg/pg_ctl" -D "$dir/pg" -l "$dir/pg/log" -w \
        -o "-k $dir/pg -p $port -c listen_addresses=''" start >/dev/null
    conn="host=$dir/pg port=$port dbname=postgres user=nobody"
    reset="runuser -u nobody -- $pg/psql -q -h $dir/pg -p $port -U nobody -d postgres -c 'DROP TABLE IF EXISTS alerts, sources, sensors, meta' >/dev/null 2>&1"
    read -r med again < <(rate "$conn" "$reset")
    printf '%-12s %10d %14.0f %16.2f s\n' postgresql "$n" "$(echo "$n / $med" | bc -l)" "$again"
else
    echo "postgresql: skipped (needs root and the postgresql package)"
fi
