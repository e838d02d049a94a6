/*
 * What the two modes of the Suricata 8 `embargo` keyword share (sc8-state.c):
 * each worker's engine, the rules an engine raised and the alert context
 * they give, and the flow storage that keeps one alert per rule per flow.
 * detect-sc8.c (the keyword, its configuration, the packets mode) and
 * detect-sc8-tx.c (the transactions mode) both build on it.
 */
#ifndef EMBARGO_SC8_STATE_H
#define EMBARGO_SC8_STATE_H

#include <embargo/embargo.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define EMBARGO_MAX_HITS 16 /* rules raised on one packet or transaction that are kept */
#define EMBARGO_NAME_LEN 48

/* One rule the engine raised, with the alert's context. */
typedef struct {
    uint32_t sid;
    bool attribution; /* raised by DNS attribution */
    char vendor[EMBARGO_NAME_LEN];
    char channel[EMBARGO_NAME_LEN];
    char json[SIG_JSON_CONTENT_ITEM_LEN]; /* "embargo":{...}, the alert's context */
} EmbargoHit;

/* What the keyword asks for; 0 / "" means any. */
typedef struct {
    uint32_t sid;
    char vendor[EMBARGO_NAME_LEN];
    char channel[EMBARGO_NAME_LEN];
    bool flow_rule;   /* transactions mode: a rule of addresses and ports alone */
    bool stream_rule; /* ... or of payload patterns read on the TCP stream */
    bool body_rule;   /* ... or of device keys of HTTP bodies (also read at a flow's end) */
    /* `embargo: sid N, attribution`: the rule's DNS attribution of a flow no
     * transaction reader attributes, on the packet path (transactions mode;
     * `embargo rules export --format suricata-plugin` writes it with gid 2) */
    bool attribution;
} EmbargoSc8Data;

/*
 * From Init: the loaded pack, the engine compiled from it (the first worker
 * adopts it, the others load theirs from `cache_dir`, "" for none), and the
 * DNS attribution table all workers' engines share. Registers thread and
 * flow storage and the EVE callback. False when Suricata refused.
 */
bool EmbargoSc8StateInit(const emb_rules_t *rules, emb_engine_t *spare, const char *cache_dir,
                         emb_shared_t *shared);
void EmbargoSc8EngineConfig(emb_config_t *cfg);

/* The Ethernet header nearest the packet: its own, or for a tunnel's inner
 * packet without one (IP in IP, GRE), its outer packet's, as the engine's
 * decoder keeps the innermost it read. NULL when none. */
const EthernetHdr *EmbargoSc8NearestEthernet(const Packet *p);

/* The engine of the worker running `tv` (built at its first use); NULL when it cannot be. */
emb_engine_t *EmbargoSc8Engine(ThreadVars *tv);

/* The endpoints of `f` as embargo's engine takes them (no fields). */
void EmbargoSc8FlowFacts(const Flow *f, emb_facts_t *out);

/* A Suricata time in microseconds, as the engine's times are. */
static inline int64_t EmbargoSc8Us(SCTime_t t) {
    return (int64_t)SCTIME_SECS(t) * 1000000 + (int64_t)SCTIME_USECS(t);
}

/* Whether an answer seen up to `us` may attribute the connection of `facts`:
 * not known before every worker read that far (EmbargoSc8CaughtUp), then
 * emb_engine_may_attribute on `e`. */
bool EmbargoSc8MayAttribute(emb_engine_t *e, const emb_facts_t *facts, int64_t us);

/* The raw bytes of wire packet `r` as embargo's engine takes them. */
emb_packet_t EmbargoSc8Packet(const Packet *r);

/* A device that said who it is (a device key matched): its protocol, its
 * address, and the name its value goes under, as the engine's own
 * alert.context.embargo.device has them. */
typedef struct {
    const char *protocol; /* "http" */
    const char *host;     /* its address */
    const char *key;      /* "server" */
    /* all its message said (emb_match_t's device_values), key among them; or none */
    const emb_device_value_t *values;
    size_t nvalues;
} EmbargoDevice;

/* Fills `h`: the rule and the alert context, from `alert_json` (the EVE
 * alert object; NULL: only vendor, channel and field). */
