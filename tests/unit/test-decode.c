/*
 * Unit tests for decode.c: emb__decode from every supported link type down
 * to TCP/UDP, and the classes it gives broken input.
 *
 * Covered: Ethernet (ports, flags, payload slice, padding trimmed by the IPv4
 * total length), 802.1Q and QinQ tags, Linux cooked v1 and v2, raw IPv4 and
 * IPv6, BSD null loopback in both byte orders, OpenBSD loop; IPv6 extension
 * headers and fragments; IPv4 fragments; a cut at every length of each
 * framing (TRUNCATED until the L4 header is whole, then OK); headers that
 * contradict themselves (INVALID); and the OTHER/UNSUPPORTED cases. Tunnels:
 * MPLS, PPPoE, GRE, ERSPAN I/II/III, VXLAN, Geneve, IP-in-IP, each cut at
 * every length where it is a mirror-port tunnel; unknown versions and GRE
 * protocol types (UNSUPPORTED); the nesting limit.
 *
 * The packets are built from a link header and an IP packet, each a byte
 * array below; variants copy one and change a field, saying which.
 */
#include "packet/decode.h"

#include "embargo/embargo.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* ---- IP packets --------------------------------------------------------- */

/* clang-format off */
/* IPv4 192.168.1.10:50000 -> 192.168.1.20:80, TCP PSH|ACK, payload "GET /". */
static const uint8_t ipv4_tcp[] = {
    /* IPv4: ver 4 IHL 5, tos 0, total 45, id 0x1234, DF, ttl 64, proto 6 TCP */
    0x45, 0x00, 0x00, 0x2d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
    0xc0, 0xa8, 0x01, 0x0a, /* src 192.168.1.10 */
    0xc0, 0xa8, 0x01, 0x14, /* dst 192.168.1.20 */
    /* TCP: sport 50000, dport 80, seq 1, ack 0, data offset 5, flags 0x18 PSH|ACK */
    0xc3, 0x50, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    'G', 'E', 'T', ' ', '/'};
#define IPV4_TCP_L4_END 40 /* IPv4 20 + TCP 20 */

/* IPv4 10.0.0.1:4660 -> 10.0.0.2:53, UDP length 13, payload "hello". */
static const uint8_t ipv4_udp[] = {
    /* IPv4: ver 4 IHL 5, total 33, id 1, no flags, ttl 64, proto 17 UDP */
    0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, /* src 10.0.0.1 */
    0x0a, 0x00, 0x00, 0x02, /* dst 10.0.0.2 */
    /* UDP: sport 4660, dport 53, length 13, checksum 0 */
    0x12, 0x34, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'};

/* IPv6 2001:db8::1:1234 -> 2001:db8::2:53, UDP length 13, payload "hello". */
static const uint8_t ipv6_udp[] = {
    /* IPv6: ver 6, payload length 13, next header 17 UDP, hop limit 64 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* src 2001:db8::1 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* dst 2001:db8::2 */
    /* UDP: sport 4660, dport 53, length 13, checksum 0 */
    0x12, 0x34, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'};

/* The same datagram behind a hop-by-hop (8 bytes) and a destination options
 * header (16 bytes): payload length 8 + 16 + 13 = 37. */
static const uint8_t ipv6_ext_udp[] = {
    /* IPv6: payload length 37, next header 0 hop-by-hop, hop limit 64 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x25, 0x00, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* src 2001:db8::1 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* dst 2001:db8::2 */
    /* hop-by-hop: next 60 dest-opts, hdr ext len 0 (8 bytes), PadN of 4 */
    0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    /* destination options: next 17 UDP, hdr ext len 1 (16 bytes), PadN of 12 */
    0x11, 0x01, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* UDP: sport 4660, dport 53, length 13 */
    0x12, 0x34, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'};
#define IPV6_EXT_L4_END (40 + 8 + 16 + 8)

/* The datagram behind a fragment header; offset/flags are at [42], [43]. */
static const uint8_t ipv6_frag_udp[] = {
    /* IPv6: payload length 8 + 13 = 21, next header 44 fragment */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x15, 0x2c, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* src 2001:db8::1 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* dst 2001:db8::2 */
    /* fragment: next 17 UDP, reserved, offset 0 M=0 (atomic), id 0xdeadbeef */
    0x11, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
    /* UDP: sport 4660, dport 53, length 13 */
    0x12, 0x34, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'};
#define IPV6_FRAG_OFF_FLAGS 42

/* ---- link headers ------------------------------------------------------- */

/* Ethernet: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, type 0x0800 IPv4. */
static const uint8_t eth_ipv4[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00};
/* Ethernet: the same addresses, type 0x86dd IPv6. */
static const uint8_t eth_ipv6[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0x86, 0xdd};
/* Ethernet, type 0x8100, then an 802.1Q tag: PCP 0, VID 100, type 0x0800. */
static const uint8_t eth_vlan[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                   0x99, 0xaa, 0xbb, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
/* Ethernet, type 0x88a8; S-tag PCP 3 VID 10, type 0x8100; C-tag VID 200, type 0x0800. */
static const uint8_t eth_qinq[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0x88, 0xa8, 0x60, 0x0a,
                                   0x81, 0x00, 0x00, 0xc8, 0x08, 0x00};
/* Linux cooked v1 (16 bytes): pkttype 0 (to us), ARPHRD 1, addr len 6,
 * addr 66:77:88:99:aa:bb + 2 pad, protocol 0x0800. */
static const uint8_t sll_ipv4[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, 0x08, 0x00};
/* Linux cooked v2 (20 bytes): protocol 0x0800, reserved, ifindex 2, ARPHRD 1,
 * pkttype 0, addr len 6, addr 66:77:88:99:aa:bb + 2 pad. */
static const uint8_t sll2_ipv4[] = {0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x01, 0x00, 0x06, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00};
/* BSD null loopback: AF_INET (2) as a little-endian, then big-endian, u32. */
static const uint8_t null_le_inet[] = {0x02, 0x00, 0x00, 0x00};
static const uint8_t null_be_inet[] = {0x00, 0x00, 0x00, 0x02};
/* clang-format on */

/* ---- helpers ------------------------------------------------------------ */

/* Returns a malloc'd buffer of exactly hlen + blen bytes: hdr then body, so
 * that a read past the end is past the allocation (and visible to ASan). */
static uint8_t *cat(const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen) {
    uint8_t *b = malloc(hlen + blen + 1); /* +1: malloc(0) may return NULL */
    cr_assert_not_null(b);
    if (hlen)
        memcpy(b, hdr, hlen);
    memcpy(b + hlen, body, blen);
    return b;
}

/* Decodes the first `caplen` bytes of hdr+body, copied into a buffer of
 * exactly that size. */
static emb_dec_result_t decode_cut(int linktype, const uint8_t *hdr, size_t hlen,
                                   const uint8_t *body, size_t blen, size_t caplen,
                                   emb_decoded_t *d) {
    uint8_t *whole = cat(hdr, hlen, body, blen);
    uint8_t *b = malloc(caplen + 1);
    cr_assert_not_null(b);
    memcpy(b, whole, caplen);
    free(whole);
    emb_dec_result_t r = emb__decode(linktype, b, caplen, d);
    free(b); /* only the result class and scalar fields are looked at after this */
    d->payload = NULL;
    return r;
}

static const uint8_t v4_src_tcp[4] = {192, 168, 1, 10};
static const uint8_t v4_dst_tcp[4] = {192, 168, 1, 20};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* The fields of ipv4_tcp, decoded from whatever link header carried it at `b + l3`. */
static void assert_ipv4_tcp(emb_dec_result_t r, const emb_decoded_t *d, const uint8_t *b,
                            size_t l3) {
    cr_assert_eq(r, EMB_DEC_OK, "result %d", r);
    cr_assert_eq(d->family, 4);
    cr_assert_eq(d->proto, 6);
    cr_assert_arr_eq(d->src, v4_src_tcp, 4);
    cr_assert_arr_eq(d->dst, v4_dst_tcp, 4);
    cr_assert_eq(d->sport, 50000);
    cr_assert_eq(d->dport, 80);
    cr_assert_eq(d->payload, b + l3 + IPV4_TCP_L4_END);
    cr_assert_eq(d->payload_len, 5);
    cr_assert_not(d->truncated);
}

/* The fields of the IPv6 "hello" datagram; the payload is the last 5 bytes of b[0, len). */
static void assert_ipv6_udp(emb_dec_result_t r, const emb_decoded_t *d, const uint8_t *b,
                            size_t len) {
    cr_assert_eq(r, EMB_DEC_OK, "result %d", r);
    cr_assert_eq(d->family, 6);
    cr_assert_eq(d->proto, 17);
    cr_assert_arr_eq(d->src, v6_src, 16);
    cr_assert_arr_eq(d->dst, v6_dst, 16);
    cr_assert_eq(d->sport, 4660);
    cr_assert_eq(d->dport, 53);
    cr_assert_eq(d->payload, b + len - 5);
    cr_assert_eq(d->payload_len, 5);
    cr_assert_arr_eq(d->payload, "hello", 5);
    cr_assert_not(d->truncated);
}

/* ---- Ethernet ----------------------------------------------------------- */

Test(decode, ethernet_ipv4_tcp) {
    uint8_t *b = cat(eth_ipv4, sizeof(eth_ipv4), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 14);
    cr_assert_eq(d.tcp_flags, EMB_TCP_ACK | 0x08 /* PSH */);
    cr_assert_eq(d.nvlan, 0);
    cr_assert_arr_eq(d.payload, "GET /", 5);
    free(b);
}

Test(decode, ethernet_tcp_options_and_syn) {
    /* ipv4_tcp with 12 bytes of TCP options (data offset 8) and flags SYN:
     * total length 45 + 12 = 57. */
    uint8_t pkt[14 + sizeof(ipv4_tcp) + 12];
    memcpy(pkt, eth_ipv4, 14);
    memcpy(pkt + 14, ipv4_tcp, IPV4_TCP_L4_END);
    /* options: MSS 1460, NOP, NOP, SACK permitted, NOP, NOP, NOP, NOP */
    static const uint8_t opts[12] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01,
                                     0x04, 0x02, 0x01, 0x01, 0x01, 0x01};
    memcpy(pkt + 14 + IPV4_TCP_L4_END, opts, 12);
    memcpy(pkt + 14 + IPV4_TCP_L4_END + 12, "GET /", 5);
    pkt[14 + 3] = 57;         /* IPv4 total length */
    pkt[14 + 20 + 12] = 0x80; /* data offset 8 */
    pkt[14 + 20 + 13] = EMB_TCP_SYN;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, pkt, sizeof(pkt), &d), EMB_DEC_OK);
    cr_assert_eq(d.tcp_flags, EMB_TCP_SYN);
    cr_assert_eq(d.payload, pkt + 14 + 20 + 32);
    cr_assert_eq(d.payload_len, 5);
}

Test(decode, ethernet_padding_trimmed_by_ipv4_total_length) {
    /* ipv4_udp is 33 bytes: Ethernet pads the frame to 60 with 13 zero bytes,
     * which must not be taken for UDP payload. */
    uint8_t pkt[60] = {0};
    memcpy(pkt, eth_ipv4, 14);
    memcpy(pkt + 14, ipv4_udp, sizeof(ipv4_udp));
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, pkt, sizeof(pkt), &d), EMB_DEC_OK);
    cr_assert_eq(d.proto, 17);
    cr_assert_eq(d.payload, pkt + 14 + 28);
    cr_assert_eq(d.payload_len, 5);
    cr_assert_not(d.truncated);

    /* The same with a TCP segment with no payload: 14 + 40 padded to 60. */
    uint8_t pkt2[60] = {0};
    memcpy(pkt2, eth_ipv4, 14);
    memcpy(pkt2 + 14, ipv4_tcp, IPV4_TCP_L4_END);
    pkt2[14 + 3] = 40; /* IPv4 total length: headers only */
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, pkt2, sizeof(pkt2), &d), EMB_DEC_OK);
    cr_assert_eq(d.payload_len, 0);
    cr_assert_not(d.truncated);
}

