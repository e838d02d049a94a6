/*
 * embargo on Suricata 8's own parsing: the `embargo` keyword in transactions
 * mode (docs/suricata.md, "Transactions mode").
 *
 * Suricata has already parsed the DNS, TLS, HTTP and QUIC transactions;
 * detect-sc8-read.c reads their fields through Suricata's exported accessors
 * and this file matches them with the pack's Hyperscan databases
 * (emb_engine_match, one engine per worker for its scratch). No packet is
 * decoded, reassembled or parsed again. The exceptions: the device keys of
 * UDP datagrams and of RTSP and SIP heads, which Suricata's parsers do not
 * give a plugin, are read from the packet by embargo's own parsers, and those
 * of HTTP bodies from the bodies Suricata keeps (DeviceRules).
 *
 * How it plugs into Suricata's detection:
 *  - the keyword goes into a list of our own ("embargo"), registered as an
 *    app-layer inspection list for every protocol and direction below, and is
 *    made the rule's prefilter;
 *  - a tx prefilter engine per (protocol, direction, progress) and rule group
 *    reads the transaction's fields once, scans them, and adds to Suricata's
 *    candidate list only the rules whose pack rule was raised: a transaction
 *    that raises nothing costs one scan per field, and no rule is evaluated;
 *  - the keyword's AppLayerTxMatch then finds the raised rule in the worker's
 *    cache of what that transaction raised and gives the alert its
 *    alert.context.embargo;
 *  - a rule of addresses and ports alone stays on the packet list, behind a
 *    packet prefilter engine (PrefilterFlow) that adds it only on the packet
 *    where its flow first shows it is a conversation and the endpoints raise
 *    it: Suricata evaluates no such rule on any other packet; a rule of
 *    device keys, only on the packet whose datagram, head or body raises it.
 *
 * One alert per rule per flow holds for the whole sensor: the sids a flow
 * raised are kept in flow storage, which only the worker holding the flow's
 * lock touches. DNS attribution: a DNS response over UDP from port 53 that
 * can give addresses is learned where its transaction is read, its names
 * matched once for its rules and its attribution (emb_engine_match_dns_response:
 * Suricata's DNS transactions do not expose A/AAAA data, so those alone are
 * read from the message); over TCP, the keyword's packet prefilter feeds the
 * segments from port 53 to the worker's engine (emb_engine_feed), which
 * reassembles them. All workers share the table; a flow's first client
 * transaction that names no server looks it up (emb_engine_attribute).
 */
#include "suricata-common.h"

#include "app-layer-htp.h"
#include "app-layer-parser.h"
#include "app-layer-ssl.h"
#include "decode.h"
#include "detect-engine-helper.h"
#include "detect-engine-prefilter.h"
#include "detect-parse.h"
#include "detect-engine.h"
#include "detect.h"
#include "flow.h"
#include "rust-bindings.h"
#include "stream-tcp-private.h"
#include "suricata.h"
#include "thread-callbacks.h"
#include "thread-storage.h"
#include "threadvars.h"
#include "util-debug.h"
#include "util-prefilter.h"

#include <embargo/embargo.h>

#include <arpa/inet.h>
#include <string.h>

#include "detect-sc8-read.h"
#include "detect-sc8-stream.h"
#include "detect-sc8-tx.h"
#include "sc8-pass.h"
#include "sc8-state.h"

#define MAX_SIGS 4096

/* What one worker's last prefilter calls raised, for the rules they added:
 * the tx prefilter's, and the flow prefilter's (rules of addresses and
 * ports, on packet `fpkt`). */
typedef struct {
    const Flow *f;
    const void *txv;
    uint8_t dir; /* STREAM_TOSERVER or STREAM_TOCLIENT */
    EmbargoHit hits[EMBARGO_MAX_HITS];
    int n;
    const Packet *fpkt;
    uint64_t fpkt_cnt;
    EmbargoHit fhits[EMBARGO_MAX_HITS];
    int fn;
    SCJsonBuilder *jb; /* OffersEch's, reset for each ClientHello */
} TxCache;

/* Whether the flow engine passes a settled flow (sc8-pass.c). */
typedef enum {
    PASS_NEVER,        /* other rules are loaded, or embargo.pass-settled-flows: no */
    PASS_DECIDED,      /* once the flow's rules of addresses and ports are decided */
    PASS_NO_FLOW_RULES /* no such rule is loaded: nothing to decide */
} PassWhen;

/* A prefilter engine's rules: the group's signatures that carry the keyword
 * (a tx engine's: those of transactions; the flow engine's: those of
 * addresses and ports alone). */
typedef struct {
    int reader; /* index in EmbargoSc8Readers; -1: the flow engine */
    PassWhen pass;
    bool only_ours;   /* every rule loaded is ours, no firewall (OnlyOurs) */
    bool attribution; /* the flow engine's rules include attribution twins (PacketAttribution) */
    uint32_t version; /* of its rule set (the flow engine's) */
    uint32_t n;
    struct {
        SigIntId iid;
        const EmbargoSc8Data *d;
    } sigs[];
} TxPrefilter;

