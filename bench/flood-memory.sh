#!/usr/bin/env bash
# Peak memory of `embargo scan` under two floods that target the fixed-size tables
# other than the flow table (bench/flows-memory.sh covers that one):
#   frag  N incomplete IPv4 datagrams: a first fragment (64 bytes, MF) and a last one at
#         offset 65000, distinct ids, never completed. Bound: 1,024 datagrams under
#         reassembly and 16 MiB of fragment buffers (defaults); the rest are dropped.
#   dns   N DNS responses, each a distinct name under kaspersky.com (a rule's domain)
#         with an A record, from a distinct client port: N flows, N alerts, and N
#         attribution entries offered to a table of 16,384.
# Peak RSS should stay flat as N grows while drops and evictions grow.
#   bench/flood-memory.sh [BUILD_DIR] [SIZES]     (default: build "100000 1000000")
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sizes=${2:-"100000 1000000"}
cmake --build "$build" -j2 --target embargo >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # gen KIND N OUT
    /usr/bin/python3 - "$@" <<'PY'
import struct, sys
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def csum(b):
    s = sum(struct.unpack("!10H", b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def ip4(src, dst, ipid, proto, frag, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ipid & 0xffff, frag, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    ts = 1727697600
    def put(frame, i):
        f.write(struct.pack("<IIII", ts + i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
        f.write(frame)
    if kind == "frag":
        for i in range(n):
            src = bytes([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff])
            dst = bytes([192, 0, 2, 53])
            put(eth + ip4(src, dst, i, 17, 0x2000, b"\xab" * 64), 2 * i)  # MF, offset 0
            put(eth + ip4(src, dst, i, 17, 65000 // 8, b"\xcd" * 64), 2 * i + 1)  # last
    else:
        for i in range(n):
            name = b"h%d.upd.kaspersky.com" % i
            q = b"".join(bytes([len(l)]) + l for l in name.split(b".")) + b"\0"
            msg = struct.pack("!HHHHHH", i & 0xffff, 0x8180, 1, 1, 0, 0) + q + b"\0\x01\0\x01"
            msg += b"\xc0\x0c\0\x01\0\x01" + struct.pack("!IH", 300, 4) + struct.pack(
                "!I", 0xC6336400 | (i & 0xff))
            client = bytes([10, (i >> 24) & 0xff or 1, (i >> 8) & 0xff, i & 0xff])
            udp = struct.pack("!HHHH", 53, 1024 + (i >> 16) % 60000, 8 + len(msg), 0) + msg
            put(eth + ip4(bytes([192, 0, 2, 53]), client, i, 17, 0, udp), i)
PY
}

printf '%-6s %-9s %-9s %-26s %-10s %-9s\n' flood N packets "dropped / evicted" alerts "peak RSS"
for kind in frag dns; do
    for n in $sizes; do
        gen "$kind" "$n" "$tmp/f.pcap"
        "$build/embargo" scan -o /dev/null "$tmp/f.pcap" 2>"$tmp/err" || true
        packets=$(sed -n 's/.* file, \([0-9]*\) packets.*/\1/p' "$tmp/err")
        alerts=$(sed -n 's/.* flows, \([0-9]*\) alerts.*/\1/p' "$tmp/err")
        rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$tmp/err")
        if [ "$kind" = frag ]; then
            what="$(sed -n 's/.*reassembled, \([0-9]*\) dropped.*/\1/p' "$tmp/err") datagrams dropped"
        else
            what="$(sed -n 's/.*flows: \([0-9]*\) evicted.*/\1/p' "$tmp/err") flows evicted"
        fi
        printf '%-6s %-9s %-9s %-26s %-10s %-9s\n' "$kind" "$n" "$packets" "$what" \
            "${alerts:-0}" "$((rss / 1024)) MiB"
        rm -f "$tmp/f.pcap"
    done
done
