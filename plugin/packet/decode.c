/*
 * Link, network and transport decoding. Every length is checked against the
 * captured length in header order before it is used (Suricata's
 * DecodeIPV4Packet: too short, version, header length, total length against
 * what was captured). "Truncated" (the capture stopped early) and "invalid"
 * (a header contradicts itself) are kept apart, because the first is normal
 * with a small snaplen and the second is worth a look.
 *
 * Fragments are reported with what reassembly needs (id, offset, bytes); the
 * engine puts datagrams back together and hands them to
 * emb__decode_datagram. Tunnels seen on mirror ports (MPLS, PPPoE, GRE,
 * ERSPAN types I, II and III inside GRE, VXLAN on UDP 4789, Geneve on UDP
 * 6081, IP-in-IP) are removed, at most EMB_MAX_TUNNELS deep: the inner
 * packet is the one inspected. A GRE protocol type, or an ERSPAN or Geneve
 * version, that is not one of these is EMB_DEC_UNSUPPORTED: counted, never
 * passed off as an ordinary packet we chose not to inspect.
 */
#include "packet/decode.h"

#include "embargo/embargo.h"
#include "common/buf.h"

#include <string.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPPOE_SESS 0x8864
#define ETH_P_ARP 0x0806
#define ETH_P_TEB 0x6558         /* transparent Ethernet bridging, inside GRE and Geneve */
#define ETH_P_ERSPAN_I_II 0x88BE /* GRE protocol of ERSPAN types I and II */
#define ETH_P_ERSPAN_III 0x22EB  /* GRE protocol of ERSPAN type III */
#define GRE_F_SEQ 0x1000         /* GRE S bit: a sequence number follows */
#define VXLAN_PORT 4789
#define GENEVE_PORT 6081
#define MAX_TAGS 4 /* VLAN tags skipped before giving up */

static emb_dec_result_t decode_ipv4(const uint8_t *p, size_t len, emb_decoded_t *out);
static emb_dec_result_t decode_ipv6(const uint8_t *p, size_t len, emb_decoded_t *out);
static emb_dec_result_t decode_ethertype(uint16_t type, const uint8_t *p, size_t len,
                                         emb_decoded_t *out);

/* Counts one more encapsulation; false when there are too many. */
static bool enter_tunnel(emb_decoded_t *out) {
    if (out->tunnels >= EMB_MAX_TUNNELS)
        return false;
    out->tunnels++;
    out->truncated = false; /* the inner header says anew what it holds */
    return true;
}

/* An Ethernet frame carried by a tunnel: its EtherType, then what that holds. */
static emb_dec_result_t decode_inner_ethernet(const uint8_t *p, size_t len, emb_decoded_t *out) {
    uint16_t type;
    if (!emb_rd_be16(p, len, 12, &type))
        return EMB_DEC_TRUNCATED;
    memcpy(out->src_mac, p + 6, 6); /* the mirrored or bridged frame's sender */
    out->has_mac = true;
    return decode_ethertype(type, p + 14, len - 14, out);
}

/*
 * ERSPAN, the payload of a GRE packet of protocol 0x88BE or 0x22EB. Layouts
 * from draft-foschiano-erspan-03 (Cisco's ERSPAN) and, for types I and II,
 * Suricata's src/decode-erspan.c and decode-gre.c:
 *
 *   type I    0x88BE, GRE S bit clear: the mirrored Ethernet frame at once.
 *   type II   0x88BE, GRE S bit set: 8 bytes, Ver(4) = 1, VLAN(12),
 *             COS(3) En(2) T(1) Session ID(10), Reserved(12) Index(20).
 *   type III  0x22EB: 12 bytes, Ver(4) = 2, VLAN(12), COS(3) BSO(2) T(1)
 *             Session ID(10), Timestamp(32), SGT(16), P(1) FT(5) HW ID(6)
 *             D(1) Gra(2) O(1); with O set an 8-byte platform-specific
 *             subheader follows. Frame type FT 0 is an Ethernet frame, 2 an
 *             IP packet.
 *
 * Another version, or another frame type, is unsupported. The VLAN field
 * (the mirrored port's) is not recorded: a tag kept in the frame is.
 */
