/*
 * Passing settled flows, in the transactions mode of the Suricata 8
 * `embargo` keyword (docs/suricata.md, "Passing settled flows"). When
 * embargo's rules are the only rules loaded, Suricata's detection on a
 * flow's packets serves only them; once they have nothing left to find in
 * the flow, the flow is passed as a `pass` rule would pass it, and the
 * detection, most of what the transactions mode costs, stops running on
 * its packets. detect-sc8-tx.c decides when that applies (the rules loaded,
 * the flow's rules of addresses and ports); this file, which flows are
 * settled.
 */
#include "suricata-common.h"

#include "app-layer-protos.h"
#include "app-layer-ssl.h"
#include "conf.h"
#include "decode.h"
#include "detect.h"
#include "flow-callbacks.h"
#include "flow.h"
#include "stream-tcp-private.h"
#include "threadvars.h"
#include "util-debug.h"

#include <stdatomic.h>

#include "detect-sc8-stream.h"
#include "sc8-pass.h"
#include "sc8-state.h"

static struct {
    uint32_t tls_readers;     /* a bit per reader of TLS (detect-sc8-tx.c's READERS) */
    uint32_t quic_readers;    /* and of QUIC */
    uint32_t client_first;    /* a bit per reader of a client's first message */
    _Atomic bool no_callback; /* OnFlowPacket could not be set up: nothing is passed */
    /* The version of the newest rule set built with embargo's rules, and
     * whether it passes flows (EmbargoSc8PassRules): a flow passed under it
     * needs no detection. */
    _Atomic uint32_t rules_version;
    _Atomic bool rules_pass;
    bool no_mark; /* a pcap-log honours pass rules: packets are not marked (OnFlowPacket) */
    /* UDP ports on which a reply could still be recognised as a protocol a
     * reader reads (ReplyPorts): a bit per port. */
    uint8_t reply_ports[65536 / 8];
    bool datagrams; /* datagrams' device keys are read (DevicePort) */
    bool macs;      /* `mac` prefixes are read (ReplyMacMayMatch) */
    bool segments;  /* RTSP and SIP heads are read from TCP segments (HeadsPending) */
    /* UDP ports of payload patterns, a bit each (NULL: none), and how many
     * datagrams of each direction are scanned for them (PayloadPending) */
    const uint8_t *payload_ports;
    uint32_t payload_datagrams;
} P;

/* The UDP ports devices announce or describe themselves on: SSDP 1900 (UPnP
 * Device Architecture 2.0 section 1), WS-Discovery 3702 (OASIS WS-DD 1.1),
 * SIP 5060 (RFC 3261 section 19.1.2), SNMP 161 and 162 (RFC 3417 section 3),
 * Hikvision SADP 37020 and Dahua DHIP 37810 (plugin/detect/devices.c). A
 * flow on one is never passed while datagrams' device keys are read: its
 * next datagram may be the one that says who the device is (an SNMP or SIP
 * answer after its request). Not DHCP's 67 and 68: only a client's messages
 * are read, a client's own flow is read from its first, and keeping every
 * DHCP flow inspected cost 571 detection runs, ~1.5 M instructions and ~30 k
 * instruction misses more on the real-traffic mix's first 50,000 packets
 * (bench/README.md, "Ninth round"); a second client in one broadcast flow
 * (0.0.0.0:68 to 255.255.255.255:67) is missed. */
static bool DevicePort(uint16_t port) {
    switch (port) {
    case 161:
    case 162:
    case 1900:
    case 3702:
    case 5060:
    case 37020:
    case 37810: return true;
    default: return false;
    }
}

/* A UDP flow on a port of the pack's payload patterns whose first datagrams
 * of either direction are not all scanned yet (detect-sc8-tx.c,
 * PayloadDatagram): a one-way flow waits for its reply. */
static bool PayloadPending(const Flow *f) {
    const uint8_t *b = P.payload_ports;
    if (b == NULL || (!EmbargoSc8PortIn(b, f->sp) && !EmbargoSc8PortIn(b, f->dp)))
        return false;
    return f->todstpktcnt < P.payload_datagrams || f->tosrcpktcnt < P.payload_datagrams;
}

