/*
 * Link, network and transport decoding. Every length is checked against the
 * captured length in header order before it is used (Suricata's
 * DecodeIPV4Packet: too short, version, header length, total length against
 * what was captured). "Truncated" (the capture stopped early) and "invalid"
 * (a header contradicts itself) are kept apart, because the first is normal
 * with a small snaplen and the second is worth a look.
 *
 * Fragments are reported, not reassembled, for now: a later stage will put
 * them back together.
 */
#include "decode.h"

#include "embargo/embargo.h"
#include "util-buf.h"

#include <string.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ_OLD 0x9100
#define MAX_TAGS 4 /* VLAN tags skipped before giving up */

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
        return EMB_DEC_OK;
    }
    return EMB_DEC_OTHER;
}

static emb_dec_result_t decode_ipv4(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 20)
        return EMB_DEC_TRUNCATED;
    if (p[0] >> 4 != 4)
        return EMB_DEC_INVALID;
    size_t hlen = (size_t)(p[0] & 0x0F) * 4;
    uint16_t total, frag;
    emb_rd_be16(p, len, 2, &total);
    emb_rd_be16(p, len, 6, &frag);
    if (hlen < 20 || total < hlen)
        return EMB_DEC_INVALID;
    if (hlen > len)
        return EMB_DEC_TRUNCATED;
    if (total > len)
        out->truncated = true;
    else
        len = total; /* drop link-layer padding */

    out->family = 4;
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    if ((frag & 0x2000) || (frag & 0x1FFF))
        return EMB_DEC_FRAGMENT;
    return decode_l4(p[9], p + hlen, len - hlen, out);
}

static emb_dec_result_t decode_ipv6(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 40)
        return EMB_DEC_TRUNCATED;
    if (p[0] >> 4 != 6)
        return EMB_DEC_INVALID;
    uint16_t plen;
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

    const emb_dec_result_t short_hdr = out->truncated ? EMB_DEC_TRUNCATED : EMB_DEC_INVALID;
    uint8_t nh = p[6];
    size_t off = 40;
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
            if (!emb_rd_be16(p, len, off + 2, &fo) || !emb_have(len, off, 8))
                return short_hdr;
            if ((fo & 0xFFF8) || (fo & 1))
                return EMB_DEC_FRAGMENT;
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

emb_dec_result_t emb__decode_ip(const uint8_t *p, size_t len, emb_decoded_t *out) {
    if (len < 1)
        return EMB_DEC_TRUNCATED;
    switch (p[0] >> 4) {
    case 4: return decode_ipv4(p, len, out);
    case 6: return decode_ipv6(p, len, out);
    default: return EMB_DEC_INVALID;
    }
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
    if (type == ETH_P_IPV4)
        return decode_ipv4(p, len, out);
    if (type == ETH_P_IPV6)
        return decode_ipv6(p, len, out);
    return EMB_DEC_OTHER;
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