static struct {
    int list_id;
    int keyword_id;
    ThreadStorageId thread_id;
    bool packet_duties; /* PrefilterFlow feeds DNS answers and the worker's watermark */
    bool pass_flows;    /* embargo.pass-settled-flows */
    bool datagrams;     /* the packet prefilter reads datagrams' device keys */
    bool macs;          /* ... and each direction's Ethernet source (`mac` rules) */
    bool payloads;      /* ... and the payload patterns of datagrams on payload_ports */
    bool streams;       /* ... and those of TCP streams (detect-sc8-stream.c) */
    bool segments;      /* ... and the message heads of TCP segments (EmbargoSc8SegmentHead) */
    uint8_t bodies;     /* the HTTP bodies read (BODY_REQUEST, BODY_RESPONSE) */
    /* The UDP server ports of the rules' payload patterns, a bit each
     * (emb_rules_payload_ports): the datagrams scanned for them. */
    uint8_t payload_ports[65536 / 8];
} T = {.list_id = -1, .keyword_id = -1, .thread_id = {.id = -1}};

/* ---- the prefilter ------------------------------------------------------ */

typedef struct RaiseCtx RaiseCtx;
static bool LearnAnswers(ThreadVars *tv, emb_engine_t *e, const emb_facts_t *facts, const Packet *p,
                         RaiseCtx *rc);

struct RaiseCtx {
    Flow *f;
    TxCache *c;
    emb_engine_t *e;
};

static int OnMatch(const emb_match_t *m, void *userdata) {
    RaiseCtx *rc = userdata;
    if (!EmbargoSc8FlowNote(rc->f, m->sid))
        return 0; /* raised on this flow before: one alert per rule per flow */
    if (rc->c->n == EMBARGO_MAX_HITS)
        return 0;
    EmbargoHit *h = &rc->c->hits[rc->c->n++];
    if (strcmp(m->field, "http.server") != 0) {
        EmbargoSc8HitFromMatch(h, rc->e, m, NULL, NULL);
        return 0;
    }
    /* The device is the sender of the response: the flow's server. */
    char host[INET6_ADDRSTRLEN] = "";
    if (FLOW_IS_IPV4(rc->f))
        inet_ntop(AF_INET, rc->f->dst.addr_data32, host, sizeof(host));
    else if (FLOW_IS_IPV6(rc->f))
        inet_ntop(AF_INET6, rc->f->dst.addr_data32, host, sizeof(host));
    EmbargoDevice dev = {"http", host, "server", NULL, 0};
    EmbargoSc8HitFromMatch(h, rc->e, m, NULL, &dev);
    return 0;
}

static void PrefilterTx(DetectEngineThreadCtx *det_ctx, const void *pectx, Packet *p, Flow *f,
                        void *txv, const uint64_t idx, const AppLayerTxData *txd,
                        const uint8_t flags) {
    (void)txd;
    const TxPrefilter *pf = pectx;
    if (det_ctx->tv == NULL || f == NULL)
        return;
    TxCache *c = ThreadGetStorageById(det_ctx->tv, T.thread_id);
    emb_engine_t *e = EmbargoSc8Engine(det_ctx->tv);
    if (c == NULL || e == NULL)
        return;
    const uint8_t dir = EmbargoSc8Readers[pf->reader].dir;
    c->f = f;
    c->txv = txv;
    c->dir = dir;
    c->n = 0;
    (void)flags;

    emb_facts_t facts;
    EmbargoSc8FlowFacts(f, &facts);
    int64_t now_us = EmbargoSc8Us(p->ts), first_us;
    EmbargoSc8Facts
        fa; /* not zeroed whole: its facts[] are 1.5 KiB, and only fa.n of them are read */
    fa.n = 0;
    fa.named = false;
    fa.last = false;
    fa.jb = c->jb;
    fa.e = e;
    fa.flow = &facts;
    fa.now_us = now_us;
    bool again = EmbargoSc8FlowScanned(f, pf->reader, idx);
    if (!again) {
        EmbargoSc8Readers[pf->reader].read(txv, dir, &fa);
        if (fa.last)
            EmbargoSc8FlowReaderDone(f, pf->reader);
    }
    facts.facts = fa.facts;
    facts.nfacts = fa.n;
    RaiseCtx rc = {f, c, e};
    if (!again) {
        facts.fields_only = true; /* the flow's address and port rules: PrefilterFlow */
        bool response =
            EmbargoSc8Readers[pf->reader].alproto == ALPROTO_DNS && dir == STREAM_TOCLIENT;
        if (!response || !LearnAnswers(det_ctx->tv, e, &facts, p, &rc))
            emb_engine_match(e, &facts, OnMatch, &rc);
        facts.fields_only = false;
    }
    if (EmbargoSc8FlowAttribution(f, EmbargoSc8Readers[pf->reader].client_first, fa.named, now_us,
                                  PKT_IS_PSEUDOPKT(p), &first_us))
        emb_engine_attribute(e, &facts, first_us / 1000000, (uint32_t)(first_us % 1000000), OnMatch,
                             &rc);

    for (int i = 0; i < c->n; i++)
        for (uint32_t s = 0; s < pf->n; s++)
            if (EmbargoSc8HitMatches(&c->hits[i], pf->sigs[s].d))
                PrefilterAddSids(&det_ctx->pmq, &pf->sigs[s].iid, 1);
}

/* ---- DNS answers, for attribution ----------------------------------------- */

/* A UDP packet from port 53 whose answers LearnAnswers learns (and after
 * which it moves the watermark), not the packet prefilter. */