/* RTSP's port (RFC 2326 section 3.2), its usual alternative, and SIP's. */
static bool HeadPort(uint16_t port) {
    return port == 554 || port == 8554 || port == 5060;
}

/* A TCP flow whose first packets of a direction may still bring an RTSP or
 * SIP head (detect-sc8-read.h, EmbargoSc8SegmentHead): SIP as Suricata recognised it, or
 * a flow it did not recognise (it has no RTSP parser) on a HeadPort, until
 * EMBARGO_SEGMENT_PACKETS went each way. The head that names the device is
 * often not the first: a camera answers 401 before 200 with its Server, a
 * phone 100 Trying before its 200. RTSP on another port is read only until
 * the flow is passed. */
static bool HeadsPending(const Flow *f) {
    if (!P.segments || f->proto != IPPROTO_TCP)
        return false;
    if (f->alproto != ALPROTO_SIP &&
        !((f->alproto == ALPROTO_FAILED || f->alproto == ALPROTO_UNKNOWN) &&
          (HeadPort(f->sp) || HeadPort(f->dp))))
        return false;
    return f->todstpktcnt < EMBARGO_SEGMENT_PACKETS || f->tosrcpktcnt < EMBARGO_SEGMENT_PACKETS;
}

/* A flow whose parser asked Suricata to hand it over to another (SMTP, FTP,
 * POP3, LDAP and PostgreSQL to TLS after their STARTTLS, HTTP to HTTP/2 or
 * WebSocket: app-layer.c, SCAppLayerRequestProtocolTLSUpgrade and
 * AppLayerRequestProtocolChange), until the next protocol is recognised. A
 * flow passed before is taken back at its first packet so (OnFlowPacket):
 * what the next protocol says is read as on any flow. */
static bool ChangingProtocol(const Flow *f) {
    return (f->flags & FLOW_CHANGE_PROTO) != 0;
}

/* A TCP flow whose app layer Suricata stopped (a parser error, or a parser
 * that asked for no more inspection): no transaction will come or grow. */
static bool AppLayerStopped(const Flow *f) {
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    return ssn != NULL && (ssn->flags & STREAMTCP_FLAG_APP_LAYER_DISABLED);
}

static bool ReplyPort(uint16_t port) {
    return EmbargoSc8PortIn(P.reply_ports, port);
}

/*
 * A UDP flow seen one way so far, whose first side Suricata failed to
 * recognise: Suricata still tries the other side at its first packet back
 * (app-layer.c, AppLayerHandleUdp), and nothing could take a pass back then.
 * It is final only when no reply on its ports could be recognised as a
 * protocol the transactions mode reads: Suricata tells UDP protocols apart by
 * probing on their detection ports (DNS, QUIC: ReplyPorts), and a DNS answer
 * from port 53 also feeds the attribution table.
 */
static bool OneWayUnreadable(const Flow *f) {
    return f->proto == IPPROTO_UDP && f->alproto_ts == ALPROTO_FAILED &&
           f->alproto_tc == ALPROTO_UNKNOWN && f->tosrcpktcnt == 0 && !ReplyPort(f->sp) &&
           !ReplyPort(f->dp);
}

/*
 * Whether the transactions mode has nothing left to find in `f`, its rules of
 * addresses and ports aside (PrefilterFlow), and no DNS attribution of it
 * waits for the workers:
 *  - TLS: its ClientHello was read, and its certificate too (or the server's
 *    encrypted handshake, TLS 1.3); once Suricata stopped parsing the flow,
 *    its progress is final: whichever of the two it reached was read;
 *  - QUIC: the client's whole ClientHello was read (EmbargoSc8FlowReadersDone:
 *    Suricata parses none of the client's packets after it; the server's
 *    Initials give only a version, which no reader reads);
 *  - any other protocol Suricata recognised (none of READERS): it is not
 *    read; one that hands the flow over to TLS later is taken back then
 *    (ChangingProtocol); a flow Suricata failed to recognise both ways, or
 *    one way with no reply yet that it could recognise (OneWayUnreadable); a
 *    flow without app layer (not TCP or UDP); a TCP flow whose app layer
 *    Suricata stopped.
 * Never DNS (its answers feed the table), HTTP (keep-alive: more requests),
 * a QUIC flow before its ClientHello (Google QUIC's: to its end), a flow
 * whose protocol is not known yet or is being handed over, nor, while
 * datagrams' device keys are read, a UDP flow on a DevicePort, nor a TCP
 * flow whose first segments may still bring an RTSP or SIP head
 * (HeadsPending). A reader's own mark is set at the packet before the one
 * that passes: a transaction read on the passing packet cannot leave an
 * attribution waiting, which no later packet would decide.
 */
