#!/usr/bin/python3
"""Write every synthetic input pcap under tests/pcap/<case>/.

Run it with Debian's python3, which has scapy (python3-scapy):

    /usr/bin/python3 tests/pcap/make-pcaps.py            # rewrite all cases
    /usr/bin/python3 tests/pcap/make-pcaps.py --check    # fail if a committed pcap differs

The output is byte-identical on every run: timestamps, addresses, ports, IP ids, TCP
sequence numbers, DNS ids, TLS randoms and MAC addresses are all fixed, and the pcap and
pcapng files are written by the small writers below (not scapy's), so the file headers do not
depend on the scapy version. Scapy only serialises the IP/IPv6/TCP/UDP/DNS layers and
computes their checksums.

Addresses: clients and benign servers come from the documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32). Real Kaspersky addresses (77.74.176.0/21,
AS200107) appear only in ports-cidr, where the CIDR rule is under test. The real capture in
kaspersky-real/ is copied, not generated: see kaspersky-real/README.md.
"""

import argparse
import hashlib
import hmac
import os
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop

HERE = os.path.dirname(os.path.abspath(__file__))

# 2024-09-30T12:00:00Z, the day after the ICTS Final Determination took effect. Every case
# starts at BASE_TS plus a per-case offset in whole seconds; packets are 1 ms apart.
BASE_TS = 1727697600

# Link-layer type numbers as written in pcap file headers (tcpdump.org/linktypes.html).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

CLIENT_MAC = bytes.fromhex("020000000001")  # locally administered
ROUTER_MAC = bytes.fromhex("020000000002")

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8


# --------------------------------------------------------------------------------------------
# Capture file writers


class Capture:
    """Packets of one capture file: (timestamp in microseconds, link-layer frame bytes)."""

    def __init__(self, linktype=LINKTYPE_ETHERNET, start=0):
        self.linktype = linktype
        self.clock_us = (BASE_TS + start) * 1000000
        self.frames = []

    def add(self, frame, caplen=None):
        """Append a frame; caplen < len(frame) writes it truncated, as a short snaplen would."""
        frame = bytes(frame)
        self.frames.append((self.clock_us, frame, len(frame) if caplen is None else caplen))
        self.clock_us += 1000

    def skip(self, seconds):
        """Let the capture clock jump forward (a gap in the traffic)."""
        self.clock_us += seconds * 1000000

    def pcap_bytes(self):
        # Classic pcap, microsecond resolution, little-endian:
        # magic a1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, linktype.
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, self.linktype)]
        for ts, frame, caplen in self.frames:
            sec, usec = divmod(ts, 1000000)
            out.append(struct.pack("<IIII", sec, usec, caplen, len(frame)))
            out.append(frame[:caplen])
        return b"".join(out)

    def pcapng_bytes(self):
        # pcapng: Section Header Block, one Interface Description Block (default microsecond
        # timestamps), then one Enhanced Packet Block per frame; every block is padded to 4
        # bytes and carries its total length at both ends.
        def block(btype, body):
            body += b"\0" * (-len(body) % 4)
            total = 12 + len(body)
            return struct.pack("<II", btype, total) + body + struct.pack("<I", total)

        # SHB: byte-order magic 1a2b3c4d, version 1.0, section length unknown (-1).
        out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
        # IDB: linktype, reserved, snaplen.
        out.append(block(0x00000001, struct.pack("<HHI", self.linktype, 0, 262144)))
        for ts, frame, caplen in self.frames:
            frame = frame[:caplen]
            # EPB: interface 0, timestamp high/low 32 bits, captured len, original len, data.
            hdr = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
            out.append(block(0x00000006, hdr + frame))
        return b"".join(out)


# --------------------------------------------------------------------------------------------
# Link-layer framing. Each takes the bytes of an IPv4 or IPv6 packet.


def _ethertype(ip):
    return ETH_P_IPV6 if (ip[0] >> 4) == 6 else ETH_P_IP


def eth(ip, to_server=True):
    """Ethernet II: dst MAC, src MAC, EtherType."""
    ip = bytes(ip)
    dst, src = (ROUTER_MAC, CLIENT_MAC) if to_server else (CLIENT_MAC, ROUTER_MAC)
    return dst + src + struct.pack("!H", _ethertype(ip)) + ip


def vlan(ip, vid, to_server=True):
    """802.1Q: dst, src, TPID 0x8100, TCI (PCP 0, DEI 0, VID), inner EtherType."""
    ip = bytes(ip)
    dst, src = (ROUTER_MAC, CLIENT_MAC) if to_server else (CLIENT_MAC, ROUTER_MAC)
    return dst + src + struct.pack("!HHH", ETH_P_8021Q, vid, _ethertype(ip)) + ip


def qinq(ip, outer_vid, inner_vid, to_server=True):
    """802.1ad QinQ: dst, src, S-tag (TPID 0x88a8, TCI), C-tag (TPID 0x8100, TCI), EtherType."""
    ip = bytes(ip)
    dst, src = (ROUTER_MAC, CLIENT_MAC) if to_server else (CLIENT_MAC, ROUTER_MAC)
    tags = struct.pack("!HHHH", ETH_P_8021AD, outer_vid, ETH_P_8021Q, inner_vid)
    return dst + src + tags + struct.pack("!H", _ethertype(ip)) + ip


def sll(ip, to_server=True):
    """Linux cooked v1 (16 bytes): packet type (0 host / 4 outgoing), ARPHRD_ETHER (1),
    link-layer address length (6), address padded to 8 bytes, protocol (EtherType)."""
    ip = bytes(ip)
    pkttype = 4 if to_server else 0
    return (struct.pack("!HHH", pkttype, 1, 6) + CLIENT_MAC + b"\0\0"
            + struct.pack("!H", _ethertype(ip)) + ip)


def sll2(ip, to_server=True):
    """Linux cooked v2 (20 bytes): protocol (EtherType), reserved (0), interface index (2),
    ARPHRD_ETHER (1), packet type (4 outgoing / 0 host), address length (6), address padded
    to 8 bytes."""
    ip = bytes(ip)
    pkttype = 4 if to_server else 0
    return (struct.pack("!HHIHBB", _ethertype(ip), 0, 2, 1, pkttype, 6) + CLIENT_MAC
            + b"\0\0" + ip)


def raw(ip, to_server=True):
    """LINKTYPE_RAW: the IP packet itself, version read from the first nibble."""
    return bytes(ip)


def null_le(ip, to_server=True, af6=30):
    """BSD loopback (DLT_NULL): a 4-byte address family in the capturing host's byte order,
    here little-endian as written on x86/arm64 macOS and FreeBSD. AF_INET is 2; AF_INET6 is
    24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (Darwin)."""
    ip = bytes(ip)
    family = af6 if (ip[0] >> 4) == 6 else 2
    return struct.pack("<I", family) + ip


# --------------------------------------------------------------------------------------------
# Application payloads


def dns_query(name, qid, qtype="A"):
    """A recursive (RD) standard query with one question."""
    return DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))


def dns_response(name, qid, addr):
    """The answer to dns_query(name, qid): question echoed, one A record, TTL 300."""
    return DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype="A"),
               an=DNSRR(rrname=name, type="A", ttl=300, rdata=addr))