static emb_dec_result_t decode_erspan(uint16_t proto, bool gre_seq, const uint8_t *p, size_t len,
                                      emb_decoded_t *out) {
    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    size_t hlen = 0;
    bool ip = false;
    if (proto == ETH_P_ERSPAN_III || gre_seq) {
        uint16_t ver_vlan;
        if (!emb_rd_be16(p, len, 0, &ver_vlan))
            return short_hdr;
        unsigned version = ver_vlan >> 12;
        if (proto == ETH_P_ERSPAN_I_II) {
            if (version != 1)
                return EMB_DEC_UNSUPPORTED;
            hlen = 8;
        } else {
            uint16_t word;
            if (version != 2)
                return EMB_DEC_UNSUPPORTED;
            if (!emb_rd_be16(p, len, 10, &word))
                return short_hdr;
            unsigned frame_type = (word >> 10) & 0x1F;
            if (frame_type != 0 && frame_type != 2)
                return EMB_DEC_UNSUPPORTED;
            ip = frame_type == 2;
            hlen = 12 + ((word & 0x0001) ? 8 : 0);
        }
        if (hlen > len)
            return short_hdr;
    }
    if (!enter_tunnel(out))
        return EMB_DEC_UNSUPPORTED;
    if (ip)
        return emb__decode_ip(p + hlen, len - hlen, out);
    return decode_inner_ethernet(p + hlen, len - hlen, out);
}

/*
 * GRE (RFC 2784, with the key and sequence fields of RFC 2890). The
 * protocol types followed are IPv4, IPv6, MPLS, transparent Ethernet
 * bridging and ERSPAN; ARP is a packet not inspected; any other is
 * unsupported, as is a version other than 0 and 1. A header that does not
 * fit is truncated or invalid as in decode_l4.
 */
static emb_dec_result_t decode_gre(const uint8_t *p, size_t len, emb_decoded_t *out) {
    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    uint16_t flags, proto;
    if (!emb_rd_be16(p, len, 0, &flags) || !emb_rd_be16(p, len, 2, &proto))
        return short_hdr;
    switch (flags & 0x0007) {
    case 0: break;
    case 1: return EMB_DEC_OTHER; /* PPTP's enhanced GRE: PPP inside */
    default: return EMB_DEC_UNSUPPORTED;
    }
    size_t hlen =
        4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & GRE_F_SEQ) ? 4 : 0);
    if (hlen > len)
        return short_hdr;
    p += hlen;
    len -= hlen;
    switch (proto) {
    case ETH_P_ERSPAN_I_II:
    case ETH_P_ERSPAN_III: return decode_erspan(proto, (flags & GRE_F_SEQ) != 0, p, len, out);
    case ETH_P_TEB:
    case ETH_P_IPV4:
    case ETH_P_IPV6:
    case ETH_P_MPLS_UC:
    case ETH_P_MPLS_MC:
    case ETH_P_ARP:
        if (!enter_tunnel(out))
            return EMB_DEC_UNSUPPORTED;
        if (proto == ETH_P_TEB)
            return decode_inner_ethernet(p, len, out);
        return decode_ethertype(proto, p, len, out);
    default: return EMB_DEC_UNSUPPORTED;
    }
}

/*
 * Geneve (RFC 8926 section 3.4; Suricata's src/decode-geneve.c), the payload
 * of a UDP datagram to port 6081: Ver(2) = 0, Opt Len(6) in 4-byte words,
 * O(1) C(1) Rsvd(6), Protocol Type(16), VNI(24), Reserved(8); then the
 * options, each Class(16) Type(8) R(3) Length(5) and Length words of data,
 * which must fill Opt Len exactly. The protocol types followed are
 * transparent Ethernet bridging, IPv4 and IPv6; ARP is a packet not
 * inspected; another protocol type or version is unsupported. Reserved bits
 * are ignored, as the RFC asks of a receiver.
 */
static emb_dec_result_t decode_geneve(const uint8_t *p, size_t len, emb_decoded_t *out) {
    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    uint8_t ver_optlen;
    uint16_t proto;
    if (!emb_have(len, 0, 8) || !emb_rd_u8(p, len, 0, &ver_optlen) ||
        !emb_rd_be16(p, len, 2, &proto))
        return short_hdr;
    if (ver_optlen >> 6 != 0)
        return EMB_DEC_UNSUPPORTED;
    size_t hlen = 8 + (size_t)(ver_optlen & 0x3F) * 4;
    if (hlen > len)
        return short_hdr;
    size_t off = 8;
    while (off < hlen) {
        uint8_t opt_len;
        if (!emb_rd_u8(p, hlen, off + 3, &opt_len))
            return EMB_DEC_INVALID; /* an option header across the end of the options */
        off += 4 + (size_t)(opt_len & 0x1F) * 4;
    }
    if (off != hlen)
        return EMB_DEC_INVALID; /* the last option's data runs past Opt Len */
    if (!enter_tunnel(out))
        return EMB_DEC_UNSUPPORTED;
    switch (proto) {
    case ETH_P_TEB: return decode_inner_ethernet(p + hlen, len - hlen, out);
    case ETH_P_IPV4: return decode_ipv4(p + hlen, len - hlen, out);
    case ETH_P_IPV6: return decode_ipv6(p + hlen, len - hlen, out);
    case ETH_P_ARP: return EMB_DEC_OTHER;
    default: return EMB_DEC_UNSUPPORTED;
    }
}