Test(decode, ethernet_ipv6_udp) {
    uint8_t *b = cat(eth_ipv6, 14, ipv6_udp, sizeof(ipv6_udp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(ipv6_udp), &d);
    assert_ipv6_udp(r, &d, b, 14 + sizeof(ipv6_udp));
    free(b);
}

Test(decode, vlan_8021q) {
    uint8_t *b = cat(eth_vlan, sizeof(eth_vlan), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, 18 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 18);
    cr_assert_eq(d.nvlan, 1);
    cr_assert_eq(d.vlan[0], 100);
    free(b);
}

Test(decode, vlan_qinq_88a8_then_8100) {
    uint8_t *b = cat(eth_qinq, sizeof(eth_qinq), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, 22 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 22);
    cr_assert_eq(d.nvlan, 2);
    cr_assert_eq(d.vlan[0], 10, "outer VID without the PCP bits, got %u", d.vlan[0]);
    cr_assert_eq(d.vlan[1], 200);
    free(b);
}

/* An Ethernet header followed by `ntags` 802.1Q tags (VID 1, 2, ...) and IPv4. */
static size_t eth_with_tags(uint8_t *buf, int ntags) {
    memcpy(buf, eth_ipv4, 12);
    size_t o = 12;
    for (int i = 0; i < ntags; i++) {
        buf[o++] = 0x81; /* type 0x8100 */
        buf[o++] = 0x00;
        buf[o++] = 0x00; /* TCI: VID i + 1 */
        buf[o++] = (uint8_t)(i + 1);
    }
    buf[o++] = 0x08; /* type 0x0800 */
    buf[o++] = 0x00;
    memcpy(buf + o, ipv4_tcp, sizeof(ipv4_tcp));
    return o + sizeof(ipv4_tcp);
}

Test(decode, four_vlan_tags_decode_two_recorded) {
    uint8_t buf[64 + sizeof(ipv4_tcp)];
    size_t n = eth_with_tags(buf, 4);
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, buf, n, &d);
    assert_ipv4_tcp(r, &d, buf, 14 + 16);
    cr_assert_eq(d.nvlan, EMB_MAX_VLANS);
    cr_assert_eq(d.vlan[0], 1);
    cr_assert_eq(d.vlan[1], 2);
}

Test(decode, five_vlan_tags_unsupported) {
    uint8_t buf[64 + sizeof(ipv4_tcp)];
    size_t n = eth_with_tags(buf, 5);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, buf, n, &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, vlan_tag_cut_is_truncated) {
    /* Ethernet type 0x8100 and only two bytes of the tag: 00 64. */
    uint8_t pkt[16];
    memcpy(pkt, eth_vlan, 16);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, pkt, sizeof(pkt), &d), EMB_DEC_TRUNCATED);
}

