#!/usr/bin/python3
"""Seed corpora for the fuzz targets, from the repository's captures and rules.

    /usr/bin/python3 tests/fuzz/make-seeds.py OUT_DIR [--max-per-target N]

writes OUT_DIR/<target>/<sha1> for every target of tests/fuzz/:
  pipeline   whole capture files (tests/pcap/*/input.pcap*, pcaps/*.pcap)
  decode     one file per packet: a link-type selector byte, then the frame
  dns        DNS messages (UDP payloads; TCP ones without the length prefix)
  tls-hello  ClientHello bodies (selector 0 or 2) and first TLS records (1)
  tls-cert   Certificate bodies (selector 0) and leaf DER certificates (1)
  quic       UDP payloads of long-header packets (selector 0), and ClientHello
             messages in CRYPTO frames for the target to seal (selector 1, 3)
  http       HTTP request and response heads from TCP payloads
  rules      the shipped pack's and the cases' rule files
  record     EVE records of each type the Suricata plugin matches
  device     what devices say of themselves: a selector byte (0 SNMP, 1 DHCP, 2 DHIP,
             3 XML, 4 HTTP/RTSP/SIP heads), then a UDP payload or TCP message
Deterministic; needs Debian's python3-scapy. With --max-per-target, the N
smallest distinct inputs are kept per target (for the committed seeds/).
"""
import argparse
import glob
import hashlib
import json
import os
import struct
import sys

from scapy.all import IP, TCP, UDP, IPv6, PcapNgReader, PcapReader, Raw  # noqa: F401
from scapy.utils import RawPcapNgReader, RawPcapReader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Must match linktypes[] in fuzz-decode.c: the index is the selector byte.
DECODE_LINKS = [1, 101, 0, 108, 113, 228, 229, 276, 12, 14, 147]