static bool LearnedAtTransaction(const Packet *p) {
    return p->proto == IPPROTO_UDP && p->sp == 53 && !PKT_IS_PSEUDOPKT(p) &&
           EmbargoSc8DnsMayGiveAddresses(p->payload, p->payload_len);
}

/*
 * In transactions mode, a DNS response that came over UDP from port 53 is
 * learned where its transaction is read: its names, which Suricata parsed,
 * are matched once for the response's rules and for attribution together,
 * and only its A/AAAA answers are read from the message. Then, with several
 * workers, this one's watermark moves past the packet (PrefilterFlow leaves
 * such a packet to this). False when the response is not one to learn.
 */
static bool LearnAnswers(ThreadVars *tv, emb_engine_t *e, const emb_facts_t *facts, const Packet *p,
                         RaiseCtx *rc) {
    if (!T.packet_duties || !LearnedAtTransaction(p))
        return false;
    emb_dns_response_t r = {p->payload, p->payload_len, (const uint8_t *)p->dst.addr_data32,
                            (int64_t)SCTIME_SECS(p->ts), (uint32_t)SCTIME_USECS(p->ts)};
    emb_engine_match_dns_response(e, facts, &r, OnMatch, rc);
    EmbargoSc8WorkerRead(tv, p);
    return true;
}

void EmbargoSc8TxFeedDns(ThreadVars *tv, const Packet *p) {
    const Packet *r = p->root != NULL ? p->root : p;
    if (PKT_IS_PSEUDOPKT(p) || r->pkt_src != PKT_SRC_WIRE || PacketIsTunnelRoot(p))
        return;
    if (p->proto == IPPROTO_UDP && !EmbargoSc8DnsMayGiveAddresses(p->payload, p->payload_len))
        return;
    emb_engine_t *e = EmbargoSc8Engine(tv);
    if (e == NULL)
        return;
    emb_packet_t pkt = EmbargoSc8Packet(r);
    emb_engine_feed(e, &pkt);
}

/* ---- rules of addresses and ports alone ---------------------------------- */

typedef struct {
    EmbargoHit *hits;
    int n, max;
    emb_engine_t *e;
    const char *evidence;
} FlowRulesCtx;

static int OnFlowMatch(const emb_match_t *m, void *userdata) {
    FlowRulesCtx *fc = userdata;
    if (fc->n == fc->max)
        return 0;
    if (m->device_protocol == NULL) {
        EmbargoSc8HitFromMatch(&fc->hits[fc->n++], fc->e, m, fc->evidence, NULL);
        return 0;
    }
    EmbargoDevice dev = {m->device_protocol, m->device_host,
                         m->device_key != NULL ? m->device_key : "value", m->device_values,
                         m->ndevice_values};
    EmbargoSc8HitFromMatch(&fc->hits[fc->n++], fc->e, m, NULL, &dev);
    return 0;
}

/* The worker's cache of the hits of the flow prefilter on `p` (EmbargoSc8TxFlowMatch reads
 * them), emptied by the first of its writers on the packet (`started`: another one wrote
 * first). Not by the packet's address and count alone: Suricata reuses a Packet, and a
 * live capture numbers none. */
static TxCache *PacketHits(DetectEngineThreadCtx *det_ctx, const Packet *p, bool started) {
    TxCache *c = ThreadGetStorageById(det_ctx->tv, T.thread_id);
    if (c != NULL && !started) {
        c->fpkt = p;
        c->fpkt_cnt = p->pcap_cnt;
        c->fn = 0;
    }
    return c;
}

/* The signatures of `pf` that the hits from `from` on raise go to the candidates. */
static void AddHitSigs(DetectEngineThreadCtx *det_ctx, const TxCache *c, int from,
                       const TxPrefilter *pf) {
    for (int i = from; i < c->fn; i++)
        for (uint32_t k = 0; k < pf->n; k++)
            if (EmbargoSc8HitMatches(&c->fhits[i], pf->sigs[k].d))
                PrefilterAddSids(&det_ctx->pmq, &pf->sigs[k].iid, 1);
}

/* What makes a flow a conversation (docs/flows.md), as Suricata knows it at
 * detection time: a completed TCP handshake, UDP packets both ways. */
static const char *Conversation(const Flow *f) {
    if (f->proto == IPPROTO_TCP) {
        const TcpSession *ssn = f->protoctx;
        if (ssn == NULL || (ssn->flags & STREAMTCP_FLAG_MIDSTREAM))
            return NULL; /* picked up mid-stream: no handshake seen */
        bool shook = (ssn->flags & STREAMTCP_FLAG_3WHS_CONFIRMED) ||
                     (ssn->state >= TCP_ESTABLISHED && ssn->state < TCP_CLOSED);
        return shook ? "handshake" : NULL; /* a SYN answered by a RST is a scan */
    }
    return f->todstpktcnt > 0 && f->tosrcpktcnt > 0 ? "both directions" : NULL;
}

/* The flow's rules of addresses and ports, on the packet that made it a
 * conversation: the signatures of `pf` they raise go to the candidates.
 * Out of line and cold: once per flow, while PrefilterFlow runs on every
 * packet and should stay a few instructions in the instruction cache. */