Test(decode, arp_is_other) {
    /* Ethernet broadcast, type 0x0806 ARP; ARP request who-has 10.0.0.2 tell 10.0.0.1. */
    static const uint8_t arp[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
        0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* Ethernet/IPv4, request */
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x0a, 0x00, 0x00, 0x01, /* sender */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02  /* target */
    };
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, arp, sizeof(arp), &d), EMB_DEC_OTHER);
}

Test(decode, ieee8023_length_field_is_other) {
    /* 802.3 frame: length 0x0026 (38) where the EtherType would be, then LLC
     * DSAP 0x42 SSAP 0x42 control 0x03 (spanning tree), zero filled. */
    uint8_t pkt[60] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x66, 0x77, 0x88,
                       0x99, 0xaa, 0xbb, 0x00, 0x26, 0x42, 0x42, 0x03};
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, pkt, sizeof(pkt), &d), EMB_DEC_OTHER);
}

Test(decode, icmp_is_other) {
    /* ipv4_udp with protocol 1 ICMP. */
    uint8_t *b = cat(eth_ipv4, 14, ipv4_udp, sizeof(ipv4_udp));
    b[14 + 9] = 1;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(ipv4_udp), &d), EMB_DEC_OTHER);
    free(b);
}

/* ---- other link types --------------------------------------------------- */

Test(decode, linux_cooked_v1) {
    uint8_t *b = cat(sll_ipv4, sizeof(sll_ipv4), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_LINUX_SLL, b, 16 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 16);
    free(b);
}

Test(decode, linux_cooked_v2) {
    uint8_t *b = cat(sll2_ipv4, sizeof(sll2_ipv4), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_LINUX_SLL2, b, 20 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 20);
    free(b);
}

Test(decode, raw_ipv4_and_ipv6) {
    static const int raw_types[] = {EMB_LINK_RAW, 12, 14};
    emb_decoded_t d;
    for (size_t i = 0; i < sizeof(raw_types) / sizeof(raw_types[0]); i++) {
        emb_dec_result_t r = emb__decode(raw_types[i], ipv4_tcp, sizeof(ipv4_tcp), &d);
        assert_ipv4_tcp(r, &d, ipv4_tcp, 0);
        r = emb__decode(raw_types[i], ipv6_udp, sizeof(ipv6_udp), &d);
        assert_ipv6_udp(r, &d, ipv6_udp, sizeof(ipv6_udp));
    }
}

Test(decode, linktype_ipv4_and_ipv6) {
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_IPV4, ipv4_tcp, sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, ipv4_tcp, 0);
    r = emb__decode(EMB_LINK_IPV6, ipv6_udp, sizeof(ipv6_udp), &d);
    assert_ipv6_udp(r, &d, ipv6_udp, sizeof(ipv6_udp));
    /* Each refuses the other version. */
    cr_assert_eq(emb__decode(EMB_LINK_IPV4, ipv6_udp, sizeof(ipv6_udp), &d), EMB_DEC_INVALID);
    cr_assert_eq(emb__decode(EMB_LINK_IPV6, ipv4_tcp, sizeof(ipv4_tcp), &d), EMB_DEC_INVALID);
}

Test(decode, raw_unknown_ip_version_invalid) {
    /* ipv4_tcp with version 5 */
    uint8_t pkt[sizeof(ipv4_tcp)];
    memcpy(pkt, ipv4_tcp, sizeof(pkt));
    pkt[0] = 0x55;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, 0, &d), EMB_DEC_TRUNCATED);
}

Test(decode, bsd_null_ipv4_both_byte_orders) {
    emb_decoded_t d;
    uint8_t *b = cat(null_le_inet, 4, ipv4_tcp, sizeof(ipv4_tcp));
    assert_ipv4_tcp(emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv4_tcp), &d), &d, b, 4);
    free(b);
    b = cat(null_be_inet, 4, ipv4_tcp, sizeof(ipv4_tcp));
    assert_ipv4_tcp(emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv4_tcp), &d), &d, b, 4);
    free(b);
}

Test(decode, bsd_null_ipv6_families_both_byte_orders) {
    /* AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux). */
    static const uint8_t fams[] = {24, 28, 30, 10};
    emb_decoded_t d;
    for (size_t i = 0; i < sizeof(fams); i++) {
        const uint8_t le[4] = {fams[i], 0, 0, 0}; /* family as a little-endian u32 */
        const uint8_t be[4] = {0, 0, 0, fams[i]}; /* family as a big-endian u32 */
        uint8_t *b = cat(le, 4, ipv6_udp, sizeof(ipv6_udp));
        emb_dec_result_t r = emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv6_udp), &d);
        cr_assert_eq(r, EMB_DEC_OK, "family %u LE: %d", fams[i], r);
        assert_ipv6_udp(r, &d, b, 4 + sizeof(ipv6_udp));
        free(b);
        b = cat(be, 4, ipv6_udp, sizeof(ipv6_udp));
        r = emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv6_udp), &d);
        cr_assert_eq(r, EMB_DEC_OK, "family %u BE: %d", fams[i], r);
        assert_ipv6_udp(r, &d, b, 4 + sizeof(ipv6_udp));
        free(b);
    }
}

Test(decode, bsd_null_unknown_family_other) {
    /* family 7 (AF_IMPLINK), little-endian, then a valid IPv4 packet */
    static const uint8_t fam7[] = {0x07, 0x00, 0x00, 0x00};
    uint8_t *b = cat(fam7, 4, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv4_tcp), &d), EMB_DEC_OTHER);
    free(b);
}

Test(decode, openbsd_loop_network_order) {
    emb_decoded_t d;
    uint8_t *b = cat(null_be_inet, 4, ipv4_tcp, sizeof(ipv4_tcp));
    assert_ipv4_tcp(emb__decode(EMB_LINK_LOOP, b, 4 + sizeof(ipv4_tcp), &d), &d, b, 4);
    free(b);

    static const uint8_t be_inet6[] = {0x00, 0x00, 0x00, 0x18}; /* 24, AF_INET6 on OpenBSD */
    b = cat(be_inet6, 4, ipv6_udp, sizeof(ipv6_udp));
    emb_dec_result_t r = emb__decode(EMB_LINK_LOOP, b, 4 + sizeof(ipv6_udp), &d);
    assert_ipv6_udp(r, &d, b, 4 + sizeof(ipv6_udp));
    free(b);

    /* Only network order: 02 00 00 00 is family 0x02000000 here, not AF_INET. */
    b = cat(null_le_inet, 4, ipv4_tcp, sizeof(ipv4_tcp));
    cr_assert_eq(emb__decode(EMB_LINK_LOOP, b, 4 + sizeof(ipv4_tcp), &d), EMB_DEC_OTHER);
    free(b);
}

Test(decode, unsupported_link_type) {
    emb_decoded_t d;
    /* 105 is IEEE 802.11, 127 radiotap: neither is decoded. */
    cr_assert_eq(emb__decode(105, ipv4_tcp, sizeof(ipv4_tcp), &d), EMB_DEC_UNSUPPORTED);
    cr_assert_eq(emb__decode(127, ipv4_tcp, sizeof(ipv4_tcp), &d), EMB_DEC_UNSUPPORTED);
    cr_assert_eq(emb__decode(-1, ipv4_tcp, sizeof(ipv4_tcp), &d), EMB_DEC_UNSUPPORTED);
}

/* ---- IPv6 extension headers and fragments -------------------------------- */

