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
import os
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop

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


def tls_client_hello(sni, tls13=True):
    """The bytes of one TLS record holding a ClientHello, as browsers send it.

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
    host = sni.encode("ascii")
    suites = (["1301", "1302", "1303"] if tls13 else []) + [
        "c02b", "c02f", "c02c", "c030", "cca9", "cca8", "009c", "002f"]
    exts = [
        _ext(0x000A, _vec16(bytes.fromhex("001d00170018"))),
        _ext(0x000B, _vec8(b"\x00")),
        _ext(0x0017, b""),
        _ext(0x0000, _vec16(b"\x00" + _vec16(host))),
        _ext(0x0023, b""),
        _ext(0x000D, _vec16(bytes.fromhex("0403080404010503080505010806060102010201"))),
        _ext(0x0010, _vec16(_vec8(b"h2") + _vec8(b"http/1.1"))),
    ]
    if tls13:
        exts += [
            _ext(0x002B, _vec8(bytes.fromhex("03040303"))),
            _ext(0x002D, _vec8(b"\x01")),
            _ext(0x0033, _vec16(struct.pack("!HH", 0x001D, 32) + _fixed_bytes(sni + "/ks", 32))),
        ]
    exts.append(_ext(0xFF01, b"\x00"))
    body = (b"\x03\x03" + _fixed_bytes(sni + "/random", 32)
            + _vec8(_fixed_bytes(sni + "/sid", 32))
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

    def _pkt(self, to_server, flags, data=b""):
        self.ipid += 1
        if to_server:
            ip = _ip(self.c, self.s, self.ipid)
            if self.ext6 is not None:
                ip = ip / self.ext6()
            tcp = TCP(sport=self.cp, dport=self.sp, seq=self.cseq, ack=self.sseq,
                      flags=flags, window=64240)
        else:
            ip = _ip(self.s, self.c, self.ipid + 0x4000)
            tcp = TCP(sport=self.sp, dport=self.cp, seq=self.sseq, ack=self.cseq,
                      flags=flags, window=65160)
        if "S" in flags and "A" not in flags:
            tcp.ack = 0
        pkt = ip / tcp
        if data:
            pkt = pkt / data
        self.cap.add(self.frame(pkt, to_server=to_server))
        adv = len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        if to_server:
            self.cseq += adv
        else:
            self.sseq += adv

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
    # 15111/udp: KSN proxy (4200112).
    udp(cap, eth, CLIENT, 54002, "203.0.113.11", 15111, b"\x00\x01ksnproxy-test", ipid=2)
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
    # DVRIP: a connection to 37777/tcp (4200520, port only).
    TcpFlow(cap, eth, CLIENT, 63101, "198.51.100.89", 37777).handshake().close()
    return {"vendors-dns-sni/input.pcap": cap.pcap_bytes()}


CASES = [case_dns_kaspersky, case_tls_sni, case_http_host, case_ipv6, case_vlan,
         case_ports_cidr, case_linktypes, case_multi_pcap, case_rules_forms, case_clean,
         case_error_inputs, case_robustness, case_vendors_dns_sni]


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
