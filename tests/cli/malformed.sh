#!/usr/bin/env bash
# Files that are not captures, or captures whose record headers cannot be right:
# each has one stated outcome (exit status and message).
#   malformed.sh EMBARGO CASE
# CASE: garbage       4 KiB of pseudo-random bytes   -> exit 2, "cannot read capture"
#       empty         a zero-byte file               -> exit 2, "cannot read capture"
#       header-only   a pcap header and no packets   -> exit 0, no alerts, no warning
#       huge-caplen   a DNS alert, then a record claiming 4 GiB captured
#                                                    -> exit 1, the alert kept, warning
#       magic-only    a pcapng section header cut after its magic -> exit 2
set -eu
embargo=$1 case=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
f="$dir/$case.pcap"
py=/usr/bin/python3

case $case in
garbage)
    # A fixed LCG, so the bytes are the same on every run (and start with no known magic).
    $py -c 'import sys
x = 12345
out = bytearray()
for _ in range(4096):
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out.append((x >> 16) & 0xff)
sys.stdout.buffer.write(bytes(out))' >"$f"
    want_status=2 want_err="$case.pcap: cannot read capture" ;;
empty)
    : >"$f"
    want_status=2 want_err="$case.pcap: cannot read capture" ;;
header-only)
    $py -c 'import struct, sys
sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))' >"$f"
    want_status=0 want_err="" ;;
huge-caplen)
    # The first packet of the real capture's DNS-free start is not needed: one hand-made
    # Ethernet/IPv4/UDP DNS query for s05.upd.kaspersky.com, then a record header whose
    # caplen is 0xfffffff0.
    $py -c 'import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
q = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0)
for l in b"s05.upd.kaspersky.com".split(b"."):
    q += bytes([len(l)]) + l
q += b"\0" + struct.pack("!HH", 1, 1)
udp = struct.pack("!HHHH", 40001, 53, 8 + len(q), 0) + q
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 bytes([192, 0, 2, 10]), bytes([192, 0, 2, 53]))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + ip + udp
out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
out += struct.pack("<IIII", 1727697600, 0, len(frame), len(frame)) + frame
out += struct.pack("<IIII", 1727697601, 0, 0xfffffff0, 0xfffffff0) + b"x" * 64
sys.stdout.buffer.write(out)' >"$f"
    want_status=1 want_err="$case.pcap: warning: capture ends early after packet 1" ;;
magic-only)
    printf '\012\015\015\012' >"$f"
    want_status=2 want_err="$case.pcap: cannot read capture" ;;
*)
    echo "malformed.sh: unknown case $case" >&2
    exit 2 ;;
esac

set +e
"$embargo" scan -o "$dir/eve.json" "$f" 2>"$dir/err"
status=$?
set -e
cat "$dir/err"
[ "$status" -eq "$want_status" ] || { echo "FAIL: exit $status, want $want_status"; exit 1; }
if [ -n "$want_err" ]; then
    grep -qF "$want_err" "$dir/err" || { echo "FAIL: stderr lacks '$want_err'"; exit 1; }
elif grep -q "warning" "$dir/err"; then
    echo "FAIL: unexpected warning"
    exit 1
fi
alerts=0
[ -f "$dir/eve.json" ] && alerts=$(grep -c '"event_type":"alert"' "$dir/eve.json" || true)
want_alerts=0
[ "$case" = huge-caplen ] && want_alerts=1
[ "$alerts" -eq "$want_alerts" ] || { echo "FAIL: $alerts alerts, want $want_alerts"; exit 1; }
echo ok
