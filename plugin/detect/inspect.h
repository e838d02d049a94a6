/*
 * Application-layer inspection (inspect.c): what to scan in each message of
 * a flow, and when a message is complete.
 */
#ifndef EMB_DETECT_INSPECT_H
#define EMB_DETECT_INSPECT_H

#include "detect/state.h"

/* A DNS message (UDP payload, or one message of a TCP stream). */
int emb__inspect_dns(emb_engine_t *e, const uint8_t *msg, size_t len);
/*
 * Learns, for attribution, the A/AAAA answers of the DNS response msg[0, len)
 * to `client` seen at ts: each rule of the current round raised by a DNS
 * name (the names another parser read from it, already matched) resolves to
 * them; every answer is also noted with `asked`, the normalised name of its
 * first question (NULL: the names are read from msg, as emb__inspect_dns
 * does). Takes the attribution table's turn (emb__engine_attrib_turn).
 */
int emb__learn_dns_response(emb_engine_t *e, uint8_t family, const uint8_t *client,
                            const char *asked, size_t asked_len, const uint8_t *msg, size_t len,
                            int64_t ts_sec, uint32_t ts_usec);
/* Whether a client's first bytes may still begin a TLS record or an HTTP
 * request line (emb_bytes_may_name_server). */
bool emb__may_name_server(const uint8_t *p, size_t n);
/* A TCP segment: reassembly, then the flow's application parser. */
int emb__inspect_tcp(emb_engine_t *e);
/* A UDP datagram: DNS, QUIC Initials, payload patterns. */
int emb__inspect_udp(emb_engine_t *e);

#endif /* EMB_DETECT_INSPECT_H */