/*
 * `len` is what the IP header says the L4 part holds, limited to what was
 * captured; out->truncated tells which. A header that does not fit is
 * truncated when the capture stopped early, invalid when the IP length
 * itself leaves no room for it.
 */
static emb_dec_result_t decode_l4(uint8_t proto, const uint8_t *p, size_t len, emb_decoded_t *out) {
    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    out->proto = proto;
    if (proto == 6) {
        uint8_t off_byte;
        if (len < 20 || !emb_rd_u8(p, len, 12, &off_byte))
            return short_hdr;
        size_t hlen = (size_t)(off_byte >> 4) * 4;
        if (hlen < 20)
            return EMB_DEC_INVALID;
        if (hlen > len)
            return short_hdr;
        emb_rd_be16(p, len, 0, &out->sport);
        emb_rd_be16(p, len, 2, &out->dport);
        emb_rd_be32(p, len, 4, &out->tcp_seq);
        out->tcp_flags = p[13];
        out->payload = p + hlen;
        out->payload_len = len - hlen;
        return EMB_DEC_OK;
    }
    if (proto == 17) {
        uint16_t ulen;
        if (len < 8 || !emb_rd_be16(p, len, 4, &ulen))
            return short_hdr;
        if (ulen < 8)
            return EMB_DEC_INVALID;
        if (ulen > len && !out->truncated)
            return EMB_DEC_INVALID; /* longer than the IP packet that carries it */
        if (ulen <= len)
            len = ulen;
        emb_rd_be16(p, len, 0, &out->sport);
        emb_rd_be16(p, len, 2, &out->dport);
        out->payload = p + 8;
        out->payload_len = len - 8;
        if (out->dport == GENEVE_PORT)
            return decode_geneve(out->payload, out->payload_len, out);
        /* VXLAN (RFC 7348): 8-byte header with the I flag, then an Ethernet frame. */
        if (out->dport == VXLAN_PORT && out->payload_len >= 8 + 14 && (out->payload[0] & 0x08)) {
            uint16_t type;
            emb_rd_be16(out->payload, out->payload_len, 8 + 12, &type);
            if (!enter_tunnel(out))
                return EMB_DEC_UNSUPPORTED;
            return decode_ethertype(type, out->payload + 8 + 14, out->payload_len - 8 - 14, out);
        }
        return EMB_DEC_OK;
    }
    if (proto == 47)
        return decode_gre(p, len, out);
    if (proto == 4 || proto == 41) { /* IP-in-IP, IPv6-in-IP */
        if (!enter_tunnel(out))
            return EMB_DEC_UNSUPPORTED;
        return proto == 4 ? decode_ipv4(p, len, out) : decode_ipv6(p, len, out);
    }
    return EMB_DEC_OTHER;
}

static emb_dec_result_t decode_ipv4(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 20)
        return EMB_DEC_TRUNCATED;
    if (p[0] >> 4 != 4)
        return EMB_DEC_INVALID;
    size_t hlen = (size_t)(p[0] & 0x0F) * 4;
    uint16_t total = 0, frag = 0, id = 0;
    emb_rd_be16(p, len, 2, &total);
    emb_rd_be16(p, len, 4, &id);
    emb_rd_be16(p, len, 6, &frag);
    if (hlen < 20 || total < hlen)
        return EMB_DEC_INVALID;
    if (hlen > len)
        return EMB_DEC_TRUNCATED;
    if (total > len)
        out->truncated = true;
    else
        len = total; /* drop link-layer padding */

    /* All 16 bytes: an IPv4 header inside IPv6 (or after a 6in4 outer header)
     * must not keep the outer address's tail, which the flow hash reads. */
    out->family = 4;
    memset(out->src, 0, sizeof(out->src));
    memset(out->dst, 0, sizeof(out->dst));
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    if ((frag & 0x2000) || (frag & 0x1FFF)) {
        out->frag_id = id;
        out->frag_off = (uint32_t)(frag & 0x1FFF) * 8;
        out->frag_more = (frag & 0x2000) != 0;
        out->frag_proto = p[9];
        out->frag_data = p + hlen;
        out->frag_len = len - hlen;
        return EMB_DEC_FRAGMENT;
    }
    return decode_l4(p[9], p + hlen, len - hlen, out);
}

