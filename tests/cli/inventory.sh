#!/usr/bin/env bash
# The inventory (docs/inventory.md): two sensors' eve.json files, ingested in any
# order and any number of times, give the inventory the files give (the same
# vendors, hosts, first and last seen as `embargo report` of the files); a growing
# file is read on from where it stopped, a rotated one from its start; a kill -9
# during ingestion leaves a consistent SQLite file and the resumed ingestion adds
# nothing twice; malformed lines are skipped and counted; prune forgets; and a real
# PostgreSQL 15, fed by both sensors at once, holds the same inventory as SQLite.
#   inventory.sh EMBARGO PYTHON PCAP_CASES REAL_PCAP
set -u
embargo=$1 python=$2 cases=$3 real=$4
dir=$(mktemp -d)
chmod 755 "$dir"
pg=""
cleanup() {
    [ -n "$pg" ] && runuser -u nobody -- "$pg/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$dir"
export EMBARGO_CACHE_DIR="$dir/cache"

# Two sensors: Denver saw the Kaspersky cases, Boston the Dahua and vendor-name ones.
"$embargo" scan -q -o denver.json "$cases/dns-kaspersky/input.pcap" "$real" \
    "$cases/tls-sni/input.pcap" "$cases/http-host/input.pcap" 2>/dev/null
"$embargo" scan -q -o boston.json "$cases/threads-placement/input.pcap" \
    "$cases/vendors-dns-sni/input.pcap" 2>/dev/null
[ "$(grep -c '"alert"' denver.json)" -gt 5 ] && [ "$(grep -c '"alert"' boston.json)" -gt 5 ] ||
    bad "the sensors' captures raised too few alerts"
echo 'not json {' >>boston.json # a line cut by a full disk: skipped and counted

# canon FILE: the inventory part of a JSON report, order aside
canon() {
    "$python" - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["input"]
d.pop("sensors", None)  # only a report from an inventory says who was watching
def norm(x):
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((norm(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x
print(json.dumps(norm(d), sort_keys=True))
PY
}
"$embargo" report -q --format json -o files.json denver.json boston.json 2>/dev/null
want=$(canon files.json)

# 1. Any order, any number of times.
"$embargo" inventory add -q --db one.db --sensor denver denver.json || bad "add denver"
"$embargo" inventory add --db one.db --sensor boston boston.json 2>err || bad "add boston"
grep -q "1 not JSON" err || bad "the malformed line is not counted: $(cat err)"
for f in boston denver boston denver; do
    "$embargo" inventory add -q --db two.db --sensor "$f" "$f.json" || bad "add $f to two.db"
done
"$embargo" inventory add --db two.db --sensor denver denver.json 2>err
grep -q "0 lines read, 0 alerts, 0 new" err || bad "a second ingestion read again: $(cat err)"
for db in one.db two.db; do
    "$embargo" report -q --format json --from "$db" -o "$db.json" 2>/dev/null
    [ "$(canon "$db.json")" = "$want" ] || bad "$db: the inventory differs from the files'"
done
"$embargo" report --from one.db --sensor boston --format json -o b.json 2>/dev/null
"$embargo" report -q --format json -o bf.json boston.json 2>/dev/null
[ "$(canon b.json)" = "$(canon bf.json)" ] || bad "--sensor boston is not Boston's inventory"
"$embargo" report --from one.db --since 2099-01-01 --format json -o none.json 2>/dev/null
[ "$("$python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hosts"]))' none.json)" = 0 ] ||
    bad "--since a future day still lists hosts"

# scan --inventory: the scan's own alerts go in at its end, as inventory add puts them
"$embargo" scan -q -o s.json --inventory s.db --sensor denver "$cases/dns-kaspersky/input.pcap" \
    "$real" "$cases/tls-sni/input.pcap" "$cases/http-host/input.pcap" 2>/dev/null
[ $? -eq 1 ] || bad "scan --inventory: exit status"
"$embargo" report -q --format json --from s.db -o s.db.json 2>/dev/null
"$embargo" report -q --format json -o s.files.json s.json 2>/dev/null
[ "$(canon s.db.json)" = "$(canon s.files.json)" ] || bad "scan --inventory stored another inventory"
"$embargo" scan -q -o - --inventory s.db "$real" >/dev/null 2>err
[ $? -eq 2 ] && grep -q "give -o FILE" err || bad "scan --inventory to standard output: $(cat err)"

# the report from the inventory says who was watching before what was found
"$embargo" report --from one.db >rep.txt 2>/dev/null
grep -Eq "^  denver +watching .*1 stats record" rep.txt && grep -Eq "^  boston +watching" rep.txt ||
    bad "the report does not say who was watching: $(head -8 rep.txt)"
# coverage: each scan's stats record says its sensor watched
"$embargo" inventory coverage --db one.db >cov.txt || bad "inventory coverage"
grep -Eq "^denver +[0-9-]{10} +1 records" cov.txt && grep -Eq "^boston +[0-9-]{10} +1 records" cov.txt ||
    bad "coverage: $(cat cov.txt)"
"$embargo" inventory coverage --db one.db --sensor boston | grep -q denver &&
    bad "coverage --sensor boston lists denver"

# 2. A growing file (cut inside a line), then the rest; then rotated.
size=$(stat -c %s denver.json)
head -c $((size / 2)) denver.json >grow.json
"$embargo" inventory add -q --db grow.db --sensor denver grow.json || bad "add half"
tail -c +$((size / 2 + 1)) denver.json >>grow.json
"$embargo" inventory add --db grow.db --sensor denver grow.json 2>err || bad "add the rest"
grep -q "from the start" err && bad "the grown file was read from its start: $(cat err)"
"$embargo" report -q --format json --from grow.db -o grow.db.json 2>/dev/null
"$embargo" report -q --format json -o d.json denver.json 2>/dev/null
[ "$(canon grow.db.json)" = "$(canon d.json)" ] || bad "a file read in two goes differs"
mv grow.json grow.json.1
grep -v '"alert"' boston.json >grow.json # a new file under the old name
"$embargo" scan -q -o - "$cases/dns-kaspersky/input.pcap" 2>/dev/null |
    sed 's/"flow_id":\([0-9]*\)/"flow_id":1\1/' >>grow.json
"$embargo" inventory add --db grow.db --sensor denver grow.json 2>err
grep -q "from the start" err || bad "a rotated file was not read from its start: $(cat err)"

# rewritten in place (scan --force: same inode, same first line): from its start
cp denver.json inplace.json
"$embargo" inventory add -q --db inplace.db --sensor denver inplace.json || bad "add inplace"
{ head -1 denver.json; grep '"alert"' boston.json; grep '"alert"' boston.json; } >inplace.json
"$embargo" inventory add --db inplace.db --sensor denver inplace.json 2>err
grep -q "from the start" err || bad "a file rewritten in place was read on: $(cat err)"
grep -q " 0 not JSON" err || bad "a file rewritten in place was read from the middle of a line"

# prune refuses an age that would wrap around
"$embargo" inventory prune --db one.db --older-than 999999999d 2>/dev/null
[ $? -eq 2 ] || bad "prune --older-than 999999999d was not refused"

# 3. kill -9 during a long ingestion: a consistent file, and the resumed one adds
# nothing twice. 60,000 distinct alerts (Denver's, flow ids moved on).
"$python" - denver.json >big.json <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"alert"' in l]
for i in range(60000 // len(alerts) + 1):
    for a in alerts:
        a = dict(a)
        a["flow_id"] = a["flow_id"] + i * 1000003
        print(json.dumps(a))
PY
total=$(grep -c . big.json)
"$embargo" inventory add -q --db crash.db --sensor denver big.json &
ing=$!
sleep 0.4
kill -9 "$ing" 2>/dev/null
wait "$ing" 2>/dev/null
"$python" - crash.db <<'PY' || bad "the file is not consistent after kill -9"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
print("after kill -9:", c.execute("SELECT COUNT(*) FROM alerts").fetchone()[0], "alerts kept")
PY
"$embargo" inventory add -q --db crash.db --sensor denver big.json || bad "resume"
"$embargo" inventory add -q --db clean.db --sensor denver big.json || bad "clean ingestion"
n=$("$python" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM alerts").fetchone()[0])' crash.db)
[ "$n" = "$total" ] || bad "after kill -9 and resume: $n alerts, want $total"
"$embargo" report -q --format json --from crash.db -o crash.json 2>/dev/null
"$embargo" report -q --format json --from clean.db -o clean.json 2>/dev/null
[ "$(canon crash.json)" = "$(canon clean.json)" ] || bad "the resumed inventory differs"

# 4. prune: every alert here is from 2024
"$embargo" inventory prune --db one.db --older-than 30d >out || bad "prune"
grep -Eq "^[1-9][0-9]* alerts older than 30 days removed" out || bad "prune says: $(cat out)"
"$embargo" report --from one.db -o /dev/null 2>/dev/null
[ $? -eq 0 ] || bad "alerts left after prune"

# 5. PostgreSQL 15, both sensors at once.
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || ! command -v runuser >/dev/null || [ "$(id -u)" -ne 0 ]; then
    echo "note: PostgreSQL part skipped (needs root, runuser and postgresql)"
else
    pg=$bin
    mkdir pg
    chown nobody pg
    runuser -u nobody -- "$pg/initdb" -D "$dir/pg" -A trust -U nobody >pg.log 2>&1 ||
        bad "initdb: $(tail -3 pg.log)"
    port=$((20000 + $$ % 20000))
    runuser -u nobody -- "$pg/pg_ctl" -D "$dir/pg" -l "$dir/pg/log" -w \
        -o "-k $dir/pg -p $port -c listen_addresses=''" start >>pg.log 2>&1 ||
        bad "pg_ctl start: $(tail -3 "$dir/pg/log")"
    conn="host=$dir/pg port=$port dbname=postgres user=nobody"
    "$embargo" inventory add -q --db "$conn" --sensor denver denver.json &
    a=$!
    "$embargo" inventory add -q --db "$conn" --sensor boston boston.json &
    b=$!
    wait "$a" || bad "PostgreSQL: denver"
    wait "$b" || bad "PostgreSQL: boston"
    "$embargo" inventory add -q --db "$conn" --sensor boston boston.json || bad "again"
    "$embargo" report -q --format json --from "$conn" -o pg.json 2>/dev/null
    [ "$(canon pg.json)" = "$want" ] || bad "PostgreSQL: the inventory differs from the files'"
    [ "$(canon pg.json)" = "$(canon one.db.json)" ] || bad "PostgreSQL and SQLite differ"
    "$embargo" inventory coverage --db "$conn" >pgcov.txt || bad "PostgreSQL coverage"
    [ "$(cat pgcov.txt)" = "$(cat cov.txt)" ] || bad "PostgreSQL coverage differs: $(cat pgcov.txt)"
fi

[ $fail -eq 0 ] && echo "ok: inventory in SQLite${pg:+ and PostgreSQL}: any order, growth, rotation, kill -9, prune"
exit $fail