static void __attribute__((noinline, cold))
FlowRules(DetectEngineThreadCtx *det_ctx, Packet *p, const TxPrefilter *pf, const char *evidence,
          bool started) {
    Flow *f = p->flow;
    if (!EmbargoSc8FlowConversation(f))
        return;
    TxCache *c = PacketHits(det_ctx, p, started);
    emb_engine_t *e = EmbargoSc8Engine(det_ctx->tv);
    if (c == NULL || e == NULL)
        return;
    emb_facts_t facts;
    EmbargoSc8FlowFacts(f, &facts);
    int from = c->fn;
    FlowRulesCtx fc = {c->fhits + from, 0, EMBARGO_MAX_HITS - from, e, evidence};
    emb_engine_match(e, &facts, OnFlowMatch, &fc);
    c->fn += fc.n;
    AddHitSigs(det_ctx, c, from, pf);
}

static bool PayloadPort(uint16_t port) {
    return EmbargoSc8PortIn(T.payload_ports, port);
}

/* The UDP packets the engine scans for payload patterns on each flow
 * direction (emb_config_t.udp_payload_packets' default): the first ones. */
#define PAYLOAD_DATAGRAMS 32

/* Whether the payload of UDP packet `p` is scanned for the rules' payload
 * patterns: on a port one of them names, among the first PAYLOAD_DATAGRAMS
 * of its direction (Suricata counts the packet before detection). */
static bool PayloadDatagram(const Packet *p, const Flow *f) {
    if (!T.payloads || (!PayloadPort(f->sp) && !PayloadPort(f->dp)))
        return false;
    uint32_t n = (p->flowflags & FLOW_PKT_TOSERVER) ? f->todstpktcnt : f->tosrcpktcnt;
    return n <= PAYLOAD_DATAGRAMS;
}

/*
 * What a datagram or a device says on this packet, read by the engine's own
 * parsers (Suricata's give a plugin none of it: docs/suricata.md, "Device
 * datagrams"): the device keys of a UDP datagram (`datagram`; not DNS or
 * QUIC, whose transactions are read), the payload patterns of a UDP
 * datagram on a port they name (PayloadDatagram) or of the new stretch of
 * Suricata's raw TCP stream (`stream`), the head of an RTSP or SIP message
 * that begins a TCP segment (`segment`: EmbargoSc8SegmentHead), the start of the
 * bodies of an HTTP flow's transactions (`body`: EmbargoSc8HttpBodies; a
 * TR-069 Inform, an ONVIF device's answer), and at each direction's first
 * packet the Ethernet source, whose IEEE prefix names the interface's maker
 * (`mac`). The rules they raise (with the device: the datagram's sender, or
 * the address a DHCP client asks for, or the MAC) go to the candidates as
 * the flow's rules do. Out of line and cold. -1 when it did not start the
 * packet's hits, else how many it added.
 */
static int __attribute__((noinline, cold))
DeviceRules(DetectEngineThreadCtx *det_ctx, Packet *p, const TxPrefilter *pf, bool datagram,
            bool mac, bool stream, bool segment, bool body) {
    Flow *f = p->flow;
    emb_engine_t *e = EmbargoSc8Engine(det_ctx->tv);
    if (e == NULL)
        return -1;
    const bool payload = datagram && PayloadDatagram(p, f);
    datagram = datagram && T.datagrams && f->alproto != ALPROTO_DNS && f->alproto != ALPROTO_QUIC;
    /* most interfaces' first two bytes begin no prefix of the pack: a bit says so */
    const EthernetHdr *eth = mac ? EmbargoSc8NearestEthernet(p) : NULL;
    mac = eth != NULL && emb_engine_mac_may_match(e, eth->eth_src);
    EmbargoSc8Body bodies[EMBARGO_SC8_MAX_BODIES];
    const int nbodies =
        body ? EmbargoSc8HttpBodies(p, f, T.bodies & BODY_REQUEST, T.bodies & BODY_RESPONSE, bodies)
             : 0;
    if (!datagram && !payload && !mac && !stream && !segment && nbodies == 0)
        return -1;
    TxCache *c = PacketHits(det_ctx, p, false);
    if (c == NULL)
        return -1;
    emb_facts_t facts;
    EmbargoSc8FlowFacts(f, &facts);
    /* Half the packet's hits stay for its rules of addresses and ports (FlowRules,
     * after it): decided once per flow, they must not be crowded out. */
    int from = c->fn;
    FlowRulesCtx fc = {c->fhits + from, 0, EMBARGO_MAX_HITS / 2 - from, e, NULL};
    /* The sender by its address and port: Suricata turns a flow around when its
     * first datagram was an answer, and the packet's direction flags may predate that. */
    const bool from_client = p->sp == facts.client_port && memcmp(p->src.addr_data32, facts.client,
                                                                  facts.family == 6 ? 16 : 4) == 0;
    if (datagram)
        emb_engine_match_datagram(e, &facts, from_client, p->payload, p->payload_len, OnFlowMatch,
                                  &fc);
    if (segment)
        emb_engine_match_segment(e, &facts, from_client, p->payload, p->payload_len, OnFlowMatch,
                                 &fc);
    if (payload) {
        /* one round of the datagram's bytes; the rules' port conditions hold on the flow's */
        emb_fact_t bytes = {EMB_FIELD_PAYLOAD, p->payload, p->payload_len};
        emb_facts_t one = facts;
        one.facts = &bytes;
        one.nfacts = 1;
        one.fields_only = true;
        emb_engine_match(e, &one, OnFlowMatch, &fc);
    }
    if (mac)
        emb_engine_match_mac(e, &facts, eth->eth_src, OnFlowMatch, &fc);
    if (stream)
        EmbargoSc8StreamScan(det_ctx, p, e, &facts, pf->only_ours, OnFlowMatch, &fc);
    for (int i = 0; i < nbodies; i++)
        emb_engine_match_http_body(e, &facts, bodies[i].request, bodies[i].status, bodies[i].body,
                                   bodies[i].len, OnFlowMatch, &fc);
    c->fn += fc.n;
    AddHitSigs(det_ctx, c, from, pf);
    return fc.n;
}