/*
 * Walks IPv6 extension headers from `nh` at p[0] on, then decodes L4. A
 * fragment header with a non-zero offset or the M flag ends the walk with
 * EMB_DEC_FRAGMENT; an atomic fragment header (offset 0, no M) is stepped over.
 */
static emb_dec_result_t decode_ipv6_chain(uint8_t nh, const uint8_t *p, size_t len,
                                          emb_decoded_t *out) {
    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    size_t off = 0;
    for (int hops = 0; hops < 16; hops++) {
        uint8_t hl;
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (!emb_have(len, off, 8))
                return short_hdr;
            hl = p[off + 1];
            nh = p[off];
            off += ((size_t)hl + 1) * 8;
            if (off > len)
                return short_hdr;
            break;
        case 44: { /* fragment */
            uint16_t fo;
            uint32_t id;
            if (!emb_rd_be16(p, len, off + 2, &fo) || !emb_rd_be32(p, len, off + 4, &id))
                return short_hdr;
            if ((fo & 0xFFF8) || (fo & 1)) {
                out->frag_id = id;
                out->frag_off = fo & 0xFFF8;
                out->frag_more = fo & 1;
                out->frag_proto = p[off];
                out->frag_data = p + off + 8;
                out->frag_len = len - off - 8;
                return EMB_DEC_FRAGMENT;
            }
            nh = p[off]; /* an atomic fragment: carry on */
            off += 8;
            break;
        }
        case 51: /* AH: length in 4-octet units, minus 2 */
            if (!emb_have(len, off, 8))
                return short_hdr;
            hl = p[off + 1];
            nh = p[off];
            off += ((size_t)hl + 2) * 4;
            if (off > len)
                return short_hdr;
            break;
        default: return decode_l4(nh, p + off, len - off, out);
        }
    }
    return EMB_DEC_INVALID; /* an absurd chain of extension headers */
}

static emb_dec_result_t decode_ipv6(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 40)
        return EMB_DEC_TRUNCATED;
    if (p[0] >> 4 != 6)
        return EMB_DEC_INVALID;
    uint16_t plen = 0;
    emb_rd_be16(p, len, 4, &plen);
    if (plen == 0) {
        /* Jumbogram or a capture that lost the length: use what is there. */
    } else if ((size_t)plen + 40 > len) {
        out->truncated = true;
    } else {
        len = (size_t)plen + 40;
    }
    out->family = 6;
    memcpy(out->src, p + 8, 16);
    memcpy(out->dst, p + 24, 16);
    return decode_ipv6_chain(p[6], p + 40, len - 40, out);
}

emb_dec_result_t emb__decode_ip(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 1)
        return EMB_DEC_TRUNCATED;
    switch (p[0] >> 4) {
    case 4: return decode_ipv4(p, len, out);
    case 6: return decode_ipv6(p, len, out);
    default: return EMB_DEC_INVALID;
    }
}

emb_dec_result_t emb__decode_datagram(const emb_decoded_t *frag, const uint8_t *data, size_t len,
                                      emb_decoded_t *out) {
    memset(out, 0, sizeof(*out));
    out->family = frag->family;
    memcpy(out->src, frag->src, 16);
    memcpy(out->dst, frag->dst, 16);
    memcpy(out->vlan, frag->vlan, sizeof(out->vlan));
    out->nvlan = frag->nvlan;
    out->tunnels = frag->tunnels;
    out->has_mac = frag->has_mac;
    memcpy(out->src_mac, frag->src_mac, 6);
    if (frag->family == 6)
        return decode_ipv6_chain(frag->frag_proto, data, len, out);
    return decode_l4(frag->frag_proto, data, len, out);
}

/* MPLS (RFC 3032): labels up to the bottom of the stack, then IP by its version. */
static emb_dec_result_t decode_mpls(const uint8_t *p, size_t len, emb_decoded_t *out) {
    size_t off = 0;
    for (int labels = 0;; labels++) {
        if (labels == 16)
            return EMB_DEC_UNSUPPORTED;
        if (!emb_have(len, off, 4))
            return EMB_DEC_TRUNCATED;
        bool bottom = p[off + 2] & 0x01;
        off += 4;
        if (bottom)
            break;
    }
    if (!enter_tunnel(out))
        return EMB_DEC_UNSUPPORTED;
    if (off >= len)
        return EMB_DEC_TRUNCATED;
    switch (p[off] >> 4) {
    case 4: return decode_ipv4(p + off, len - off, out);
    case 6: return decode_ipv6(p + off, len - off, out);
    default: return EMB_DEC_OTHER; /* a pseudowire, or an Ethernet frame */
    }
}

