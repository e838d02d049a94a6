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
#include "decode.h"
#include "detect.h"
#include "flow-callbacks.h"
#include "flow.h"
#include "stream-tcp-private.h"
#include "threadvars.h"
#include "util-debug.h"

#include <stdatomic.h>

#include "sc8-pass.h"
#include "sc8-state.h"

static struct {
    uint32_t tls_readers;      /* a bit per reader of TLS (detect-sc8-tx.c's READERS) */
    uint32_t client_first;     /* a bit per reader of a client's first message */
    _Atomic bool no_watermark; /* several workers, and OnPassedPacket could not be set up */
} P;

/* Protocols that never hand their flow over to another parser (as SMTP,
 * FTP, IMAP, POP3, LDAP, HTTP do to TLS) and in which the transactions mode
 * reads nothing: none may be a protocol of READERS (a reader of SIP, DHCP
 * or mDNS, where devices announce themselves, takes its protocol out of
 * here). */
static bool Terminal(AppProto a) {
    switch (a) {
    case ALPROTO_SSH:
    case ALPROTO_SMB:
    case ALPROTO_DCERPC:
    case ALPROTO_NFS:
    case ALPROTO_NTP:
    case ALPROTO_TFTP:
    case ALPROTO_IKE:
    case ALPROTO_KRB5:
    case ALPROTO_RFB:
    case ALPROTO_MQTT:
    case ALPROTO_MODBUS:
    case ALPROTO_ENIP:
    case ALPROTO_DNP3:
    case ALPROTO_RDP:
    case ALPROTO_BITTORRENT_DHT:
    case ALPROTO_SIP:
    case ALPROTO_DHCP:
    case ALPROTO_MDNS: return true;
    default: return false;
    }
}

/* A TCP flow whose app layer Suricata stopped (a parser error, or a parser
 * that asked for no more inspection): no transaction will come or grow. */
static bool AppLayerStopped(const Flow *f) {
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    return ssn != NULL && (ssn->flags & STREAMTCP_FLAG_APP_LAYER_DISABLED);
}

/*
 * Whether the transactions mode has nothing left to find in `f`, its rules of
 * addresses and ports aside (PrefilterFlow), and no DNS attribution of it
 * waits for the workers:
 *  - TLS: its ClientHello was read, and its certificate too (or the server's
 *    encrypted handshake, TLS 1.3); once Suricata stopped parsing the flow,
 *    its progress is final: whichever of the two it reached was read;
 *  - a Terminal protocol; a flow Suricata failed to recognise both ways; a
 *    flow without app layer (not TCP or UDP); a TCP flow of no protocol of
 *    READERS whose app layer Suricata stopped.
 * Never DNS (its answers feed the table), HTTP (keep-alive: more requests),
 * QUIC (more Initials), nor a flow whose protocol is not known yet. A reader's
 * own mark is set at the packet before the one that passes: a transaction
 * read on the passing packet cannot leave an attribution waiting, which no
 * later packet would decide.
 */
static bool Settled(const Flow *f) {
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
    case ALPROTO_DNS:
    case ALPROTO_HTTP1:
    case ALPROTO_QUIC: return false;
    case ALPROTO_FAILED:
        /* Final once both directions failed: over UDP the flow is marked
         * failed when its first side is, and its other side may still be
         * recognised (a DNS answer to a query Suricata could not read). */
        return (AppLayerStopped(f) ||
                (f->alproto_ts == ALPROTO_FAILED && f->alproto_tc == ALPROTO_FAILED)) &&
               EmbargoSc8FlowReadAll(f, 0);
    case ALPROTO_UNKNOWN:
        if (f->proto == IPPROTO_TCP)
            return AppLayerStopped(f) && EmbargoSc8FlowReadAll(f, 0);
        return f->proto != IPPROTO_UDP && EmbargoSc8FlowReadAll(f, 0);
    default: return (Terminal(f->alproto) || AppLayerStopped(f)) && EmbargoSc8FlowReadAll(f, 0);
    }
}

/* Suricata's flow pass, as a `pass` rule sets it: no more detection on the
 * flow's packets; its transactions are still parsed, logged and freed, and
 * its flow record is written (with "action": "pass"). A drop or pass already
 * set wins, as in Suricata. */
void EmbargoSc8PassSettled(Flow *f) {
    if (Settled(f) && (f->flags & (FLOW_ACTION_DROP | FLOW_ACTION_PASS)) == 0 &&
        !atomic_load_explicit(&P.no_watermark, memory_order_relaxed))
        f->flags |= FLOW_ACTION_PASS;
}

/* A packet of a passed flow, which PrefilterFlow no longer sees: with
 * several workers, the worker's watermark still moves past it (a passed flow
 * is never DNS's: it has no answer to feed). Registered only when a second
 * worker is set up: one worker waits for no other. */
static void OnPassedPacket(ThreadVars *tv, Flow *f, Packet *p, void *user) {
    (void)user;
    if (f->flags & FLOW_ACTION_PASS)
        EmbargoSc8WorkerRead(tv, p);
}

static void WatchPassedPackets(void) {
    if (!SCFlowRegisterUpdateCallback(OnPassedPacket, NULL)) {
        SCLogWarning("embargo: cannot follow the packets of passed flows: no flow is passed");
        atomic_store(&P.no_watermark, true);
    }
}

void EmbargoSc8PassInit(uint32_t tls_readers, uint32_t client_first) {
    P.tls_readers = tls_readers;
    P.client_first = client_first;
    EmbargoSc8OnManyWorkers(WatchPassedPackets);
}