Test(decode, ipv6_hop_by_hop_and_dest_options_before_udp) {
    uint8_t *b = cat(eth_ipv6, 14, ipv6_ext_udp, sizeof(ipv6_ext_udp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(ipv6_ext_udp), &d);
    assert_ipv6_udp(r, &d, b, 14 + sizeof(ipv6_ext_udp));
    free(b);
}

Test(decode, ipv6_fragment_with_offset) {
    /* ipv6_frag_udp with offset 185 (1480 bytes), M=0: the last fragment. */
    uint8_t pkt[sizeof(ipv6_frag_udp)];
    memcpy(pkt, ipv6_frag_udp, sizeof(pkt));
    pkt[IPV6_FRAG_OFF_FLAGS] = 0x05; /* 185 << 3 = 0x05c8 */
    pkt[IPV6_FRAG_OFF_FLAGS + 1] = 0xc8;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_FRAGMENT);
    cr_assert_eq(d.family, 6);
}

Test(decode, ipv6_first_fragment_more_fragments) {
    /* ipv6_frag_udp with offset 0, M=1: the first of several. */
    uint8_t pkt[sizeof(ipv6_frag_udp)];
    memcpy(pkt, ipv6_frag_udp, sizeof(pkt));
    pkt[IPV6_FRAG_OFF_FLAGS + 1] = 0x01;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_FRAGMENT);
}

Test(decode, ipv6_atomic_fragment_decodes) {
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, ipv6_frag_udp, sizeof(ipv6_frag_udp), &d);
    assert_ipv6_udp(r, &d, ipv6_frag_udp, sizeof(ipv6_frag_udp));
}

Test(decode, ipv6_payload_length_trims_trailer) {
    /* ipv6_udp followed by 7 bytes that the payload length leaves out. */
    uint8_t pkt[sizeof(ipv6_udp) + 7] = {0};
    memcpy(pkt, ipv6_udp, sizeof(ipv6_udp));
    memset(pkt + sizeof(ipv6_udp), 'X', 7);
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d);
    assert_ipv6_udp(r, &d, pkt, sizeof(ipv6_udp));
}

/* ---- IPv4 fragments ----------------------------------------------------- */

Test(decode, ipv4_more_fragments_flag) {
    /* ipv4_udp with flags MF (0x2000), offset 0 */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[6] = 0x20;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_FRAGMENT);
    cr_assert_eq(d.family, 4);
}

Test(decode, ipv4_fragment_offset) {
    /* ipv4_udp with no flags, offset 185 (0x00b9): the last fragment */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[6] = 0x00;
    pkt[7] = 0xb9;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_FRAGMENT);
    /* offset in the high bits only: 0x1000 << 3 = 32768 bytes */
    pkt[6] = 0x10;
    pkt[7] = 0x00;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_FRAGMENT);
}

Test(decode, ipv4_dont_fragment_is_not_a_fragment) {
    /* ipv4_tcp has DF (0x4000) set, and decodes */
    cr_assert_eq(ipv4_tcp[6], 0x40);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, ipv4_tcp, sizeof(ipv4_tcp), &d), EMB_DEC_OK);
}

/* ---- truncation --------------------------------------------------------- */

/*
 * Cuts hdr+body at every length from 0 to whole and checks the class:
 * TRUNCATED below `l4_end` (the end of the L4 header, counted from the start
 * of the frame), OK from there on, with the truncated flag set until the
 * whole IP packet is there.
 */
static void cut_everywhere(int linktype, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                           size_t blen, size_t l4_end) {
    for (size_t caplen = 0; caplen <= hlen + blen; caplen++) {
        emb_decoded_t d;
        emb_dec_result_t r = decode_cut(linktype, hdr, hlen, body, blen, caplen, &d);
        if (caplen < l4_end) {
            cr_assert_eq(r, EMB_DEC_TRUNCATED, "linktype %d caplen %zu: got %d", linktype, caplen,
                         r);
        } else {
            cr_assert_eq(r, EMB_DEC_OK, "linktype %d caplen %zu: got %d", linktype, caplen, r);
            cr_assert_eq(d.payload_len, caplen - l4_end, "linktype %d caplen %zu", linktype,
                         caplen);
            cr_assert_eq(d.truncated, caplen < hlen + blen, "linktype %d caplen %zu", linktype,
                         caplen);
        }
    }
}

Test(decode, cut_at_every_length_ipv4_tcp_every_link) {
    const struct {
        int linktype;
        const uint8_t *hdr;
        size_t hlen;
    } links[] = {
        {EMB_LINK_ETHERNET, eth_ipv4, sizeof(eth_ipv4)},
        {EMB_LINK_ETHERNET, eth_vlan, sizeof(eth_vlan)},
        {EMB_LINK_ETHERNET, eth_qinq, sizeof(eth_qinq)},
        {EMB_LINK_LINUX_SLL, sll_ipv4, sizeof(sll_ipv4)},
        {EMB_LINK_LINUX_SLL2, sll2_ipv4, sizeof(sll2_ipv4)},
        {EMB_LINK_NULL, null_le_inet, 4},
        {EMB_LINK_NULL, null_be_inet, 4},
        {EMB_LINK_LOOP, null_be_inet, 4},
        {EMB_LINK_RAW, NULL, 0},
        {EMB_LINK_IPV4, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        cut_everywhere(links[i].linktype, links[i].hdr, links[i].hlen, ipv4_tcp, sizeof(ipv4_tcp),
                       links[i].hlen + IPV4_TCP_L4_END);
}

Test(decode, cut_at_every_length_ipv4_udp) {
    cut_everywhere(EMB_LINK_ETHERNET, eth_ipv4, 14, ipv4_udp, sizeof(ipv4_udp), 14 + 28);
}

Test(decode, cut_at_every_length_ipv6_udp) {
    cut_everywhere(EMB_LINK_ETHERNET, eth_ipv6, 14, ipv6_udp, sizeof(ipv6_udp), 14 + 48);
    cut_everywhere(EMB_LINK_IPV6, NULL, 0, ipv6_udp, sizeof(ipv6_udp), 48);
}

Test(decode, cut_at_every_length_ipv6_extension_headers) {
    cut_everywhere(EMB_LINK_ETHERNET, eth_ipv6, 14, ipv6_ext_udp, sizeof(ipv6_ext_udp),
                   14 + IPV6_EXT_L4_END);
}

Test(decode, cut_at_every_length_ipv6_atomic_fragment) {
    cut_everywhere(EMB_LINK_RAW, NULL, 0, ipv6_frag_udp, sizeof(ipv6_frag_udp), 40 + 8 + 8);
}

Test(decode, cut_at_every_length_tcp_options) {
    /* ipv4_tcp with data offset 6 and one 4-byte option (MSS 1460): the L4
     * header ends at 44, and 40..43 is still TRUNCATED. */
    uint8_t pkt[sizeof(ipv4_tcp) + 4];
    memcpy(pkt, ipv4_tcp, IPV4_TCP_L4_END);
    static const uint8_t mss[4] = {0x02, 0x04, 0x05, 0xb4};
    memcpy(pkt + IPV4_TCP_L4_END, mss, 4);
    memcpy(pkt + IPV4_TCP_L4_END + 4, "GET /", 5);
    pkt[3] = (uint8_t)sizeof(pkt); /* total length 49 */
    pkt[20 + 12] = 0x60;           /* data offset 6 */
    cut_everywhere(EMB_LINK_RAW, NULL, 0, pkt, sizeof(pkt), IPV4_TCP_L4_END + 4);
}

Test(decode, cut_at_every_length_ipv4_options) {
    /* ipv4_udp with IHL 6 and a 4-byte option (NOP NOP NOP EOL): UDP starts at 24. */
    uint8_t pkt[sizeof(ipv4_udp) + 4];
    memcpy(pkt, ipv4_udp, 20);
    static const uint8_t opt[4] = {0x01, 0x01, 0x01, 0x00};
    memcpy(pkt + 20, opt, 4);
    memcpy(pkt + 24, ipv4_udp + 20, sizeof(ipv4_udp) - 20);
    pkt[0] = 0x46;
    pkt[3] = (uint8_t)sizeof(pkt); /* total length 37 */
    cut_everywhere(EMB_LINK_RAW, NULL, 0, pkt, sizeof(pkt), 24 + 8);
}

Test(decode, udp_length_beyond_ip_length_invalid) {
    /* ipv4_udp with UDP length 256 where 13 bytes are there: the IP total
     * length says 33, so the capture is whole and the UDP header contradicts it. */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[24] = 0x01;
    pkt[25] = 0x00;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
}

Test(decode, udp_length_beyond_capture_sets_truncated) {
    /* As above, but the IP total length says 284 (0x011c) too: the capture was
     * cut, the headers agree, and the 5 payload bytes there are inspected. */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[2] = 0x01;
    pkt[3] = 0x1c;
    pkt[24] = 0x01;
    pkt[25] = 0x08;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_OK);
    cr_assert(d.truncated);
    cr_assert_eq(d.payload, pkt + 28);
    cr_assert_eq(d.payload_len, 5);
}

Test(decode, ip_total_length_beyond_capture_sets_truncated) {
    /* ipv4_udp with IPv4 total 1000 and UDP length 980: a snaplen cut. */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[2] = 0x03; /* 1000 = 0x03e8 */
    pkt[3] = 0xe8;
    pkt[24] = 0x03; /* 980 = 0x03d4 */
    pkt[25] = 0xd4;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_OK);
    cr_assert(d.truncated);
    cr_assert_eq(d.payload_len, 5);
}