/* The DNS attribution of a flow no transaction reader attributes, on its
 * packets (EmbargoSc8FlowPacketAttribution): the rules it raises go to the
 * candidates, for their twins (`embargo: sid N, attribution`). As DeviceRules:
 * -1 when it did not start the packet's hits, else how many it added. Out of
 * line and cold. */
static int __attribute__((noinline, cold))
PacketAttribution(DetectEngineThreadCtx *det_ctx, Packet *p, const TxPrefilter *pf, bool started) {
    int64_t first_us;
    if (!EmbargoSc8FlowPacketAttribution(p->flow, p, det_ctx->tv, &first_us))
        return -1;
    emb_engine_t *e = EmbargoSc8Engine(det_ctx->tv);
    emb_facts_t facts;
    EmbargoSc8FlowFacts(p->flow, &facts);
    TxCache *c = e != NULL ? PacketHits(det_ctx, p, started) : NULL;
    int from = c != NULL ? c->fn : EMBARGO_MAX_HITS;
    if (from >= EMBARGO_MAX_HITS / 2)
        return c != NULL ? 0 : -1;
    FlowRulesCtx fc = {c->fhits + from, 0, EMBARGO_MAX_HITS / 2 - from, e, NULL};
    emb_engine_attribute(e, &facts, first_us / 1000000, (uint32_t)(first_us % 1000000), OnFlowMatch,
                         &fc);
    c->fn += fc.n;
    AddHitSigs(det_ctx, c, from, pf);
    return fc.n;
}

/* ---- passing settled flows ------------------------------------------------ */

static int CountMatch(const emb_match_t *m, void *userdata) {
    (void)m;
    ++*(int *)userdata;
    return 0;
}

/* Whether no rule of addresses and ports can fire on `f`, so that it can be
 * passed before it is a conversation, or without ever being one (one way, a
 * scan): the flow was picked up mid-stream (no handshake will be seen), or
 * its endpoints raise no such rule, which is all such a rule looks at. The
 * endpoints are matched at the flow's first packet, once (most are turned
 * away by the engine's coarse test of their first bytes and server port,
 * without a round); the answer is kept in its storage. Out of line and
 * cold: once per flow. */
static bool __attribute__((noinline, cold))
NoFlowRuleCanFire(DetectEngineThreadCtx *det_ctx, Flow *f) {
    int seen = EmbargoSc8FlowEndpoints(f);
    if (seen != 0)
        return seen > 0;
    bool none = true;
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    if (ssn == NULL || !(ssn->flags & STREAMTCP_FLAG_MIDSTREAM)) {
        emb_engine_t *e = EmbargoSc8Engine(det_ctx->tv);
        emb_facts_t facts;
        int raised = 0;
        EmbargoSc8FlowFacts(f, &facts);
        none =
            e != NULL && (!emb_engine_endpoints_may_match(e, &facts) ||
                          (emb_engine_match(e, &facts, CountMatch, &raised) == 0 && raised == 0));
    }
    EmbargoSc8FlowSetEndpoints(f, none);
    return none;
}

/*
 * The keyword's packet prefilter, on every packet of a rule group that has a
 * rule of ours. Its packet duties (transactions mode): the DNS segments a
 * TCP packet from port 53 carries go to the engine, and with several
 * workers, how far this one has read (for a UDP packet from port 53, after
 * its answers were learned: LearnAnswers); both before any transaction of
 * the packet asks for an attribution. Then the rules of addresses and ports
 * alone: decided on the packet where the flow first shows it is a
 * conversation (Conversation); on any other packet this costs a look at the
 * flow's TCP state or counters and at its storage. Last, when embargo's rules are the
 * only rules loaded, a flow in which they have nothing left to find is
 * passed (docs/suricata.md, "Passing settled flows"): Suricata's detection,
 * most of what the transactions mode costs, stops running on its packets.
 * Not on the packet that decides the rules of addresses and ports: they are
 * evaluated on it.
 */
static void __attribute__((noinline, cold)) PacketDuties(ThreadVars *tv, Packet *p) {
    /* A DNS answer over UDP is learned at its transaction, which then moves
     * the watermark (LearnAnswers); DNS over TCP here, from the stream. */
    if (p->sp == 53 && p->proto == IPPROTO_TCP)
        EmbargoSc8TxFeedDns(tv, p);
    if (!LearnedAtTransaction(p) &&
        atomic_load_explicit(&EmbargoSc8NumWorkers, memory_order_relaxed) > 1)
        EmbargoSc8WorkerRead(tv, p);
}