def _fixed_bytes(label, n):
    """n deterministic pseudo-random bytes (TLS randoms, session ids, key shares)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s/%d" % (label.encode(), counter)).digest()
        counter += 1
    return out[:n]


def _ext(ext_type, body):
    """A TLS extension: type (2 bytes), length (2 bytes), body."""
    return struct.pack("!HH", ext_type, len(body)) + body


def _vec16(body):
    return struct.pack("!H", len(body)) + body


def _vec8(body):
    return struct.pack("!B", len(body)) + body


def tls_client_hello(sni, tls13=True, label=None, ech=False):
    """The bytes of one TLS record holding a ClientHello, as browsers send it. sni=None
    leaves out the server_name extension; the random, session id and key share derive from
    label (default: the SNI).

    Record layer (5 bytes):    16 (handshake) | 03 01 (legacy record version) | length
    Handshake header (4 bytes): 01 (client_hello) | 24-bit length
    ClientHello body:
      03 03                     legacy_version TLS 1.2
      32 bytes                  random
      20 + 32 bytes             legacy_session_id (TLS 1.3 middlebox compatibility)
      len16 + suites            cipher_suites: 13 01, 13 02, 13 03 (TLS 1.3, only if tls13),
                                c0 2b, c0 2f, c0 2c, c0 30, cc a9, cc a8, 00 9c, 00 2f
      01 00                     compression_methods: null only
      len16 + extensions, in this order, so server_name is neither first nor last:
        000a supported_groups       x25519 (001d), secp256r1 (0017), secp384r1 (0018)
        000b ec_point_formats       uncompressed (00)
        0017 extended_master_secret (empty)
        0000 server_name            list len16 | 00 host_name | len16 | ASCII host name
        0023 session_ticket         (empty)
        000d signature_algorithms   ecdsa_secp256r1_sha256 0403, rsa_pss_rsae_sha256 0804,
                                    rsa_pkcs1_sha256 0401, ...
        0010 ALPN                   "h2", "http/1.1"
        002b supported_versions     0304, 0303              (only if tls13)
        002d psk_key_exchange_modes psk_dhe_ke (01)         (only if tls13)
        0033 key_share              x25519 with a 32-byte key (only if tls13)
        ff01 renegotiation_info     empty renegotiated_connection (00)
    """
    label = label or sni
    sni_ext = [] if sni is None else [_ext(0x0000, _vec16(b"\x00" + _vec16(sni.encode("ascii"))))]
    suites = (["1301", "1302", "1303"] if tls13 else []) + [
        "c02b", "c02f", "c02c", "c030", "cca9", "cca8", "009c", "002f"]
    exts = [
        _ext(0x000A, _vec16(bytes.fromhex("001d00170018"))),
        _ext(0x000B, _vec8(b"\x00")),
        _ext(0x0017, b""),
    ] + sni_ext + [
        _ext(0x0023, b""),
        _ext(0x000D, _vec16(bytes.fromhex("0403080404010503080505010806060102010201"))),
        _ext(0x0010, _vec16(_vec8(b"h2") + _vec8(b"http/1.1"))),
    ]
    if tls13:
        exts += [
            _ext(0x002B, _vec8(bytes.fromhex("03040303"))),
            _ext(0x002D, _vec8(b"\x01")),
            _ext(0x0033, _vec16(struct.pack("!HH", 0x001D, 32) + _fixed_bytes(label + "/ks", 32))),
        ]
    if ech:  # encrypted_client_hello (fe0d): outer, config id 1, a fixed enc and payload
        exts.append(_ext(0xFE0D, b"\x00\x00\x01\x00\x01\x01" + _vec16(_fixed_bytes(label + "/enc", 32))
                         + _vec16(_fixed_bytes(label + "/ech", 64))))
    exts.append(_ext(0xFF01, b"\x00"))
    body = (b"\x03\x03" + _fixed_bytes(label + "/random", 32)
            + _vec8(_fixed_bytes(label + "/sid", 32))
            + _vec16(bytes.fromhex("".join(suites)))
            + _vec8(b"\x00")
            + _vec16(b"".join(exts)))
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + _vec16(handshake)


def http_get(host, uri="/", ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64)", version="1.1"):
    return ("GET %s HTTP/%s\r\n"
            "Host: %s\r\n"
            "User-Agent: %s\r\n"
            "Accept: */*\r\n"
            "Connection: keep-alive\r\n"
            "\r\n" % (uri, version, host, ua)).encode("ascii")


HTTP_200 = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            b"Connection: keep-alive\r\n\r\nok")


# --------------------------------------------------------------------------------------------
# Flows


def _ip(src, dst, ipid):
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=64, fl=0)
    return IP(src=src, dst=dst, id=ipid, ttl=64, flags="DF")


class TcpFlow:
    """A TCP connection written packet by packet into a Capture.

    The client opens with SYN, SYN-ACK, ACK so the direction is unambiguous; each payload
    is acknowledged by the peer; close() is FIN/ACK both ways. ext6 is an optional function
    returning IPv6 extension headers put between IPv6 and TCP on every client packet."""

    def __init__(self, cap, frame, client, cport, server, sport, ext6=None):
        self.cap, self.frame = cap, frame
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.cseq, self.sseq = 1000, 5000
        self.ipid = cport & 0xFFF
        self.ext6 = ext6

    def _pkt(self, to_server, flags, data=b"", seq=None):
        self.ipid += 1
        if to_server:
            ip = _ip(self.c, self.s, self.ipid)
            if self.ext6 is not None:
                ip = ip / self.ext6()
            tcp = TCP(sport=self.cp, dport=self.sp, seq=self.cseq if seq is None else seq,
                      ack=self.sseq,
                      flags=flags, window=64240)
        else:
            ip = _ip(self.s, self.c, self.ipid + 0x4000)
            tcp = TCP(sport=self.sp, dport=self.cp, seq=self.sseq if seq is None else seq,
                      ack=self.cseq,
                      flags=flags, window=65160)
        if "S" in flags and "A" not in flags:
            tcp.ack = 0
        pkt = ip / tcp
        if data:
            pkt = pkt / data
        self.cap.add(self.frame(pkt, to_server=to_server))
        if seq is not None:
            return  # an explicitly placed segment: pieces() moves the sequence number
        adv = len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        if to_server:
            self.cseq = (self.cseq + adv) & 0xFFFFFFFF
        else:
            self.sseq = (self.sseq + adv) & 0xFFFFFFFF

    def handshake(self):
        self._pkt(True, "S")
        self._pkt(False, "SA")
        self._pkt(True, "A")
        return self

    def client(self, data):
        self._pkt(True, "PA", data)
        self._pkt(False, "A")
        return self

    def server(self, data):
        self._pkt(False, "PA", data)
        self._pkt(True, "A")
        return self

    def pieces(self, to_server, pieces):
        """Segments at chosen offsets from the sender's next sequence number, sent in list
        order (so out of order, overlapping or retransmitted as listed); pieces is a list of
        (offset, bytes). Afterwards the sender's sequence number moves past the furthest
        byte sent and the peer acknowledges once."""
        base = self.cseq if to_server else self.sseq
        end = 0
        for off, data in pieces:
            self._pkt(to_server, "PA", data, seq=(base + off) & 0xFFFFFFFF)
            end = max(end, off + len(data))
        if to_server:
            self.cseq = (base + end) & 0xFFFFFFFF
        else:
            self.sseq = (base + end) & 0xFFFFFFFF
        self._pkt(not to_server, "A")
        return self

    def close(self):
        self._pkt(True, "FA")
        self._pkt(False, "FA")
        self._pkt(True, "A")
        return self


def udp(cap, frame, src, sport, dst, dport, payload, ipid=1, to_server=True, ext6=None):
    ip = _ip(src, dst, ipid)
    if ext6 is not None:
        ip = ip / ext6()
    cap.add(frame(ip / UDP(sport=sport, dport=dport) / payload, to_server=to_server))


def dns_flow(cap, frame, client, cport, name, qid, resolver="192.0.2.53", answer=None,
             ext6=None):
    """One DNS query from client:cport to resolver:53 (its own flow); with answer, also the
    response."""
    udp(cap, frame, client, cport, resolver, 53, dns_query(name, qid), ipid=qid, ext6=ext6)
    if answer:
        udp(cap, frame, resolver, 53, client, cport, dns_response(name, qid, answer),
            ipid=qid + 1, to_server=False)


# --------------------------------------------------------------------------------------------
# Cases. Each function returns {relative file name: bytes}.

CLIENT = "192.0.2.10"
RESOLVER = "192.0.2.53"


def case_dns_kaspersky():
    cap = Capture(start=0)
    # Positives, one flow (source port) each. s05 also gets its response: one alert per flow.
    dns_flow(cap, eth, CLIENT, 40001, "s05.upd.kaspersky.com", 0x0101, answer="198.51.100.5")
    dns_flow(cap, eth, CLIENT, 40002, "dnl-07.geo.kaspersky.com", 0x0102)
    dns_flow(cap, eth, CLIENT, 40003, "ksn-file-geo.kaspersky-labs.com", 0x0103)
    dns_flow(cap, eth, CLIENT, 40004, "dc1.ksn.kaspersky-labs.com", 0x0104)
    dns_flow(cap, eth, CLIENT, 40005, "activate.activation-v2.kaspersky.com", 0x0105)
    # Upper case with a trailing dot in the presentation form; on the wire the labels are
    # UPD KASPERSKY COM, which the engine must lower-case before matching.
    dns_flow(cap, eth, CLIENT, 40006, "UPD.KASPERSKY.COM.", 0x0106)
    dns_flow(cap, eth, CLIENT, 40007, "crl.kaspersky.com", 0x0107)
    # A response whose query was not captured (capture started late): the question section
    # of the response alone must alert. The flow's first packet comes from port 53.
    udp(cap, eth, RESOLVER, 53, CLIENT, 40008,
        dns_response("p03.upd.kaspersky.com", 0x0108, "198.51.100.6"), ipid=0x0108,
        to_server=False)
    # Lookalikes: none may alert, with any sid.
    for i, name in enumerate([
            "notkaspersky.com",
            "upd.kaspersky.com.evil.example",
            "xupd.kaspersky.com",
            "upd.kaspersky-labs.co",
            "kaspersky.com.evil.example",
            "crl.kaspersky.com.attacker.test",
            "sub.crl.kaspersky.com",         # =crl.kaspersky.com is exact: no subdomains
            "x.edge.geo.kaspersky.com",      # =edge.geo.kaspersky.com is exact
            "mydnl-07.geo.kaspersky.com",    # dnl-* must start the label
            "dnl-07.x.geo.kaspersky.com",    # * stays inside one label
            "ksn-file-geo.kaspersky-labs.com.evil.example",
    ]):
        dns_flow(cap, eth, CLIENT, 41001 + i, name, 0x0201 + i)
    return {"dns-kaspersky/input.pcap": cap.pcap_bytes()}


def case_tls_sni():
    cap = Capture(start=100)
    TcpFlow(cap, eth, CLIENT, 50001, "198.51.100.20", 443).handshake() \
        .client(tls_client_hello("dc1.ksn.kaspersky-labs.com")).close()
    TcpFlow(cap, eth, CLIENT, 50002, "198.51.100.21", 443).handshake() \
        .client(tls_client_hello("dc1.ksn.kaspersky-labs.com.evil.example")).close()
    TcpFlow(cap, eth, CLIENT, 50003, "198.51.100.22", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    # TLS 1.2-style hello (no supported_versions / key_share) on a non-443 port.
    TcpFlow(cap, eth, CLIENT, 50004, "198.51.100.23", 8443).handshake() \
        .client(tls_client_hello("ds.kaspersky.com", tls13=False)).close()
    TcpFlow(cap, eth, CLIENT, 50005, "198.51.100.24", 443).handshake() \
        .client(tls_client_hello("kaspersky-labs.co", tls13=False)).close()
    return {"tls-sni/input.pcap": cap.pcap_bytes()}


def case_http_host():
    cap = Capture(start=200)
    srv = "198.51.100.30"
    # Host with a port: the port must be stripped before matching (4200120 via http.host).
    TcpFlow(cap, eth, CLIENT, 50101, srv, 80).handshake() \
        .client(http_get("activation-v2.kaspersky.com:443", "/")).server(HTTP_200).close()
    # The activation URI on a benign host (4200120 via http.uri).
    TcpFlow(cap, eth, CLIENT, 50102, "198.51.100.31", 80).handshake() \
        .client(http_get("www.example.org", "/activationservice/activationservice.svc")) \
        .server(HTTP_200).close()
    # Lookalike host: nothing.
    TcpFlow(cap, eth, CLIENT, 50103, "198.51.100.32", 80).handshake() \
        .client(http_get("activation-v2.kaspersky.com.evil.example", "/")) \
        .server(HTTP_200).close()
    # Upper case, trailing dot, non-standard port: 4200111, value ds.kaspersky.com.
    TcpFlow(cap, eth, CLIENT, 50104, "198.51.100.33", 8080).handshake() \
        .client(http_get("DS.KASPERSKY.COM.", "/")).server(HTTP_200).close()
    # Keep-alive: two requests in one flow, both raising 4200120 (host, then uri): one alert.
    TcpFlow(cap, eth, CLIENT, 50105, "198.51.100.34", 80).handshake() \
        .client(http_get("activation-v2.kaspersky.com", "/a")).server(HTTP_200) \
        .client(http_get("www.example.org", "/activationservice/activationservice.svc")) \
        .server(HTTP_200).close()
    return {"http-host/input.pcap": cap.pcap_bytes()}


def case_ipv6():
    cap = Capture(start=300)
    c6, r6 = "2001:db8:6::10", "2001:db8:6::53"
    # DNS with a hop-by-hop options header (PadN only) between IPv6 and UDP.
    dns_flow(cap, eth, c6, 42001, "s01.upd.kaspersky.com", 0x0601, resolver=r6,
             ext6=IPv6ExtHdrHopByHop)
    # Plain IPv6 DNS, and a lookalike.
    dns_flow(cap, eth, c6, 42002, "dnl-01.geo.kaspersky.com", 0x0602, resolver=r6)
    dns_flow(cap, eth, c6, 42003, "ksc.kaspersky.com.evil.example", 0x0603, resolver=r6)
    # TLS over IPv6, every client packet with a destination options header before TCP.
    TcpFlow(cap, eth, c6, 52001, "2001:db8:6:1::443", 443, ext6=IPv6ExtHdrDestOpt) \
        .handshake().client(tls_client_hello("ksc.kaspersky.com")).close()
    return {"ipv6/input.pcap": cap.pcap_bytes()}


def case_vlan():
    cap = Capture(start=400)

    def v100(ip, to_server=True):
        return vlan(ip, 100, to_server)

    def q200_100(ip, to_server=True):
        return qinq(ip, 200, 100, to_server)

    dns_flow(cap, v100, CLIENT, 43001, "s02.upd.kaspersky.com", 0x0701)
    dns_flow(cap, q200_100, CLIENT, 43002, "dc1.ksn.kaspersky-labs.com", 0x0702)
    dns_flow(cap, v100, CLIENT, 43003, "notkaspersky.com", 0x0703)
    # TCP in QinQ too, so the TLS path is decoded behind two tags.
    TcpFlow(cap, q200_100, CLIENT, 53001, "198.51.100.40", 443).handshake() \
        .client(tls_client_hello("ksc.kaspersky.com")).close()
    return {"vlan/input.pcap": cap.pcap_bytes()}


def case_ports_cidr():
    cap = Capture(start=500)
    # Server port 13000/tcp: Network Agent (4200130, field port). Handshake only.
    TcpFlow(cap, eth, CLIENT, 54001, "203.0.113.10", 13000).handshake().close()
    # 15111/udp: KSN proxy (4200112), answered: a conversation.
    udp(cap, eth, CLIENT, 54002, "203.0.113.11", 15111, b"\x00\x01ksnproxy-test", ipid=2)
    udp(cap, eth, "203.0.113.11", 15111, CLIENT, 54002, b"\x00\x01ok", ipid=3, to_server=False)
    # 15111/tcp: the rule says udp, so nothing.
    TcpFlow(cap, eth, CLIENT, 54003, "203.0.113.11", 15111).handshake().close()
    # 13111/udp: the rule says tcp, so nothing.
    udp(cap, eth, CLIENT, 54004, "203.0.113.11", 13111, b"\x00\x02not-ksn", ipid=4)
    # 77.74.180.5:443 is inside 77.74.176.0/21 (AS200107): 4200140.
    TcpFlow(cap, eth, CLIENT, 54005, "77.74.180.5", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    # 77.74.184.5 is outside the /21: nothing.
    TcpFlow(cap, eth, CLIENT, 54006, "77.74.184.5", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    # Inside the /21 but port 22 is not in the rule: nothing.
    TcpFlow(cap, eth, CLIENT, 54007, "77.74.180.5", 22).handshake() \
        .client(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n").close()
    # The client's *source* port is 13000, the server's is 8443: 4200130 must not fire.
    TcpFlow(cap, eth, CLIENT, 13000, "203.0.113.12", 8443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    # A Kaspersky address as the *client* of our server's port 80: ip matches either side
    # and 80/tcp is the server port, so 4200140.
    TcpFlow(cap, eth, "77.74.178.1", 54009, "198.51.100.80", 80).handshake() \
        .client(http_get("www.example.org", "/")).server(HTTP_200).close()
    return {"ports-cidr/input.pcap": cap.pcap_bytes()}


def _one_dns(linktype, frame, start, name="s02.upd.kaspersky.com", client=CLIENT,
             resolver=RESOLVER, cport=44001):
    cap = Capture(linktype=linktype, start=start)
    dns_flow(cap, frame, client, cport, name, 0x0801, resolver=resolver, answer=None)
    # A benign query after it, so the decoder keeps going past the first packet.
    dns_flow(cap, frame, client, cport + 1, "www.example.com", 0x0802, resolver=resolver)
    return cap


def case_linktypes():
    return {
        "linktype-sll/input.pcap": _one_dns(LINKTYPE_LINUX_SLL, sll, 600).pcap_bytes(),
        "linktype-sll2/input.pcap": _one_dns(LINKTYPE_LINUX_SLL2, sll2, 610).pcap_bytes(),
        "linktype-raw/input.pcap": _one_dns(LINKTYPE_RAW, raw, 620).pcap_bytes(),
        "linktype-null/input.pcap": _one_dns(LINKTYPE_NULL, null_le, 630).pcap_bytes(),
        "linktype-null-ipv6/input.pcap": _one_dns(
            LINKTYPE_NULL, null_le, 640, client="2001:db8:7::10",
            resolver="2001:db8:7::53").pcap_bytes(),
        "pcapng/input.pcapng": _one_dns(LINKTYPE_ETHERNET, eth, 650).pcapng_bytes(),
    }


def case_multi_pcap():
    # Two files of different link types in one run; distinct flows.
    a = _one_dns(LINKTYPE_ETHERNET, eth, 700, name="s03.upd.kaspersky.com", cport=45001)
    b = _one_dns(LINKTYPE_RAW, raw, 710, name="s04.upd.kaspersky.com", cport=45101)
    return {"multi-pcap/a.pcap": a.pcap_bytes(), "multi-pcap/b.pcap": b.pcap_bytes()}


def case_rules_forms():
    cap = Capture(start=800)
    # 4299901 re: domain
    dns_flow(cap, eth, CLIENT, 46001, "tel42.example.net", 0x0901)
    dns_flow(cap, eth, CLIENT, 46002, "tel.example.net", 0x0902)           # no digits
    # 4299902 needs User-Agent AND URI in one alternative
    TcpFlow(cap, eth, CLIENT, 46003, "198.51.100.90", 80).handshake() \
        .client(http_get("dl.example.net", "/fw/1.bin", ua="ExampleUpdater/2.1")) \
        .server(HTTP_200).close()
    TcpFlow(cap, eth, CLIENT, 46004, "198.51.100.90", 80).handshake() \
        .client(http_get("dl.example.net", "/other/1.bin", ua="ExampleUpdater/2.1")) \
        .server(HTTP_200).close()
    TcpFlow(cap, eth, CLIENT, 46005, "198.51.100.90", 80).handshake() \
        .client(http_get("dl.example.net", "/fw/1.bin", ua="curl/7.88.1")) \
        .server(HTTP_200).close()
    # 4299903 hex payload, in a UDP datagram on an unremarkable port
    udp(cap, eth, CLIENT, 46006, "198.51.100.91", 9999,
        b"\x01\x02" + bytes.fromhex("deadbeef4b4c") + b"\x03", ipid=6)
    # 4299904 is dns.query only: the same name in a TLS SNI must not raise it
    dns_flow(cap, eth, CLIENT, 46007, "mgmt.example.net", 0x0907)
    TcpFlow(cap, eth, CLIENT, 46008, "198.51.100.92", 443).handshake() \
        .client(tls_client_hello("mgmt.example.net")).close()
    return {"rules-forms/input.pcap": cap.pcap_bytes()}


def case_clean():
    cap = Capture(start=900)
    dns_flow(cap, eth, CLIENT, 47001, "www.example.com", 0x0A01, answer="198.51.100.100")
    dns_flow(cap, eth, CLIENT, 47002, "example.org", 0x0A02)
    TcpFlow(cap, eth, CLIENT, 47003, "198.51.100.100", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    TcpFlow(cap, eth, CLIENT, 47004, "198.51.100.101", 80).handshake() \
        .client(http_get("www.example.org", "/index.html")).server(HTTP_200).close()
    return {"clean/input.pcap": cap.pcap_bytes()}


def case_error_inputs():
    # The broken-rules cases never get as far as reading packets; they still get a valid
    # pcap so that the only error is the rules.
    one = _one_dns(LINKTYPE_ETHERNET, eth, 1000).pcap_bytes()
    return {
        "broken-rules-channel/input.pcap": one,
        "broken-rules-dupsid/input.pcap": one,
        # Not a capture file at all.
        "unreadable-pcap/input.pcap": b"this is not a pcap file\n",
    }


def case_robustness():
    cap = Capture(start=1100)
    # 1. A lone non-first IPv4 fragment (offset 64 bytes, MF clear) whose data happens to
    #    be a UDP header to port 53 and a DNS query for s06.upd.kaspersky.com. Fragment data
    #    has no L4 header; reading one there would be a misparse.
    inner = bytes(UDP(sport=48001, dport=53) / dns_query("s06.upd.kaspersky.com", 0x0B01))
    frag = IP(src=CLIENT, dst=RESOLVER, id=0x0B01, ttl=64, proto=17, frag=8, flags=0) / inner
    cap.add(eth(frag))
    # 2. A DNS query for s08.upd.kaspersky.com cut to 60 bytes by the snaplen (pcap caplen
    #    60, original length 81): IP total length exceeds what was captured; only 6 bytes of
    #    the name survive (03 "s08" 03 "u").
    cap.add(eth(_ip(CLIENT, RESOLVER, 0x0B02) / UDP(sport=48002, dport=53)
                / dns_query("s08.upd.kaspersky.com", 0x0B02)), caplen=60)
    # 3. A DNS query whose question name is a compression pointer to itself (c0 0c at
    #    offset 12): a loop, never a name.
    loop = struct.pack("!HHHHHH", 0x0B03, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    udp(cap, eth, CLIENT, 48003, RESOLVER, 53, loop, ipid=0x0B03)
    # 4. A ClientHello whose server_name extension claims 0x4000 bytes (more than the record
    #    holds) before a real-looking host name ksc.kaspersky.com.
    hello = bytearray(tls_client_hello("ksc.kaspersky.com"))
    at = hello.index(b"\x00\x00" + struct.pack("!H", 2 + 1 + 2 + len("ksc.kaspersky.com")))
    hello[at + 2:at + 4] = b"\x40\x00"
    TcpFlow(cap, eth, CLIENT, 48004, "198.51.100.110", 443).handshake().client(bytes(hello))
    # 5. A well-formed query after all that: s07.upd.kaspersky.com must alert.
    dns_flow(cap, eth, CLIENT, 48005, "s07.upd.kaspersky.com", 0x0B05)
    return {"robustness/input.pcap": cap.pcap_bytes()}


# Representative names of every vendor file and channel, for case_vendors_dns_sni. Each is
# queried over DNS (client port 60001..) and sent as a TLS SNI (client port 61001..), one
# flow each; the sids it must raise are in vendors-dns-sni/test.yaml.
VENDOR_NAMES = [
    "s01.upd.kaspersky.com",                   # kaspersky update only, not web
    "gc.kis.v2.scr.kaspersky-labs.com",        # kaspersky injected-script host
    "www.kaspersky.com",                       # kaspersky web
    "www.kaspersky.de",                        # kaspersky web, country site
    "metrics1.data.hicloud.com",               # huawei telemetry (+ cloud)
    "grs.dbankcloud.com",                      # huawei telemetry (+ cloud)
    "connectivitycheck.platform.hicloud.com",  # huawei cloud
    "cloud.huawei.com",                        # huawei cloud, not web
    "consumer.huawei.com",                     # huawei web
    "www.ztedevices.com",                      # zte web
    "apiieu.hik-connect.com",                  # hikvision Hik-Connect API, not web
    "apiieu.ezvizlife.com",                    # hikvision EZVIZ API, not web
    "eucas.ezvizlife.com",                     # hikvision CAS
    "www.hikvision.com",                       # hikvision web
    "www.easy4ipcloud.com",                    # dahua P2P cloud
    "openapi-fk.easy4ip.com",                  # dahua Imou API
    "www.10086.cn",                            # chinamobile web
    "www.189.cn",                              # chinatelecom web
    "www.10010.com",                           # chinaunicom web
    "content.djiservice.org",                  # dji cloud
    "www.dji.com",                             # dji web
    "log16-normal-useast1a.tiktokv.com",       # tiktok telemetry (+ cloud)
    "analytics.tiktok.com",                    # tiktok telemetry, not web
    "vcs-va.tiktokv.com",                      # tiktok cloud
    "www.tiktok.com",                          # tiktok web
]

# Names that contain a vendor's name or domain without being under it, and Honor's cloud
# (not Huawei's). Each is queried over DNS (client port 62001..); the first few are also
# sent as a TLS SNI (client port 62501..). None may alert.
VENDOR_LOOKALIKES = [
    "hicloud.com.evil.example",
    "ezviz.com.attacker.test",
    "tiktokv.com.evil.example",
    "kaspersky.de.evil.example",
    "nothuawei.com",
    "huawei.com.evil.example",
    "myhicloud.com",
    "grs.hihonorcloud.com",
    "metrics.dt.hihonorcloud.com",
    "zte.com.cn.evil.example",
    "myzte.com.cn",
    "nothikvision.com",
    "hikvision.com.attacker.test",
    "myezvizlife.com",
    "api.hik-connect.com.evil.example",
    "noteasy4ipcloud.com",
    "openapi.easy4ip.com.evil.example",
    "my10086.cn",
    "chinamobile.com.evil.example",
    "x189.cn",
    "unicom.evil.example",
    "notwo.cn",
    "notdji.com",
    "djicdn.com.attacker.test",
    "nottiktok.com",
    "mytiktokv.com",
    "log.tiktokv.com.evil.example",
    "kaspersky.co",
    "scr.kaspersky-labs.com.evil.example",
]
VENDOR_LOOKALIKES_TLS = 4


def dahua_p2p(method, path, cseq):
    """An Easy4ip P2P request as a Dahua client sends it to UDP 8800: an HTTP-like request
    line with the method DHGET or DHPOST, a CSeq and an X-WSSE header (khoanguyen-3fc/dh-p2p
    src/dh.rs). Nonce, digest and date are fixed placeholders."""
    return ("%s %s HTTP/1.1\r\n"
            "CSeq: %d\r\n"
            "Authorization: WSSE profile=\"UsernameToken\"\r\n"
            "X-WSSE: UsernameToken Username=\"P2PClient\", PasswordDigest=\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\", "
            "Nonce=\"1234567890\", Created=\"2024-09-30T12:00:00Z\"\r\n"
            "\r\n" % (method, path, cseq)).encode("ascii")


def case_vendors_dns_sni():
    cap = Capture(start=1200)
    for i, name in enumerate(VENDOR_NAMES):
        dns_flow(cap, eth, CLIENT, 60001 + i, name, 0x0C01 + i)
    for i, name in enumerate(VENDOR_NAMES):
        TcpFlow(cap, eth, CLIENT, 61001 + i, "198.51.100.%d" % (120 + i), 443).handshake() \
            .client(tls_client_hello(name)).close()
    for i, name in enumerate(VENDOR_LOOKALIKES):
        dns_flow(cap, eth, CLIENT, 62001 + i, name, 0x0D01 + i)
    for i, name in enumerate(VENDOR_LOOKALIKES[:VENDOR_LOOKALIKES_TLS]):
        TcpFlow(cap, eth, CLIENT, 62501 + i, "198.51.100.%d" % (160 + i), 443).handshake() \
            .client(tls_client_hello(name)).close()
    dahua = "198.51.100.88"
    # Easy4ip P2P: DHGET and DHPOST to UDP 8800 alert (4200501).
    udp(cap, eth, CLIENT, 63001, dahua, 8800, dahua_p2p("DHGET", "/probe/p2psrv", 1), ipid=0x0E01)
    udp(cap, eth, CLIENT, 63002, dahua, 8800,
        dahua_p2p("DHPOST", "/online/p2psrv/AB01CD23EF45", 2), ipid=0x0E02)
    # UDP 8800 without the DH prefix (plain GET), DHGET not at the start of the datagram,
    # and DHGET to another port: nothing.
    udp(cap, eth, CLIENT, 63003, dahua, 8800, dahua_p2p("GET", "/probe/p2psrv", 3), ipid=0x0E03)
    udp(cap, eth, CLIENT, 63004, dahua, 8800, b"\x00\x01" + dahua_p2p("DHGET", "/probe/p2psrv", 4),
        ipid=0x0E04)
    udp(cap, eth, CLIENT, 63005, dahua, 9800, dahua_p2p("DHGET", "/probe/p2psrv", 5), ipid=0x0E05)
    # A flow whose first datagram each way is not one (binary keep-alives) and whose third
    # is a DHPOST: it alerts (4200501) on the third; a host that stopped reading the flow
    # once its protocol was unknown both ways misses it.
    udp(cap, eth, CLIENT, 63006, dahua, 8800, b"\x00\x01\x00\x08keepaliv", ipid=0x0E06)
    udp(cap, eth, dahua, 8800, CLIENT, 63006, b"\x00\x02\x00\x08keepaliv", ipid=0x0E07,
        to_server=False)
    udp(cap, eth, CLIENT, 63006, dahua, 8800, dahua_p2p("DHPOST", "/relay/agent", 6),
        ipid=0x0E08)
    # Only the first 32 datagrams of each direction are read for payload patterns: a DHGET
    # as the 32nd alerts (63007), as the 33rd does not (63008).
    for port, late in ((63007, 31), (63008, 32)):
        for i in range(late):
            udp(cap, eth, CLIENT, port, dahua, 8800, b"\x00\x01\x00\x08keepaliv",
                ipid=0x0F00 + i)
        udp(cap, eth, CLIENT, port, dahua, 8800, dahua_p2p("DHGET", "/probe/p2psrv", 7),
            ipid=0x0F40)
    # DVRIP: a connection to 37777/tcp (4200520, port only).
    TcpFlow(cap, eth, CLIENT, 63101, "198.51.100.89", 37777).handshake().close()
    return {"vendors-dns-sni/input.pcap": cap.pcap_bytes()}


# --------------------------------------------------------------------------------------------
# Flow engine and protocol depth (issue 3): reassembly, fragments, DNS answers and
# attribution, HTTP keep-alive, TLS certificates, QUIC, tunnels.


def split_at(data, cuts):
    """data cut at the given offsets: a list of (offset, bytes) for TcpFlow.pieces()."""
    edges = [0] + list(cuts) + [len(data)]
    return [(a, data[a:b]) for a, b in zip(edges, edges[1:])]


def tls_records(record, cuts, version=b"\x03\x01"):
    """The handshake bytes of one TLS record re-framed as several records, cut at the given
    offsets of the handshake bytes (each record: 16 | version | length | fragment)."""
    hs = record[5:]
    return b"".join(b"\x16" + version + _vec16(part) for _, part in split_at(hs, cuts))


def _len24(n):
    return struct.pack("!I", n)[1:]


def dns_name(name):
    """A DNS name in wire format, uncompressed."""
    return b"".join(_vec8(label.encode("ascii")) for label in name.split(".")) + b"\x00"


def dns_cname_response(qname, qid, target, addr=None, ttl=300):
    """A response to an A query for qname: answer 1 is qname (pointer to the question)
    CNAME target; answer 2, with addr, is an A record whose owner is a compression pointer
    to the CNAME's target, as servers write it. The vendor name is never spelled out
    anywhere but in the CNAME's rdata."""
    question = dns_name(qname) + struct.pack("!HH", 1, 1)
    rdata = dns_name(target)
    answers = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, ttl, len(rdata)) + rdata
    count = 1
    if addr is not None:
        target_at = 12 + len(question) + 2 + 10
        answers += struct.pack("!HHHIH", 0xC000 | target_at, 1, 1, ttl, 4)
        answers += bytes(int(x) for x in addr.split("."))
        count = 2
    return struct.pack("!HHHHHH", qid, 0x8180, 1, count, 0, 0) + question + answers