void EmbargoSc8HitFrom(EmbargoHit *h, uint32_t sid, const char *vendor, const char *channel,
                       const char *field, const char *alert_json);
/* The same from a rule raised by emb_engine_match or emb_engine_attribute on
 * `e`; `evidence` (NULL: none): what made the flow a conversation, for a rule
 * of addresses and ports; `device` (NULL: none): who said the value. */
void EmbargoSc8HitFromMatch(EmbargoHit *h, emb_engine_t *e, const emb_match_t *m,
                            const char *evidence, const EmbargoDevice *device);
bool EmbargoSc8HitMatches(const EmbargoHit *h, const EmbargoSc8Data *d);
/* Gives the alert `s` raises on this packet the hit's alert.context.embargo. */
void EmbargoSc8AlertContext(DetectEngineThreadCtx *det_ctx, const Signature *s,
                            const EmbargoHit *h);

/* The worker running `tv` has read `p` (EmbargoSc8CaughtUp). */
void EmbargoSc8WorkerRead(ThreadVars *tv, const Packet *p);
/* True when every packet worker has read past packet time `us`, or is idle. */
bool EmbargoSc8CaughtUp(int64_t us);

/* Notes that `f` raised `sid`; false when it had already (one alert per rule per flow). */
bool EmbargoSc8FlowNote(Flow *f, uint32_t sid);
/*
 * Whether to look up the DNS attribution of `f` now, and as of when
 * (*first_us: the packet time of its first client message, when it named no
 * server). Workers read packets out of order across threads: the lookup is
 * made once every packet worker has read past the first message
 * (EmbargoSc8CaughtUp), waiting up to 200 ms for that at the first message
 * (sleeping: a starved worker gets the CPU); if they are still behind, at a
 * later transaction of the flow, at its end (`last`: a pseudo-packet, after
 * waiting again), or at the EMBARGO_ATTRIB_TRIES-th chance. Only answers
 * from before *first_us count, as in one thread. True once per flow.
 */
#define EMBARGO_ATTRIB_TRIES 4
bool EmbargoSc8FlowAttribution(Flow *f, bool client_first, bool named, int64_t now_us, bool last,
                               int64_t *first_us);
/*
 * The DNS attribution of a flow whose protocol no transaction reader reads
 * (not TLS, HTTP, QUIC or DNS: raw TCP, SSH, SMTP, a UDP protocol ...),
 * decided on its packets (detect-sc8-tx.c, PacketAttribution) as embargo
 * scan decides it: at its client's first bytes, unless over TCP they could
 * begin a TLS record or an HTTP request line and Suricata's protocol
 * detection has not yet said the flow is something else (then at its
 * verdict, as of the flow's start, or at the flow's end). A flow whose
 * server spoke first is decided at its client's first bytes, or as soon as
 * no answer so far gave the server to the client (emb_engine_may_attribute
 * on the worker `tv`'s engine, once every worker read that far). With
 * workers behind, a later client message decides, or at the latest a FIN
 * or RST (waiting as at the flow's end). Nothing is stored for a flow no
 * answer can attribute. True when to look it up now, as of *first_us; once
 * decided, or when a reader decides it, the flow is attributed
 * (EmbargoSc8FlowAttributed).
 */
bool EmbargoSc8FlowPacketAttribution(Flow *f, const Packet *p, ThreadVars *tv, int64_t *first_us);
void EmbargoSc8FlowSetAttributed(Flow *f);
/* Suricata runs a transaction's prefilter at each packet while it waits at
 * one progress: true when reader `reader` already read transaction `tx_id`
 * of `f` (its fields do not change at that progress), else notes it. */
#define EMBARGO_READERS 8
bool EmbargoSc8FlowScanned(Flow *f, int reader, uint64_t tx_id);
/* The id of the next HTTP transaction of `f` whose request's (`request`) or
 * response's body the packet prefilter reads (detect-sc8-read.c, EmbargoSc8HttpBodies),
 * for it to move on; NULL when out of memory. */