static void PrefilterFlow(DetectEngineThreadCtx *det_ctx, Packet *p, const void *pectx) {
    const TxPrefilter *pf = pectx;
    Flow *f = p->flow;
    if (det_ctx->tv == NULL)
        return;
    if (T.packet_duties &&
        (p->sp == 53 || atomic_load_explicit(&EmbargoSc8NumWorkers, memory_order_relaxed) > 1))
        PacketDuties(det_ctx->tv, p);
    if (f == NULL || PacketIsTunnelRoot(p))
        return;
    bool body = T.bodies && f->alproto == ALPROTO_HTTP1 && f->alstate != NULL;
    const bool attribution = pf->attribution && !EmbargoSc8FlowAttributed(f);
    if (PKT_IS_PSEUDOPKT(p)) {
        /* a flow's end: the stream bytes its last packets left unacknowledged, and a body
         * that ended with its connection */
        const bool stream = (p->flags & PKT_DETECT_HAS_STREAMDATA) && T.streams;
        int devices = (stream || body) && pf->n > 0
                          ? DeviceRules(det_ctx, p, pf, false, false, stream, false, body)
                          : -1;
        if (attribution)
            PacketAttribution(det_ctx, p, pf, devices >= 0);
        return;
    }
    int devices = -1; /* -1: the packet's hits not started (PacketHits); else how many */
    const bool datagram =
        p->proto == IPPROTO_UDP && p->payload_len > 0 && (T.datagrams || T.payloads);
    const bool mac = (p->flowflags & (FLOW_PKT_TOSERVER_FIRST | FLOW_PKT_TOCLIENT_FIRST)) && T.macs;
    const bool stream = (p->flags & PKT_DETECT_HAS_STREAMDATA) && T.streams;
    const bool segment = p->proto == IPPROTO_TCP && p->payload_len > 0 && T.segments &&
                         EmbargoSc8SegmentHead(p, f, EMBARGO_SEGMENT_PACKETS);
    /* a body grows only where Suricata's detection reads transactions (detect.c): on a
     * packet whose app layer was updated in its direction */
    body = body && (p->app_update_direction != 0 ||
                    (f->flags & (PKT_IS_TOSERVER(p) ? FLOW_TS_APP_UPDATED : FLOW_TC_APP_UPDATED)));
    if ((datagram || mac || stream || segment || body) && pf->n > 0)
        devices = DeviceRules(det_ctx, p, pf, datagram, mac, stream, segment, body);
    /* a TCP packet without payload of a flow of unknown protocol decides nothing; what
     * it raises counts as a device's (not passed on this packet: see below) */
    if (attribution &&
        (p->proto != IPPROTO_TCP || p->payload_len > 0 || f->alproto != ALPROTO_UNKNOWN)) {
        int n = PacketAttribution(det_ctx, p, pf, devices >= 0);
        if (n >= 0)
            devices = (devices > 0 ? devices : 0) + n;
    }
    if (!EmbargoSc8FlowDecided(f)) {
        const char *evidence = pf->n > 0 ? Conversation(f) : NULL;
        if (evidence != NULL) {
            FlowRules(det_ctx, p, pf, evidence, devices >= 0);
            return;
        }
        if (pf->pass == PASS_NEVER || (pf->pass == PASS_DECIDED && !NoFlowRuleCanFire(det_ctx, f)))
            return;
    }
    /* A flow passed now would not evaluate the rules a device raised on this packet
     * (Suricata stops at FLOW_ACTION_PASS): it can be passed at the next. */
    if (pf->pass != PASS_NEVER && devices <= 0 && f->alproto != ALPROTO_HTTP1 &&
        f->alproto != ALPROTO_DNS && !(pf->attribution && !EmbargoSc8FlowAttributed(f)))
        EmbargoSc8PassSettled(f);
}

int EmbargoSc8TxFlowMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const Signature *s,
                          const EmbargoSc8Data *d) {
    if (det_ctx->tv == NULL || p->flow == NULL)
        return 0;
    const TxCache *c = ThreadGetStorageById(det_ctx->tv, T.thread_id);
    if (c == NULL || c->fpkt != p || c->fpkt_cnt != p->pcap_cnt)
        return 0;
    for (int i = 0; i < c->fn; i++) {
        if (EmbargoSc8HitMatches(&c->fhits[i], d)) {
            if (!EmbargoSc8FlowNote(p->flow, c->fhits[i].sid))
                return 0; /* raised on this flow before */
            EmbargoSc8AlertContext(det_ctx, s, &c->fhits[i]);
            return 1;
        }
    }
    return 0;
}

void EmbargoSc8TxFlowSetup(DetectEngineCtx *de_ctx, Signature *s, SigMatch *sm, EmbargoSc8Data *d) {
    d->flow_rule = true;
    s->init_data->prefilter_sm = sm;
    de_ctx->sm_types_prefilter[T.keyword_id] = true;
}

static void PrefilterFree(void *ptr) {
    const TxPrefilter *pf = ptr;
    if (pf->reader < 0 && pf->pass != PASS_NEVER)
        EmbargoSc8PassRulesFreed(pf->version); /* its rule set is being freed */
    SCFree(ptr);
}

/* The keyword's data when it is the prefilter of `s`. */
static const EmbargoSc8Data *OurPrefilter(const Signature *s) {
    if (s == NULL || s->init_data->prefilter_sm == NULL ||
        s->init_data->prefilter_sm->type != T.keyword_id)
        return NULL;
    return (const EmbargoSc8Data *)s->init_data->prefilter_sm->ctx;
}

/* A group with rules of payload patterns keeps its raw stream (PrefilterFlow
 * reads it), and those rules are evaluated on a flow's end packet too, where
 * Suricata skips packet rules (detect.c, SIG_TYPE_PKT) and where the stream
 * bytes the last packets left unacknowledged are read; so are the rules of
 * HTTP bodies (a body that ends with its connection is read there). */
