#!/bin/sh
# scan --evidence DIR writes, per alerting flow, DIR/<flow_id>.pcap holding that
# flow's packets (both directions) in order up to its last alerting packet; no file
# for flows without alerts; the same bytes with -j 2; a DIR that cannot be created
# is one line and exit 2.
#   evidence.sh EMBARGO PYTHON CAPTURE...
set -u
embargo=$1 python=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$embargo" scan -q --evidence "$dir/ev" -o "$dir/eve.json" "$@" 2>"$dir/err"
rc=$?
[ $rc -eq 1 ] || fail "scan --evidence: exit $rc, want 1: $(cat "$dir/err")"
[ -s "$dir/err" ] && fail "scan -q --evidence said: $(cat "$dir/err")"

"$python" - "$dir/eve.json" "$dir/ev" "$@" <<'PY' || fail "evidence files do not match the alerts"
import json, os, sys
from scapy.utils import rdpcap
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6

eve, evdir, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
last = {}
for line in open(eve):
    r = json.loads(line)
    if r.get("event_type") == "alert":
        last[r["flow_id"]] = max(last.get(r["flow_id"], 0), r["pcap_cnt"])
assert last, "no alerts"
files = sorted(os.listdir(evdir))
want = sorted(f"{i}.pcap" for i in last)
assert files == want, f"files {files}, want {want}"

packets = [p for c in captures for p in rdpcap(c)]  # packet n is packets[n - 1]

def key(p):
    ip = p[IP] if IP in p else p[IPv6] if IPv6 in p else None
    l4 = p[TCP] if TCP in p else p[UDP] if UDP in p else None
    if ip is None or l4 is None:
        return None
    a, b = (ip.src, l4.sport), (ip.dst, l4.dport)
    return (type(l4).__name__,) + tuple(sorted([a, b]))

for fid, n in last.items():
    got = rdpcap(os.path.join(evdir, f"{fid}.pcap"))
    flow = key(packets[n - 1])
    assert flow is not None, f"flow {fid}: alerting packet {n} has no 5-tuple"
    expect = [p for p in packets[:n] if key(p) == flow]
    assert len(got) == len(expect), f"flow {fid}: {len(got)} packets, want {len(expect)}"
    for g, e in zip(got, expect):
        assert bytes(g) == bytes(e) and float(g.time) == float(e.time), f"flow {fid}: packet differs"
    assert bytes(got[-1]) == bytes(packets[n - 1]), f"flow {fid}: does not end at packet {n}"
    assert len({key(p) for p in got}) == 1, f"flow {fid}: packets of another flow"
# flows that never alerted got no file: every file is an alerting flow's (checked above),
# and the captures hold more flows than alerted
assert len({key(p) for p in packets} - {None}) > len(last), "every flow alerted: a weak test"
PY

"$embargo" scan -q -j 2 --evidence "$dir/ev2" -o "$dir/eve2.json" "$@" 2>/dev/null
[ $? -eq 1 ] || fail "scan -j 2 --evidence: want exit 1"
diff -r "$dir/ev" "$dir/ev2" >/dev/null || fail "-j 2 wrote other evidence files"

"$embargo" scan -q --evidence "$dir/ev" -o - "$@" 2>"$dir/err" >/dev/null
[ $? -eq 1 ] || fail "scan --evidence into an existing DIR: want exit 1"
diff -r "$dir/ev" "$dir/ev2" >/dev/null || fail "a second run into DIR changed the files"

"$embargo" scan -q --evidence /dev/null/x -o "$dir/eve3.json" "$@" 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] || fail "--evidence /dev/null/x: exit $rc, want 2"
[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "message is not one line: $(cat "$dir/err")"
grep -q "/dev/null/x" "$dir/err" || fail "message does not name the path: $(cat "$dir/err")"

"$embargo" scan --evidence "$dir/ev4" -o - "$@" 2>"$dir/err" >/dev/null
grep -q "^embargo: evidence: [0-9]* flows, [0-9]* packets written to $dir/ev4\$" "$dir/err" ||
    fail "no summary line: $(cat "$dir/err")"
echo "ok"