Test(decode, udp_length_shorter_than_capture_trims) {
    /* ipv4_udp with UDP length 10: only "he" is the datagram's payload. */
    uint8_t pkt[sizeof(ipv4_udp)];
    memcpy(pkt, ipv4_udp, sizeof(pkt));
    pkt[25] = 10;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_OK);
    cr_assert_not(d.truncated);
    cr_assert_eq(d.payload_len, 2);
}

/* ---- invalid headers ---------------------------------------------------- */

Test(decode, ipv4_ihl_below_five_invalid) {
    emb_decoded_t d;
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        /* ipv4_tcp with IHL 0..4 */
        uint8_t pkt[sizeof(ipv4_tcp)];
        memcpy(pkt, ipv4_tcp, sizeof(pkt));
        pkt[0] = (uint8_t)(0x40 | ihl);
        cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID, "IHL %u",
                     ihl);
    }
}

Test(decode, ipv4_total_length_below_header_invalid) {
    /* ipv4_tcp with total length 16 < IHL 5 (20 bytes); and 0. */
    uint8_t pkt[sizeof(ipv4_tcp)];
    memcpy(pkt, ipv4_tcp, sizeof(pkt));
    pkt[2] = 0;
    pkt[3] = 16;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
    pkt[3] = 0;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
    /* IHL 6 (24 bytes) with total length 20 */
    pkt[0] = 0x46;
    pkt[3] = 20;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
}

Test(decode, tcp_data_offset_below_five_invalid) {
    emb_decoded_t d;
    for (uint8_t doff = 0; doff < 5; doff++) {
        /* ipv4_tcp with TCP data offset 0..4 */
        uint8_t pkt[sizeof(ipv4_tcp)];
        memcpy(pkt, ipv4_tcp, sizeof(pkt));
        pkt[20 + 12] = (uint8_t)(doff << 4);
        cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID,
                     "data offset %u", doff);
    }
}

Test(decode, udp_length_below_eight_invalid) {
    emb_decoded_t d;
    for (uint8_t ulen = 0; ulen < 8; ulen++) {
        /* ipv4_udp with UDP length 0..7 */
        uint8_t pkt[sizeof(ipv4_udp)];
        memcpy(pkt, ipv4_udp, sizeof(pkt));
        pkt[24] = 0;
        pkt[25] = ulen;
        cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID,
                     "UDP length %u", ulen);
    }
}

Test(decode, version_mismatch_with_link_type_invalid) {
    emb_decoded_t d;
    /* EtherType IPv4 carrying an IPv6 packet */
    uint8_t *b = cat(eth_ipv4, 14, ipv6_udp, sizeof(ipv6_udp));
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(ipv6_udp), &d), EMB_DEC_INVALID);
    free(b);
    /* EtherType IPv6 carrying an IPv4 packet (long enough for an IPv6 header) */
    uint8_t v4[60] = {0};
    memcpy(v4, ipv4_tcp, sizeof(ipv4_tcp));
    b = cat(eth_ipv6, 14, v4, sizeof(v4));
    cr_assert_eq(emb__decode(EMB_LINK_ETHERNET, b, 14 + sizeof(v4), &d), EMB_DEC_INVALID);
    free(b);
    /* Null loopback AF_INET carrying IPv6 */
    b = cat(null_le_inet, 4, ipv6_udp, sizeof(ipv6_udp));
    cr_assert_eq(emb__decode(EMB_LINK_NULL, b, 4 + sizeof(ipv6_udp), &d), EMB_DEC_INVALID);
    free(b);
}

Test(decode, ipv6_endless_extension_chain_invalid) {
    /* An IPv6 header and 17 destination-options headers (8 bytes each), each
     * pointing at the next: more than the decoder follows. */
    uint8_t pkt[40 + 17 * 8 + 8] = {0};
    memcpy(pkt, ipv6_udp, 40);
    pkt[4] = 0;
    pkt[5] = (uint8_t)(sizeof(pkt) - 40);
    pkt[6] = 60; /* next header: destination options */
    for (int i = 0; i < 17; i++) {
        pkt[40 + i * 8] = 60; /* next: destination options again, length 0 */
    }
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, pkt, sizeof(pkt), &d), EMB_DEC_INVALID);
}

/* ---- tunnels ------------------------------------------------------------ */

/* An outer IPv4 header 198.51.100.1 -> 198.51.100.2 with protocol `proto`
 * and total length 20 + inner_len, written to b; returns 20. */
static size_t outer_ipv4(uint8_t *b, uint8_t proto, size_t inner_len) {
    /* clang-format off */
    static const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x40, 0x00,
                                    0x00, 0x00, 198, 51, 100, 1, 198, 51, 100, 2};
    /* clang-format on */
    memcpy(b, hdr, 20);
    b[2] = (uint8_t)((20 + inner_len) >> 8);
    b[3] = (uint8_t)(20 + inner_len);
    b[9] = proto;
    return 20;
}

Test(decode, mpls_two_labels_then_ipv4) {
    /* Ethernet type 0x8847, label 100 (S=0), label 200 (S=1), then ipv4_tcp */
    static const uint8_t eth_mpls[] = {0,    1,    2,    3,    4,    5,    6,    7,
                                       8,    9,    10,   11,   0x88, 0x47, 0x00, 0x06,
                                       0x40, 0x40, 0x00, 0x0c, 0x81, 0x40};
    uint8_t *b = cat(eth_mpls, sizeof(eth_mpls), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_ETHERNET, b, sizeof(eth_mpls) + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, sizeof(eth_mpls));
    cr_assert_eq(d.tunnels, 1);
    free(b);
}

