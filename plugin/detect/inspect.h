/*
 * Application-layer inspection (inspect.c): what to scan in each message of
 * a flow, and when a message is complete.
 */
#ifndef EMB_DETECT_INSPECT_H
#define EMB_DETECT_INSPECT_H

#include "detect/state.h"

/* A DNS message (UDP payload, or one message of a TCP stream). */
int emb__inspect_dns(emb_engine_t *e, const uint8_t *msg, size_t len);
/* A TCP segment: reassembly, then the flow's application parser. */
int emb__inspect_tcp(emb_engine_t *e);
/* A UDP datagram: DNS, QUIC Initials, payload patterns. */
int emb__inspect_udp(emb_engine_t *e);

#endif /* EMB_DETECT_INSPECT_H */
