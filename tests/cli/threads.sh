#!/usr/bin/env bash
# -j N gives the same eve.json whatever N is: the same alert lines in the same
# order (by packet number), and the same counters in the stats record
# (uptime aside), and the same exit status. Run over every capture of the
# pcap cases together (some cases are unreadable on purpose: the status is
# then 2 for every N).
set -eu
embargo=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
want=
for j in 1 2 3; do
    set +e
    "$embargo" scan -q --no-cache -j "$j" -o "$dir/eve$j.json" "$@" 2>/dev/null
    status=$?
    set -e
    [ "$status" -ne 0 ] || { echo "FAIL: -j $j found nothing"; exit 1; }
    [ -z "$want" ] && want=$status
    [ "$status" -eq "$want" ] || { echo "FAIL: -j $j exited $status, -j 1 $want"; exit 1; }
    sed 's/"uptime":[0-9]*,//' "$dir/eve$j.json" >"$dir/norm$j.json"
done
n=$(grep -c '"event_type":"alert"' "$dir/norm1.json")
[ "$n" -gt 50 ] || { echo "FAIL: only $n alerts, the captures should give more"; exit 1; }
cmp "$dir/norm1.json" "$dir/norm2.json" || { echo "FAIL: -j 2 differs from -j 1"; exit 1; }
cmp "$dir/norm1.json" "$dir/norm3.json" || { echo "FAIL: -j 3 differs from -j 1"; exit 1; }
echo "ok: $n alerts, identical for -j 1, 2 and 3"