Test(decode, pppoe_session_ipv4) {
    /* Ethernet type 0x8864; PPPoE ver/type 0x11, code 0, session 1, length; PPP 0x0021 */
    static const uint8_t eth_pppoe[] = {0,    1,    2,    3,    4,    5,    6,    7,
                                        8,    9,    10,   11,   0x88, 0x64, 0x11, 0x00,
                                        0x00, 0x01, 0x00, 0x2f, 0x00, 0x21};
    uint8_t *b = cat(eth_pppoe, sizeof(eth_pppoe), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r =
        emb__decode(EMB_LINK_ETHERNET, b, sizeof(eth_pppoe) + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, sizeof(eth_pppoe));
    cr_assert_eq(d.tunnels, 1);
    free(b);
}

Test(decode, gre_with_key_then_ipv4) {
    /* outer IPv4 proto 47; GRE flags 0x2000 (key present), type 0x0800, key 7 */
    static const uint8_t gre[] = {0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x07};
    uint8_t b[128];
    size_t n = outer_ipv4(b, 47, sizeof(gre) + sizeof(ipv4_tcp));
    memcpy(b + n, gre, sizeof(gre));
    memcpy(b + n + sizeof(gre), ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, n + sizeof(gre) + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, n + sizeof(gre));
    cr_assert_eq(d.tunnels, 1);
}

Test(decode, gre_transparent_ethernet_bridging) {
    /* GRE type 0x6558, then an Ethernet frame carrying ipv4_tcp */
    static const uint8_t gre[] = {0x00, 0x00, 0x65, 0x58};
    uint8_t b[160];
    size_t n = outer_ipv4(b, 47, sizeof(gre) + sizeof(eth_ipv4) + sizeof(ipv4_tcp));
    memcpy(b + n, gre, sizeof(gre));
    memcpy(b + n + sizeof(gre), eth_ipv4, sizeof(eth_ipv4));
    size_t l3 = n + sizeof(gre) + sizeof(eth_ipv4);
    memcpy(b + l3, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, l3);
}

Test(decode, gre_version_1_is_other) {
    static const uint8_t gre[] = {0x30, 0x01, 0x88, 0x0b}; /* PPTP enhanced GRE */
    uint8_t b[64];
    size_t n = outer_ipv4(b, 47, sizeof(gre));
    memcpy(b + n, gre, sizeof(gre));
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, n + sizeof(gre), &d), EMB_DEC_OTHER);
}

Test(decode, vxlan_then_ethernet_ipv4) {
    /* outer UDP 50000 -> 4789, VXLAN flags 0x08 (I), VNI 42, inner Ethernet + ipv4_tcp */
    static const uint8_t vxlan[] = {0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00};
    uint8_t b[200];
    size_t inner = 8 + sizeof(vxlan) + sizeof(eth_ipv4) + sizeof(ipv4_tcp);
    size_t n = outer_ipv4(b, 17, inner);
    uint8_t udp[8] = {0xc3, 0x50, 0x12, 0xb5, (uint8_t)(inner >> 8), (uint8_t)inner, 0, 0};
    memcpy(b + n, udp, 8);
    memcpy(b + n + 8, vxlan, sizeof(vxlan));
    memcpy(b + n + 8 + sizeof(vxlan), eth_ipv4, sizeof(eth_ipv4));
    size_t l3 = n + 8 + sizeof(vxlan) + sizeof(eth_ipv4);
    memcpy(b + l3, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, l3);
    cr_assert_eq(d.tunnels, 1);
}

Test(decode, ipv4_in_ipv6_keeps_no_outer_address_bytes) {
    /* An IPv6 header (next header 4) around ipv4_tcp: the inner addresses are
     * the flow's, and the 12 bytes past them must be zero, not the outer
     * IPv6 addresses' tails (the flow table hashes all 16 bytes). */
    uint8_t b[200];
    memcpy(b, ipv6_udp, 40);
    b[4] = 0;
    b[5] = (uint8_t)sizeof(ipv4_tcp);
    b[6] = 4;
    memcpy(b + 40, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, 40 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, 40);
    static const uint8_t zero[12];
    cr_assert_arr_eq(d.src + 4, zero, 12);
    cr_assert_arr_eq(d.dst + 4, zero, 12);
    cr_assert_eq(d.tunnels, 1);
}

Test(decode, ip_in_ip_nested_too_deep_is_unsupported) {
    /* five IPv4-in-IPv4 headers around ipv4_tcp: one more than EMB_MAX_TUNNELS */
    uint8_t b[256];
    size_t inner = sizeof(ipv4_tcp), off = 0;
    for (int i = 0; i < 5; i++)
        off += outer_ipv4(b + off, 4, inner + (size_t)(4 - i) * 20);
    memcpy(b + off, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, off + sizeof(ipv4_tcp), &d), EMB_DEC_UNSUPPORTED);
    /* four are fine */
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b + 20, off - 20 + sizeof(ipv4_tcp), &d), EMB_DEC_OK);
    cr_assert_eq(d.tunnels, 4);
}

/* ---- mirror-port tunnels: ERSPAN and Geneve ------------------------------ */

/* clang-format off */
/* GRE for ERSPAN type I: no flags, protocol 0x88be. */
static const uint8_t gre_erspan1[] = {0x00, 0x00, 0x88, 0xbe};
/* GRE for ERSPAN type II: S bit (sequence 7), protocol 0x88be; then ERSPAN II:
 * Ver 1 VLAN 0, COS 0 En 0 T 0 session 1, reserved 0 index 5. */
static const uint8_t gre_erspan2[] = {0x10, 0x00, 0x88, 0xbe, 0x00, 0x00, 0x00, 0x07,
                                      0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};
/* GRE with S bit, protocol 0x22eb; then ERSPAN III: Ver 2 VLAN 0, session 1,
 * timestamp 0x01020304, SGT 0, P 0 FT 0 HW 0 D 0 Gra 1 O 1; then the 8-byte
 * platform-specific subheader (platform 3, port 5, upper timestamp 0). */
static const uint8_t gre_erspan3[] = {0x10, 0x00, 0x22, 0xeb, 0x00, 0x00, 0x00, 0x07,
                                      0x20, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
                                      0x00, 0x00, 0x00, 0x03,
                                      0x0c, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
#define ERSPAN3_WORD 18 /* offset of P/FT/HW/D/Gra/O in gre_erspan3 */
/* UDP 50000 -> 6081 (length filled in by tunnel_pkt); then Geneve: Ver 0 Opt
 * Len 2, no flags, protocol 0x6558, VNI 100; one option, class 0x0102 type
 * 0x80 length 1, 4 bytes of data. */
static const uint8_t udp_geneve[] = {0xc3, 0x50, 0x17, 0xc1, 0x00, 0x00, 0x00, 0x00,
                                     0x02, 0x00, 0x65, 0x58, 0x00, 0x00, 0x64, 0x00,
                                     0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef};
#define GENEVE_AT 8 /* offset of the Geneve header in udp_geneve */
/* clang-format on */

/*
 * Writes outer IPv4 (protocol `proto`) / hdr / link / inner into b and
 * returns the offset of inner. With proto 17 the UDP length at hdr[4] is set.
 */
static size_t tunnel_pkt(uint8_t *b, uint8_t proto, const uint8_t *hdr, size_t hlen,
                         const uint8_t *link, size_t llen, const uint8_t *inner, size_t ilen) {
    size_t n = outer_ipv4(b, proto, hlen + llen + ilen);
    memcpy(b + n, hdr, hlen);
    if (proto == 17) {
        b[n + 4] = (uint8_t)((hlen + llen + ilen) >> 8);
        b[n + 5] = (uint8_t)(hlen + llen + ilen);
    }
    if (llen)
        memcpy(b + n + hlen, link, llen);
    if (ilen)
        memcpy(b + n + hlen + llen, inner, ilen);
    return n + hlen + llen;
}

/* Decodes the tunnel built from hdr (+ an inner Ethernet header) around ipv4_tcp. */
static emb_dec_result_t decode_tunnel(uint8_t proto, const uint8_t *hdr, size_t hlen,
                                      emb_decoded_t *d) {
    uint8_t b[256];
    size_t l3 =
        tunnel_pkt(b, proto, hdr, hlen, eth_ipv4, sizeof(eth_ipv4), ipv4_tcp, sizeof(ipv4_tcp));
    return emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv4_tcp), d);
}

