/*
 * The engine's state (struct emb_engine), shared by the three files of
 * detection that work on it: engine.c (the packet pipeline), inspect.c (the
 * application-layer inspectors) and round.c (matching rounds and alerts).
 * Each includes this header; the calls run one way only: engine.c calls
 * inspect.c and round.c, inspect.c calls round.c, round.c calls neither.
 */
#ifndef EMB_DETECT_STATE_H
#define EMB_DETECT_STATE_H

#include "detect/attrib.h"
#include "detect/fields.h"
#include "detect/match.h"
#include "detect/shared.h"
#include "output/eve.h"
#include "pack/pack.h"
#include "packet/decode.h"
#include "packet/defrag.h"
#include "packet/flow.h"
#include "packet/stream.h"
#include "protocols/protocols.h"

#define EMB_MAX_HITS 256
#define EMB_NAME_BUF 1024
#define EMB_MAX_FLOW_VALUES 16 /* ip/port values reported in one round */
#define EMB_FLOW_VALUE_LEN 64
#define EMB_MAX_FACT_NAMES 32
#define EMB_MAX_ROUND_NAMES 64 /* normalised names scanned in one round */
#define EMB_QUIC_PLAIN 2048    /* a client Initial fits in the 1,500 bytes of a datagram */
#define EMB_BODY_HEAD EMB_HTTP_BODY_HEAD /* bytes of an HTTP body the device fields look at */

typedef struct {
    uint32_t alt;
    uint32_t cond;
    emb_field_t field;
    const char *value; /* what matched: normalised text or the indicator */
    size_t value_len;
    uint32_t spec; /* for a domain pattern, its length: longer is more specific */
} emb_hit_t;

/* A rule that holds in this round, with what to report for it. */
typedef struct {
    uint32_t rule;
    emb_evidence_t ev; /* what it rests on: a field, an address, a port, attribution */
    const char *value;
    size_t value_len;
    uint32_t spec;    /* as in emb_hit_t; 0 when not from a domain pattern */
    bool low;         /* reported with confidence low: an ip/port rule, or an attribution
                         outside the vendor's ranges */
    uint8_t evidence; /* an ip/port rule: the flow's emb_flow_evidence_t */
} emb_cand_t;

typedef struct {
    uint64_t stamp; /* round when `mask` was last touched */
    uint32_t mask;
} emb_alt_state_t;

/* The packet being processed, for alerts raised while inspecting it. */
typedef struct {
    const emb_packet_t *pkt;
    const emb_decoded_t *d;
    emb_flow_t *flow;
    bool to_server;
    emb_alert_cb cb;
    void *ud;
    /* A host's facts, not a packet (hosted.c): no flow, these endpoints, and
     * the round's candidates are left for the host (emb__round_end). */
    const struct emb_endpoints *ep;
} emb_pkt_ctx_t;

struct emb_engine {
    const emb_rules_t *rules;
    emb_config_t cfg;
    emb_matcher_t *matcher;
    emb_flow_table_t *flows;
    emb_defrag_t *defrag;
    emb_attrib_t *attrib;
    emb_stream_pool_t streams;
    emb_quic_ctx_t *quic;
    uint32_t payload_overlap; /* bytes re-scanned across stream growth */
    bool has_payload_rules;   /* some rule has a payload pattern */
    uint32_t device_keys;     /* ... which: bit (key - EMB_K_HTTP_SERVER) (emb__engine_has_key) */

    emb_alt_state_t *alt_state;
    uint64_t stamp;
    emb_hit_t hits[EMB_MAX_HITS];
    size_t nhits;
    emb_cand_t cands[EMB_MAX_HITS];
    size_t ncands;
    emb_field_t cur_field; /* set around each scan for the match callback */
    const char *cur_value;
    size_t cur_value_len;

    char flow_value[EMB_MAX_FLOW_VALUES][EMB_FLOW_VALUE_LEN];
    size_t nflow_values;
    char names[EMB_MAX_ROUND_NAMES][EMB_NAME_BUF]; /* normalised names of this round */
    size_t nnames;
    uint8_t *hs; /* TLS handshake bytes gathered from records, stream_depth long */
    emb_tls_hello_t hello;
    emb_tls_cert_t cert;
    emb_http_response_t resp; /* the response of a device round */
    emb_snmp_t snmp;
    emb_dhcp_t dhcp;
    emb_quic_initial_t quic_ini;
    uint8_t quic_plain[EMB_QUIC_PLAIN];

    emb_app_info_t app;
    emb_pkt_ctx_t cur;
    uint64_t last_flow_id; /* of the last packet processed; 0 when it had no flow */
    emb_eve_buf_t eve;
    /* emb_match_alert_write: per rule, its alert object at the rule's
     * confidence [2i] and lowered [2i+1], rendered at its first alert */
    emb_eve_alert_tmpl_t *alert_tmpl;
    emb_stats_t stats;
    const emb_exceptions_t *exceptions; /* not owned; NULL: none */
    uint64_t *exception_expired;        /* per exception: alerts it missed by expiring */
    bool holds_turn;                    /* stripes of the shared table (turn[]) held */
    unsigned turn[2];                   /* which: emb__attrib_stripes of one address */
    /* emb_engine_feed: the flows of other engines' DNS, inspected by a second
     * engine that borrows this one's matcher and attribution table and says
     * nothing (mute: no alert is rendered). */
    emb_engine_t *feeder;
    bool borrowed; /* matcher and attrib are the parent's */
    bool mute;
};

/* True when some rule of the pack has indicators of device key `k`: a message
 * that can only feed keys the pack lacks is not read. */
static inline bool emb__engine_has_key(const emb_engine_t *e, emb_key_t k) {
    return (e->device_keys >> (k - EMB_K_HTTP_SERVER)) & 1u;
}

/* True when the pack has a device key other than `mac` (a message to parse). */
static inline bool emb__engine_has_message_keys(const emb_engine_t *e) {
    return (e->device_keys & ~(1u << (EMB_K_MAC - EMB_K_HTTP_SERVER))) != 0;
}

/* After: the turn, if this engine took it, goes back. */
static inline void emb__engine_attrib_done(emb_engine_t *e) {
    if (e->holds_turn) {
        emb__shared_unlock(e->cfg.shared, e->turn);
        e->holds_turn = false;
    }
}

/* Before the engine touches what the DNS attribution table holds for (client,
 * addr) and the address's shared-address record: engines in
 * other threads that share it take turns by stripe (detect/shared.c). Held
 * until the engine turns to another address's stripes or its packet is done
 * (emb__engine_attrib_done): what a lookup found stays readable until then. */
static inline void emb__engine_attrib_turn(emb_engine_t *e, uint8_t family, const uint8_t *client,
                                           const uint8_t *addr) {
    if (e->cfg.shared == NULL)
        return;
    unsigned st[2];
    emb__attrib_stripes(e->attrib, family, client, addr, st);
    if (e->holds_turn && e->turn[0] == st[0] && e->turn[1] == st[1])
        return;
    emb__engine_attrib_done(e);
    emb__shared_lock(e->cfg.shared, st);
    e->turn[0] = st[0];
    e->turn[1] = st[1];
    e->holds_turn = true;
}

#endif /* EMB_DETECT_STATE_H */