static void StreamSigs(SigGroupHead *sgh) {
    bool any = false;
    for (uint32_t i = 0; i < sgh->init->sig_cnt; i++) {
        Signature *s = sgh->init->match_array[i];
        const EmbargoSc8Data *d = OurPrefilter(s);
        if (d == NULL || !(d->stream_rule || (d->body_rule && T.bodies) || d->attribution))
            continue;
        any |= d->stream_rule;
        if (s->type == SIG_TYPE_PKT)
            s->type = SIG_TYPE_PKT_STREAM;
    }
    if (any)
        EmbargoSc8StreamGroup(sgh);
}

/* Counts the rules of `sgh` that have the keyword as their prefilter, of the
 * flow engine (`flow`) or not, and of direction `want` (0: any); lists them
 * in `pf` when not NULL. */
static uint32_t Collect(const SigGroupHead *sgh, bool flow, uint32_t want, TxPrefilter *pf) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < sgh->init->sig_cnt; i++) {
        const Signature *s = sgh->init->match_array[i];
        const EmbargoSc8Data *d = OurPrefilter(s);
        if (d == NULL || d->flow_rule != flow || (want != 0 && (s->flags & want) == 0))
            continue;
        if (pf != NULL) {
            pf->sigs[n].iid = s->iid;
            pf->sigs[n].d = d;
        }
        n++;
    }
    return n;
}

/* Their prefilter context; NULL when out of memory, n 0 when none. */
static TxPrefilter *GroupRules(const SigGroupHead *sgh, int reader, bool flow, uint32_t want) {
    uint32_t n = Collect(sgh, flow, want, NULL);
    TxPrefilter *pf = SCCalloc(1, sizeof(*pf) + (n ? n : 1) * sizeof(pf->sigs[0]));
    if (pf == NULL)
        return NULL;
    pf->reader = reader;
    pf->n = Collect(sgh, flow, want, pf);
    return pf;
}

/* Whether every rule loaded in `de_ctx` is ours and has the keyword as its
 * prefilter (so none is evaluated on a flow's later packets but through our
 * engines), and Suricata is not a firewall (whose rules decide each packet). */
static bool OnlyOurs(const DetectEngineCtx *de_ctx) {
    if (EngineModeIsFirewall() || de_ctx->sig_list == NULL)
        return false;
    for (const Signature *s = de_ctx->sig_list; s != NULL; s = s->next)
        if (OurPrefilter(s) == NULL)
            return false;
    return true;
}

/* When the flow engines of `de_ctx` pass settled flows: only with our rules
 * alone (OnlyOurs) and embargo.pass-settled-flows. */
static PassWhen PassFor(const DetectEngineCtx *de_ctx) {
    if (!T.pass_flows || !OnlyOurs(de_ctx))
        return PASS_NEVER;
    bool flow_rules = false;
    for (const Signature *s = de_ctx->sig_list; s != NULL; s = s->next) {
        const EmbargoSc8Data *d = OurPrefilter(s);
        if (d == NULL)
            return PASS_NEVER;
        flow_rules |= d->flow_rule && !d->attribution;
    }
    return flow_rules ? PASS_DECIDED : PASS_NO_FLOW_RULES;
}

/* Called by Suricata for every rule group: one tx engine per reader, listing
 * the group's rules of transactions, and one packet engine for its rules of
 * addresses and ports alone, which also passes settled flows. */
static int SetupPrefilter(DetectEngineCtx *de_ctx, SigGroupHead *sgh) {
    PassWhen when = PassFor(de_ctx);
    if (T.pass_flows)
        EmbargoSc8PassRules(de_ctx, when != PASS_NEVER);
    TxPrefilter *pf = GroupRules(sgh, -1, true, 0);
    if (pf == NULL)
        return -1;
    /* With packet duties or passing flows, in every group that has a rule of ours. */
    bool ours = pf->n > 0 || Collect(sgh, false, 0, NULL) > 0;
    pf->pass = ours ? when : PASS_NEVER;
    pf->only_ours = OnlyOurs(de_ctx);
    pf->version = de_ctx->version;
    for (uint32_t i = 0; i < pf->n; i++)
        pf->attribution |= pf->sigs[i].d->attribution;
    if (pf->n > 0 && (T.streams || T.bodies || pf->attribution))
        StreamSigs(sgh);
    if ((pf->n == 0 && !(T.packet_duties && ours) && pf->pass == PASS_NEVER) ||
        PrefilterAppendEngine(de_ctx, sgh, PrefilterFlow, 0, SIGNATURE_HOOK_PKT_NOT_SET, pf,
                              PrefilterFree, "embargo.flow") < 0)
        SCFree(pf);
    for (size_t r = 0; r < EMBARGO_SC8_NREADERS; r++) {
        uint32_t want =
            EmbargoSc8Readers[r].dir == STREAM_TOSERVER ? SIG_FLAG_TOSERVER : SIG_FLAG_TOCLIENT;
        if ((sgh->init->direction & want) == 0)
            continue;
        if ((pf = GroupRules(sgh, (int)r, false, want)) == NULL)
            return -1;
        if (pf->n == 0 ||
            PrefilterAppendTxEngine(de_ctx, sgh, PrefilterTx, EmbargoSc8Readers[r].alproto,
                                    EmbargoSc8Readers[r].progress, pf, PrefilterFree,
                                    EmbargoSc8Readers[r].name) < 0)
            SCFree(pf);
    }
    return 0;
}