/* Each mirror-port tunnel around ipv4_tcp decodes to it, one tunnel deep, and
 * a cut at every length is TRUNCATED until the inner TCP header is whole. */
static void assert_tunnel_decodes(uint8_t proto, const uint8_t *hdr, size_t hlen,
                                  const uint8_t *link, size_t llen) {
    uint8_t b[256];
    size_t l3 = tunnel_pkt(b, proto, hdr, hlen, link, llen, ipv4_tcp, sizeof(ipv4_tcp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv4_tcp), &d);
    assert_ipv4_tcp(r, &d, b, l3);
    cr_assert_eq(d.tunnels, 1);
    cut_everywhere(EMB_LINK_RAW, b, l3, ipv4_tcp, sizeof(ipv4_tcp), l3 + IPV4_TCP_L4_END);
}

Test(decode, erspan_type_i_then_ethernet_ipv4) {
    assert_tunnel_decodes(47, gre_erspan1, sizeof(gre_erspan1), eth_ipv4, sizeof(eth_ipv4));
}

Test(decode, erspan_type_ii_then_ethernet_ipv4) {
    assert_tunnel_decodes(47, gre_erspan2, sizeof(gre_erspan2), eth_ipv4, sizeof(eth_ipv4));
}

Test(decode, erspan_type_ii_vlan_tag_kept_in_frame) {
    /* En 3 (tag preserved in the frame): the inner 802.1Q tag is recorded */
    assert_tunnel_decodes(47, gre_erspan2, sizeof(gre_erspan2), eth_vlan, sizeof(eth_vlan));
    uint8_t b[256];
    size_t l3 = tunnel_pkt(b, 47, gre_erspan2, sizeof(gre_erspan2), eth_vlan, sizeof(eth_vlan),
                           ipv4_tcp, sizeof(ipv4_tcp));
    b[20 + 10] |= 0x18;
    emb_decoded_t d;
    assert_ipv4_tcp(emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv4_tcp), &d), &d, b, l3);
    cr_assert_eq(d.nvlan, 1);
    cr_assert_eq(d.vlan[0], 100);
}

Test(decode, erspan_type_iii_with_subheader_then_ethernet_ipv4) {
    assert_tunnel_decodes(47, gre_erspan3, sizeof(gre_erspan3), eth_ipv4, sizeof(eth_ipv4));
}

Test(decode, erspan_type_iii_without_subheader_then_ethernet_ipv4) {
    /* O clear: Ethernet right after the 12-byte header */
    uint8_t hdr[sizeof(gre_erspan3) - 8];
    memcpy(hdr, gre_erspan3, sizeof(hdr));
    hdr[ERSPAN3_WORD + 1] &= (uint8_t)~0x01;
    assert_tunnel_decodes(47, hdr, sizeof(hdr), eth_ipv4, sizeof(eth_ipv4));
}

Test(decode, erspan_type_iii_frame_type_ip) {
    /* FT 2: an IP packet, no Ethernet header */
    uint8_t hdr[sizeof(gre_erspan3)];
    memcpy(hdr, gre_erspan3, sizeof(hdr));
    hdr[ERSPAN3_WORD] |= 2 << 2;
    assert_tunnel_decodes(47, hdr, sizeof(hdr), NULL, 0);
}

Test(decode, geneve_ethernet_then_ipv4) {
    assert_tunnel_decodes(17, udp_geneve, sizeof(udp_geneve), eth_ipv4, sizeof(eth_ipv4));
}

Test(decode, geneve_ipv4_without_options) {
    /* protocol 0x0800, Opt Len 0: IPv4 right after the 8-byte header */
    uint8_t hdr[GENEVE_AT + 8];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT] = 0x00;
    hdr[GENEVE_AT + 2] = 0x08;
    hdr[GENEVE_AT + 3] = 0x00;
    assert_tunnel_decodes(17, hdr, sizeof(hdr), NULL, 0);
}

Test(decode, geneve_ipv6) {
    /* protocol 0x86dd around the IPv6 "hello" datagram */
    uint8_t hdr[sizeof(udp_geneve)];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT + 2] = 0x86;
    hdr[GENEVE_AT + 3] = 0xdd;
    uint8_t b[256];
    size_t l3 = tunnel_pkt(b, 17, hdr, sizeof(hdr), NULL, 0, ipv6_udp, sizeof(ipv6_udp));
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b, l3 + sizeof(ipv6_udp), &d);
    assert_ipv6_udp(r, &d, b, l3 + sizeof(ipv6_udp));
    cr_assert_eq(d.tunnels, 1);
}

Test(decode, erspan_wrong_version_unsupported) {
    emb_decoded_t d;
    uint8_t hdr2[sizeof(gre_erspan2)];
    memcpy(hdr2, gre_erspan2, sizeof(hdr2));
    hdr2[8] = 0x20; /* version 2 behind 0x88be */
    cr_assert_eq(decode_tunnel(47, hdr2, sizeof(hdr2), &d), EMB_DEC_UNSUPPORTED);
    hdr2[8] = 0x00; /* version 0 */
    cr_assert_eq(decode_tunnel(47, hdr2, sizeof(hdr2), &d), EMB_DEC_UNSUPPORTED);
    uint8_t hdr3[sizeof(gre_erspan3)];
    memcpy(hdr3, gre_erspan3, sizeof(hdr3));
    hdr3[8] = 0x10; /* version 1 behind 0x22eb */
    cr_assert_eq(decode_tunnel(47, hdr3, sizeof(hdr3), &d), EMB_DEC_UNSUPPORTED);
    hdr3[8] = 0xf0; /* version 15 */
    cr_assert_eq(decode_tunnel(47, hdr3, sizeof(hdr3), &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, erspan_type_iii_unknown_frame_type_unsupported) {
    uint8_t hdr[sizeof(gre_erspan3)];
    memcpy(hdr, gre_erspan3, sizeof(hdr));
    hdr[ERSPAN3_WORD] |= 1 << 2; /* FT 1: reserved */
    emb_decoded_t d;
    cr_assert_eq(decode_tunnel(47, hdr, sizeof(hdr), &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, erspan_header_beyond_ip_length_invalid) {
    /* ERSPAN II whose GRE packet ends (by the IP total length, with nothing
     * cut) inside the ERSPAN header, and a type III one inside the subheader */
    uint8_t b[64];
    size_t n = outer_ipv4(b, 47, 12);
    memcpy(b + n, gre_erspan2, 12);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, n + 12, &d), EMB_DEC_INVALID);
    n = outer_ipv4(b, 47, 24);
    memcpy(b + n, gre_erspan3, 24);
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, n + 24, &d), EMB_DEC_INVALID);
}