static bool Settled(const Flow *f) {
    if (ChangingProtocol(f))
        return false;
    if (f->proto == IPPROTO_UDP && P.datagrams && (DevicePort(f->sp) || DevicePort(f->dp)))
        return false;
    if (f->proto == IPPROTO_UDP && PayloadPending(f))
        return false;
    if (f->proto == IPPROTO_TCP && EmbargoSc8StreamPending(f))
        return false; /* its payload is still read (detect-sc8-stream.c) */
    if (HeadsPending(f))
        return false;
    switch (f->alproto) {
    case ALPROTO_TLS: {
        if (!AppLayerStopped(f))
            return EmbargoSc8FlowReadAll(f, P.tls_readers);
        const SSLState *ssl = f->alstate; /* TLS has one transaction: the state */
        uint32_t due = 0;
        if (ssl != NULL && ssl->client_state >= TLS_STATE_CLIENT_HELLO_DONE)
            due |= P.tls_readers & P.client_first;
        if (ssl != NULL && ssl->server_state >= TLS_STATE_SERVER_CERT_DONE)
            due |= P.tls_readers & ~P.client_first;
        return EmbargoSc8FlowReadAll(f, due);
    }
    case ALPROTO_QUIC:
        return EmbargoSc8FlowReadersDone(f, P.quic_readers) && EmbargoSc8FlowReadAll(f, 0);
    case ALPROTO_DNS:
    case ALPROTO_HTTP1: return false;
    case ALPROTO_FAILED:
        /* Final once both directions failed: over UDP the flow is marked
         * failed when its first side is, and its other side may still be
         * recognised (a DNS answer to a query Suricata could not read). */
        return (AppLayerStopped(f) ||
                (f->alproto_ts == ALPROTO_FAILED && f->alproto_tc == ALPROTO_FAILED) ||
                OneWayUnreadable(f)) &&
               EmbargoSc8FlowReadAll(f, 0);
    case ALPROTO_UNKNOWN:
        if (f->proto == IPPROTO_TCP)
            return AppLayerStopped(f) && EmbargoSc8FlowReadAll(f, 0);
        return f->proto != IPPROTO_UDP && EmbargoSc8FlowReadAll(f, 0);
    default: return EmbargoSc8FlowReadAll(f, 0);
    }
}

/*
 * Stops Suricata's detection on a settled flow's packets. A flow without
 * app-layer state is passed as a `pass` rule passes it (FLOW_ACTION_PASS:
 * its flow record says "action": "pass"). A flow with one is given no rule
 * group, as Suricata gives a flow no rule applies to, and its packets are
 * marked for no inspection (OnFlowPacket): on a passed flow Suricata still
 * moves its transactions' inspection ids at every packet, and on a flow with
 * no rule group it still starts its detection to find none (about 290 and
 * 275 instructions a packet); its transactions are freed once logged, as
 * with no rules loaded. Either way they are still parsed and logged, and the
 * flow record carries "embargo": {"passed": true} (sc8-state.c,
 * EmbargoSc8FlowPassed). A drop or pass already set wins, as in Suricata.
 */
void EmbargoSc8PassSettled(Flow *f) {
    if (!Settled(f) || (f->flags & (FLOW_ACTION_DROP | FLOW_ACTION_PASS)) != 0 ||
        atomic_load_explicit(&P.no_callback, memory_order_relaxed))
        return;
    EmbargoSc8StreamRelease(f);
    if (f->alstate == NULL) {
        f->flags |= FLOW_ACTION_PASS;
        return;
    }
    f->sgh_toserver = NULL;
    f->sgh_toclient = NULL;
    f->flags |= FLOW_SGH_TOSERVER | FLOW_SGH_TOCLIENT;
}

