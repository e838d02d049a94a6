/*
 * The fields of Suricata 8's transactions that the transactions mode reads
 * (detect-sc8-read.c): DNS names, TLS SNI, JA4, certificate names, HTTP host,
 * URI, user-agent and server, QUIC SNI and JA4, through Suricata's exported
 * accessors; and the start of HTTP bodies, as Suricata keeps them.
 * detect-sc8-tx.c scans them.
 */
#ifndef EMBARGO_DETECT_SC8_READ_H
#define EMBARGO_DETECT_SC8_READ_H

#include "suricata-common.h"

#include "app-layer-protos.h"
#include "decode.h"
#include "flow.h"
#include "rust-bindings.h"

#include <embargo/embargo.h>

#include <stdbool.h>
#include <stdint.h>

#define MAX_FACTS 64 /* fields of one transaction looked at (names of a DNS answer, SANs) */

/* One transaction's fields, as a reader found them. */
typedef struct {
    emb_fact_t facts[MAX_FACTS];
    size_t n;
    bool named;        /* a name of the server: SNI, Host (it speaks for the flow) */
    bool last;         /* no later transaction of the flow brings this reader more */
    SCJsonBuilder *jb; /* the worker's, for OffersEch */
    emb_engine_t *e;   /* for SniMayBeOuter: the flow's endpoints, the message's time */
    const emb_facts_t *flow;
    int64_t now_us;
} EmbargoSc8Facts;

/* Which transactions are read, in which direction, from which progress on
 * (the progress Suricata's own buffers of those fields use). */
typedef struct {
    AppProto alproto;
    uint8_t dir;
    int progress;
    bool client_first; /* the client's first message: DNS attribution is decided here */
    void (*read)(const void *tx, uint8_t dir, EmbargoSc8Facts *fa);
    const char *name;
} EmbargoSc8Reader;

#define EMBARGO_SC8_NREADERS 7 /* detect-sc8-read.c checks it against the table */
extern const EmbargoSc8Reader EmbargoSc8Readers[];

/* The start of an HTTP transaction's body (EmbargoSc8HttpBodies). */
typedef struct {
    const uint8_t *body;
    size_t len;
    int status;   /* the response's; 0 for a request's */
    bool request; /* a request's body, else a response's */
} EmbargoSc8Body;

#define EMBARGO_SC8_MAX_BODIES 4 /* bodies read at one packet; the rest at the next */

/* The bodies of HTTP flow `f` whose start can be read at packet `p`, of
 * requests (`requests`) and of responses (`responses`): how many are in out[]. */
int EmbargoSc8HttpBodies(const Packet *p, Flow *f, bool requests, bool responses,
                         EmbargoSc8Body out[EMBARGO_SC8_MAX_BODIES]);

/* Whether a DNS message over UDP can give addresses (EmbargoSc8DnsMayGiveAddresses). */
bool EmbargoSc8DnsMayGiveAddresses(const uint8_t *m, uint32_t len);

/* The head line of an RTSP or SIP message at a segment's start: an RTSP or
 * SIP response's status line, or a request line that ends in " SIP/2.0" (RFC
 * 2326 section 7.1, RFC 3261 section 7.1). */
bool EmbargoSc8SegmentHeadLine(const uint8_t *b, size_t len) __attribute__((noinline, cold));

/*
 * Whether the payload of TCP packet `p` of `f` may begin the head of a
 * message a device names itself in (emb_engine_match_segment): among the
 * first `first` packets of its direction, a head line. A few compares for the
 * other payloads of a flow's start; the line itself out of line: the packet
 * prefilter that asks stays small in the instruction cache.
 */
static inline bool EmbargoSc8SegmentHead(const Packet *p, const Flow *f, uint32_t first) {
    uint32_t n = (p->flowflags & FLOW_PKT_TOSERVER) ? f->todstpktcnt : f->tosrcpktcnt;
    const uint8_t *b = p->payload;
    /* a status line or a method (RFC 3261 section 25.1) begins with a capital */
    return n <= first && p->payload_len >= 12 && b[0] >= 'A' && b[0] <= 'Z' &&
           EmbargoSc8SegmentHeadLine(b, p->payload_len);
}

#endif /* EMBARGO_DETECT_SC8_READ_H */