Test(decode, geneve_wrong_version_unsupported) {
    uint8_t hdr[sizeof(udp_geneve)];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    emb_decoded_t d;
    for (uint8_t v = 1; v < 4; v++) {
        hdr[GENEVE_AT] = (uint8_t)(v << 6 | 0x02);
        cr_assert_eq(decode_tunnel(17, hdr, sizeof(hdr), &d), EMB_DEC_UNSUPPORTED, "version %u", v);
    }
}

Test(decode, geneve_unknown_protocol_unsupported) {
    uint8_t hdr[sizeof(udp_geneve)];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT + 2] = 0x88; /* 0x8847 MPLS: not a Geneve payload embargo follows */
    hdr[GENEVE_AT + 3] = 0x47;
    emb_decoded_t d;
    cr_assert_eq(decode_tunnel(17, hdr, sizeof(hdr), &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, geneve_options_inconsistent_invalid) {
    uint8_t hdr[sizeof(udp_geneve)];
    emb_decoded_t d;
    /* the option says 2 words of data where Opt Len leaves room for 1 */
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT + 11] = 0x02;
    cr_assert_eq(decode_tunnel(17, hdr, sizeof(hdr), &d), EMB_DEC_INVALID);
    /* Opt Len 3 words: a second option header would straddle the end */
    uint8_t hdr3[sizeof(udp_geneve) + 4];
    memcpy(hdr3, udp_geneve, sizeof(udp_geneve));
    memset(hdr3 + sizeof(udp_geneve), 0, 4);
    hdr3[GENEVE_AT] = 0x03;
    hdr3[GENEVE_AT + 11] = 0x00; /* first option: no data, so 3 words = 4 + 8 bytes */
    cr_assert_eq(decode_tunnel(17, hdr3, sizeof(hdr3), &d), EMB_DEC_INVALID);
}

Test(decode, geneve_options_beyond_udp_length_invalid) {
    /* Opt Len 63 words in a datagram of 8 + 24 bytes, nothing cut */
    uint8_t b[64];
    uint8_t hdr[sizeof(udp_geneve)];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT] = 0x3f;
    size_t l3 = tunnel_pkt(b, 17, hdr, sizeof(hdr), NULL, 0, NULL, 0);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, l3, &d), EMB_DEC_INVALID);
    /* and a datagram to 6081 too short for the base header */
    l3 = tunnel_pkt(b, 17, udp_geneve, GENEVE_AT + 4, NULL, 0, NULL, 0);
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, l3, &d), EMB_DEC_INVALID);
}

Test(decode, gre_unknown_protocol_unsupported) {
    /* GRE protocol 0x88b5 (IEEE local experimental), 0x0000, and 0x880b (PPP,
     * which Suricata follows and embargo does not yet): none is followed */
    static const uint8_t gre_exp[] = {0x00, 0x00, 0x88, 0xb5};
    static const uint8_t gre_zero[] = {0x00, 0x00, 0x00, 0x00};
    static const uint8_t gre_ppp[] = {0x00, 0x00, 0x88, 0x0b};
    emb_decoded_t d;
    cr_assert_eq(decode_tunnel(47, gre_exp, sizeof(gre_exp), &d), EMB_DEC_UNSUPPORTED);
    cr_assert_eq(decode_tunnel(47, gre_zero, sizeof(gre_zero), &d), EMB_DEC_UNSUPPORTED);
    cr_assert_eq(decode_tunnel(47, gre_ppp, sizeof(gre_ppp), &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, gre_undefined_version_unsupported) {
    static const uint8_t gre[] = {0x00, 0x02, 0x08, 0x00}; /* version 2 */
    emb_decoded_t d;
    cr_assert_eq(decode_tunnel(47, gre, sizeof(gre), &d), EMB_DEC_UNSUPPORTED);
}

Test(decode, gre_arp_is_other) {
    /* GRE protocol 0x0806: understood, not inspected */
    static const uint8_t gre[] = {0x00, 0x00, 0x08, 0x06};
    emb_decoded_t d;
    cr_assert_eq(decode_tunnel(47, gre, sizeof(gre), &d), EMB_DEC_OTHER);
    cr_assert_eq(d.tunnels, 1);
}

Test(decode, erspan_and_geneve_keep_the_nesting_limit) {
    /* three IPv4-in-IPv4 headers, then Geneve carrying IPv4 / GRE / ERSPAN II
     * around ipv4_tcp: five tunnels, one more than EMB_MAX_TUNNELS */
    uint8_t erspan[sizeof(gre_erspan2) + sizeof(eth_ipv4) + sizeof(ipv4_tcp)];
    memcpy(erspan, gre_erspan2, sizeof(gre_erspan2));
    memcpy(erspan + sizeof(gre_erspan2), eth_ipv4, sizeof(eth_ipv4));
    memcpy(erspan + sizeof(gre_erspan2) + sizeof(eth_ipv4), ipv4_tcp, sizeof(ipv4_tcp));
    uint8_t gre_pkt[20 + sizeof(erspan)];
    size_t n = outer_ipv4(gre_pkt, 47, sizeof(erspan));
    memcpy(gre_pkt + n, erspan, sizeof(erspan));
    uint8_t hdr[GENEVE_AT + 8];
    memcpy(hdr, udp_geneve, sizeof(hdr));
    hdr[GENEVE_AT] = 0x00;
    hdr[GENEVE_AT + 2] = 0x08;
    hdr[GENEVE_AT + 3] = 0x00;
    uint8_t b[512];
    size_t off = 0, inner = sizeof(hdr) + sizeof(gre_pkt);
    for (int i = 0; i < 3; i++)
        off += outer_ipv4(b + off, 4, inner + 20 + (size_t)(2 - i) * 20);
    size_t end = off +
                 tunnel_pkt(b + off, 17, hdr, sizeof(hdr), NULL, 0, gre_pkt, sizeof(gre_pkt)) +
                 sizeof(gre_pkt);
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, end, &d), EMB_DEC_UNSUPPORTED);
    /* without the first IP-in-IP header: four, fine */
    emb_dec_result_t r = emb__decode(EMB_LINK_RAW, b + 20, end - 20, &d);
    cr_assert_eq(r, EMB_DEC_OK, "result %d", r);
    cr_assert_eq(d.tunnels, 4);
    cr_assert_eq(d.dport, 80);
}

Test(decode, fragment_metadata_for_reassembly) {
    /* ipv4_udp with MF set and id 1: the first fragment of datagram 1 */
    uint8_t b[sizeof(ipv4_udp)];
    memcpy(b, ipv4_udp, sizeof(b));
    b[6] = 0x20;
    emb_decoded_t d;
    cr_assert_eq(emb__decode(EMB_LINK_RAW, b, sizeof(b), &d), EMB_DEC_FRAGMENT);
    cr_assert_eq(d.frag_id, 1);
    cr_assert_eq(d.frag_off, 0);
    cr_assert(d.frag_more);
    cr_assert_eq(d.frag_proto, 17);
    cr_assert_eq(d.frag_data, b + 20);
    cr_assert_eq(d.frag_len, sizeof(ipv4_udp) - 20);

    /* the datagram put back together decodes to the UDP header and payload */
    emb_decoded_t whole;
    cr_assert_eq(emb__decode_datagram(&d, d.frag_data, d.frag_len, &whole), EMB_DEC_OK);
    cr_assert_eq(whole.dport, 53);
    cr_assert_eq(whole.payload_len, 5);
    cr_assert_arr_eq(whole.payload, "hello", 5);
}
