#!/usr/bin/env bash
# A capture cut off in the middle of a packet: the alerts of the complete
# packets are kept, a warning names the file and where it ends, exit 1.
set -eu
embargo=$1 pcap=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# 3000 bytes of the real capture: packets 1-5 whole (the request and the
# first response, which hold all four alerts' fields), packet 6 cut.
head -c 3000 "$pcap" >"$dir/cut.pcap"
set +e
"$embargo" scan -o "$dir/eve.json" "$dir/cut.pcap" 2>"$dir/err"
status=$?
set -e
cat "$dir/err"
[ "$status" -eq 1 ] || { echo "FAIL: exit $status, want 1"; exit 1; }
grep -q "cut.pcap: warning: capture ends early after packet 5" "$dir/err" \
    || { echo "FAIL: no warning naming where the file ends"; exit 1; }
n=$(grep -c '"event_type":"alert"' "$dir/eve.json")
[ "$n" -eq 4 ] || { echo "FAIL: $n alerts, want 4"; exit 1; }
echo ok