void EmbargoSc8PassRules(const DetectEngineCtx *de_ctx, bool passing) {
    atomic_store(&P.rules_pass, false);
    atomic_store(&P.rules_version, de_ctx->version);
    atomic_store(&P.rules_pass, passing);
}

void EmbargoSc8PassRulesFreed(uint32_t version) {
    if (atomic_load(&P.rules_version) == version)
        atomic_store(&P.rules_pass, false);
}

/*
 * A flow passed while it went one way (OneWayUnreadable) whose reply now
 * comes from an interface a MAC prefix of the pack may name: the reply's
 * first packet is the only one that says so (its sender's MAC is read at
 * each direction's first packet), so the pass is taken back for it and the
 * packet's detection runs; PrefilterFlow settles the flow again at its next
 * packet. Only under a rule set of embargo's rules alone (no `pass` rule of
 * a user's, no firewall: OnFlowPacket's `ours`) that the flow was passed in;
 * a pass exception policy's flows look the same as ours, and their reply's
 * first packet is inspected too. A flow without app-layer state was passed
 * with FLOW_ACTION_PASS; one with state, by having no rule group: the groups
 * are looked up again at this packet.
 */
static bool ReplyMacMayMatch(ThreadVars *tv, const Packet *p) {
    if (!P.macs)
        return false;
    const EthernetHdr *eth = EmbargoSc8NearestEthernet(p);
    emb_engine_t *e = eth != NULL ? EmbargoSc8Engine(tv) : NULL;
    return e != NULL && emb_engine_mac_may_match(e, eth->eth_src);
}

static void __attribute__((noinline, cold)) TakePassBack(Flow *f) {
    if (f->flags & FLOW_ACTION_PASS)
        f->flags &= ~FLOW_ACTION_PASS;
    else
        f->flags &= ~(FLOW_SGH_TOSERVER | FLOW_SGH_TOCLIENT);
}

/*
 * Every packet of a flow, before Suricata's stream, app-layer and detection
 * work on it (flow.c, FlowHandlePacketUpdate). A packet of a flow passed
 * with no rule group is marked for no inspection (PKT_NOPACKET_INSPECTION,
 * as Suricata's decoders mark theirs): its detection would only find the
 * missing group. Only under the rule set the flow was passed in, while it
 * passes flows (embargo's rules alone, no firewall: PassFor) and is not
 * being freed: a flow due for new rule groups (a reload, a flow turned
 * around at protocol detection: detect.c, DetectRunSetup) is inspected, gets
 * them, and with embargo's rules alone is settled again at that packet;
 * under other rules it stays inspected. Not when a pcap-log honours pass
 * rules (PcapLogHonoursPass). Under that same rule set, a passed flow is
 * taken back at a packet that may say more: the first reply of a one-way
 * flow from an interface a MAC prefix may name (ReplyMacMayMatch), and any
 * packet while its protocol is handed over (ChangingProtocol: the packet
 * that brings the next protocol's first bytes is inspected). With several
 * workers, the worker's watermark moves past every passed flow's packet,
 * which PrefilterFlow no longer sees (a passed flow is never DNS's: it has
 * no answer to feed).
 */
static void OnFlowPacket(ThreadVars *tv, Flow *f, Packet *p, void *user) {
    (void)user;
    if (!EmbargoSc8FlowPassed(f))
        return;
    const bool ours =
        atomic_load_explicit(&P.rules_pass, memory_order_relaxed) &&
        f->de_ctx_version == atomic_load_explicit(&P.rules_version, memory_order_relaxed);
    if (ours && (ChangingProtocol(f) ||
                 ((p->flowflags & FLOW_PKT_TOCLIENT_FIRST) && ReplyMacMayMatch(tv, p)))) {
        TakePassBack(f); /* the packet's detection reads it (PrefilterFlow, PrefilterTx) */
        if (atomic_load_explicit(&EmbargoSc8NumWorkers, memory_order_relaxed) > 1)
            EmbargoSc8WorkerRead(tv, p);
        return;
    }
    if ((f->flags & FLOW_ACTION_PASS) == 0 && !P.no_mark && ours)
        p->flags |= PKT_NOPACKET_INSPECTION;
    if (atomic_load_explicit(&EmbargoSc8NumWorkers, memory_order_relaxed) > 1)
        EmbargoSc8WorkerRead(tv, p);
}