uint64_t *EmbargoSc8FlowBodyNext(Flow *f, bool request);
/* True when each reader of `readers` (a bit per reader) has read a
 * transaction of `f` and no DNS attribution of `f` waits for the workers. */
bool EmbargoSc8FlowReadAll(const Flow *f, uint32_t readers);
/* Reader `reader` read the transaction after which `f` brings it nothing
 * more (a QUIC client's whole ClientHello: detect-sc8-read.c, ReadQuic); and
 * whether each reader of `readers` (not none) did. */
void EmbargoSc8FlowReaderDone(Flow *f, int reader);
bool EmbargoSc8FlowReadersDone(const Flow *f, uint32_t readers);
/* Whether the endpoints of `f` raise a rule of addresses and ports: 0 not
 * matched yet, 1 none (the flow's such rules are then decided), -1 some;
 * and the same, noted once matched. */
int EmbargoSc8FlowEndpoints(Flow *f);
void EmbargoSc8FlowSetEndpoints(Flow *f, bool none);
/* True once per flow: the first time it is known to be a conversation. */
bool EmbargoSc8FlowConversation(Flow *f);

/* Flows are passed once settled (sc8-pass.c calls it when it is set up). */
void EmbargoSc8SetPassing(void);

/*
 * Read on every packet, so inline here (sc8-state.c sets them): how many
 * packet workers run (all are counted before the first packet), and the
 * slot of the flow storage, whose first member says whether the flow's
 * rules of addresses and ports were decided (EmbargoSc8FlowConversation).
 */
extern _Atomic int EmbargoSc8NumWorkers;
extern int EmbargoSc8FlowSlot; /* -1: none */
typedef struct {
    bool conversation_seen;
    bool attributed; /* EmbargoSc8FlowAttributed */
} EmbargoSc8FlowHead;

/* Whether `f` was passed: FLOW_ACTION_PASS (ours, or a pass exception policy's), or no
 * rule group either way (sc8-pass.c); its flow record then says "embargo": {"passed": true}.
 * Read on every packet (sc8-pass.c, OnFlowPacket). */
extern bool EmbargoSc8Passing; /* EmbargoSc8SetPassing */
static inline bool EmbargoSc8FlowPassed(const Flow *f) {
    const uint64_t both = FLOW_SGH_TOSERVER | FLOW_SGH_TOCLIENT;
    if (!EmbargoSc8Passing)
        return false;
    if (f->flags & FLOW_ACTION_PASS)
        return true;
    return (f->flags & both) == both && f->sgh_toserver == NULL && f->sgh_toclient == NULL;
}

/* The TCP packets of each flow direction whose payload the transactions mode
 * reads for an RTSP or SIP head (detect-sc8-read.h, EmbargoSc8SegmentHead): the first
 * ones, handshake included; such a flow is not passed before (sc8-pass.c). */
#define EMBARGO_SEGMENT_PACKETS 8

/* Port sets, a bit per port (bit p % 8 of bits[p / 8]). */
#define EMBARGO_PORT_BITS (65536 / 8)
static inline bool EmbargoSc8PortIn(const uint8_t *bits, uint16_t port) {
    return (bits[port >> 3] >> (port & 7)) & 1;
}
static inline bool EmbargoSc8PortsAny(const uint8_t *bits) {
    for (size_t b = 0; b < EMBARGO_PORT_BITS; b++)
        if (bits[b] != 0)
            return true;
    return false;
}

static inline bool EmbargoSc8FlowDecided(const Flow *f) {
    if (EmbargoSc8FlowSlot < 0)
        return false;
    const EmbargoSc8FlowHead *h = f->storage[EmbargoSc8FlowSlot].ptr;
    return h != NULL && h->conversation_seen;
}

/* Whether the packet path has nothing left to do for the DNS attribution of
 * `f` (EmbargoSc8FlowPacketAttribution). */
static inline bool EmbargoSc8FlowAttributed(const Flow *f) {
    if (EmbargoSc8FlowSlot < 0)
        return true;
    const EmbargoSc8FlowHead *h = f->storage[EmbargoSc8FlowSlot].ptr;
    return h != NULL && h->attributed;
}

#endif /* EMBARGO_SC8_STATE_H */
