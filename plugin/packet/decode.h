/*
 * Packet decoding from the link layer to TCP/UDP: fills an emb_decoded_t
 * whose payload is a slice into the caller's packet buffer (valid as long as
 * that buffer is).
 */
#ifndef EMB_DECODE_H
#define EMB_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMB_MAX_TUNNELS 4

typedef enum {
    EMB_DEC_OK,         /* TCP or UDP decoded (possibly cut short: see truncated) */
    EMB_DEC_OTHER,      /* a valid packet we do not inspect (ARP, ICMP, ...) */
    EMB_DEC_FRAGMENT,   /* an IPv4 or IPv6 fragment (reassembly comes later) */
    EMB_DEC_TRUNCATED,  /* headers cut before the L4 header ended */
    EMB_DEC_INVALID,    /* headers that cannot be right */
    EMB_DEC_UNSUPPORTED /* link type or encapsulation not handled */
} emb_dec_result_t;

#define EMB_MAX_VLANS 2

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t proto;  /* 6 TCP, 17 UDP */
    uint8_t tcp_flags;
    uint32_t tcp_seq;
    bool truncated; /* the payload is shorter than the IP header says */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint16_t vlan[EMB_MAX_VLANS];
    uint8_t nvlan;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t tunnels; /* encapsulations removed (MPLS, PPPoE, GRE, VXLAN, Geneve, IP-in-IP) */
    bool has_mac;    /* an Ethernet header was read: the innermost one's source is in src_mac */
    uint8_t src_mac[6];
    /* For EMB_DEC_FRAGMENT: this fragment of datagram (src, dst, frag_id, proto). */
    uint32_t frag_id;
    uint32_t frag_off; /* in bytes */
    bool frag_more;
    uint8_t frag_proto; /* IPv4 protocol, or the IPv6 next header after the fragment header */
    const uint8_t *frag_data;
    size_t frag_len;
} emb_decoded_t;

#define EMB_TCP_FIN 0x01
#define EMB_TCP_SYN 0x02
#define EMB_TCP_RST 0x04
#define EMB_TCP_ACK 0x10

emb_dec_result_t emb__decode(int linktype, const uint8_t *p, size_t caplen, emb_decoded_t *out);

/* Decoding from the network layer on, for hosts and tests that have no link header. */
emb_dec_result_t emb__decode_ip(const uint8_t *p, size_t len, emb_decoded_t *out);

/*
 * Decodes a reassembled datagram: `frag` is any fragment of it (for the
 * addresses and protocol), `data` the datagram's payload put back together.
 * Tunnels inside it are followed as in emb__decode.
 */
emb_dec_result_t emb__decode_datagram(const emb_decoded_t *frag, const uint8_t *data, size_t len,
                                      emb_decoded_t *out);

#endif /* EMB_DECODE_H */