/* PPPoE session (RFC 2516): 6-byte header, then the PPP protocol. */
static emb_dec_result_t decode_pppoe(const uint8_t *p, size_t len, emb_decoded_t *out) {
    uint16_t ppp;
    if (!emb_rd_be16(p, len, 6, &ppp))
        return EMB_DEC_TRUNCATED;
    if (!enter_tunnel(out))
        return EMB_DEC_UNSUPPORTED;
    if (ppp == 0x0021)
        return decode_ipv4(p + 8, len - 8, out);
    if (ppp == 0x0057)
        return decode_ipv6(p + 8, len - 8, out);
    return EMB_DEC_OTHER; /* LCP, IPCP, ... */
}

/* Dispatches on an EtherType, skipping 802.1Q/802.1ad tags first. */
static emb_dec_result_t decode_ethertype(uint16_t type, const uint8_t *p, size_t len,
                                         emb_decoded_t *out) {
    for (int tags = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ_OLD;
         tags++) {
        uint16_t tci;
        if (tags == MAX_TAGS)
            return EMB_DEC_UNSUPPORTED;
        if (!emb_rd_be16(p, len, 0, &tci) || !emb_rd_be16(p, len, 2, &type))
            return EMB_DEC_TRUNCATED;
        if (out->nvlan < EMB_MAX_VLANS)
            out->vlan[out->nvlan++] = tci & 0x0FFF;
        p += 4;
        len -= 4;
    }
    switch (type) {
    case ETH_P_IPV4: return decode_ipv4(p, len, out);
    case ETH_P_IPV6: return decode_ipv6(p, len, out);
    case ETH_P_MPLS_UC:
    case ETH_P_MPLS_MC: return decode_mpls(p, len, out);
    case ETH_P_PPPOE_SESS: return decode_pppoe(p, len, out);
    default: return EMB_DEC_OTHER;
    }
}

/* BSD loopback: an address family, 2 for IPv4 and one of several for IPv6. */
static emb_dec_result_t decode_family(uint32_t fam, const uint8_t *p, size_t len,
                                      emb_decoded_t *out) {
    if (fam == 2)
        return decode_ipv4(p, len, out);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
        return decode_ipv6(p, len, out);
    return EMB_DEC_OTHER;
}

emb_dec_result_t emb__decode(int linktype, const uint8_t *p, size_t caplen, emb_decoded_t *out) {
    memset(out, 0, sizeof(*out));
    uint16_t type;
    uint32_t fam;
    switch (linktype) {
    case EMB_LINK_ETHERNET:
        if (!emb_rd_be16(p, caplen, 12, &type))
            return EMB_DEC_TRUNCATED;
        if (type < 0x0600)
            return EMB_DEC_OTHER; /* 802.3 length field: LLC, not IP */
        memcpy(out->src_mac, p + 6, 6);
        out->has_mac = true;
        return decode_ethertype(type, p + 14, caplen - 14, out);
    case EMB_LINK_LINUX_SLL:
        if (!emb_rd_be16(p, caplen, 14, &type))
            return EMB_DEC_TRUNCATED;
        return decode_ethertype(type, p + 16, caplen - 16, out);
    case EMB_LINK_LINUX_SLL2:
        if (caplen < 20)
            return EMB_DEC_TRUNCATED;
        emb_rd_be16(p, caplen, 0, &type);
        return decode_ethertype(type, p + 20, caplen - 20, out);
    case EMB_LINK_NULL:
        if (caplen < 4)
            return EMB_DEC_TRUNCATED;
        /* Host byte order of the machine that captured: the family is small, so
         * whichever end holds it is the right one. */
        fam = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (fam > 0xFFFF)
            emb_rd_be32(p, caplen, 0, &fam);
        return decode_family(fam, p + 4, caplen - 4, out);
    case EMB_LINK_LOOP:
        if (!emb_rd_be32(p, caplen, 0, &fam))
            return EMB_DEC_TRUNCATED;
        return decode_family(fam, p + 4, caplen - 4, out);
    case EMB_LINK_RAW:
    case 12: /* DLT_RAW as libpcap reports it on most systems */
    case 14: /* DLT_RAW on OpenBSD */ return emb__decode_ip(p, caplen, out);
    case EMB_LINK_IPV4: return decode_ipv4(p, caplen, out);
    case EMB_LINK_IPV6: return decode_ipv6(p, caplen, out);
    default: return EMB_DEC_UNSUPPORTED;
    }
}