def case_tcp_segments():
    cap = Capture(start=1300)
    srv = "198.51.100.140"
    name = "dc1.ksn.kaspersky-labs.com"
    hello = tls_client_hello(name)
    at = hello.index(name.encode())
    mid = at + 13                      # "dc1.ksn.kaspe" | "rsky-labs.com"
    # 64001: the SNI straddles the boundary of two in-order segments.
    TcpFlow(cap, eth, CLIENT, 64001, srv, 443).handshake() \
        .pieces(True, split_at(hello, [mid])).close()
    # 64002: the same two segments, second half first.
    TcpFlow(cap, eth, CLIENT, 64002, srv, 443).handshake() \
        .pieces(True, split_at(hello, [mid])[::-1]).close()
    # 64003: first half, then a retransmission of the first half whose SNI reads
    # dc2.ksn.kaspersky-labs.com, then the second half. First copy wins: value dc1....
    forged = hello[:at] + b"dc2" + hello[at + 3:]
    TcpFlow(cap, eth, CLIENT, 64003, srv, 443).handshake() \
        .pieces(True, [(0, hello[:mid]), (0, forged[:mid]), (mid, hello[mid:])]).close()
    # 64004: first half, then one segment that overlaps the name's first 13 bytes (forged
    # as dc2...) and carries the rest: the overlap is trimmed, the new bytes are kept.
    TcpFlow(cap, eth, CLIENT, 64004, srv, 443).handshake() \
        .pieces(True, [(0, hello[:mid]), (at, forged[at:])]).close()
    # 64005: the ClientHello in two TLS records cut inside the SNI, one segment.
    two = tls_records(hello, [mid - 5])
    TcpFlow(cap, eth, CLIENT, 64005, srv, 443).handshake().client(two).close()
    # 64006: the same two records, one segment each.
    TcpFlow(cap, eth, CLIENT, 64006, srv, 443).handshake() \
        .pieces(True, split_at(two, [mid])).close()
    # 64007: the same two records, the segment boundary inside the second record header.
    TcpFlow(cap, eth, CLIENT, 64007, srv, 443).handshake() \
        .pieces(True, split_at(two, [mid + 2])).close()
    # 64008: midstream pickup: no handshake, the ClientHello in two segments.
    TcpFlow(cap, eth, CLIENT, 64008, srv, 443).pieces(True, split_at(hello, [mid])).close()
    # 64009: sequence numbers wrap inside the ClientHello: ISN 2^32 - 100, so the
    # client's stream offset 99 sits at sequence number 0; three segments.
    f = TcpFlow(cap, eth, CLIENT, 64009, srv, 443)
    f.cseq = 0xFFFFFF9C
    f.handshake().pieces(True, split_at(hello, [60, mid])).close()
    # 64010: a lookalike SNI split the same way, in order and out of order: nothing.
    look = "dc1.ksn.kaspersky-labs.com.evil.example"
    lhello = tls_client_hello(look)
    lmid = lhello.index(look.encode()) + 13
    TcpFlow(cap, eth, CLIENT, 64010, srv, 443).handshake() \
        .pieces(True, split_at(lhello, [lmid])).close()
    TcpFlow(cap, eth, CLIENT, 64011, srv, 443).handshake() \
        .pieces(True, split_at(lhello, [lmid])[::-1]).close()
    return {"tcp-segments/input.pcap": cap.pcap_bytes()}


def _udp_bytes(src, dst, sport, dport, payload):
    """A UDP header (checksum over the right pseudo-header) followed by payload."""
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return bytes(ip / UDP(sport=sport, dport=dport) / payload)[40 if ":" in src else 20:]


def ipv4_fragments(src, dst, ipid, l4, pieces, proto=17):
    """IPv4 fragments of the datagram whose payload is l4; pieces is a list of (offset,
    bytes) in sending order, offsets multiples of 8; MF is set unless a piece reaches the
    end."""
    out = []
    for off, data in pieces:
        mf = off + len(data) < len(l4)
        out.append(IP(src=src, dst=dst, id=ipid, ttl=64, proto=proto, frag=off // 8,
                      flags="MF" if mf else 0) / data)
    return out


def ipv6_fragments(src, dst, ident, l4, pieces, nh=17):
    """IPv6 packets with a Fragment header (RFC 8200 4.5) for each (offset, bytes)."""
    out = []
    for off, data in pieces:
        m = 1 if off + len(data) < len(l4) else 0
        out.append(IPv6(src=src, dst=dst, hlim=64, fl=0)
                   / IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=m, id=ident) / data)
    return out


def case_dns_tcp_frag():
    cap = Capture(start=1400)
    # DNS over TCP to 53: a 2-byte length, then the message.
    q1 = bytes(dns_query("s01.upd.kaspersky.com", 0x1401))
    # 64101: the length prefix in one segment, the message in the next.
    TcpFlow(cap, eth, CLIENT, 64101, RESOLVER, 53).handshake() \
        .pieces(True, split_at(_vec16(q1), [2])).close()
    # 64102: the length prefix itself cut in two, the name cut too (3 segments).
    q2 = bytes(dns_query("s02.upd.kaspersky.com", 0x1402))
    TcpFlow(cap, eth, CLIENT, 64102, RESOLVER, 53).handshake() \
        .pieces(True, split_at(_vec16(q2), [1, 20])).close()
    # 64103: two messages in one segment, names of two rules: two alerts on one flow.
    q3 = bytes(dns_query("s03.upd.kaspersky.com", 0x1403))
    q4 = bytes(dns_query("dc1.ksn.kaspersky-labs.com", 0x1404))
    TcpFlow(cap, eth, CLIENT, 64103, RESOLVER, 53).handshake() \
        .client(_vec16(q3) + _vec16(q4)).close()
    # 64104: UDP query for s01.upd.kaspersky.com in three IPv4 fragments (16 + 16 + rest
    # bytes of the UDP datagram), sent last first.
    l4 = _udp_bytes(CLIENT, RESOLVER, 64104, 53, dns_query("s01.upd.kaspersky.com", 0x1405))
    for p in ipv4_fragments(CLIENT, RESOLVER, 0x1405, l4, split_at(l4, [16, 32])[::-1]):
        cap.add(eth(p))
    # 64105: the same in IPv6 fragments, last first.
    c6, r6 = "2001:db8:14::10", "2001:db8:14::53"
    l4 = _udp_bytes(c6, r6, 64105, 53, dns_query("s01.upd.kaspersky.com", 0x1406))
    for p in ipv6_fragments(c6, r6, 0x14060001, l4, split_at(l4, [16, 32])[::-1]):
        cap.add(eth(p))
    # 64106: IPv4, the middle fragment missing: nothing.
    l4 = _udp_bytes(CLIENT, RESOLVER, 64106, 53, dns_query("s04.upd.kaspersky.com", 0x1407))
    parts = split_at(l4, [16, 32])
    for p in ipv4_fragments(CLIENT, RESOLVER, 0x1407, l4, [parts[0], parts[2]]):
        cap.add(eth(p))
    # 64107: IPv6, the first fragment missing: nothing.
    l4 = _udp_bytes(c6, r6, 64107, 53, dns_query("s04.upd.kaspersky.com", 0x1408))
    parts = split_at(l4, [16, 32])
    for p in ipv6_fragments(c6, r6, 0x14080001, l4, parts[1:]):
        cap.add(eth(p))
    # 64108: IPv4 overlap. [0,24) as sent, then [16,40) whose byte 23 (the '5' of s05, UDP
    # header 8 + DNS header 12 + length byte 1 + "s0") reads '9', then [40,end). First copy
    # wins: s05.upd.kaspersky.com, never s09.
    l4 = _udp_bytes(CLIENT, RESOLVER, 64108, 53, dns_query("s05.upd.kaspersky.com", 0x1409))
    assert l4[21:24] == b"s05"
    forged = l4[:23] + b"9" + l4[24:]
    pieces = [(0, l4[:24]), (16, forged[16:40]), (40, l4[40:])]
    for p in ipv4_fragments(CLIENT, RESOLVER, 0x1409, l4, pieces):
        cap.add(eth(p))
    # 64109: a whole benign query after all that, with the same IP id as 64106's leftover.
    udp(cap, eth, CLIENT, 64109, RESOLVER, 53, dns_query("www.example.com", 0x140A),
        ipid=0x1407)
    return {"dns-tcp-frag/input.pcap": cap.pcap_bytes()}


