/*
 * A bounded flow table keyed on the 5-tuple, either direction. Entries come
 * from one preallocated pool: when it is full the flow idle longest is
 * evicted (and counted), so memory never grows with the capture.
 */
#ifndef EMB_FLOW_H
#define EMB_FLOW_H

#include "packet/clock.h"
#include "packet/decode.h"
#include "packet/stream.h"

#include <stdbool.h>
#include <stdint.h>

#define EMB_FLOW_MAX_ALERTED 16 /* distinct rules remembered per flow */

typedef enum {
    EMB_AP_UNKNOWN,
    EMB_AP_TLS,
    EMB_AP_HTTP,
    EMB_AP_DNS,
    EMB_AP_QUIC,
    EMB_AP_OTHER,
    EMB_AP_STARTTLS,     /* a plaintext protocol that can switch to TLS, followed until it does */
    EMB_AP_STARTTLS_TLS, /* it did: TLS from each direction's stream cursor on */
    EMB_AP_PLAINTEXT     /* it cannot any more (refused, or went on in plaintext) */
} emb_app_proto_t;

/* One direction of a flow: its stream and where its parser stands. */
typedef struct {
    emb_stream_t stream;    /* TCP bytes; for QUIC (to server) the Initial CRYPTO stream */
    uint32_t scanned;       /* stream bytes already scanned for payload patterns */
    uint32_t start_scanned; /* ... of them, from the start for ^-anchored patterns */
    bool done;              /* the application parser has nothing more to look at */
    bool past_depth;        /* the stream reached the depth and was let go */
    uint32_t udp_scanned;   /* UDP payloads scanned in this direction */
    uint32_t searched;      /* stream offset up to which a header end was looked for */
    uint32_t isn;           /* TCP: the sequence number of this direction's SYN */
    uint32_t next_seq;      /* TCP: one past the highest sequence number it sent */
    bool isn_set, seq_set;
    bool fin;         /* TCP: this direction sent a FIN */
    bool head_done;   /* HTTP: the message at the cursor had its header round; its body's
                         first bytes are awaited (device fields) */
    bool mac_checked; /* its Ethernet source was looked at (mac rules) */
} emb_flow_dir_t;

typedef struct emb_flow {
    struct emb_flow *hnext; /* hash chain */
    struct emb_flow *lru_prev, *lru_next;
    uint32_t hash;
    uint8_t family, proto;
    uint8_t cli[16], srv[16]; /* client: the side that opened the flow */
    uint16_t cli_port, srv_port;
    uint64_t flow_id;
    int64_t start_sec, last_sec;
    uint32_t epoch; /* the clock's epoch when the flow began */
    uint32_t start_usec;
    uint64_t pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient;
    uint32_t alerted[EMB_FLOW_MAX_ALERTED]; /* rule indices already raised */
    uint8_t nalerted;
    uint8_t app_proto;       /* emb_app_proto_t */
    bool attrib_checked;     /* DNS attribution looked up for this flow */
    bool attrib_retry;       /* and looked up again at its next packets (attrib_grace_ms) */
    uint8_t attrib_retries;  /* at its next 8 client packets at most */
    int64_t attrib_first_us; /* when: its first client message's time */
    bool client_spoke;       /* the client's first message was inspected, or given up on */
    bool named;              /* the client named its server: SNI (not ECH's outer), Host */
    uint8_t handshake;       /* TCP: 1 SYN, 2 SYN+ACK, 3 the client's ACK: established */
    uint8_t evidence;        /* emb_flow_evidence_t once the ip/port rules were checked */
    uint16_t data_pkts[2];   /* packets with payload, to server and to client (capped) */
    bool oriented;           /* client and server known from a handshake or a message */
    bool reoriented;         /* sides swapped once on a message's evidence */
    bool rst;                /* TCP: a reset was seen */
    uint8_t plain_proto;     /* EMB_AP_STARTTLS_TLS: the protocol it switched from (starttls.c) */
    uint16_t http_status;    /* of the last response seen, for EVE */
    emb_flow_dir_t dir[2];   /* 0: to server, 1: to client */
} emb_flow_t;

/* What says a flow is a conversation, for the ip/port rules (docs/flows.md). */
typedef enum {
    EMB_EVIDENCE_NONE,      /* not yet: an unanswered SYN or datagram never gets further */
    EMB_EVIDENCE_HANDSHAKE, /* SYN, SYN+ACK and the client's ACK */
    EMB_EVIDENCE_BOTH,      /* payload in both directions (no handshake seen) */
    EMB_EVIDENCE_ONE_WAY,   /* TCP payload one way only, 3 packets or more */
} emb_flow_evidence_t;

/* Decides the evidence of `f` from what it has seen; EMB_EVIDENCE_NONE while
 * there is not enough. */
emb_flow_evidence_t emb__flow_evidence(const emb_flow_t *f);

typedef struct emb_flow_table emb_flow_table_t;

int emb__flow_table_new(size_t max_flows, uint32_t tcp_timeout, uint32_t udp_timeout,
                        emb_flow_table_t **out);

/* Calls fn for every flow held. */
void emb__flow_table_foreach(emb_flow_table_t *t, void (*fn)(emb_flow_t *f, void *ctx), void *ctx);

/* Called with each flow the table lets go of (timed out, evicted, or at free). */
typedef void (*emb_flow_release_fn)(emb_flow_t *f, void *ctx);
void emb__flow_table_on_release(emb_flow_table_t *t, emb_flow_release_fn fn, void *ctx);
void emb__flow_table_free(emb_flow_table_t *t);

/*
 * Finds or creates the flow of a decoded TCP/UDP packet seen at `sec`.
 * Sets *to_server and *is_new (a new flow, or a new connection on the tuple
 * of an old one: docs/flows.md). Never fails: a full table evicts.
 */
emb_flow_t *emb__flow_get(emb_flow_table_t *t, const emb_decoded_t *d, int64_t sec, uint32_t usec,
                          bool *to_server, bool *is_new);

/*
 * The number a flow created by the next emb__flow_get takes its id from
 * (the host's packet number, unique per packet); 0 means a counter of the
 * table's own. Ids from packet numbers are the same whichever engine of
 * several saw the flow.
 */
void emb__flow_table_id_hint(emb_flow_table_t *t, uint64_t n);

/* Moves the table's clock (packet/clock.h): flows expire on it. */
void emb__flow_table_clock(emb_flow_table_t *t, int64_t sec);

/*
 * Swaps client and server of `f`, with everything kept per direction: the
 * evidence of a message said the guess from the ports was wrong. Marks the
 * flow oriented (it is never swapped again) and counts it.
 */
void emb__flow_reorient(emb_flow_table_t *t, emb_flow_t *f);

/* Which side sends `p` (the first bytes of one direction): 1 the client (a
 * TLS ClientHello, an HTTP request line), -1 the server (a TLS ServerHello, an
 * HTTP status line), 0 these bytes do not say. */
int emb__flow_message_side(const uint8_t *p, size_t n);

uint64_t emb__flow_evicted(const emb_flow_table_t *t);
uint64_t emb__flow_created(const emb_flow_table_t *t);
uint64_t emb__flow_reused(const emb_flow_table_t *t);     /* TCP session reuse */
uint64_t emb__flow_reoriented(const emb_flow_table_t *t); /* emb__flow_reorient calls */
uint64_t emb__flow_midstream(const emb_flow_table_t *t);  /* TCP picked up without SYN */

#endif /* EMB_FLOW_H */