static void MarkPorts(uint32_t lo, uint32_t hi) {
    for (uint32_t port = lo; port <= hi && port < 65536; port++)
        P.reply_ports[port >> 3] |= (uint8_t)(1u << (port & 7));
}

/* Marks the ports of a Suricata port string ("53", "[443, 80]",
 * "1000:2000"); anything else it may say ("any", a negation, a variable)
 * marks every port: no one-way flow is passed. */
static void MarkPortString(const char *s) {
    const char *p = s;
    while (*p != '\0') {
        if (*p == '[' || *p == ']' || *p == ',' || *p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p || lo > 65535)
            goto all;
        if (*end == ':') {
            const char *q = end + 1;
            hi = strtoul(q, &end, 10);
            if (end == q || hi > 65535 || hi < lo)
                goto all;
        }
        MarkPorts((uint32_t)lo, (uint32_t)hi);
        p = end;
    }
    return;
all:
    MarkPorts(0, 65535);
}

/* The UDP ports on which Suricata probes for `proto` (`fallback` when the
 * configuration names none, as Suricata registers its parsers' default
 * ports: app-layer-detect-proto.c, SCAppLayerProtoDetectPPParseConfPorts). */
static void MarkDetectionPorts(const char *proto, const char *fallback) {
    char key[96];
    snprintf(key, sizeof(key), "app-layer.protocols.%s.detection-ports", proto);
    SCConfNode *node = SCConfGetNode(key);
    if (node == NULL) {
        snprintf(key, sizeof(key), "app-layer.protocols.%s.udp.detection-ports", proto);
        node = SCConfGetNode(key);
    }
    if (node == NULL) {
        MarkPortString(fallback);
        return;
    }
    static const char *const sides[] = {"dp", "toserver", "sp", "toclient"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = SCConfNodeLookupChildValue(node, sides[i]);
        if (v != NULL)
            MarkPortString(v);
    }
}

/* Whether an enabled pcap-log output has `honor-pass-rules`: it leaves out
 * the packets marked for no inspection (log-pcap.c), which would then lose
 * the flows embargo passes, where a `pass` rule's flow keeps its packets. */
static bool PcapLogHonoursPass(void) {
    SCConfNode *outputs = SCConfGetNode("outputs");
    if (outputs == NULL)
        return false;
    SCConfNode *o;
    TAILQ_FOREACH(o, &outputs->head, next) {
        if (o->val == NULL || strcmp(o->val, "pcap-log") != 0)
            continue;
        SCConfNode *cfg = SCConfNodeLookupChild(o, o->val);
        if (cfg != NULL && SCConfNodeChildValueIsTrue(cfg, "enabled") &&
            SCConfNodeChildValueIsTrue(cfg, "honor-pass-rules"))
            return true;
    }
    return false;
}

void EmbargoSc8PassInit(uint32_t tls_readers, uint32_t quic_readers, uint32_t client_first,
                        bool datagrams, bool macs, bool segments, const uint8_t *payload_ports,
                        uint32_t payload_datagrams) {
    EmbargoSc8SetPassing();
    P.tls_readers = tls_readers;
    P.quic_readers = quic_readers;
    P.client_first = client_first;
    P.datagrams = datagrams;
    P.macs = macs;
    P.segments = segments;
    P.payload_ports = payload_ports;
    P.payload_datagrams = payload_datagrams;
    /* The UDP protocols of READERS (rust/src/dns/dns.rs, quic/quic.rs give
     * their default ports), and 53, whose answers the packet prefilter feeds. */
    MarkDetectionPorts("dns", "53");
    MarkDetectionPorts("quic", "[443,80]");
    MarkPorts(53, 53);
    P.no_mark = PcapLogHonoursPass();
    if (!SCFlowRegisterUpdateCallback(OnFlowPacket, NULL)) {
        SCLogWarning("embargo: cannot follow the packets of passed flows: no flow is passed");
        atomic_store(&P.no_callback, true);
    }
}