def case_dns_answers_attribution():
    cap = Capture(start=1500)
    vendor_ip = "203.0.113.77"
    other_client = "192.0.2.11"
    # 64201: cdn.example.net -> CNAME dnl-03.geo.kaspersky.com -> A 203.0.113.77, TTL 300.
    # The query is benign; the response alerts (4200101, the CNAME target).
    udp(cap, eth, CLIENT, 64201, RESOLVER, 53, dns_query("cdn.example.net", 0x1501), ipid=0x1501)
    udp(cap, eth, RESOLVER, 53, CLIENT, 64201,
        dns_cname_response("cdn.example.net", 0x1501, "dnl-03.geo.kaspersky.com", vendor_ip),
        ipid=0x1502, to_server=False)
    # 64202: a ClientHello without SNI from the same client to 203.0.113.77:443:
    # 4200101 by dns.attribution.
    TcpFlow(cap, eth, CLIENT, 64202, vendor_ip, 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64202")).close()
    # 64203: another client to the same address: nothing.
    TcpFlow(cap, eth, other_client, 64203, vendor_ip, 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64203")).close()
    # 64204: the same client to another address: nothing.
    TcpFlow(cap, eth, CLIENT, 64204, "203.0.113.78", 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64204")).close()
    # 64205: the same client to the address with the SNI dnl-03.geo.kaspersky.com: one
    # alert, by tls.sni, not a second by dns.attribution.
    TcpFlow(cap, eth, CLIENT, 64205, vendor_ip, 443).handshake() \
        .client(tls_client_hello("dnl-03.geo.kaspersky.com")).close()
    # 64206: a name-only CNAME response (no address): alerts, records nothing.
    udp(cap, eth, RESOLVER, 53, CLIENT, 64206,
        dns_cname_response("img.example.net", 0x1506, "dnl-04.geo.kaspersky.com"),
        ipid=0x1506, to_server=False)
    # 64213: a response whose query was not captured (asymmetric routing), to client
    # 192.0.2.12: CNAME dnl-06.geo.kaspersky.com, A 203.0.113.80. It alerts, and the
    # address is recorded for 192.0.2.12, the response's destination; 64214: that client's
    # no-SNI ClientHello to 203.0.113.80:443 raises 4200101 by dns.attribution.
    udp(cap, eth, RESOLVER, 53, "192.0.2.12", 64213,
        dns_cname_response("media.example.net", 0x150D, "dnl-06.geo.kaspersky.com",
                           "203.0.113.80"), ipid=0x150D, to_server=False)
    TcpFlow(cap, eth, "192.0.2.12", 64214, "203.0.113.80", 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64214")).close()
    # 64207: dnl-05.geo.kaspersky.com A 203.0.113.79 with TTL 5, raised to the 60 s floor.
    udp(cap, eth, CLIENT, 64207, RESOLVER, 53, dns_query("dnl-05.geo.kaspersky.com", 0x1507),
        ipid=0x1507)
    udp(cap, eth, RESOLVER, 53, CLIENT, 64207,
        DNS(id=0x1507, qr=1, rd=1, ra=1, qd=DNSQR(qname="dnl-05.geo.kaspersky.com", qtype="A"),
            an=DNSRR(rrname="dnl-05.geo.kaspersky.com", type="A", ttl=5,
                     rdata="203.0.113.79")),
        ipid=0x1508, to_server=False)
    # +30 s: 64208 to 203.0.113.79, past its TTL 5 but within the floor: alerts.
    cap.skip(30)
    TcpFlow(cap, eth, CLIENT, 64208, "203.0.113.79", 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64208")).close()
    # +200 s: 64209 to 203.0.113.77, within its TTL 300: alerts.
    cap.skip(170)
    TcpFlow(cap, eth, CLIENT, 64209, vendor_ip, 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64209")).close()
    # ... and 64210 to 203.0.113.79, past the 60 s floor: nothing.
    TcpFlow(cap, eth, CLIENT, 64210, "203.0.113.79", 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64210")).close()
    # +400 s: 64211 to 203.0.113.77, past its TTL 300: nothing.
    cap.skip(200)
    TcpFlow(cap, eth, CLIENT, 64211, vendor_ip, 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64211")).close()
    # +90000 s (past the 86400 s ceiling): 64212 to 203.0.113.77: nothing.
    cap.skip(89600)
    TcpFlow(cap, eth, CLIENT, 64212, vendor_ip, 443).handshake() \
        .client(tls_client_hello(None, label="nosni-64212")).close()
    return {"dns-answers-attribution/input.pcap": cap.pcap_bytes()}


def case_attribution_split_hello():
    cap = Capture(start=1550)
    # 64221: s07.upd.kaspersky.com resolves to 203.0.113.90 for 192.0.2.10.
    dns_flow(cap, eth, CLIENT, 64221, "s07.upd.kaspersky.com", 0x1521, answer="203.0.113.90")
    # 64222: a ClientHello with that very SNI to 203.0.113.90:443, cut inside the SNI in two
    # segments. The name is on the wire, so the alert must say tls.sni, as it does when
    # the ClientHello comes in one segment (dns-answers-attribution, 64205).
    name = "s07.upd.kaspersky.com"
    hello = tls_client_hello(name)
    mid = hello.index(name.encode()) + 8
    TcpFlow(cap, eth, CLIENT, 64222, "203.0.113.90", 443).handshake() \
        .pieces(True, split_at(hello, [mid])).close()
    # 64223: the same with a lookalike SNI (s07.upd.kaspersky.com.evil.example): the flow
    # names its own server, which is no vendor's: not attributed (docs/flows.md).
    look = "s07.upd.kaspersky.com.evil.example"
    lhello = tls_client_hello(look)
    lmid = lhello.index(look.encode()) + 8
    TcpFlow(cap, eth, CLIENT, 64223, "203.0.113.90", 443).handshake() \
        .pieces(True, split_at(lhello, [lmid])).close()
    # 64224: a lookalike SNI to another address: nothing.
    TcpFlow(cap, eth, CLIENT, 64224, "203.0.113.91", 443).handshake() \
        .pieces(True, split_at(lhello, [lmid])).close()
    return {"attribution-split-hello/input.pcap": cap.pcap_bytes()}


def case_http_keepalive():
    cap = Capture(start=1600)
    srv = "198.51.100.160"
    form = b"user=alice&lang=en"
    post = (b"POST /form HTTP/1.1\r\nHost: example.org\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(form)) + form
    kld2 = b"KLD2" + bytes(range(12))
    update = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: %d\r\n\r\n" % len(kld2)) + kld2
    # 64301: benign POST with a body, 200; then GET with Host activation-v2.kaspersky.com
    # (4200120), answered with a body starting KLD2 (4200106, to_client, status 200).
    TcpFlow(cap, eth, CLIENT, 64301, srv, 80).handshake() \
        .client(post).server(HTTP_200) \
        .client(http_get("activation-v2.kaspersky.com", "/activation")).server(update).close()
    # 64302: header name in odd case, tab after the colon and before CRLF, value in upper
    # case, the request cut in three segments (inside the name, inside the value).
    req = (b"GET /lic HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n"
           b"hOsT:\tactivation-v2.KASPERSKY.com\t\r\nAccept: */*\r\n\r\n")
    at = req.index(b"hOsT")
    TcpFlow(cap, eth, CLIENT, 64302, srv, 80).handshake() \
        .pieces(True, split_at(req, [at + 2, at + 20])).server(HTTP_200).close()
    # 64303: a POST whose body is a request for the activation service on
    # activation-v2.kaspersky.com (walked over by Content-Length), then a benign GET: nothing.
    smuggled = (b"GET /activationservice/activationservice.svc HTTP/1.1\r\n"
                b"Host: activation-v2.kaspersky.com\r\n\r\n")
    post2 = (b"POST /upload HTTP/1.1\r\nHost: example.org\r\nContent-Type: text/plain\r\n"
             b"Content-Length: %d\r\n\r\n" % len(smuggled)) + smuggled
    TcpFlow(cap, eth, CLIENT, 64303, srv, 80).handshake() \
        .client(post2).server(HTTP_200) \
        .client(http_get("www.example.org", "/next")).server(HTTP_200).close()
    # 64304: keep-alive with a lookalike host in the second request: nothing.
    TcpFlow(cap, eth, CLIENT, 64304, srv, 80).handshake() \
        .client(post).server(HTTP_200) \
        .client(http_get("activation-v2.kaspersky.com.evil.example", "/a")) \
        .server(HTTP_200).close()
    return {"http-keepalive/input.pcap": cap.pcap_bytes()}


def _read_case_file(rel):
    with open(os.path.join(HERE, rel), "rb") as f:
        return f.read()


def tls12_server_flight(label, chain):
    """The handshake bytes of a TLS 1.2 server's first flight: ServerHello
    (ECDHE-RSA-AES128-GCM-SHA256 c02f, renegotiation_info, extended_master_secret),
    Certificate (the DER certificates of chain, leaf first), ServerHelloDone."""
    exts = _ext(0xFF01, b"\x00") + _ext(0x0017, b"")
    sh = (b"\x03\x03" + _fixed_bytes(label + "/server-random", 32) + _vec8(b"")
          + b"\xc0\x2f" + b"\x00" + _vec16(exts))
    certs = b"".join(_len24(len(d)) + d for d in chain)
    cert = _len24(len(certs)) + certs
    return (b"\x02" + _len24(len(sh)) + sh + b"\x0b" + _len24(len(cert)) + cert
            + b"\x0e\x00\x00\x00")


def case_tls_cert():
    cap = Capture(start=1700)
    kav_leaf = _read_case_file("tls-cert/issuer-kav.der")
    kav_ca = _read_case_file("tls-cert/kav-ca.der")
    ksc = _read_case_file("tls-cert/san-ksc.der")
    benign = _read_case_file("tls-cert/benign.der")

    def flow(cport, server, sni, chain, record_size, segment_size):
        hs = tls12_server_flight(sni, chain)
        cuts = list(range(record_size, len(hs), record_size))
        records = tls_records(b"\x16\x03\x03" + _vec16(hs), cuts, version=b"\x03\x03")
        TcpFlow(cap, eth, CLIENT, cport, server, 443).handshake() \
            .client(tls_client_hello(sni, tls13=False)) \
            .pieces(False, split_at(records, range(segment_size, len(records), segment_size))) \
            .close()

    # 64401: leaf www.example.com issued by the Kaspersky interception root, chain of two,
    # handshake in 200-byte records, in 300-byte segments: 4200114 (tls.cert_issuer).
    flow(64401, "198.51.100.170", "www.example.com", [kav_leaf, kav_ca], 200, 300)
    # 64402: SAN ksc.kaspersky.com (CN portal.example.net), 150-byte records, 250-byte
    # segments: 4200132 (tls.cert_name).
    flow(64402, "198.51.100.171", "portal.example.net", [ksc], 150, 250)
    # 64403: benign, SAN also ksc.kaspersky.com.evil.example: nothing.
    flow(64403, "198.51.100.172", "www.example.org", [benign], 150, 250)
    return {"tls-cert/input.pcap": cap.pcap_bytes()}


# RFC 9001 appendix A.2 and RFC 9369 appendix A.2: the client's first Initial, 1200 bytes
# (the same hex is in tests/unit/test-quic.c). DCID 8394c8f03e515708, SNI example.com.
QUIC_V1_INITIAL = (
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934")
QUIC_V2_INITIAL = (
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc")


def _quic_varint(v):
    """A QUIC variable-length integer (RFC 9000 16), in the shortest of the 1/2/4-byte forms."""
    if v < 0x40:
        return struct.pack("!B", v)
    if v < 0x4000:
        return struct.pack("!H", 0x4000 | v)
    return struct.pack("!I", 0x80000000 | v)


def _hkdf_expand_label(secret, label, length):
    """TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 7.1), SHA-256, length <= 32:
    one HMAC block."""
    info = struct.pack("!H", length) + _vec8(b"tls13 " + label) + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def quic_v1_client_initial(dcid, pn, frames, size=1200):
    """A protected QUIC v1 client Initial (RFC 9001 5): long header c3 (4-byte packet
    number), version 1, dcid, empty SCID and token, 2-byte Length; frames padded with
    PADDING so the packet is size bytes; AEAD_AES_128_GCM with the client Initial keys of
    dcid, then AES-ECB header protection. Deterministic: no randomness in QUIC Initial
    protection. Needs python3-cryptography (a recommended dependency of python3-scapy)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    initial = hmac.new(QUIC_V1_SALT, dcid, hashlib.sha256).digest()
    client = _hkdf_expand_label(initial, b"client in", 32)
    key = _hkdf_expand_label(client, b"quic key", 16)
    iv = _hkdf_expand_label(client, b"quic iv", 12)
    hp = _hkdf_expand_label(client, b"quic hp", 16)
    head = b"\xc3" + struct.pack("!I", 1) + _vec8(dcid) + b"\x00" + b"\x00"
    plain = frames + b"\x00" * (size - len(head) - 2 - 4 - 16 - len(frames))
    header = head + struct.pack("!HI", 0x4000 | (4 + len(plain) + 16), pn)
    nonce = (int.from_bytes(iv, "big") ^ pn).to_bytes(12, "big")
    sealed = AESGCM(key).encrypt(nonce, plain, header)
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sealed[:16]) + enc.finalize()   # sample: 4 bytes after the pn start
    first = header[0] ^ (mask[0] & 0x0F)
    pn_bytes = bytes(a ^ b for a, b in zip(header[-4:], mask[1:5]))
    return bytes([first]) + header[1:-4] + pn_bytes + sealed


def quic_crypto_frame(offset, data):
    """CRYPTO frame (RFC 9000 19.6): type 06, offset, length, data."""
    return b"\x06" + _quic_varint(offset) + _quic_varint(len(data)) + data


def case_quic():
    cap = Capture(start=1800)
    v1 = bytes.fromhex(QUIC_V1_INITIAL)
    v2 = bytes.fromhex(QUIC_V2_INITIAL)
    assert len(v1) == len(v2) == 1200
    srv = "198.51.100.180"
    # 64501: QUIC v1 client Initial; 64502: QUIC v2.
    udp(cap, eth, CLIENT, 64501, srv, 443, v1, ipid=0x1801)
    udp(cap, eth, CLIENT, 64502, srv, 443, v2, ipid=0x1802)
    # 64503: v1 with one byte of the protected payload flipped (offset 600): the AEAD tag
    # fails, nothing. 64504: v2 with the last byte (in the tag) flipped: nothing.
    bad1 = bytearray(v1)
    bad1[600] ^= 0x01
    udp(cap, eth, CLIENT, 64503, srv, 443, bytes(bad1), ipid=0x1803)
    bad2 = bytearray(v2)
    bad2[-1] ^= 0x80
    udp(cap, eth, CLIENT, 64504, srv, 443, bytes(bad2), ipid=0x1804)
    # The sealer below rebuilds the RFC 9001 A.2 packet byte for byte from its CRYPTO frame
    # (packet number 2), so the packets it makes are as real as the sample.
    rfc_frame = bytes.fromhex(
        "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
        "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
        "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
        "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
        "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
        "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
        "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
        "75300901100f088394c8f03e51570806048000ffff")
    assert quic_v1_client_initial(bytes.fromhex("8394c8f03e515708"), 2, rfc_frame) == v1
    # A ClientHello for www.example.com (TLS 1.3 style) in two CRYPTO frames, one per
    # Initial (packet numbers 0 and 1), cut inside the SNI.
    hs = tls_client_hello("www.example.com")[5:]
    cut = hs.index(b"www.example.com") + 6
    dcid = bytes.fromhex("0b0b0b0b0b0b0b0b")
    first = quic_v1_client_initial(dcid, 0, quic_crypto_frame(0, hs[:cut]))
    second = quic_v1_client_initial(dcid, 1, quic_crypto_frame(cut, hs[cut:]))
    # 64505: in order; 64506: second packet first; 64507: the second packet never comes.
    udp(cap, eth, CLIENT, 64505, srv, 443, first, ipid=0x1805)
    udp(cap, eth, CLIENT, 64505, srv, 443, second, ipid=0x1806)
    udp(cap, eth, CLIENT, 64506, srv, 443, second, ipid=0x1807)
    udp(cap, eth, CLIENT, 64506, srv, 443, first, ipid=0x1808)
    udp(cap, eth, CLIENT, 64507, srv, 443, first, ipid=0x1809)
    return {"quic/input.pcap": cap.pcap_bytes()}


TUN_A, TUN_B = "198.51.100.201", "198.51.100.202"


def _eth_hdr(ethertype, to_server):
    dst, src = (ROUTER_MAC, CLIENT_MAC) if to_server else (CLIENT_MAC, ROUTER_MAC)
    return dst + src + struct.pack("!H", ethertype)


def _outer(proto_payload, proto, to_server, ipid=0x1900):
    a, b = (TUN_A, TUN_B) if to_server else (TUN_B, TUN_A)
    return IP(src=a, dst=b, id=ipid, ttl=64, proto=proto) / proto_payload


def mpls2(ip, to_server=True):
    """Two MPLS label stack entries (label 1000, then label 2000 with bottom-of-stack), TTL
    64, then the IP packet (RFC 3032)."""
    labels = struct.pack("!II", 1000 << 12 | 64, 2000 << 12 | 1 << 8 | 64)
    return _eth_hdr(0x8847, to_server) + labels + bytes(ip)


def pppoe(ip, to_server=True):
    """PPPoE session stage (RFC 2516): ver/type 0x11, code 0, session 0x1234, length, then
    PPP protocol 0x0021 (IPv4)."""
    ppp = struct.pack("!H", 0x0021) + bytes(ip)
    return _eth_hdr(0x8864, to_server) + struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp)) + ppp


def gre_ip(ip, to_server=True):
    """IPv4 / GRE (RFC 2784: no flags, protocol 0x0800) / IPv4."""
    return eth(_outer(struct.pack("!HH", 0, 0x0800) + bytes(ip), 47, to_server))


def gre_teb(ip, to_server=True):
    """IPv4 / GRE with a key (RFC 2890: K flag 0x2000, key 42), protocol 0x6558
    (transparent Ethernet bridging) / Ethernet / IPv4."""
    gre = struct.pack("!HHI", 0x2000, 0x6558, 42)
    return eth(_outer(gre + eth(ip, to_server), 47, to_server))


def vxlan(ip, to_server=True):
    """IPv4 / UDP 49152 -> 4789 / VXLAN (RFC 7348: I flag, VNI 5000) / Ethernet / IPv4."""
    hdr = struct.pack("!II", 0x08000000, 5000 << 8)
    a, b = (TUN_A, TUN_B) if to_server else (TUN_B, TUN_A)
    return eth(IP(src=a, dst=b, id=0x1900, ttl=64) / UDP(sport=49152, dport=4789)
               / (hdr + eth(ip, to_server)))


def ipip(ip, to_server=True):
    """IPv4 / IPv4 (protocol 4, RFC 2003)."""
    return eth(_outer(bytes(ip), 4, to_server))


def case_tunnels():
    cap = Capture(start=1900)
    tunnels = [mpls2, pppoe, gre_ip, gre_teb, vxlan, ipip]
    for i, frame in enumerate(tunnels):
        dns_flow(cap, frame, CLIENT, 64601 + i, "s02.upd.kaspersky.com", 0x1901 + i)
    for i, frame in enumerate(tunnels):
        dns_flow(cap, frame, CLIENT, 64611 + i, "s02.upd.kaspersky.com.evil.example",
                 0x1911 + i)
    return {"tunnels/input.pcap": cap.pcap_bytes()}


# ---- malformed inputs (issue 7): absurd lengths, pcapng oddities, link types ----------------

def _raw_eth(l3, ethertype=ETH_P_IP):
    """An Ethernet frame around hand-made (possibly broken) network-layer bytes."""
    return ROUTER_MAC + CLIENT_MAC + struct.pack("!H", ethertype) + bytes(l3)


def case_absurd_lengths():
    cap = Capture(start=1400)
    q = lambda name, qid: dns_query(name, qid)  # noqa: E731
    udp_dns = lambda sport, name, qid: bytes(UDP(sport=sport, dport=53) / q(name, qid))  # noqa
    # 1. Zero-length packet; 2. caplen 0 of an 81-byte DNS query; 3. caplen 10 (inside the
    #    Ethernet header). Each is truncated, none alerts.
    cap.add(b"")
    cap.add(eth(_ip(CLIENT, RESOLVER, 0x0E02) / UDP(sport=49002, dport=53)
                / q("s21.upd.kaspersky.com", 0x0E02)), caplen=0)
    cap.add(eth(_ip(CLIENT, RESOLVER, 0x0E03) / UDP(sport=49003, dport=53)
                / q("s21.upd.kaspersky.com", 0x0E03)), caplen=10)
    # 4. IPv4 header length 15 words (60 bytes) in a packet of 48: truncated.
    ip = bytearray(bytes(IP(src=CLIENT, dst=RESOLVER, id=0x0E04) / udp_dns(49004, "s22.upd.kaspersky.com", 0x0E04)))
    ip[0] = 0x4F
    cap.add(_raw_eth(ip[:48]))
    # 5. IPv4 header length 4 words (< 20 bytes): invalid.
    ip = bytearray(bytes(IP(src=CLIENT, dst=RESOLVER, id=0x0E05) / udp_dns(49005, "s22.upd.kaspersky.com", 0x0E05)))
    ip[0] = 0x44
    cap.add(_raw_eth(ip))
    # 6. IPv4 total length 65535 on a 69-byte datagram (the wire length agrees with the
    #    capture): the datagram is cut, so the DNS name is not trusted.
    ip = bytearray(bytes(IP(src=CLIENT, dst=RESOLVER, id=0x0E06) / udp_dns(49006, "s23.upd.kaspersky.com", 0x0E06)))
    ip[2:4] = b"\xff\xff"
    cap.add(_raw_eth(ip))
    # 7. IPv4 total length 10 (< its own header): invalid.
    ip = bytearray(bytes(IP(src=CLIENT, dst=RESOLVER, id=0x0E07) / udp_dns(49007, "s23.upd.kaspersky.com", 0x0E07)))
    ip[2:4] = b"\x00\x0a"
    cap.add(_raw_eth(ip))
    # 8. UDP length 65535 and 9. UDP length 4 (< its header).
    for n, (sport, ulen) in enumerate(((49008, 0xFFFF), (49009, 4))):
        d = bytearray(udp_dns(sport, "s24.upd.kaspersky.com", 0x0E08 + n))
        d[4:6] = struct.pack("!H", ulen)
        ip = bytes(IP(src=CLIENT, dst=RESOLVER, id=0x0E08 + n, proto=17)) + bytes(d)
        ip = bytearray(ip)
        ip[2:4] = struct.pack("!H", len(ip))
        cap.add(_raw_eth(bytes(IP(ip))))
    # 10. TCP data offset 15 words in a 20-byte segment; 11. data offset 2 (< 5).
    for n, (sport, doff) in enumerate(((49010, 15), (49011, 2))):
        seg = bytearray(bytes(TCP(sport=sport, dport=443, flags="PA", seq=1, ack=1)))
        seg[12] = doff << 4
        cap.add(_raw_eth(bytes(IP(src=CLIENT, dst="198.51.100.120", id=0x0E10 + n, proto=6))
                         + bytes(seg)))
    # 12. IPv6 payload length 65535 on a short packet; 13. a hop-by-hop header claiming
    #     (255+1)*8 bytes.
    v6 = bytearray(bytes(IPv6(src="2001:db8:e::10", dst="2001:db8:e::53", hlim=64)
                         / udp_dns(49012, "s25.upd.kaspersky.com", 0x0E12)))
    v6[4:6] = b"\xff\xff"
    cap.add(_raw_eth(v6, ETH_P_IPV6))
    v6 = bytearray(bytes(IPv6(src="2001:db8:e::10", dst="2001:db8:e::53", hlim=64)
                         / IPv6ExtHdrHopByHop() / udp_dns(49013, "s25.upd.kaspersky.com", 0x0E13)))
    v6[41] = 255
    cap.add(_raw_eth(v6, ETH_P_IPV6))
    # 14. DNS counts of 65535 questions and answers with one question there: the parser
    #     stops at the end of the message (a benign name: counting is what is tested).
    msg = bytearray(bytes(q("absurd-counts.example", 0x0E14)))
    msg[4:8] = b"\xff\xff\xff\xff"
    udp(cap, eth, CLIENT, 49014, RESOLVER, 53, bytes(msg), ipid=0x0E14)
    # 15. A TLS record of 65535 bytes and a handshake of 16 MiB around a real ClientHello
    #     for ksc.kaspersky.com, then the connection closes: the SNI is never trusted.
    hello = bytearray(tls_client_hello("ksc.kaspersky.com"))
    hello[3:5] = b"\xff\xff"
    hello[6:9] = b"\xff\xff\xff"
    TcpFlow(cap, eth, CLIENT, 49015, "198.51.100.121", 443).handshake().client(bytes(hello))
    # 16. An IPv4 fragment at offset 65528 with 100 bytes: past 64 KiB, dropped.
    frag = IP(src=CLIENT, dst=RESOLVER, id=0x0E16, proto=17, frag=8191, flags=0) / (b"x" * 100)
    cap.add(eth(frag))
    # 17. IP-in-IP nested eight deep around a DNS query: more tunnels than are followed.
    inner = _ip(CLIENT, RESOLVER, 0x0E17) / UDP(sport=49017, dport=53) / q("s26.upd.kaspersky.com", 0x0E17)
    for _ in range(8):
        inner = IP(src="203.0.113.1", dst="203.0.113.2", id=0x0E17, proto=4) / inner
    cap.add(eth(inner))
    # 18. A well-formed query after all that: s27.upd.kaspersky.com alerts.
    dns_flow(cap, eth, CLIENT, 49018, "s27.upd.kaspersky.com", 0x0E18)
    return {"absurd-lengths/input.pcap": cap.pcap_bytes()}


def _ng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _ng_shb():
    return _ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def _ng_idb(linktype, tsresol=None):
    opts = b""
    if tsresol is not None:
        # if_tsresol (9), one byte, then opt_endofopt.
        opts = struct.pack("<HH", 9, 1) + bytes([tsresol]) + b"\0\0\0" + b"\0\0\0\0"
    return _ng_block(0x00000001, struct.pack("<HHI", linktype, 0, 262144) + opts)


def _ng_epb(iface, ticks, frame):
    hdr = struct.pack("<IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
    return _ng_block(0x00000006, hdr + frame)


def _dns_frame(name, qid, cport, framer=None):
    framer = framer or eth
    return bytes(framer(_ip(CLIENT, RESOLVER, qid) / UDP(sport=cport, dport=53)
                        / dns_query(name, qid)))


def case_pcapng_oddities():
    t0 = (BASE_TS + 1500) * 1000000
    blocks = [_ng_shb(),
              # An unknown block type and a Custom Block (0x00000BAD, PEN 32473) before
              # any interface: skipped.
              _ng_block(0x0BADF00D, b"unknown block body"),
              _ng_block(0x00000BAD, struct.pack("<I", 32473) + b"custom data"),
              _ng_idb(LINKTYPE_ETHERNET),
              # A second Ethernet interface whose timestamps count nanoseconds.
              _ng_idb(LINKTYPE_ETHERNET, tsresol=9),
              _ng_epb(0, t0, _dns_frame("s31.upd.kaspersky.com", 0x0F01, 49101)),
              # Name Resolution Block (type 4) with only opt_endofrecord, Interface
              # Statistics Block (type 5) for interface 1: both skipped.
              _ng_block(0x00000004, b"\0\0\0\0"),
              _ng_block(0x00000005, struct.pack("<III", 1, 0, 0)),
              _ng_epb(1, (t0 + 1000) * 1000, _dns_frame("s32.upd.kaspersky.com", 0x0F02, 49102)),
              _ng_block(0x7EADBEEF, b"another unknown block"),
              _ng_epb(0, t0 + 2000, _dns_frame("www.example.com", 0x0F03, 49103))]
    # A second section (a new SHB) with its own interface: libpcap reads on.
    blocks += [_ng_shb(), _ng_idb(LINKTYPE_ETHERNET),
               _ng_epb(0, t0 + 3000, _dns_frame("s33.upd.kaspersky.com", 0x0F04, 49104))]
    # Interfaces of different link types in one file: Ethernet, then raw IP.
    mixed = [_ng_shb(), _ng_idb(LINKTYPE_ETHERNET), _ng_idb(LINKTYPE_RAW),
             _ng_epb(0, t0, _dns_frame("s34.upd.kaspersky.com", 0x0F05, 49105)),
             _ng_epb(1, t0 + 1000, _dns_frame("s35.upd.kaspersky.com", 0x0F06, 49106, raw)),
             _ng_epb(0, t0 + 2000, _dns_frame("s36.upd.kaspersky.com", 0x0F07, 49107))]
    return {"pcapng-oddities/input.pcapng": b"".join(blocks),
            "pcapng-mixed-linktypes/input.pcapng": b"".join(mixed)}


def case_unsupported_linktype():
    # DLT_USER0 (147): a valid pcap whose link type embargo does not decode.
    cap = Capture(linktype=147, start=1600)
    cap.add(_dns_frame("s37.upd.kaspersky.com", 0x1001, 49201))
    return {"unsupported-linktype/input.pcap": cap.pcap_bytes()}


# ---- flows as real networks make them (docs/flows.md) ----------------------------------

KL_UPDATE_HOST = "s01.upd.kaspersky.com"
KL_UPDATE_REQ = (b"GET /updaters/updater.xml.dif HTTP/1.1\r\nHost: s01.upd.kaspersky.com\r\n"
                 b"User-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n")


def case_flow_reuse():
    """TCP session reuse: a new connection on the tuple of an old one (NAT, pools)."""
    cap = Capture(start=2000)
    srv = "198.51.100.70"
    # 64701: a benign request, closed with FIN; the same ports then open a new connection
    # (a new ISN) whose Kaspersky update request has its Host header in a segment of its own.
    TcpFlow(cap, eth, CLIENT, 64701, srv, 80).handshake() \
        .client(http_get("www.example.org", "/")).server(HTTP_200).close()
    cap.skip(5)
    f = TcpFlow(cap, eth, CLIENT, 64701, srv, 80)
    f.cseq, f.sseq = 0x80001000, 0x90005000
    at = KL_UPDATE_REQ.index(b"Host:")
    f.handshake().pieces(True, split_at(KL_UPDATE_REQ, [at, at + 29])) \
        .server(HTTP_200).close()
    # 64702: the old connection never closed (a NAT gateway forgot it): the new SYN's
    # sequence number is far outside its window.
    TcpFlow(cap, eth, CLIENT, 64702, srv, 80).handshake() \
        .client(http_get("www.example.org", "/")).server(HTTP_200)
    cap.skip(5)
    f = TcpFlow(cap, eth, CLIENT, 64702, srv, 80)
    f.cseq, f.sseq = 0x40002000, 0x10007000
    f.handshake().client(KL_UPDATE_REQ).server(HTTP_200).close()
    # 64703: a retransmitted SYN (the same ISN) is the same connection: one flow, one
    # alert per rule.
    f = TcpFlow(cap, eth, CLIENT, 64703, srv, 80)
    f._pkt(True, "S", seq=f.cseq)
    f.handshake().client(KL_UPDATE_REQ).server(HTTP_200).close()
    # 64704: a late retransmission of the old connection's data (inside its window)
    # after a benign request is not a new connection and raises nothing.
    f = TcpFlow(cap, eth, CLIENT, 64704, srv, 80).handshake() \
        .client(http_get("www.example.org", "/a"))
    f._pkt(True, "PA", http_get("www.example.org", "/a"), seq=f.cseq - 60)
    f.server(HTTP_200).close()
    return {"flow-reuse/input.pcap": cap.pcap_bytes()}


def case_flow_midstream():
    """Connections picked up mid-stream, the server's packet first."""
    cap = Capture(start=2100)
    srv = "198.51.100.71"
    # 3000 -> 8443: both ports unprivileged and the client's the lower one: the ports
    # guess wrong, the ClientHello re-orients the flow.
    f = TcpFlow(cap, eth, CLIENT, 3000, srv, 8443)
    f.server(b"\x17\x03\x03\x00\x05hello")
    f.client(tls_client_hello("ds.kaspersky.com"))
    # 50123 -> 443: the well-known port says which side serves.
    f = TcpFlow(cap, eth, CLIENT, 50123, srv, 443)
    f.server(b"\x17\x03\x03\x00\x05hello")
    f.client(tls_client_hello("ds.kaspersky.com"))
    # 1025 -> 8080: an HTTP response first, then the next request on the connection.
    f = TcpFlow(cap, eth, CLIENT, 1025, srv, 8080)
    f.server(HTTP_200)
    f.client(KL_UPDATE_REQ)
    # 3001 -> 8444: a lookalike SNI after the same re-orientation: nothing.
    f = TcpFlow(cap, eth, CLIENT, 3001, srv, 8444)
    f.server(b"\x17\x03\x03\x00\x05hello")
    f.client(tls_client_hello("ds.kaspersky.com.evil.example"))
    return {"flow-midstream/input.pcap": cap.pcap_bytes()}


def case_flow_short_message():
    """DNS attribution on a flow whose first client message is short and carries no name."""
    cap = Capture(start=2200)
    # 64801: s08.upd.kaspersky.com resolves to 203.0.113.95 for the client.
    dns_flow(cap, eth, CLIENT, 64801, "s08.upd.kaspersky.com", 0x2201, answer="203.0.113.95")
    # 64802: a device protocol on 37777 whose first message is 8 binary bytes, then the
    # server answers: attributed (the message can be neither TLS nor HTTP).
    TcpFlow(cap, eth, CLIENT, 64802, "203.0.113.95", 37777).handshake() \
        .client(b"\xa0\x00\x00\x60\x00\x00\x00\x00").server(b"\xb0\x00\x00\x08ok").close()
    # 64803: a 4-byte first message that could still be a method ("HEAD") and is then
    # followed by one that is not: attributed once the bytes rule HTTP out.
    TcpFlow(cap, eth, CLIENT, 64803, "203.0.113.95", 5000).handshake() \
        .client(b"HEAD").client(b"\x00\x01").close()
    # 64804: the same short message to an address nobody resolved: nothing.
    TcpFlow(cap, eth, CLIENT, 64804, "203.0.113.96", 37777).handshake() \
        .client(b"\xa0\x00\x00\x60\x00\x00\x00\x00").close()
    return {"flow-short-message/input.pcap": cap.pcap_bytes()}


def _segments(data, size=1400):
    return [(i, data[i:i + size]) for i in range(0, len(data), size)]


def case_flow_past_depth():
    """Messages past the 16 KiB stream depth of a keep-alive connection."""
    cap = Capture(start=2300)
    srv = "198.51.100.72"
    big = b"x" * 17000
    post = (b"POST /upload HTTP/1.1\r\nHost: www.example.org\r\n"
            b"Content-Length: %d\r\n\r\n" % len(big)) + big
    at = KL_UPDATE_REQ.index(b"Host:")
    # 64901: a 17 KB POST, then the update request with its Host header in a segment of
    # its own: 4200101 and 4200102, as on a fresh connection.
    f = TcpFlow(cap, eth, CLIENT, 64901, srv, 80).handshake()
    f.pieces(True, _segments(post)).server(HTTP_200)
    f.pieces(True, split_at(KL_UPDATE_REQ, [at, at + 29])).server(HTTP_200).close()
    # 64902: a 20 KB response body, then five benign requests, then the update request
    # with its Host header in a segment of its own.
    body = bytes(range(256)) * 80
    resp = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    f = TcpFlow(cap, eth, CLIENT, 64902, srv, 80).handshake()
    f.client(http_get("www.example.org", "/big")).pieces(False, _segments(resp))
    for i in range(5):
        f.client(http_get("www.example.org", "/%d" % i)).server(HTTP_200)
    f.pieces(True, split_at(KL_UPDATE_REQ, [at, at + 29])).server(HTTP_200).close()
    # 64903: the update request inside a POST body 20 KB in (walked over by its
    # Content-Length): nothing.
    smuggled = b"y" * 20000 + KL_UPDATE_REQ
    post2 = (b"POST /upload HTTP/1.1\r\nHost: www.example.org\r\n"
             b"Content-Length: %d\r\n\r\n" % len(smuggled)) + smuggled
    f = TcpFlow(cap, eth, CLIENT, 64903, srv, 80).handshake()
    f.pieces(True, _segments(post2)).server(HTTP_200)
    f.client(http_get("www.example.org", "/after")).server(HTTP_200).close()
    # 64904: DNS over TCP: 600 benign queries (more than 16 KB), then a Kaspersky one whose
    # length prefix is in a segment of its own.
    f = TcpFlow(cap, eth, CLIENT, 64904, RESOLVER, 53).handshake()
    msgs = b"".join(struct.pack("!H", len(q)) + q for q in
                    (bytes(dns_query("host%d.example.org" % i, 0x3000 + i)) for i in range(600)))
    f.pieces(True, _segments(msgs))
    q = bytes(dns_query("s09.upd.kaspersky.com", 0x3999))
    f.client(struct.pack("!H", len(q))).client(q).close()
    return {"flow-past-depth/input.pcap": cap.pcap_bytes()}


def case_payload_anchor():
    """`^` in a payload regex: the start of the stream direction or of the datagram."""
    cap = Capture(start=2400)
    srv = "198.51.100.73"
    # 65001: the stream starts with the marker: 4299101.
    TcpFlow(cap, eth, CLIENT, 65001, srv, 7000).handshake() \
        .client(b"MAGIC1 hello").close()
    # 65002: the marker 745 bytes in, where the second scan's look-back starts: nothing.
    TcpFlow(cap, eth, CLIENT, 65002, srv, 7000).handshake() \
        .client(b"x" * 745 + b"MAGIC1 " + b"y" * 248).client(b"z" * 100).close()
    # 65003: an anchored pattern 406 bytes wide, in four segments: 4299102 once whole.
    wide = b"HDR" + b"7" * 400 + b"END"
    TcpFlow(cap, eth, CLIENT, 65003, srv, 7000).handshake() \
        .pieces(True, _segments(wide, 120)).close()
    # 65006: an unanchored marker across bytes 2990-3009 of a stream sent in 1,000-byte
    # segments, each acknowledged: a host that reads the stream in stretches as their data is
    # acknowledged (Suricata's raw stream, 2,560-byte chunks) sees it cut in two: 4299103.
    body = bytearray(b"q" * 4000)
    body[2990:3010] = b"SPLITMARK-0123456789"
    flow = TcpFlow(cap, eth, CLIENT, 65006, srv, 7000).handshake()
    for i in range(4):
        flow.client(bytes(body[i * 1000:(i + 1) * 1000]))
    flow.close()
    # 65007: the marker in a segment the capture never shows acknowledged (it ends first): a
    # host reads it when the flow ends (Suricata: its pseudo packet at shutdown): 4299103.
    flow = TcpFlow(cap, eth, CLIENT, 65007, srv, 7000).handshake()
    flow._pkt(True, "PA", b"r" * 300 + b"SPLITMARK-0123456789")
    # 65004: a datagram that starts with the marker: 4299101; 65005: one that does not.
    udp(cap, eth, CLIENT, 65004, srv, 9999, b"MAGIC1 ping", ipid=7)
    udp(cap, eth, CLIENT, 65005, srv, 9999, b"> MAGIC1 ping", ipid=8)
    return {"payload-anchor/input.pcap": cap.pcap_bytes()}


CASES = [case_dns_kaspersky, case_tls_sni, case_http_host, case_ipv6, case_vlan,
         case_ports_cidr, case_linktypes, case_multi_pcap, case_rules_forms, case_clean,
         case_error_inputs, case_robustness, case_vendors_dns_sni, case_tcp_segments,
         case_dns_tcp_frag, case_dns_answers_attribution, case_attribution_split_hello,
         case_http_keepalive, case_tls_cert, case_quic, case_tunnels,
         case_absurd_lengths, case_pcapng_oddities, case_unsupported_linktype,
         case_flow_reuse, case_flow_midstream, case_flow_short_message,
         case_flow_past_depth, case_payload_anchor]



# ---- mirror-port tunnels: ERSPAN types I-III (draft-foschiano-erspan-03), Geneve (RFC 8926) --

def _gre_seq(proto, seq=1):
    """GRE with the S bit (RFC 2890): flags 0x1000, protocol, sequence number."""
    return struct.pack("!HHI", 0x1000, proto, seq)


def erspan1(ip, to_server=True):
    """IPv4 / GRE (no flags, protocol 0x88BE) / Ethernet / IPv4: ERSPAN type I."""
    return eth(_outer(struct.pack("!HH", 0, 0x88BE) + eth(ip, to_server), 47, to_server))


def erspan2(ip, to_server=True, version=1):
    """IPv4 / GRE (S, protocol 0x88BE) / ERSPAN type II (Ver 1, VLAN 10, COS 0, En 0, T 0,
    session 100, index 7) / Ethernet / IPv4."""
    hdr = struct.pack("!HHI", version << 12 | 10, 100, 7)
    return eth(_outer(_gre_seq(0x88BE) + hdr + eth(ip, to_server), 47, to_server))


def erspan3(ip, to_server=True, subheader=True, frame_type=0):
    """IPv4 / GRE (S, protocol 0x22EB) / ERSPAN type III (Ver 2, VLAN 10, session 100,
    timestamp 0x01020304, SGT 0, P 0, FT, HW ID 0, D 0, Gra 1, O) [/ platform-specific
    subheader: platform 3, port 5, upper timestamp 0] / Ethernet (FT 0) or nothing (FT 2)
    / IP."""
    word = frame_type << 10 | 1 << 1 | (1 if subheader else 0)
    hdr = struct.pack("!HHIHH", 2 << 12 | 10, 100, 0x01020304, 0, word)
    if subheader:
        hdr += struct.pack("!II", 3 << 26 | 5, 0)
    inner = bytes(ip) if frame_type == 2 else eth(ip, to_server)
    return eth(_outer(_gre_seq(0x22EB) + hdr + inner, 47, to_server))


def erspan3_ip(ip, to_server=True):
    """ERSPAN type III without the subheader, frame type 2: the IP packet, no Ethernet."""
    return erspan3(ip, to_server, subheader=False, frame_type=2)


def erspan3_nosub(ip, to_server=True):
    """ERSPAN type III without the subheader (O clear), frame type 0."""
    return erspan3(ip, to_server, subheader=False)


def _geneve(payload, proto, options=b"", to_server=True, version=0):
    """IPv4 / UDP 49153 -> 6081 / Geneve: Ver, Opt Len, no flags, protocol, VNI 5001."""
    hdr = struct.pack("!BBHI", version << 6 | len(options) // 4, 0, proto, 5001 << 8) + options
    a, b = (TUN_A, TUN_B) if to_server else (TUN_B, TUN_A)
    return eth(IP(src=a, dst=b, id=0x1900, ttl=64) / UDP(sport=49153, dport=6081)
               / (hdr + payload))


def geneve_eth(ip, to_server=True):
    """Geneve protocol 0x6558 with one option (class 0x0102, type 0x80, 4 bytes) / Ethernet
    / IP."""
    opt = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\xde\xad\xbe\xef"
    return _geneve(eth(ip, to_server), 0x6558, opt, to_server)


def geneve_ip(ip, to_server=True):
    """Geneve protocol 0x0800 or 0x86DD, no options / the IP packet."""
    ip = bytes(ip)
    return _geneve(ip, _ethertype(ip), b"", to_server)


def gre_unknown(ip, to_server=True):
    """IPv4 / GRE protocol 0x88B5 (IEEE 802 local experimental EtherType 1) / Ethernet /
    IPv4: a protocol type nobody decodes, so not followed."""
    return eth(_outer(struct.pack("!HH", 0, 0x88B5) + eth(ip, to_server), 47, to_server))


def erspan2_v3(ip, to_server=True):
    """ERSPAN behind 0x88BE with the S bit but header version 3: not followed."""
    return erspan2(ip, to_server, version=3)


def geneve_v1(ip, to_server=True):
    """Geneve version 1 around Ethernet / IP: not followed."""
    return _geneve(eth(ip, to_server), 0x6558, b"", to_server, version=1)


def case_mirror_tunnels():
    cap = Capture(start=2650)
    tunnels = [erspan1, erspan2, erspan3, erspan3_nosub, erspan3_ip, geneve_eth, geneve_ip]
    for names, port in (("s02.upd.kaspersky.com", 64701),
                        ("s02.upd.kaspersky.com.evil.example", 64711)):
        for i, frame in enumerate(tunnels):
            dns_flow(cap, frame, CLIENT, port + i, names, port + i)
        dns_flow(cap, geneve_ip, "2001:db8::10", port + len(tunnels), names,
                 port + len(tunnels), resolver="2001:db8::53")
    for i, frame in enumerate([gre_unknown, erspan2_v3, geneve_v1]):
        dns_flow(cap, frame, CLIENT, 64721 + i, "s02.upd.kaspersky.com", 64721 + i)
    return {"mirror-tunnels/input.pcap": cap.pcap_bytes()}


CASES.append(case_mirror_tunnels)

# --------------------------------------------------------------------------------------------
# TLS that begins inside another protocol (STARTTLS, AUTH TLS, SSLRequest): tests/pcap/starttls.


def starttls_certificate(subject_cn, subject, issuer, label, issuer_label, serial, ca=False):
    """A DER X.509 v3 certificate for the Ed25519 key derived from label, signed (RFC 8410,
    deterministic signatures) by the key derived from issuer_label; subject and issuer are
    lists of (attribute name, value) in order, e.g. [("C", "CN"), ("CN", "x")]. A leaf
    gets subject_cn as its one SAN dNSName. Fixed validity (2024-01-01 to 2034-01-01), so
    the bytes are the same on every run. Needs python3-cryptography."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID
    oids = {"C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME,
            "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME}

    def name(rdns):
        return x509.Name([x509.NameAttribute(oids[k], v) for k, v in rdns])

    def key(lbl):
        return Ed25519PrivateKey.from_private_bytes(_fixed_bytes(lbl + "/ed25519", 32))

    public = key(label).public_key()
    b = (x509.CertificateBuilder()
         .subject_name(name(subject)).issuer_name(name(issuer)).public_key(public)
         .serial_number(serial)
         .not_valid_before(datetime.datetime(2024, 1, 1))
         .not_valid_after(datetime.datetime(2034, 1, 1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject_cn)]),
                            critical=False)
    cert = b.sign(key(issuer_label), algorithm=None)
    return cert.public_bytes(serialization.Encoding.DER)


HUAWEI_WNP_CA = [("C", "CN"), ("O", "Huawei"), ("OU", "Wireless Network Product Line"),
                 ("CN", "Huawei Wireless Network Product CA")]


def ldap_message(msg_id, op):
    """An LDAPMessage (RFC 4511 4.2): SEQUENCE { messageID INTEGER, protocolOp }, short-form
    lengths (every message here is under 128 bytes)."""
    body = b"\x02\x01" + bytes([msg_id]) + op
    return b"\x30" + bytes([len(body)]) + body


def case_starttls():
    cap = Capture(start=2800)
    hello = lambda name, label: tls_client_hello(name, tls13=False, label=label)  # noqa: E731

    # 65301: FTPS to a Huawei wireless controller. AUTH TLS answered 234 (RFC 4217); the
    # server's TLS 1.2 flight carries OSS.huawei.com issued by Huawei Wireless Network
    # Product CA (issuer 4200220), in 200-byte records and 300-byte segments.
    ca = starttls_certificate("", HUAWEI_WNP_CA, HUAWEI_WNP_CA, "huawei-wnp-ca", "huawei-wnp-ca",
                              0x2801, ca=True)
    leaf = starttls_certificate("OSS.huawei.com",
                                [("C", "CN"), ("O", "Huawei"), ("CN", "OSS.huawei.com")],
                                HUAWEI_WNP_CA, "oss.huawei.com", "huawei-wnp-ca", 0x2802)
    flight = tls12_server_flight("oss.huawei.com", [leaf, ca])
    records = tls_records(b"\x16\x03\x03" + _vec16(flight),
                          list(range(200, len(flight), 200)), version=b"\x03\x03")
    TcpFlow(cap, eth, CLIENT, 65301, "198.51.100.201", 21).handshake() \
        .server(b"220 FTP service ready.\r\n") \
        .client(b"AUTH TLS\r\n") \
        .server(b"234 AUTH command ok. Expecting TLS Negotiation.\r\n") \
        .client(hello(None, "starttls-ftp")) \
        .pieces(False, split_at(records, range(300, len(records), 300))) \
        .close()

    # 65302: SMTP, EHLO then STARTTLS answered 220 (RFC 3207); SNI ds.kaspersky.com.
    TcpFlow(cap, eth, CLIENT, 65302, "198.51.100.202", 587).handshake() \
        .server(b"220 mail.example.net ESMTP\r\n") \
        .client(b"EHLO client.example\r\n") \
        .server(b"250-mail.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
                b"250 8BITMIME\r\n") \
        .client(b"STARTTLS\r\n") \
        .server(b"220 2.0.0 Ready to start TLS\r\n") \
        .client(hello("ds.kaspersky.com", "starttls-smtp")).close()

    # 65303: IMAP, CAPABILITY then "a002 STARTTLS" answered "a002 OK" (RFC 2595, RFC 9051).
    TcpFlow(cap, eth, CLIENT, 65303, "198.51.100.203", 143).handshake() \
        .server(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n") \
        .client(b"a001 CAPABILITY\r\n") \
        .server(b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK done\r\n") \
        .client(b"a002 STARTTLS\r\n") \
        .server(b"a002 OK Begin TLS negotiation now\r\n") \
        .client(hello("ds.kaspersky.com", "starttls-imap")).close()

    # 65304: POP3, CAPA (multi-line) then STLS answered +OK (RFC 2595).
    TcpFlow(cap, eth, CLIENT, 65304, "198.51.100.204", 110).handshake() \
        .server(b"+OK POP3 server ready\r\n") \
        .client(b"CAPA\r\n") \
        .server(b"+OK Capability list follows\r\nSTLS\r\nUSER\r\n.\r\n") \
        .client(b"STLS\r\n") \
        .server(b"+OK Begin TLS negotiation\r\n") \
        .client(hello("ds.kaspersky.com", "starttls-pop3")).close()

    # 65305: XMPP, stream headers and features, <starttls/> answered <proceed/> (RFC 6120).
    TcpFlow(cap, eth, CLIENT, 65305, "198.51.100.205", 5222).handshake() \
        .client(b"<?xml version='1.0'?><stream:stream to='example.net' version='1.0' "
                b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>") \
        .server(b"<?xml version='1.0'?><stream:stream from='example.net' id='c2s-1' "
                b"version='1.0' xmlns='jabber:client' "
                b"xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
                b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                b"</stream:features>") \
        .client(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") \
        .server(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") \
        .client(hello("ds.kaspersky.com", "starttls-xmpp")).close()

    # 65306: PostgreSQL SSLRequest (Int32 8, Int32 80877103) answered 'S'.
    TcpFlow(cap, eth, CLIENT, 65306, "198.51.100.206", 5432).handshake() \
        .client(struct.pack("!II", 8, 80877103)) \
        .server(b"S") \
        .client(hello("ds.kaspersky.com", "starttls-pgsql")).close()

    # 65307: LDAP StartTLS extended operation (RFC 4511 4.14), resultCode success.
    oid = b"1.3.6.1.4.1.1466.20037"
    TcpFlow(cap, eth, CLIENT, 65307, "198.51.100.207", 389).handshake() \
        .client(ldap_message(1, b"\x77" + bytes([len(oid) + 2]) + b"\x80" + bytes([len(oid)])
                             + oid)) \
        .server(ldap_message(1, b"\x78\x07\x0a\x01\x00\x04\x00\x04\x00")) \
        .client(hello("ds.kaspersky.com", "starttls-ldap")).close()

    # 65308: MySQL, HandshakeV10 offering CLIENT_SSL (0x0800), the client's 32-byte
    # SSLRequest (sequence 1, CLIENT_SSL | CLIENT_PROTOCOL_41), TLS at once.
    greeting = (b"\x0a" + b"8.0.36\x00" + struct.pack("<I", 7) + b"abcdefgh" + b"\x00"
                + struct.pack("<H", 0xFFFF) + b"\xff" + struct.pack("<HH", 2, 0xDFFF)
                + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00" + b"caching_sha2_password\x00")
    ssl_request = struct.pack("<IIB", 0x000AAA0D, 1 << 24, 255) + b"\x00" * 23
    TcpFlow(cap, eth, CLIENT, 65308, "198.51.100.208", 3306).handshake() \
        .server(struct.pack("<I", len(greeting))[:3] + b"\x00" + greeting) \
        .client(struct.pack("<I", len(ssl_request))[:3] + b"\x01" + ssl_request
                + hello("ds.kaspersky.com", "starttls-mysql")).close()

    # Negatives. 65311: SMTP STARTTLS refused with 454; the client sends ClientHello bytes
    # for ds.kaspersky.com anyway: no TLS, nothing.
    TcpFlow(cap, eth, CLIENT, 65311, "198.51.100.211", 25).handshake() \
        .server(b"220 mail.example.net ESMTP\r\n") \
        .client(b"EHLO client.example\r\n") \
        .server(b"250-mail.example.net\r\n250 STARTTLS\r\n") \
        .client(b"STARTTLS\r\n") \
        .server(b"454 4.7.0 TLS not available due to local problem\r\n") \
        .client(hello("ds.kaspersky.com", "starttls-refused")).close()
    # 65312: plaintext SMTP naming vendors in every line, STARTTLS only as text: nothing.
    TcpFlow(cap, eth, CLIENT, 65312, "198.51.100.212", 25).handshake() \
        .server(b"220 smtp.huawei.com ESMTP STARTTLS ds.kaspersky.com\r\n") \
        .client(b"EHLO ds.kaspersky.com\r\n") \
        .server(b"250-smtp.huawei.com\r\n250 STARTTLS\r\n") \
        .client(b"NOOP STARTTLS ds.kaspersky.com\r\n") \
        .server(b"250 2.0.0 OK\r\n") \
        .client(b"MAIL FROM:<update@kaspersky.com>\r\n") \
        .server(b"250 2.1.0 Ok\r\n") \
        .client(b"QUIT\r\n") \
        .server(b"221 2.0.0 Bye\r\n").close()
    # 65313: FTP where a 234 answers FEAT, not AUTH TLS (never sent): the ClientHello that
    # follows is not TLS after an upgrade: nothing.
    TcpFlow(cap, eth, CLIENT, 65313, "198.51.100.213", 21).handshake() \
        .server(b"220 FTP service ready.\r\n") \
        .client(b"FEAT\r\n") \
        .server(b"234 AUTH TLS ok\r\n") \
        .client(hello("ds.kaspersky.com", "starttls-unasked")).close()
    # 65314: PostgreSQL SSLRequest refused with 'N', then a ClientHello: nothing.
    TcpFlow(cap, eth, CLIENT, 65314, "198.51.100.214", 5432).handshake() \
        .client(struct.pack("!II", 8, 80877103)) \
        .server(b"N") \
        .client(hello("ds.kaspersky.com", "starttls-pg-refused")).close()
    return {"starttls/input.pcap": cap.pcap_bytes()}


CASES.append(case_starttls)


def case_precision_attribution():
    """DNS attribution only for connections that name no server (docs/flows.md): a vendor
    name resolving into a shared CDN address does not blame the other sites on it."""
    cap = Capture(start=2500)
    client = "192.0.2.20"
    cdn = "23.50.1.1"
    # 65401: the TikTok CDN alias resolves to an Akamai edge address.
    dns_flow(cap, eth, client, 65401, "p16-tiktokcdn-com.akamaized.net", 0x2501, answer=cdn)
    # 65402: TLS to that address naming www.apple.com: judged by its own name, nothing.
    TcpFlow(cap, eth, client, 65402, cdn, 443).handshake() \
        .client(tls_client_hello("www.apple.com")).close()
    # 65403: TLS with no SNI at all: attributed, confidence low, flow_name null.
    TcpFlow(cap, eth, client, 65403, cdn, 443).handshake() \
        .client(tls_client_hello(None, label="precision-nosni")).close()
    # 65404: HTTP whose Host is the address itself: no name, attributed.
    TcpFlow(cap, eth, client, 65404, cdn, 80).handshake() \
        .client(http_get(cdn, "/v1/feed")).server(HTTP_200).close()
    # 65405: HTTP naming another site: nothing.
    TcpFlow(cap, eth, client, 65405, cdn, 80).handshake() \
        .client(http_get("www.example.org", "/")).server(HTTP_200).close()
    # 65406: Encrypted Client Hello: the outer SNI is the CDN's public name, not the
    # server's: attributed.
    TcpFlow(cap, eth, client, 65406, cdn, 443).handshake() \
        .client(tls_client_hello("cloudflare-ech.com", ech=True)).close()
    # 65407: s01.upd.kaspersky.com (4200101, confidence high) resolves into Kaspersky's own
    # network (AS200107, rule 4200140); a flow without SNI to it is attributed at the
    # rule's own confidence.
    dns_flow(cap, eth, client, 65407, "s01.upd.kaspersky.com", 0x2502, answer="185.85.12.10")
    TcpFlow(cap, eth, client, 65408, "185.85.12.10", 443).handshake() \
        .client(tls_client_hello(None, label="precision-kl")).close()
    # 65409-65411: a shared edge: the TikTok alias and www.apple.com both answer with
    # 23.50.1.2; a connection with no SNI to it is attributed to nobody.
    dns_flow(cap, eth, client, 65409, "p16-tiktokcdn-com.akamaized.net", 0x2503,
             answer="23.50.1.2")
    dns_flow(cap, eth, client, 65410, "www.apple.com", 0x2504, answer="23.50.1.2")
    TcpFlow(cap, eth, client, 65411, "23.50.1.2", 443).handshake() \
        .client(tls_client_hello(None, label="precision-shared")).close()
    # 65412-65414: two domains of one vendor on one address are not a shared edge:
    # attributed (kaspersky.com and kaspersky-labs.com, both Kaspersky's).
    dns_flow(cap, eth, client, 65412, "s02.upd.kaspersky.com", 0x2505, answer="185.85.12.20")
    dns_flow(cap, eth, client, 65413, "dc1.ksn.kaspersky-labs.com", 0x2506,
             answer="185.85.12.20")
    TcpFlow(cap, eth, client, 65414, "185.85.12.20", 443).handshake() \
        .client(tls_client_hello(None, label="precision-kl2")).close()
    # 65415: QUIC whose ClientHello offers ECH (outer SNI cloudflare-ech.com) to the
    # TikTok alias's address: attributed, as over TLS (65406). 65416: QUIC naming
    # www.apple.com there, no ECH: judged by its own name, nothing.
    for port, sni, ech in ((65415, "cloudflare-ech.com", True), (65416, "www.apple.com", False)):
        hs = tls_client_hello(sni, ech=ech, label="precision-quic-%d" % port)[5:]
        dcid = struct.pack("!Q", 0x0c0c0c0c00000000 | port)
        udp(cap, eth, client, port, cdn, 443,
            quic_v1_client_initial(dcid, 0, quic_crypto_frame(0, hs)), ipid=port & 0xffff)
    return {"precision-attribution/input.pcap": cap.pcap_bytes()}


CASES.append(case_precision_attribution)


def case_precision_ports():
    """Port and address rules need a conversation (docs/flows.md): scans, unanswered SYNs
    and one-way datagrams raise nothing; a one-way TCP stream says so."""
    cap = Capture(start=2600)
    scanner, target = "172.16.0.8", "203.0.113.60"
    # 55001: an nmap SYN scan of 14000/tcp (KSC Network Agent): SYN, SYN+ACK, RST.
    f = TcpFlow(cap, eth, scanner, 55001, target, 14000)
    f._pkt(True, "S")
    f._pkt(False, "SA")
    f._pkt(True, "R")
    # 55002: a SYN to 13000/tcp nobody answers, sent twice.
    f = TcpFlow(cap, eth, scanner, 55002, target, 13000)
    f._pkt(True, "S", seq=f.cseq)
    f._pkt(True, "S", seq=f.cseq)
    # 30000 -> 13000/udp: a one-way datagram (an IPv6 tunnel test): nothing.
    udp(cap, eth, "2001:db8:30::1", 30000, "2001:db8:30::2", 13000, b"\x00" * 40, ipid=9)
    # 55003: a completed handshake to 13000/tcp: 4200130, confidence low, evidence handshake.
    TcpFlow(cap, eth, CLIENT, 55003, target, 13000).handshake() \
        .client(b"\x00\x00\x00\x10agent-hello-xxx").server(b"\x00\x00\x00\x02ok").close()
    # 55004: a one-way SPAN: three segments to 13000/tcp, nothing back, no handshake:
    # 4200130 with evidence "one direction only".
    f = TcpFlow(cap, eth, CLIENT, 55004, target, 13000)
    for i in range(3):
        f._pkt(True, "PA", b"\x00\x00\x00\x08data-%03d" % i)
    return {"precision-ports/input.pcap": cap.pcap_bytes()}


CASES.append(case_precision_ports)


def case_threads_placement():
    """What -j N must keep together (issue 16): a DNS response in IP fragments with its
    query whole, and a device service on a port above the client's (Dahua DVRIP, 37777,
    from 33000), reached at an address a vendor name resolved to. Four clients, so that
    for any placement some pair of a client and its server land on different workers."""
    cap = Capture(start=2700)
    for i in range(4):
        client = "192.0.2.%d" % (30 + i)
        server = "203.0.113.%d" % (100 + i)
        qid = 0x2700 + i
        # 65501+i: the query whole, the response (A server) in two IPv4 fragments, the
        # second first: the flow's packets come whole and in pieces.
        name = "p2p%d.easy4ipcloud.com" % i
        udp(cap, eth, client, 65501 + i, RESOLVER, 53, dns_query(name, qid), ipid=qid)
        l4 = _udp_bytes(RESOLVER, client, 53, 65501 + i, dns_response(name, qid, server))
        for p in ipv4_fragments(RESOLVER, client, qid + 0x100, l4, split_at(l4, [24])[::-1]):
            cap.add(eth(p, to_server=False))
        # 33000+i -> server:37777: no name of its own; DVRIP's first bytes are binary.
        TcpFlow(cap, eth, client, 33000 + i, server, 37777).handshake() \
            .client(b"\xa0\x00\x00\x60" + bytes(28)).server(b"\xb0\x00\x00\x78" + bytes(28)) \
            .close()
    return {"threads-placement/input.pcap": cap.pcap_bytes()}


CASES.append(case_threads_placement)


def case_attribution_other_protocols():
    """DNS attribution of connections whose protocol names no server, whichever side speaks
    first (docs/flows.md, "DNS attribution"; in Suricata 8's transactions mode these have no
    transaction to decide it on: docs/suricata.md, "DNS attribution of flows without
    transactions")."""
    cap = Capture(start=2750)
    srv = "203.0.113.97"
    dns_flow(cap, eth, CLIENT, 64810, "s08.upd.kaspersky.com", 0x2750, answer=srv)
    # 64811: the server's banner first (SSH, RFC 4253 section 4.2), then the client's:
    # attributed at the client's first message.
    TcpFlow(cap, eth, CLIENT, 64811, srv, 22).handshake() \
        .server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").client(b"SSH-2.0-OpenSSH_9.6\r\n") \
        .close()
    # 64812: the server's banner, and the client never says a word: nothing to attribute.
    TcpFlow(cap, eth, CLIENT, 64812, srv, 2222).handshake() \
        .server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").close()
    # 64813: a UDP protocol Suricata does not know (binary datagram and its answer).
    udp(cap, eth, CLIENT, 64813, srv, 9999, b"\x01\x00\x00\x10" + bytes(12), ipid=0x2751)
    udp(cap, eth, srv, 9999, CLIENT, 64813, b"\x02\x00\x00\x04ok", ipid=0x2752,
        to_server=False)
    # 64814: TLS to the same address with its own SNI, another site's: judged by that name
    # (a shared address is not held against it), not attributed.
    TcpFlow(cap, eth, CLIENT, 64814, srv, 443).handshake() \
        .client(tls_client_hello("www.example.org")).close()
    return {"attribution-other-protocols/input.pcap": cap.pcap_bytes()}


CASES.append(case_attribution_other_protocols)



# --------------------------------------------------------------------------------------------
# Devices: what banned equipment says of itself (docs/rules.md, "Devices"). Each message below
# follows a documented layout, cited where it is built; the vendor strings are those the
# pack's rules cite (Nmap's nmap-service-probes, Rapid7 Recog, UniversalScanner).


def eth_from(mac):
    """Ethernet framing whose sender (either direction) is the given MAC address."""
    mac = bytes.fromhex(mac.replace(":", ""))

    def frame(ip, to_server=True):
        ip = bytes(ip)
        return ROUTER_MAC + mac + struct.pack("!H", _ethertype(ip)) + ip
    return frame


def http_response(server, body=b"", ctype=b"text/html"):
    head = b"HTTP/1.1 200 OK\r\n"
    if server:
        head += b"Server: " + server + b"\r\n"
    head += b"Content-Type: " + ctype + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head + body


def soap_post(path, body, host="192.0.2.64"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: " + host.encode() +
            b"\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


# ONVIF Device Management Service, GetDeviceInformation (ONVIF Device Management Service
# Specification, section 8.3.1): Manufacturer, Model, FirmwareVersion, SerialNumber,
# HardwareId in the tds namespace.
ONVIF_GET_INFO = (b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
                  b'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
                  b'<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
                  b'</s:Body></s:Envelope>')


def onvif_info(maker, model):
    return (b'<?xml version="1.0" encoding="UTF-8"?><env:Envelope '
            b'xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Body>'
            b'<tds:GetDeviceInformationResponse><tds:Manufacturer>' + maker +
            b'</tds:Manufacturer><tds:Model>' + model + b'</tds:Model>'
            b'<tds:FirmwareVersion>V5.5.0 build 170725</tds:FirmwareVersion>'
            b'<tds:SerialNumber>0000000000</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId>'
            b'</tds:GetDeviceInformationResponse></env:Body></env:Envelope>')


def cwmp_inform(maker, oui, product):
    """A TR-069 Inform (TR-069 Amendment 6, section A.3.3.1): DeviceId first."""
    return (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
            b'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
            b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><SOAP-ENV:Header><cwmp:ID '
            b'SOAP-ENV:mustUnderstand="1">1</cwmp:ID></SOAP-ENV:Header><SOAP-ENV:Body>'
            b'<cwmp:Inform><DeviceId><Manufacturer>' + maker + b'</Manufacturer><OUI>' + oui +
            b'</OUI><ProductClass>' + product + b'</ProductClass><SerialNumber>48575443'
            b'</SerialNumber></DeviceId><Event><EventStruct><EventCode>2 PERIODIC</EventCode>'
            b'</EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes></cwmp:Inform>'
            b'</SOAP-ENV:Body></SOAP-ENV:Envelope>')


def case_device_banners():
    cap = Capture(start=3000)
    # 1. A Hikvision camera's web server (Nmap: "App-webs/"): 4200450, the camera is the host.
    TcpFlow(cap, eth, CLIENT, 56001, "192.0.2.60", 80).handshake() \
        .client(http_get("192.0.2.60", "/doc/page/login.asp")) \
        .server(http_response(b"App-webs/", b"<html><head><title>login</title></head></html>")) \
        .close()
    # 2. A generic server banner: nothing.
    TcpFlow(cap, eth, CLIENT, 56002, "192.0.2.61", 80).handshake() \
        .client(http_get("192.0.2.61", "/")).server(http_response(b"nginx/1.22.1", b"ok")) \
        .close()
    # 3. A lookalike: the rule wants the whole value "Hikvision-Webs": nothing.
    TcpFlow(cap, eth, CLIENT, 56003, "192.0.2.61", 8080).handshake() \
        .client(http_get("192.0.2.61", "/")) \
        .server(http_response(b"NotHikvision-Webs-Proxy", b"ok")).close()
    # 4. A ZTE router's web server (Recog http_servers.xml): 4200350, headers and body in
    # separate segments (the body is waited for).
    TcpFlow(cap, eth, CLIENT, 56004, "192.0.2.63", 80).handshake() \
        .client(http_get("192.0.2.63", "/")) \
        .server(b"HTTP/1.1 200 OK\r\nServer: Mini web server 1.0 ZTE corp 2005.\r\n"
                b"Content-Length: 18\r\n\r\n") \
        .server(b"<html>ZXHN</html>\n").close()
    # 5. RTSP (RFC 2326) OPTIONS answered by a Dahua camera (Recog rtsp_servers.xml): 4200550.
    TcpFlow(cap, eth, CLIENT, 56005, "192.0.2.62", 554).handshake() \
        .client(b"OPTIONS rtsp://192.0.2.62:554/cam/realmonitor RTSP/1.0\r\nCSeq: 1\r\n\r\n") \
        .server(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Dahua Rtsp Server\r\n"
                b"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n").close()
    # 6. Another RTSP server: nothing.
    TcpFlow(cap, eth, CLIENT, 56006, "192.0.2.61", 8554).handshake() \
        .client(b"OPTIONS rtsp://192.0.2.61:8554/test RTSP/1.0\r\nCSeq: 1\r\n\r\n") \
        .server(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: GStreamer RTSP server\r\n\r\n").close()
    # 7. ONVIF GetDeviceInformation answered by a Hikvision camera: 4200451 (onvif.device).
    TcpFlow(cap, eth, CLIENT, 56007, "192.0.2.64", 80).handshake() \
        .client(soap_post(b"/onvif/device_service", ONVIF_GET_INFO)) \
        .server(http_response(b"", onvif_info(b"HIKVISION", b"DS-2CD2142FWD-I"),
                              b"application/soap+xml; charset=utf-8")).close()
    # 8. The same answer from another maker: nothing.
    TcpFlow(cap, eth, CLIENT, 56008, "192.0.2.65", 80).handshake() \
        .client(soap_post(b"/onvif/device_service", ONVIF_GET_INFO, "192.0.2.65")) \
        .server(http_response(b"", onvif_info(b"AXIS", b"P3245-LVE"),
                              b"application/soap+xml; charset=utf-8")).close()
    # 9. A Huawei ONT's TR-069 Inform to its ACS: 4200255 (cwmp.oui); the CPE, the client of
    # this flow, is the device.
    TcpFlow(cap, eth, "192.0.2.66", 56009, "198.51.100.90", 7547).handshake() \
        .client(soap_post(b"/acs", cwmp_inform(b"Huawei Technologies Co., Ltd", b"00E0FC",
                                               b"HG8245H"), "acs.example.net")) \
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").close()
    # 10. An Inform from another maker: nothing.
    TcpFlow(cap, eth, "192.0.2.67", 56010, "198.51.100.90", 7547).handshake() \
        .client(soap_post(b"/acs", cwmp_inform(b"Technicolor", b"00147F", b"TG789vac"),
                          "acs.example.net")) \
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").close()
    return {"device-banners/input.pcap": cap.pcap_bytes()}


def ssdp_notify(server, location):
    """UPnP Device Architecture 2.0, section 1.2.2: ssdp:alive."""
    return (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
            b"LOCATION: " + location + b"\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
            b"SERVER: " + server + b"\r\nUSN: uuid:00000000-0000-1000-0000-000000000001::"
            b"upnp:rootdevice\r\n\r\n")


def wsd(action, body):
    """WS-Discovery 2005/04 as ONVIF Core (section 7.3) uses it."""
    return (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
            b'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            b'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
            b'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header>'
            b'<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/' + action +
            b'</wsa:Action></SOAP-ENV:Header><SOAP-ENV:Body>' + body +
            b'</SOAP-ENV:Body></SOAP-ENV:Envelope>')


def sadp_match(desc, serial):
    """Hikvision SADP answer, fields as UniversalScanner's Hikvision.cs reads them."""
    return (b'<?xml version="1.0" encoding="UTF-8"?><ProbeMatch><Uuid>'
            b'7A3BB0C4-1E39-4CB5-9A4F-0D1A2B3C4D5E</Uuid><Types>inquiry</Types>'
            b'<DeviceType>138153</DeviceType><DeviceDescription>' + desc +
            b'</DeviceDescription><DeviceSN>' + serial + b'</DeviceSN><CommandPort>8000'
            b'</CommandPort><HttpPort>80</HttpPort><MAC>44-19-b6-00-00-72</MAC><IPv4Address>'
            b'192.0.2.72</IPv4Address><DHCP>false</DHCP><SoftwareVersion>V5.5.0build 170725'
            b'</SoftwareVersion><Activated>true</Activated></ProbeMatch>')


def dhip(body):
    """Dahua DHIP: 32-byte header (0x20, "DHIP", lengths at 0x10 and 0x18), JSON body."""
    hdr = struct.pack("<I4s8xI4xI4x", 0x20, b"DHIP", len(body), len(body))
    return hdr + body


def sip(first, ua_name, ua):
    return (first + b"\r\nVia: SIP/2.0/UDP 192.0.2.74:5060;branch=z9hG4bK776asdhds\r\n"
            b"From: <sip:100@192.0.2.74>;tag=1928301774\r\nTo: <sip:100@192.0.2.74>\r\n"
            b"Call-ID: a84b4c76e66710@192.0.2.74\r\nCSeq: 1 REGISTER\r\n" + ua_name + b": " +
            ua + b"\r\nContent-Length: 0\r\n\r\n")


def snmp_response(community, sysdescr, sysoid, req_id):
    from scapy.asn1.asn1 import ASN1_OID, ASN1_STRING
    from scapy.layers.snmp import SNMP, SNMPresponse, SNMPvarbind
    pdu = SNMPresponse(id=req_id, varbindlist=[
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.1.0"), value=ASN1_STRING(sysdescr)),
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.2.0"), value=ASN1_OID(sysoid))])
    return bytes(SNMP(version=1, community=community, PDU=pdu))


def snmp_inform(community, sysdescr, sysoid, req_id):
    from scapy.asn1.asn1 import ASN1_OID, ASN1_STRING
    from scapy.layers.snmp import SNMP, SNMPinform, SNMPvarbind
    pdu = SNMPinform(id=req_id, varbindlist=[
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.1.0"), value=ASN1_STRING(sysdescr)),
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.2.0"), value=ASN1_OID(sysoid))])
    return bytes(SNMP(version=1, community=community, PDU=pdu))


def snmp_get(community, req_id):
    from scapy.asn1.asn1 import ASN1_NULL, ASN1_OID
    from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
    pdu = SNMPget(id=req_id, varbindlist=[
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.1.0"), value=ASN1_NULL(0)),
        SNMPvarbind(oid=ASN1_OID("1.3.6.1.2.1.1.2.0"), value=ASN1_NULL(0))])
    return bytes(SNMP(version=1, community=community, PDU=pdu))


def dhcp_request(mac, xid, requested, vendor_class, hostname):
    from scapy.layers.dhcp import BOOTP, DHCP
    opts = [("message-type", "request"), ("requested_addr", requested),
            ("vendor_class_id", vendor_class), ("hostname", hostname), "end"]
    return bytes(BOOTP(op=1, xid=xid, chaddr=bytes.fromhex(mac.replace(":", "")) + b"\0" * 10,
                       flags=0x8000) / DHCP(options=opts))


def case_device_discovery():
    cap = Capture(start=3100)
    # 1. SSDP ssdp:alive from a Huawei home gateway (Recog): 4200250.
    udp(cap, eth, "192.0.2.70", 1900, "239.255.255.250", 1900,
        ssdp_notify(b"Linux UPnP/1.0 Huawei-ATP-IGD", b"http://192.0.2.70:37215/desc.xml"),
        ipid=1)
    # 2. A client's M-SEARCH (no SERVER) and another maker's alive: nothing.
    udp(cap, eth, CLIENT, 50500, "239.255.255.250", 1900,
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
        b"MX: 1\r\nST: ssdp:all\r\n\r\n", ipid=2)
    udp(cap, eth, "192.0.2.77", 1900, "239.255.255.250", 1900,
        ssdp_notify(b"Linux/3.14 UPnP/1.0 IpBridge/1.26.0", b"http://192.0.2.77:80/desc.xml"),
        ipid=3)
    # 3. WS-Discovery ProbeMatches of a Dahua camera: 4200551 (onvif.scope).
    udp(cap, eth, "192.0.2.71", 3702, CLIENT, 50501, wsd(b"ProbeMatches",
        b"<d:ProbeMatches><d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types>"
        b"<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Dahua "
        b"onvif://www.onvif.org/hardware/IPC-HFW2228M</d:Scopes><d:XAddrs>"
        b"http://192.0.2.71/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches>"),
        ipid=4, to_server=False)
    # 4. A Probe that asks for Hikvision scopes is a question: nothing.
    udp(cap, eth, CLIENT, 50502, "239.255.255.250", 3702, wsd(b"Probe",
        b"<d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>"
        b"onvif://www.onvif.org/name/HIKVISION</d:Scopes></d:Probe>"), ipid=5)
    # 5. SADP: a client's Probe (nothing), a Hikvision camera's ProbeMatch (4200452).
    udp(cap, eth, CLIENT, 50503, "239.255.255.250", 37020,
        b'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>'
        b'9D2B1F0E-5C4A-4E3B-8F7A-6B5C4D3E2F1A</Uuid><Types>inquiry</Types></Probe>', ipid=6)
    udp(cap, eth, "192.0.2.72", 37020, "239.255.255.250", 37020,
        sadp_match(b"DS-2CD2032-I", b"DS-2CD2032-I20140501CCCH000000000"), ipid=7)
    # 6. DHIP: the search (nothing) and a Dahua answer (4200552).
    udp(cap, eth, CLIENT, 50504, "239.255.255.251", 37810,
        dhip(b'{"method":"DHDiscover.search","params":{"mac":"","uni":0}}\n'), ipid=8)
    udp(cap, eth, "192.0.2.73", 37810, CLIENT, 50504,
        dhip(b'{"mac":"3c:ef:8c:00:00:73","method":"client.notifyDevInfo","params":'
             b'{"deviceInfo":{"DeviceType":"IPC-HFW2431S-S-S2","SerialNo":"5J0000000000000",'
             b'"Vendor":"General","IPv4Address":{"IPAddress":"192.0.2.73"}}}}\n'),
        ipid=9, to_server=False)
    # 7. SIP: a Huawei gateway's REGISTER (4200252), a softphone's (nothing), a ZTE home
    # gateway's 200 OK (4200351).
    udp(cap, eth, "192.0.2.74", 5060, "198.51.100.74", 5060,
        sip(b"REGISTER sip:198.51.100.74 SIP/2.0", b"User-Agent",
            b"Huawei-HomeGateway/V100R001"), ipid=10)
    udp(cap, eth, CLIENT, 5062, "198.51.100.74", 5060,
        sip(b"REGISTER sip:198.51.100.74 SIP/2.0", b"User-Agent", b"Linphone/5.2.0"), ipid=11)
    udp(cap, eth, "192.0.2.78", 5060, "198.51.100.74", 5060,
        sip(b"SIP/2.0 200 OK", b"Server", b"ZXHN H218N/V1.02.01_ERS"), ipid=12)
    # 8. SNMP: a GetRequest (nothing), a Huawei switch's GetResponse (4200253), a Cisco
    # answer (nothing), a Hikvision one (4200453) and an enterprise number that only begins
    # like Huawei's (201100: nothing).
    udp(cap, eth, CLIENT, 50505, "192.0.2.75", 161, snmp_get("public", 1), ipid=13)
    udp(cap, eth, "192.0.2.75", 161, CLIENT, 50505, snmp_response(
        "public", "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.180 "
        "(CE6870EI V200R005C10SPC800)\r\nCopyright (C) 2012-2018 Huawei Technologies Co., Ltd.",
        "1.3.6.1.4.1.2011.2.239.11", 1), ipid=14, to_server=False)
    udp(cap, eth, "192.0.2.79", 161, CLIENT, 50506, snmp_response(
        "public", "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE",
        "1.3.6.1.4.1.9.1.1208", 2), ipid=15, to_server=False)
    udp(cap, eth, "192.0.2.80", 161, CLIENT, 50507, snmp_response(
        "public", "DS-2CD2142FWD-I", "1.3.6.1.4.1.39165.1.1", 3), ipid=16, to_server=False)
    udp(cap, eth, "192.0.2.81", 161, CLIENT, 50508, snmp_response(
        "public", "appliance", "1.3.6.1.4.1.201100.1", 4), ipid=17, to_server=False)
    # 9. DHCP: a Huawei handset's REQUEST (4200254; the host is the address it asks for) and
    # another Android's (nothing).
    udp(cap, eth, "0.0.0.0", 68, "255.255.255.255", 67, dhcp_request(
        "02:00:00:00:00:76", 0x3903F326, "192.0.2.76", b"HUAWEI:android:ELE-L29",
        b"HUAWEI_P30"), ipid=18)
    udp(cap, eth, "0.0.0.0", 68, "255.255.255.255", 67, dhcp_request(
        "02:00:00:00:00:82", 0x3903F327, "192.0.2.82", b"android-dhcp-13", b"Pixel-7"), ipid=19)
    # 10. A Probe that carries an element named Hello and Hikvision scopes: the Body's first
    # element is the Probe, so a question still: nothing.
    udp(cap, eth, CLIENT, 50509, "239.255.255.250", 3702, wsd(b"Probe",
        b"<d:Probe><x:Hello xmlns:x=\"urn:x\">1</x:Hello><d:Scopes>"
        b"onvif://www.onvif.org/name/HIKVISION</d:Scopes></d:Probe>"), ipid=20)
    # 11. SADP's XML away from its port (37020): not SADP, nothing.
    udp(cap, eth, "192.0.2.83", 40000, CLIENT, 50510,
        sadp_match(b"DS-2CD2032-I", b"DS-2CD2032-I20140501CCCH000000000"), ipid=21,
        to_server=False)
    # 12. An SNMPv2c InformRequest (RFC 3416 section 4.2.7) from a ZTE switch: 4200352.
    udp(cap, eth, "192.0.2.84", 50511, "198.51.100.84", 162, snmp_inform(
        "public", "ZXR10 ROS Version V4.08.23", "1.3.6.1.4.1.3902.3.100.40", 5), ipid=22)
    return {"device-discovery/input.pcap": cap.pcap_bytes()}


def case_device_mac():
    cap = Capture(start=3200)
    hik = eth_from("44:19:B6:00:00:90")
    # Two flows from a Hikvision-made interface: one alert (4200454), for the first.
    TcpFlow(cap, hik, "192.0.2.90", 57001, "198.51.100.9", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    TcpFlow(cap, hik, "192.0.2.90", 57002, "198.51.100.9", 443).handshake() \
        .client(tls_client_hello("www.example.com")).close()
    # A Huawei interface (00:E0:FC): 4200256.
    udp(cap, eth_from("00:E0:FC:00:00:91"), "192.0.2.91", 57003, "198.51.100.9", 123,
        b"\x23" + b"\0" * 47, ipid=1)
    # The capture's usual locally administered addresses: nothing.
    udp(cap, eth, CLIENT, 57004, "198.51.100.9", 123, b"\x23" + b"\0" * 47, ipid=2)
    # IP in IP (RFC 2003) from a Huawei interface (00:E0:FC:00:00:92): the inner datagram
    # has no Ethernet header of its own; its outer one names the interface (4200256).
    huawei_outer = eth_from("00:E0:FC:00:00:92")
    udp(cap, lambda ip, to_server=True: huawei_outer(_outer(bytes(ip), 4, to_server), to_server),
        "192.0.2.92", 57005, "198.51.100.9", 123, b"\x23" + b"\0" * 47, ipid=3)
    # A one-way flow of no known protocol (a host may stop reading it after its first
    # datagrams), then the server's reply from a Huawei interface (00:E0:FC:00:00:93):
    # 4200256 on the reply, whose sender is the server.
    udp(cap, eth, CLIENT, 57006, "198.51.100.93", 40000, b"\x17\xfe\x00\x05hello", ipid=4)
    udp(cap, eth, CLIENT, 57006, "198.51.100.93", 40000, b"\x17\xfe\x00\x05again", ipid=5)
    udp(cap, eth_from("00:E0:FC:00:00:93"), "198.51.100.93", 40000, CLIENT, 57006,
        b"\x17\xfe\x00\x02ok", ipid=6, to_server=False)
    return {"device-mac/input.pcap": cap.pcap_bytes()}



def case_bans_scope():
    """One message each of vendors whose bans bind different people: DeepSeek (state and
    federal-agency use, a proposed federal act), TikTok (federal use), Hikvision (Covered
    List: new authorizations, for all; sec. 889: federal procurement and contractors' use),
    Kaspersky (sale and updates for all, new authorizations). The bans-* cases scan it with
    --scope, --restricts and --proposed."""
    cap = Capture(start=3300)
    dns_flow(cap, eth, CLIENT, 58001, "chat.deepseek.com", 0x3301)
    dns_flow(cap, eth, CLIENT, 58002, "www.tiktok.com", 0x3302)
    dns_flow(cap, eth, CLIENT, 58003, "s01.upd.kaspersky.com", 0x3303)
    udp(cap, eth, "192.0.2.72", 37020, "239.255.255.250", 37020,
        sadp_match(b"DS-2CD2032-I", b"DS-2CD2032-I20140501CCCH000000000"), ipid=7)
    return {"bans-scope/input.pcap": cap.pcap_bytes()}


def case_device_bodies():
    """Bodies and framing the device fields must get right, with case-local rules."""
    cap = Capture(start=3400)
    # A. A 304 (no body) and the next response in one segment: the 304's body is empty, the
    # next response's body is its own.
    TcpFlow(cap, eth, CLIENT, 59001, "192.0.2.100", 80).handshake() \
        .client(http_get("192.0.2.100", "/a") + http_get("192.0.2.100", "/b")) \
        .server(b"HTTP/1.1 304 Not Modified\r\nServer: nginx\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nServer: TestServer/1\r\nContent-Length: 5\r\n\r\nhello") \
        .close()
    # B. A chunked body whose size line is split across segments ("1f" | "4\r\n...").
    body = b"<html>Test device login</html>\n" + b"x" * 21
    assert len(body) == 0x34
    TcpFlow(cap, eth, CLIENT, 59002, "192.0.2.101", 80).handshake() \
        .client(http_get("192.0.2.101", "/")) \
        .server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3") \
        .server(b"4\r\n" + body + b"\r\n0\r\n\r\n").close()
    # C. A body announced at 5000 bytes cut after 100 by the end of the connection: the head
    # (Server) is inspected at once all the same.
    TcpFlow(cap, eth, CLIENT, 59003, "192.0.2.102", 80).handshake() \
        .client(http_get("192.0.2.102", "/big")) \
        .server(b"HTTP/1.1 200 OK\r\nServer: CutServer/2\r\nContent-Length: 5000\r\n\r\n"
                + b"y" * 100).close()
    # D. SIP over TCP (RFC 3261 section 18): two requests framed by the compact "l:" header,
    # then a request sent by the other side.
    TcpFlow(cap, eth, CLIENT, 59004, "192.0.2.103", 5060).handshake() \
        .client(b"INVITE sip:a@192.0.2.103 SIP/2.0\r\nl: 4\r\nUser-Agent: first-ua\r\n\r\nv=0\n"
                b"OPTIONS sip:b@192.0.2.103 SIP/2.0\r\nl: 0\r\nUser-Agent: second-ua\r\n\r\n") \
        .server(b"BYE sip:c@192.0.2.10 SIP/2.0\r\nUser-Agent: peer-ua\r\nl: 0\r\n\r\n").close()
    # E. An HTTP/1.0 response without Content-Length: its body ends with the connection.
    TcpFlow(cap, eth, CLIENT, 59005, "192.0.2.104", 80).handshake() \
        .client(http_get("192.0.2.104", "/status")) \
        .server(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
                b"<html>Until close: device status</html>\n").close()
    # F. A 6,000-byte body in two segments: a marker at byte 4,000 (in the first 4,096, read
    # only once the second segment came) and one at byte 4,500 (past them: never read).
    far = b"z" * 4000 + b"NEAR-MARKER" + b"z" * 489 + b"FAR-MARKER" + b"z" * 1490
    assert len(far) == 6000
    TcpFlow(cap, eth, CLIENT, 59006, "192.0.2.105", 80).handshake() \
        .client(http_get("192.0.2.105", "/far")) \
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 6000\r\n\r\n" + far[:3000]) \
        .server(far[3000:]).close()
    return {"device-bodies/input.pcap": cap.pcap_bytes()}


VENDOR_NAMES_2026 = [
    ("chat.deepseek.com", 4201310),         # deepseek cloud (chat)
    ("api.deepseek.com", 4201310),          # deepseek cloud (API)
    ("www.deepseek.com", 4201390),          # deepseek web
    ("flysafe-api.dji.com", 4200911),       # dji FlySafe (cloud), not web
    ("www.hytera.com", 4201190),            # hytera web
    ("developer.autelrobotics.com", 4201290),  # autel web
    ("console.huaweicloud.com", 4200240),   # huawei cloud (Huawei Cloud)
    ("a1.cdnhwc3.com", 4200240),            # Huawei Cloud CDN CNAME domain
    ("www.ctyun.cn", 4200710),              # chinatelecom cloud (CTYun)
    ("portal.wocloud.com.cn", 4200810),     # chinaunicom cloud (WoCloud)
]
VENDOR_LOOKALIKES_2026 = ["deepseek.com.evil.example", "notdeepseek.com", "hytera.com.attacker.test",
                          "myctyun.cn", "huaweicloud.com.example.org", "cdnhwc11.com",
                          "autelrobotics.co"]


def case_vendors_2026():
    """Names of the vendors and channels the 2025-2026 pack added, and lookalikes."""
    cap = Capture(start=3500)
    for i, (name, _sid) in enumerate(VENDOR_NAMES_2026):
        dns_flow(cap, eth, CLIENT, 64101 + i, name, 0x3501 + i)
    for i, name in enumerate(VENDOR_LOOKALIKES_2026):
        dns_flow(cap, eth, CLIENT, 64201 + i, name, 0x3601 + i)
    # SNMP of a Hytera repeater (enterprise 40297) and Ethernet sources of DJI (60:60:1F),
    # Autel Robotics (MA-M EC:5B:CD:E) and Hytera (64:69:BC) interfaces.
    udp(cap, eth, "192.0.2.110", 161, CLIENT, 64301, snmp_response(
        "public", "DMR repeater", "1.3.6.1.4.1.40297.1.2", 9), ipid=1, to_server=False)
    udp(cap, eth_from("60:60:1F:00:01:11"), "192.0.2.111", 64302, "198.51.100.9", 123,
        b"\x23" + b"\0" * 47, ipid=2)
    udp(cap, eth_from("EC:5B:CD:E0:01:12"), "192.0.2.112", 64303, "198.51.100.9", 123,
        b"\x23" + b"\0" * 47, ipid=3)
    udp(cap, eth_from("EC:5B:CD:F0:01:13"), "192.0.2.113", 64304, "198.51.100.9", 123,
        b"\x23" + b"\0" * 47, ipid=4)  # the MA-M block is EC:5B:CD:E only
    udp(cap, eth_from("64:69:BC:00:01:14"), "192.0.2.114", 64305, "198.51.100.9", 123,
        b"\x23" + b"\0" * 47, ipid=5)
    return {"vendors-2026/input.pcap": cap.pcap_bytes()}

CASES += [case_device_banners, case_device_discovery, case_device_mac, case_bans_scope,
          case_device_bodies, case_vendors_2026]


def case_one_way_udp():
    # Not a pcap case: the capture of the Suricata 8 check that passes one-way UDP flows
    # (tests/suricata8/CMakeLists.txt, pass-one-way-udp), written beside it.
    cap = Capture(start=2600)
    # 40001 -> 192.0.2.53:5300: two datagrams no parser reads (DNS's opcode 15), then the
    # server's answer, a DNS response for s01.upd.kaspersky.com: readable, and alerting,
    # only where Suricata probes 5300 for DNS (a detection port the check configures).
    for i in range(2):
        udp(cap, eth, CLIENT, 40001, RESOLVER, 5300, b"\xff" * 24, ipid=0x2601 + i)
    udp(cap, eth, RESOLVER, 5300, CLIENT, 40001,
        dns_response("s01.upd.kaspersky.com", 0x2601, "203.0.113.90"), ipid=0x2603,
        to_server=False)
    # 40002 -> 198.51.100.20:5004: RTP-like media one way, which nothing could make
    # readable: passed after its first datagram.
    for i in range(6):
        udp(cap, eth, CLIENT, 40002, "198.51.100.20", 5004, b"\x80\x60" + bytes([i]) * 170,
            ipid=0x2610 + i)
    return {"../suricata8/one-way-udp.pcap": cap.pcap_bytes()}


CASES.append(case_one_way_udp)


def case_heads_after_reply():
    # Not a pcap case: the capture of the Suricata 8 check that a flow is not passed while
    # its first segments may still bring an RTSP or SIP head (tests/suricata8/CMakeLists.txt,
    # pass-segment-heads), written beside it. In both the head that names the device is not
    # the first answer.
    cap = Capture(start=2700)
    # A Dahua camera (Recog rtsp_servers.xml: 4200550) asks for credentials first.
    rtsp = TcpFlow(cap, eth, CLIENT, 40101, "192.0.2.67", 554).handshake()
    rtsp \
        .client(b"DESCRIBE rtsp://192.0.2.67:554/cam/realmonitor RTSP/1.0\r\nCSeq: 1\r\n\r\n") \
        .server(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"
                b"WWW-Authenticate: Digest realm=\"Login to 4K05\", nonce=\"1\"\r\n\r\n") \
        .client(b"DESCRIBE rtsp://192.0.2.67:554/cam/realmonitor RTSP/1.0\r\nCSeq: 2\r\n"
                b"Authorization: Digest username=\"admin\"\r\n\r\n") \
        .server(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nServer: Dahua Rtsp Server\r\n"
                b"Content-Length: 0\r\n\r\n")
    # then keep-alives, so that the flow goes past its first 8 packets each way and is passed
    for cseq in range(3, 7):
        rtsp.client(b"GET_PARAMETER rtsp://192.0.2.67:554/cam/realmonitor RTSP/1.0\r\n"
                    b"CSeq: %d\r\n\r\n" % cseq)
        rtsp.server(b"RTSP/1.0 200 OK\r\nCSeq: %d\r\n\r\n" % cseq)
    rtsp.close()
    # SIP over TCP (RFC 3261 section 18): a Huawei softswitch (4200252) answers 100 Trying,
    # then 200 OK with its Server header.
    via = b"Via: SIP/2.0/TCP 192.0.2.10:40102;branch=z9hG4bK7\r\n"
    ids = b"From: <sip:a@example.org>;tag=1\r\nTo: <sip:b@example.org>\r\nCall-ID: 7@192.0.2.10\r\n"
    sip = TcpFlow(cap, eth, CLIENT, 40102, "192.0.2.68", 5060).handshake()
    sip \
        .client(b"INVITE sip:b@example.org SIP/2.0\r\n" + via + ids +
                b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n") \
        .server(b"SIP/2.0 100 Trying\r\n" + via + ids + b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n") \
        .server(b"SIP/2.0 200 OK\r\n" + via + ids + b"CSeq: 1 INVITE\r\n"
                b"Server: Huawei SoftX3000 V300R011\r\nContent-Length: 0\r\n\r\n")
    for cseq in range(2, 6):  # re-INVITEs answered without a Server: past 8 packets each way
        sip.client(b"INVITE sip:b@example.org SIP/2.0\r\n" + via + ids +
                   b"CSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n" % cseq)
        sip.server(b"SIP/2.0 200 OK\r\n" + via + ids +
                   b"CSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n" % cseq)
    sip.close()
    return {"../suricata8/heads-after-reply.pcap": cap.pcap_bytes()}


CASES.append(case_heads_after_reply)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a committed file differs")
    args = ap.parse_args()
    stale = []
    for case in CASES:
        for rel, data in case().items():
            path = os.path.join(HERE, rel)
            old = None
            if os.path.exists(path):
                with open(path, "rb") as f:
                    old = f.read()
            if old == data:
                continue
            if args.check:
                stale.append(rel)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            print("wrote %s (%d bytes)" % (rel, len(data)))
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