/* The keyword prefilters the rules of transactions and, in transactions mode,
 * those of addresses and ports alone; a rule the packets path raises (mode
 * both) has none: its keyword is evaluated on every packet. */
static bool SupportsPrefilter(const Signature *s) {
    for (const SigMatch *sm = s->init_data->smlists[DETECT_SM_LIST_MATCH]; sm; sm = sm->next)
        if (sm->type == T.keyword_id && !((const EmbargoSc8Data *)sm->ctx)->flow_rule)
            return false;
    return true;
}

/* ---- the keyword on a transaction ---------------------------------------- */

static int TxMatch(DetectEngineThreadCtx *det_ctx, Flow *f, uint8_t flags, void *alstate, void *txv,
                   const Signature *s, const SigMatchCtx *ctx) {
    (void)alstate;
    if (det_ctx->tv == NULL)
        return 0;
    const TxCache *c = ThreadGetStorageById(det_ctx->tv, T.thread_id);
    if (c == NULL || c->f != f || c->txv != txv || (flags & c->dir) == 0)
        return 0;
    for (int i = 0; i < c->n; i++) {
        if (EmbargoSc8HitMatches(&c->hits[i], (const EmbargoSc8Data *)ctx)) {
            EmbargoSc8AlertContext(det_ctx, s, &c->hits[i]);
            return 1;
        }
    }
    return 0;
}

int EmbargoSc8TxSetup(DetectEngineCtx *de_ctx, Signature *s, EmbargoSc8Data *d) {
    SigMatch *sm =
        SCSigMatchAppendSMToList(de_ctx, s, (uint16_t)T.keyword_id, (SigMatchCtx *)d, T.list_id);
    if (sm == NULL)
        return -1;
    /* The keyword is the rule's prefilter, as the `prefilter` keyword would make it. */
    s->init_data->prefilter_sm = sm;
    de_ctx->sm_types_prefilter[T.keyword_id] = true;
    return 0;
}

static void ThreadInit(ThreadVars *tv, void *user) {
    (void)user;
    TxCache *c = SCCalloc(1, sizeof(*c));
    if (c == NULL) {
        SCLogError("embargo: out of memory for thread %s", tv->name);
        return;
    }
    c->jb = SCJbNewObject(); /* NULL: ECH is not looked for (the SNI names the server) */
    ThreadSetStorageById(tv, T.thread_id, c);
}

static void ThreadFree(void *ptr) {
    TxCache *c = ptr;
    if (c != NULL && c->jb != NULL)
        SCJbFree(c->jb);
    SCFree(ptr);
}

bool EmbargoSc8TxRegister(int keyword_id, bool ja4, bool packet_duties, bool pass_flows,
                          bool datagrams, bool macs, bool segments, uint8_t bodies,
                          const uint8_t *payload_ports) {
    T.keyword_id = keyword_id;
    T.bodies = bodies;
    /* Asked as Suricata's own http.request_body and http.response_body keywords ask
     * (8.0.7 keeps the bodies anyway, for its file tracking: not to be relied on). */
    if (bodies & BODY_REQUEST)
        AppLayerHtpEnableRequestBodyCallback();
    if (bodies & BODY_RESPONSE)
        AppLayerHtpEnableResponseBodyCallback();
    T.packet_duties = packet_duties;
    T.pass_flows = pass_flows;
    T.datagrams = datagrams;
    T.macs = macs;
    T.segments = segments;
    T.payloads = payload_ports != NULL;
    T.streams = EmbargoSc8StreamEnabled();
    if (payload_ports != NULL)
        memcpy(T.payload_ports, payload_ports, sizeof(T.payload_ports));
    if (pass_flows) {
        uint32_t tls = 0, quic = 0, client_first = 0;
        for (size_t r = 0; r < EMBARGO_SC8_NREADERS; r++) {
            if (EmbargoSc8Readers[r].alproto == ALPROTO_TLS)
                tls |= 1u << r;
            if (EmbargoSc8Readers[r].alproto == ALPROTO_QUIC)
                quic |= 1u << r;
            if (EmbargoSc8Readers[r].client_first)
                client_first |= 1u << r;
        }
        EmbargoSc8PassInit(tls, quic, client_first, datagrams, macs, segments,
                           T.payloads ? T.payload_ports : NULL, PAYLOAD_DATAGRAMS);
    }
    T.thread_id = ThreadStorageRegister("embargo.tx", sizeof(void *), NULL, ThreadFree);
    if (T.thread_id.id < 0 || !SCThreadRegisterInitCallback(ThreadInit, NULL))
        return false;
    for (size_t r = 0; r < EMBARGO_SC8_NREADERS; r++)
        T.list_id = SCDetectHelperBufferRegister("embargo", EmbargoSc8Readers[r].alproto,
                                                 EmbargoSc8Readers[r].dir);
    SigTableElmt *kw = &sigmatch_table[keyword_id];
    kw->AppLayerTxMatch = TxMatch;
    kw->SetupPrefilter = SetupPrefilter;
    kw->SupportsPrefilter = SupportsPrefilter;
    if (ja4)
        SSLEnableJA4(); /* Suricata computes JA4 only when something asks for it */
    return T.list_id >= 0;
}