def captures():
    files = sorted(glob.glob(os.path.join(ROOT, "tests/pcap/*/input.pcap*")))
    files += sorted(glob.glob(os.path.join(ROOT, "tests/pcap/*/*.pcap")))
    files += sorted(glob.glob(os.path.join(ROOT, "pcaps/*.pcap")))
    seen, out = set(), []
    for f in files:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def raw_packets(path):
    """(linktype, frame bytes) of each packet; [] when scapy cannot read it."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic == b"\x0a\x0d\x0d\x0a":
            rd = RawPcapNgReader(path)
            out = []
            for data, meta in rd:
                out.append((getattr(meta, "linktype", 1), data))
            return out
        rd = RawPcapReader(path)
        link = rd.linktype
        return [(link, data) for data, _ in rd]
    except Exception:
        return []


def l4(link, frame):
    """(ip layer, l4 layer) decoded by scapy, or (None, None)."""
    from scapy.layers.l2 import CookedLinux, Ether, Loopback
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    try:
        if link == 1:
            p = Ether(frame)
        elif link in (101, 12, 14, 228, 229):
            p = IP(frame) if frame[:1] and frame[0] >> 4 == 4 else IPv6(frame)
        elif link in (0, 108):
            p = Loopback(frame)
        elif link == 113:
            p = CookedLinux(frame)
        else:
            return None, None
    except Exception:
        return None, None
    ip = p.getlayer(IP) or p.getlayer(IPv6)
    if ip is None:
        return None, None
    t = ip.getlayer(TCP) or ip.getlayer(UDP)
    return ip, t


def tcp_streams(pkts):
    """{(src, sport, dst, dport): bytes} of each TCP direction, put in order by seq."""
    segs = {}
    for link, frame in pkts:
        ip, t = l4(link, frame)
        if t is None or not isinstance(t, TCP):
            continue
        data = bytes(t.payload)
        if not data:
            continue
        key = (ip.src, t.sport, ip.dst, t.dport)
        segs.setdefault(key, {}).setdefault(t.seq, data)
    out = {}
    for key, by_seq in segs.items():
        seqs = sorted(by_seq)
        base, buf = seqs[0], bytearray()
        for s in seqs:
            off = (s - base) & 0xFFFFFFFF
            d = by_seq[s]
            if off > len(buf) or off > 1 << 20:
                break  # a gap: stop at it
            buf[off:off + len(d)] = d
        out[key] = bytes(buf)
    return out


def tls_handshakes(stream):
    """(type, body) of each handshake message in a TLS byte stream."""
    hs, off = bytearray(), 0
    while off + 5 <= len(stream):
        ctype, _ver, rlen = struct.unpack("!BHH", stream[off:off + 5])
        if ctype not in (20, 21, 22, 23):
            break
        if ctype == 22:
            hs += stream[off + 5:off + 5 + rlen]
        off += 5 + rlen
    out, off = [], 0
    while off + 4 <= len(hs):
        t = hs[off]
        n = int.from_bytes(hs[off + 1:off + 4], "big")
        if off + 4 + n > len(hs):
            break
        out.append((t, bytes(hs[off + 4:off + 4 + n])))
        off += 4 + n
    return out


def varint(v):
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return struct.pack("!H", 0x4000 | v)
    return struct.pack("!I", 0x80000000 | v)


RECORDS = [
    {"timestamp": "2024-09-30T12:00:00.000000+0000", "flow_id": 1, "event_type": "dns",
     "src_ip": "192.0.2.10", "src_port": 40001, "dest_ip": "192.0.2.53", "dest_port": 53,
     "proto": "UDP", "dns": {"version": 2, "type": "query", "id": 1,
                              "queries": [{"rrname": "s05.upd.kaspersky.com", "rrtype": "A"}]}},
    {"event_type": "dns", "src_ip": "2001:db8::1", "dest_ip": "2001:db8::53", "src_port": 5353,
     "dest_port": 53, "proto": "UDP",
     "dns": {"type": "answer", "rrname": "ds.kaspersky.com", "answers": [
         {"rrname": "ds.kaspersky.com", "rrtype": "A", "ttl": 60, "rdata": "198.51.100.7"}],
         "grouped": {"A": ["198.51.100.7"], "CNAME": ["x.kaspersky.com"]}}},
    {"event_type": "tls", "flow_id": 2, "src_ip": "192.0.2.10", "src_port": 40002,
     "dest_ip": "198.51.100.7", "dest_port": 443, "proto": "TCP",
     "tls": {"sni": "ds.kaspersky.com", "subject": "CN=ds.kaspersky.com",
             "issuerdn": "C=US, O=Example CA", "ja4": "t13d1516h2_8daaf6152771_e5627efa2ab1",
             "version": "TLS 1.3"}},
    {"event_type": "http", "src_ip": "128.3.116.128", "src_port": 49163,
     "dest_ip": "93.184.216.34", "dest_port": 80, "proto": "TCP",
     "http": {"hostname": "dnl-01.geo.kaspersky.com", "url": "/index.xml",
              "http_user_agent": "Kaspersky/1.0", "http_method": "GET", "status": 200}},
    {"event_type": "quic", "src_ip": "192.0.2.10", "src_port": 50000,
     "dest_ip": "198.51.100.7", "dest_port": 443, "proto": "UDP",
     "quic": {"version": "1", "sni": "x.kaspersky.com", "ja4": "q13d0310h3_55b375c5d22e_cd85d2d88918"}},
    {"event_type": "flow", "src_ip": "192.0.2.10", "src_port": 40003, "dest_ip": "198.51.100.7",
     "dest_port": 443, "proto": "TCP", "app_proto": "tls", "flow": {"pkts_toserver": 3}},
    # Suricata's order (event_type third: the header is read member by member), to a
    # Kaspersky range on 443, to another address on 443, to a Kaspersky Security Center port,
    # and over IPv6: the plugin's table of ports and address bytes leaves some after the header
    {"timestamp": "2024-09-30T12:00:01.000000+0000", "flow_id": 7, "event_type": "flow",
     "src_ip": "192.0.2.10", "src_port": 40004, "dest_ip": "185.85.12.5", "dest_port": 443,
     "proto": "TCP", "app_proto": "tls", "flow": {"pkts_toserver": 3}},
    {"timestamp": "2024-09-30T12:00:02.000000+0000", "flow_id": 8, "event_type": "flow",
     "src_ip": "192.0.2.10", "src_port": 40005, "dest_ip": "8.8.8.8", "dest_port": 443,
     "proto": "TCP", "app_proto": "tls", "flow": {"pkts_toserver": 3}},
    {"timestamp": "2024-09-30T12:00:03.000000+0000", "flow_id": 9, "event_type": "flow",
     "src_ip": "192.0.2.10", "src_port": 40006, "dest_ip": "203.0.113.9", "dest_port": 13000,
     "proto": "TCP", "flow": {"pkts_toserver": 3}},
    {"timestamp": "2024-09-30T12:00:04.000000+0000", "flow_id": 10, "event_type": "flow",
     "src_ip": "2001:db8::10", "src_port": 40007, "dest_ip": "2a02:6b8::5", "dest_port": 80,
     "proto": "TCP", "flow": {"pkts_toserver": 3}},
    {"event_type": "alert", "alert": {"signature_id": 1}},
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--max-per-target", type=int, default=0)
    args = ap.parse_args()

    corp = {}

    def add(target, data):
        corp.setdefault(target, {})[hashlib.sha1(data).hexdigest()] = data

    for path in captures():
        with open(path, "rb") as fh:
            add("pipeline", fh.read())
        pkts = raw_packets(path)
        for link, frame in pkts:
            if link in DECODE_LINKS:
                add("decode", bytes([DECODE_LINKS.index(link)]) + frame)
            ip, t = l4(link, frame)
            if t is None:
                continue
            data = bytes(t.payload)
            if not data:
                continue
            if isinstance(t, UDP) and 53 not in (t.sport, t.dport):
                if data[:1] == b"\x30":
                    add("device", b"\x00" + data)
                elif 67 in (t.sport, t.dport) or 68 in (t.sport, t.dport):
                    add("device", b"\x01" + data)
                elif data[4:8] == b"DHIP":
                    add("device", b"\x02" + data)
                elif data[:1] == b"<":
                    add("device", b"\x03" + data)
                elif b"HTTP/1." in data[:64] or b"SIP/2.0" in data[:128]:
                    add("device", b"\x04" + data)
            if isinstance(t, TCP) and (data.startswith(b"RTSP/1.0") or b"<" in data[:2048] and
                                       (b"Inform" in data or b"GetDeviceInformation" in data)):
                add("device", b"\x03" + data if b"<" in data[:2048] and not
                    data.startswith(b"RTSP") else b"\x04" + data)
            if isinstance(t, UDP):
                if 53 in (t.sport, t.dport) or 5353 in (t.sport, t.dport):
                    add("dns", data)
                elif data[0] & 0x80:
                    add("quic", b"\x00" + data)
            else:
                if 53 in (t.sport, t.dport) and len(data) > 2:
                    add("dns", data[2:])
                if data[:1] == b"\x16":
                    add("tls-hello", b"\x01" + data)
                if data.split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT",
                                              b"OPTIONS") or data.startswith(b"HTTP/1."):
                    add("http", data)
        for _key, stream in tcp_streams(pkts).items():
            for t, body in tls_handshakes(stream):
                if t == 1:
                    add("tls-hello", b"\x00" + body)
                    add("tls-hello", b"\x02" + body)
                    msg = b"\x01" + len(body).to_bytes(3, "big") + body
                    frames = b"\x06" + varint(0) + varint(len(msg)) + msg
                    add("quic", b"\x01" + frames)
                    add("quic", b"\x03" + frames + b"\x00" * 16)
                elif t == 11:
                    add("tls-cert", b"\x00" + body)
                    if len(body) > 6:
                        n = int.from_bytes(body[3:6], "big")
                        add("tls-cert", b"\x01" + body[6:6 + n])

    rule_files = sorted(glob.glob(os.path.join(ROOT, "rules/*.yaml")))
    rule_files += sorted(glob.glob(os.path.join(ROOT, "tests/pcap/*/rules.yaml")))
    rule_files += sorted(glob.glob(os.path.join(ROOT, "tests/pcap/*/rules/*.yaml")))
    for f in rule_files:
        with open(f, "rb") as fh:
            add("rules", fh.read())
    for r in RECORDS:
        add("record", json.dumps(r, separators=(",", ":")).encode())

    total = 0
    for target, items in sorted(corp.items()):
        chosen = sorted(items.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if args.max_per_target:
            chosen = chosen[:args.max_per_target]
        d = os.path.join(args.out, target)
        os.makedirs(d, exist_ok=True)
        for h, data in chosen:
            with open(os.path.join(d, h), "wb") as fh:
                fh.write(data)
        size = sum(len(v) for _, v in chosen)
        total += size
        print(f"{target:10} {len(chosen):5} inputs {size:9} bytes")
    print(f"{'total':10} {'':5}        {total:9} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
