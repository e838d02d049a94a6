/*
 * embargo inside Suricata 8's detection: the `embargo` keyword, in one of
 * three modes (embargo.mode in suricata.yaml, docs/suricata.md):
 *
 *  - transactions (default): the keyword matches the DNS, TLS, HTTP and QUIC
 *    transactions Suricata parsed (detect-sc8-tx.c), and the device keys of
 *    UDP datagrams and MAC prefixes, which embargo's own parsers read from
 *    the packet. No packet is decoded twice. Rules that rest only on what
 *    Suricata does not parse for us (payload patterns over TCP without
 *    embargo.stream-payload, or over UDP without a port)
 *    cannot fire: they are loaded, and named once in the log;
 *  - packets: every packet Suricata reads goes, raw bytes and datalink, to
 *    embargo's own engine in the worker that handles it (decoding,
 *    defragmentation, reassembly, its parsers); the keyword matches on the
 *    packet where the engine raised the rule;
 *  - both: transactions for the rules they can raise, packets for the rest.
 *
 * In the packets mode a packet is handed over from the flow-update callback
 * (packets with a flow) or, for the others (IP fragments, tunnel outer
 * packets), from the keyword itself, and the rules it raised are kept in the
 * worker's state until the next packet. A packet that Suricata decodes into
 * tunnel or defrag children is given to the engine once, as its root (the
 * engine decapsulates and defragments itself), and the keyword matches on the
 * children, which carry the inner addresses the engine reports. The keyword
 * carries the whole condition: a rule that adds content or a sticky buffer is
 * inspected on a later pseudo-packet, where nothing was raised, and never
 * fires; the exported rules have the keyword alone.
 */
#include "suricata-common.h"
#include "suricata-plugin.h"

#include "conf.h"
#include "decode.h"
#include "detect-engine-helper.h"
#include "detect-engine.h"
#include "detect-parse.h"
#include "detect.h"
#include "flow-callbacks.h"
#include "flow-storage.h"
#include "output-eve.h"
#include "thread-callbacks.h"
#include "thread-storage.h"
#include "threadvars.h"
#include "util-debug.h"

#include <embargo/embargo.h>

#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect-sc8-stream.h"
#include "detect-sc8-tx.h"
#include "detect-sc8.h"
#include "sc8-state.h"

#ifndef EMBARGO_INSTALL_RULES_DIR
#define EMBARGO_INSTALL_RULES_DIR "/usr/share/embargo/rules"
#endif

/* How the keyword is matched (embargo.mode). */
typedef enum { MODE_TRANSACTIONS, MODE_PACKETS, MODE_BOTH } EmbargoMode;

/* Packets mode, per worker thread: the root packet last given to the engine,
 * and what it raised. */
typedef struct {
    const Packet *key;
    uint64_t key_cnt;
    SCTime_t key_ts;
    EmbargoHit hits[EMBARGO_MAX_HITS];
    int nhits;
    uint64_t packets, alerts, dropped_hits, errors;
} EmbargoSc8Thread;

static struct {
    char rules_path[PATH_MAX];
    char cache_dir[PATH_MAX]; /* "" when none */
    emb_rules_t *rules;
    emb_shared_t *shared;
    EmbargoMode mode;
    uint64_t tx_keys;          /* keys the transactions mode reads (bit per emb_key_t) */
    _Atomic bool packet_rules; /* a rule was put on the packets path: feed the engine */
    uint32_t *sids;            /* the pack's sids, sorted: the keyword checks its argument */
    /* The UDP server ports of the pack's payload patterns, a bit each
     * (transactions mode: those datagrams are scanned for them) */
    uint8_t payload_ports[65536 / 8];
    bool streams; /* transactions mode: payload patterns on Suricata's TCP stream */
    size_t nsids;
    int keyword_id;
    ThreadStorageId thread_id;
} G = {.keyword_id = -1, .thread_id = {.id = -1}};

static void Copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* ---- packets mode ------------------------------------------------------ */

static void ThreadFree(void *ptr) {
    EmbargoSc8Thread *t = ptr;
    if (t == NULL)
        return;
    if (t->packets > 0)
        SCLogNotice("embargo: %" PRIu64 " packets inspected, %" PRIu64 " rules raised, %" PRIu64
                    " beyond %d on one packet not kept, %" PRIu64 " errors",
                    t->packets, t->alerts, t->dropped_hits, EMBARGO_MAX_HITS, t->errors);
    SCFree(t);
}

static void OnThreadInit(ThreadVars *tv, void *user) {
    (void)user;
    EmbargoSc8Thread *t = SCCalloc(1, sizeof(*t));
    if (t == NULL) {
        SCLogError("embargo: out of memory for thread %s", tv->name);
        return;
    }
    ThreadSetStorageById(tv, G.thread_id, t);
}

static int OnAlert(const emb_alert_t *a, void *userdata) {
    EmbargoSc8Thread *t = userdata;
    t->alerts++;
    if (t->nhits == EMBARGO_MAX_HITS) {
        t->dropped_hits++;
        return 0;
    }
    /* The record's alert object, cut out of the EVE line. */
    char *alert = NULL;
    const char *at = memmem(a->eve, a->eve_len, "\"alert\":", 8);
    if (at != NULL) {
        json_error_t err;
        json_t *rec = json_loadb(a->eve, a->eve_len, 0, &err);
        alert = rec != NULL ? json_dumps(json_object_get(rec, "alert"), JSON_COMPACT) : NULL;
        json_decref(rec);
    }
    if (alert == NULL)
        t->errors++;
    EmbargoSc8HitFrom(&t->hits[t->nhits++], a->sid, a->vendor, a->channel, a->field, alert);
    free(alert);
    return 0;
}

/* The packet whose raw bytes the engine sees for `p`: itself, or the root of a
 * tunnel or defrag child. NULL for pseudo-packets, which have no bytes. */
static const Packet *RootOf(const Packet *p) {
    const Packet *r = p->root != NULL ? p->root : p;
    if (PKT_IS_PSEUDOPKT(p) || r->pkt_src != PKT_SRC_WIRE)
        return NULL;
    return r;
}

static bool IsKey(const EmbargoSc8Thread *t, const Packet *r) {
    return t->key == r && t->key_cnt == r->pcap_cnt && SCTIME_CMP_EQ(t->key_ts, r->ts);
}

/* Gives the root of `p` to the engine once; afterwards t->hits are its rules. */
static bool EnsureInspected(ThreadVars *tv, EmbargoSc8Thread *t, const Packet *p) {
    const Packet *r = RootOf(p);
    if (r == NULL)
        return false;
    if (IsKey(t, r))
        return true;
    t->key = r;
    t->key_cnt = r->pcap_cnt;
    t->key_ts = r->ts;
    t->nhits = 0;
    emb_engine_t *e = EmbargoSc8Engine(tv);
    if (e == NULL)
        return true;
    emb_packet_t pkt = EmbargoSc8Packet(r);
    t->packets++;
    if (emb_engine_process(e, &pkt, OnAlert, t) != 0)
        t->errors++;
    return true;
}

/* Packets and both modes; in transactions mode the keyword's packet
 * prefilter does what this does for it (EmbargoSc8TxRegister). */
static void OnFlowUpdate(ThreadVars *tv, Flow *f, Packet *p, void *user) {
    (void)user;
    EmbargoSc8WorkerRead(tv, p); /* how far this worker has read (DNS attribution) */
    if (G.mode != MODE_PACKETS && p->sp == 53 &&
        (p->proto == IPPROTO_UDP || p->proto == IPPROTO_TCP))
        EmbargoSc8TxFeedDns(tv, p); /* DNS answers, for attribution */
    if (!atomic_load_explicit(&G.packet_rules, memory_order_relaxed))
        return; /* no rule on the packets path: no other packet is decoded twice */
    EmbargoSc8Thread *t = ThreadGetStorageById(tv, G.thread_id);
    if (t == NULL || !EnsureInspected(tv, t, p))
        return;
    /* A tunnel root's rules belong to its children's flows: they list them on
     * their flow records. */
    if (!PacketIsTunnelRoot(p) && IsKey(t, RootOf(p)))
        for (int i = 0; i < t->nhits; i++)
            (void)EmbargoSc8FlowNote(f, t->hits[i].sid);
}

/* ---- the keyword ------------------------------------------------------- */

static int EmbargoMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const Signature *s,
                        const SigMatchCtx *ctx) {
    const EmbargoSc8Data *d = (const EmbargoSc8Data *)ctx;
    if (det_ctx->tv == NULL || PacketIsTunnelRoot(p))
        return 0;
    EmbargoSc8Thread *t = ThreadGetStorageById(det_ctx->tv, G.thread_id);
    if (t == NULL)
        return 0;
    if (G.mode == MODE_TRANSACTIONS) /* only rules of addresses and ports are here */
        return EmbargoSc8TxFlowMatch(det_ctx, p, s, d);
    if (d->attribution)
        return 0; /* the engine's packets raise the rule itself, attribution too */
    if (!EnsureInspected(det_ctx->tv, t, p)) {
        /* Packets without a flow (fragments, outer tunnel packets) were not given
         * to the engine by the flow callback: this does it, once. */
        return 0;
    }
    for (int i = 0; i < t->nhits; i++) {
        if (EmbargoSc8HitMatches(&t->hits[i], d)) {
            EmbargoSc8AlertContext(det_ctx, s, &t->hits[i]);
            return 1;
        }
    }
    return 0;
}

static bool KnownSid(uint32_t sid) {
    size_t lo = 0, hi = G.nsids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (G.sids[mid] == sid)
            return true;
        if (G.sids[mid] < sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool KnownVendor(const char *v) {
    emb_rules_summary_t sum;
    emb_rules_summary(G.rules, &sum);
    for (size_t i = 0; i < sum.vendors; i++) {
        const char *id, *name;
        size_t n;
        if (emb_rules_vendor(G.rules, i, &id, &name, &n) == 0 && strcmp(id, v) == 0)
            return true;
    }
    return false;
}

static bool KnownChannel(const char *c) {
    for (int i = 0; i < EMB_CH__COUNT; i++)
        if (strcmp(emb_channel_name((emb_channel_t)i), c) == 0)
            return true;
    return false;
}

/* "sid N" | "vendor V" | "channel C" | "attribution", comma-separated, each at
 * most once; "attribution" with a sid. */
static int ParseArg(const char *arg, EmbargoSc8Data *d) {
    char buf[256];
    if (arg == NULL || snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
        SCLogError("embargo: the keyword needs an argument: sid N, vendor V, channel C");
        return -1;
    }
    char *save = NULL;
    bool any = false;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char key[16], val[EMBARGO_NAME_LEN], extra;
        if (sscanf(item, " %15s %c", key, &extra) == 1 && strcmp(key, "attribution") == 0 &&
            !d->attribution) {
            d->attribution = true; /* the rule's twin for DNS attribution (EmbargoSc8Data) */
            continue;
        }
        if (sscanf(item, " %15s %47s %c", key, val, &extra) != 2) {
            SCLogError("embargo: '%s' is not 'sid N', 'vendor V' or 'channel C'", item);
            return -1;
        }
        if (strcmp(key, "sid") == 0 && d->sid == 0) {
            char *end;
            unsigned long v = strtoul(val, &end, 10);
            if (*end != '\0' || v == 0 || v > UINT32_MAX || !KnownSid((uint32_t)v)) {
                SCLogError("embargo: sid %s is not a rule of the pack %s", val, G.rules_path);
                return -1;
            }
            d->sid = (uint32_t)v;
        } else if (strcmp(key, "vendor") == 0 && d->vendor[0] == '\0') {
            if (!KnownVendor(val)) {
                SCLogError("embargo: vendor %s is not in the pack %s", val, G.rules_path);
                return -1;
            }
            Copy(d->vendor, sizeof(d->vendor), val);
        } else if (strcmp(key, "channel") == 0 && d->channel[0] == '\0') {
            if (!KnownChannel(val)) {
                SCLogError("embargo: unknown channel %s", val);
                return -1;
            }
            Copy(d->channel, sizeof(d->channel), val);
        } else {
            SCLogError("embargo: '%s' is unknown or given twice", item);
            return -1;
        }
        any = true;
    }
    if (!any || (d->attribution && d->sid == 0)) {
        SCLogError("embargo: the keyword needs an argument: sid N, vendor V, channel C "
                   "(attribution: with sid N)");
        return -1;
    }
    return 0;
}

/* The rule index of `sid` in the pack; SIZE_MAX when it has none. */
static size_t RuleOf(uint32_t sid) {
    for (size_t i = 0; i < G.nsids; i++)
        if (emb_rules_sid(G.rules, i) == sid)
            return i;
    return SIZE_MAX;
}

/* The device keys the transactions mode reads with the engine's own parsers
 * (detect-sc8-tx.c, DeviceRules): what a UDP datagram gives, what the head
 * of an RTSP or SIP message at a TCP segment's start gives (SEGMENT_KEYS);
 * and `mac`, the Ethernet source of each direction of a flow (DeviceKeys). */
static const emb_key_t DATAGRAM_KEYS[] = {
    EMB_K_SSDP_SERVER,   EMB_K_SSDP_LOCATION,     EMB_K_SIP_USER_AGENT, EMB_K_ONVIF_SCOPE,
    EMB_K_SADP_DEVICE,   EMB_K_DHIP_DEVICE,       EMB_K_SNMP_SYSDESCR,  EMB_K_SNMP_SYSOBJECTID,
    EMB_K_DHCP_HOSTNAME, EMB_K_DHCP_VENDOR_CLASS,
};
static const emb_key_t SEGMENT_KEYS[] = {EMB_K_RTSP_SERVER, EMB_K_SIP_USER_AGENT};
/* and the start of the bodies of Suricata's HTTP transactions (detect-sc8-read.c,
 * EmbargoSc8HttpBodies): a TR-069 Inform is a request's, the others a response's */
static const emb_key_t BODY_KEYS[] = {EMB_K_CWMP_MANUFACTURER, EMB_K_CWMP_OUI, EMB_K_ONVIF_DEVICE,
                                      EMB_K_HTTP_RESPONSE_BODY};

static uint64_t BodyKeys(void) {
    uint64_t keys = 0;
    for (size_t i = 0; i < sizeof(BODY_KEYS) / sizeof(BODY_KEYS[0]); i++)
        keys |= UINT64_C(1) << BODY_KEYS[i];
    return keys;
}

static uint64_t DeviceKeys(void) {
    uint64_t keys = (UINT64_C(1) << EMB_K_MAC) | BodyKeys();
    for (size_t i = 0; i < sizeof(DATAGRAM_KEYS) / sizeof(DATAGRAM_KEYS[0]); i++)
        keys |= UINT64_C(1) << DATAGRAM_KEYS[i];
    for (size_t i = 0; i < sizeof(SEGMENT_KEYS) / sizeof(SEGMENT_KEYS[0]); i++)
        keys |= UINT64_C(1) << SEGMENT_KEYS[i];
    return keys;
}

/* Whether rule `i` has a payload pattern that a UDP port bounds: the
 * transactions mode scans those ports' datagrams for it (DeviceRules). */
static bool UdpPayloadRule(size_t i) {
    static uint8_t bits[EMBARGO_PORT_BITS];
    memset(bits, 0, sizeof(bits));
    emb_rules_payload_ports(G.rules, i, IPPROTO_UDP, bits);
    return EmbargoSc8PortsAny(bits);
}

/* Whether a rule with this keyword goes on the transactions path. In
 * transactions mode a rule of addresses and ports alone goes on the packet
 * path, decided from Suricata's flow (EmbargoSc8TxFlowMatch), and so does a
 * rule of datagrams' device keys, decided from each datagram. */
/* Whether rule `i` has a payload pattern that can hold over TCP. */
static bool TcpPayloadRule(size_t i) {
    static uint8_t bits[EMBARGO_PORT_BITS];
    memset(bits, 0, sizeof(bits));
    return emb_rules_payload_ports(G.rules, i, IPPROTO_TCP, bits) > 0 || EmbargoSc8PortsAny(bits);
}

static bool OnTransactions(EmbargoSc8Data *d) {
    if (G.mode == MODE_PACKETS)
        return false;
    if (d->sid == 0)
        return true; /* vendor/channel: what transactions raise */
    if (d->attribution)
        return false; /* on the packet path, behind the flow prefilter */
    size_t i = RuleOf(d->sid);
    /* read on the stream, also at a flow's end, whatever else it has (DeviceRules) */
    d->stream_rule = G.streams && i != SIZE_MAX && TcpPayloadRule(i);
    const uint64_t flow_keys = (UINT64_C(1) << EMB_K_IP) | (UINT64_C(1) << EMB_K_PORT);
    /* an alternative of an HTTP body's device keys: read also at a flow's end (DeviceRules) */
    d->body_rule = G.mode == MODE_TRANSACTIONS && i != SIZE_MAX &&
                   emb_rules_raised_by(G.rules, i, BodyKeys() | flow_keys) &&
                   !emb_rules_raised_by(G.rules, i, flow_keys);
    if (i != SIZE_MAX && emb_rules_raised_by(G.rules, i, G.tx_keys & ~flow_keys)) {
        /* A rule is read on one path: its alternatives for the other never fire. */
        if (G.mode == MODE_TRANSACTIONS &&
            emb_rules_raised_by(G.rules, i, flow_keys | DeviceKeys()))
            SCLogWarning("embargo: rule %u: its alternatives of addresses and ports alone, device "
                         "datagrams, MAC prefixes or HTTP bodies do not fire in transactions "
                         "mode, only those of transactions (split it in two rules, or "
                         "embargo.mode: both)",
                         d->sid);
        return true;
    }
    if (i != SIZE_MAX && emb_rules_raised_by(G.rules, i, flow_keys))
        return false;
    if (i != SIZE_MAX && G.mode == MODE_TRANSACTIONS &&
        emb_rules_raised_by(G.rules, i, flow_keys | DeviceKeys()))
        return false;
    const uint64_t payload = UINT64_C(1) << EMB_K_PAYLOAD;
    if (i != SIZE_MAX && G.mode == MODE_TRANSACTIONS &&
        emb_rules_raised_by(G.rules, i, flow_keys | DeviceKeys() | payload) &&
        (G.streams || UdpPayloadRule(i))) {
        if (!G.streams)
            SCLogWarning("embargo: rule %u: its payload patterns over TCP, and those without a "
                         "port over UDP, do not fire in transactions mode without "
                         "embargo.stream-payload: yes (or embargo.mode: both)",
                         d->sid);
        else if (emb_rules_payload_ports(G.rules, i, IPPROTO_UDP, NULL) > 0)
            SCLogInfo("embargo: rule %u: its payload patterns without a port are read on TCP "
                      "streams only, not on UDP datagrams, in transactions mode",
                      d->sid);
        return false;
    }
    if (G.mode == MODE_BOTH)
        return false;
    SCLogWarning("embargo: rule %u rests on what Suricata does not parse for embargo (payload "
                 "over TCP without embargo.stream-payload: yes, payload on any UDP port): it "
                 "cannot fire in transactions mode (embargo.mode: both)",
                 d->sid);
    return true;
}

static int EmbargoSetup(DetectEngineCtx *de_ctx, Signature *s, const char *arg) {
    EmbargoSc8Data *d = SCCalloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    int rc = ParseArg(arg, d);
    if (rc == 0 && OnTransactions(d)) {
        rc = EmbargoSc8TxSetup(de_ctx, s, d);
    } else if (rc == 0) {
        SigMatch *sm = SCSigMatchAppendSMToList(de_ctx, s, (uint16_t)G.keyword_id, (SigMatchCtx *)d,
                                                DETECT_SM_LIST_MATCH);
        rc = sm != NULL ? 0 : -1;
        if (rc == 0 && G.mode == MODE_TRANSACTIONS)
            EmbargoSc8TxFlowSetup(de_ctx, s, sm, d); /* behind the flow prefilter */
        else if (rc == 0)
            atomic_store(&G.packet_rules, true); /* the engine is fed every packet */
    }
    if (rc != 0)
        SCFree(d);
    return rc;
}

static void EmbargoFree(DetectEngineCtx *de_ctx, void *ptr) {
    (void)de_ctx;
    SCFree(ptr);
}

/* ---- Init -------------------------------------------------------------- */

static const char *DefaultRules(void) {
    const char *env = getenv("EMBARGO_RULES");
    if (env != NULL && *env != '\0')
        return env;
#ifdef EMBARGO_SOURCE_RULES_DIR
    struct stat st;
    if (stat(EMBARGO_INSTALL_RULES_DIR, &st) != 0 && stat(EMBARGO_SOURCE_RULES_DIR, &st) == 0)
        return EMBARGO_SOURCE_RULES_DIR;
#endif
    return EMBARGO_INSTALL_RULES_DIR;
}

/* embargo.cache-dir; "no" for none; default /var/cache/embargo when writable. */
static void CacheDir(void) {
    const char *opt = NULL;
    if (SCConfGet("embargo.cache-dir", &opt) != 1)
        opt = NULL;
    G.cache_dir[0] = '\0';
    if (opt != NULL && SCConfValIsFalse(opt))
        return;
    const char *dir = opt != NULL ? opt : "/var/cache/embargo";
    struct stat st;
    if ((mkdir(dir, 0755) == 0 || stat(dir, &st) == 0) && access(dir, W_OK | X_OK) == 0)
        Copy(G.cache_dir, sizeof(G.cache_dir), dir);
    else
        SCLogWarning("embargo: cache dir %s is not writable: each worker compiles the rules", dir);
}

static int CmpSid(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The pack's sids, sorted, so that a Suricata rule can name only a sid the
 * pack has (KnownSid). */
static int CollectSids(void) {
    emb_rules_summary_t sum;
    emb_rules_summary(G.rules, &sum);
    G.sids = SCCalloc(sum.rules ? sum.rules : 1, sizeof(*G.sids));
    if (G.sids == NULL)
        return EMB_ENOMEM;
    for (size_t i = 0; i < sum.rules; i++)
        G.sids[i] = emb_rules_sid(G.rules, i);
    G.nsids = sum.rules;
    /* sorted, for KnownSid; RuleOf asks the pack itself */
    qsort(G.sids, G.nsids, sizeof(*G.sids), CmpSid);
    return 0;
}

/* embargo.scope, embargo.restricts, embargo.proposed: the bans that apply to
 * this sensor's owner, as `embargo scan --scope` (docs/suricata.md). */
static int SelectBans(emb_rules_t *rules) {
    const char *scope = NULL, *restricts = NULL;
    int proposed = 0;
    if (SCConfGet("embargo.scope", &scope) != 1)
        scope = NULL;
    if (SCConfGet("embargo.restricts", &restricts) != 1)
        restricts = NULL;
    if (SCConfGetBool("embargo.proposed", &proposed) != 1)
        proposed = 0;
    if (scope == NULL && restricts == NULL && !proposed)
        return 0;
    char err[160];
    int n = emb_rules_select(rules, scope, restricts, proposed != 0, err, sizeof(err));
    if (n < 0) {
        SCLogError("embargo: %s", err);
        return EMB_EINVAL;
    }
    SCLogConfig("embargo: %d vendors have a ban that applies (scope %s, restricts %s%s)", n,
                scope ? scope : "any", restricts ? restricts : "any",
                proposed ? ", proposed bans too" : "");
    return 0;
}

static int LoadRules(void) {
    const char *path = NULL;
    if (SCConfGet("embargo.rules", &path) != 1 || path == NULL)
        path = DefaultRules();
    Copy(G.rules_path, sizeof(G.rules_path), path);
    CacheDir();
    emb_diags_t *diags = NULL;
    emb_engine_t *e = NULL;
    int rc = emb_rules_load(G.rules_path, &G.rules, &diags);
    if (rc == 0)
        rc = SelectBans(G.rules);
    if (rc == 0) {
        emb_config_t cfg;
        emb_config_init(&cfg);
        cfg.cache_dir = G.cache_dir[0] != '\0' ? G.cache_dir : NULL;
        /* One DNS attribution table for every worker's engine, this one too. */
        rc = emb_shared_new(&cfg, &G.shared);
        cfg.shared = G.shared;
        if (rc == 0)
            rc = emb_engine_new(G.rules, &cfg, &e, &diags);
        /* every rule's alert text now, here, not at a worker's first alert
         * (the low variant of an ip/port rule reported low: at its first use) */
        if (rc == 0)
            rc = emb_engine_prepare_alerts(e);
    }
    if (rc == 0)
        rc = CollectSids();
    if (rc != 0) {
        size_t n = emb_diags_count(diags);
        if (n == 0)
            SCLogError("embargo: cannot load rules %s: %s", G.rules_path, emb_strerror(rc));
        for (size_t i = 0; i < n; i++)
            SCLogError("embargo: %s", emb_diags_message(diags, i));
        emb_diags_free(diags);
        emb_engine_free(e);
        return rc;
    }
    if (!EmbargoSc8StateInit(G.rules, e, G.cache_dir, G.shared)) {
        SCLogError("embargo: cannot register thread or flow storage");
        emb_engine_free(e);
        return EMB_ENOMEM;
    }
    emb_rules_summary_t s;
    emb_rules_summary(G.rules, &s);
    SCLogConfig("embargo: %zu rules of %zu vendors from %s, %s%s", s.rules, s.vendors, G.rules_path,
                emb_engine_from_cache(e) ? "loaded from " : "compiled, cache ",
                G.cache_dir[0] ? G.cache_dir : "none");
    /* Which pack runs, from its manifest; a stale one is said so. */
    emb_manifest_t *m = NULL;
    if (emb_manifest_load(G.rules_path, &m, NULL) == 0) {
        emb_manifest_info_t mi;
        emb_manifest_info(m, &mi);
        SCLogConfig("embargo: rule pack %s %s (released %s, expires %s)", mi.name, mi.version,
                    mi.released, mi.expires);
        if (emb_manifest_expired(m))
            SCLogWarning("embargo: rule pack %s %s expired on %s: it still runs, but it is stale",
                         mi.name, mi.version, mi.expires);
        emb_manifest_free(m);
    }
    return 0;
}

/* embargo.pass-settled-flows (default yes): whether the transactions mode
 * passes a flow in which its rules have nothing left to find, when they are
 * the only rules loaded (docs/suricata.md, "Passing settled flows"). */
static bool PassFlows(void) {
    int yes = 1;
    if (SCConfGetBool("embargo.pass-settled-flows", &yes) != 1)
        yes = 1;
    SCLogConfig("embargo: pass settled flows: %s", yes ? "yes, when embargo's rules are the only "
                                                         "ones loaded"
                                                       : "no");
    return yes != 0;
}

/* embargo.stream-payload (transactions mode): payload patterns on Suricata's
 * reassembled TCP stream; default no: it costs about as much again as the
 * rest of the mode (bench/README.md, "Tenth round"). */
static bool StreamPayload(void) {
    int yes = 0;
    if (SCConfGetBool("embargo.stream-payload", &yes) != 1)
        yes = 0;
    SCLogConfig("embargo: payload patterns on TCP streams: %s", yes ? "yes" : "no");
    return yes != 0;
}

/* embargo.mode: transactions (default), packets or both. */
static int Mode(void) {
    const char *mode = NULL;
    if (SCConfGet("embargo.mode", &mode) != 1 || mode == NULL)
        mode = "transactions";
    if (strcmp(mode, "transactions") == 0)
        G.mode = MODE_TRANSACTIONS;
    else if (strcmp(mode, "packets") == 0)
        G.mode = MODE_PACKETS;
    else if (strcmp(mode, "both") == 0)
        G.mode = MODE_BOTH;
    else {
        SCLogError("embargo: embargo.mode '%s' is not transactions, packets or both", mode);
        return -1;
    }
    /* What the transactions mode reads (detect-sc8-tx.c). */
    static const emb_key_t tx_keys[] = {
        EMB_K_DOMAIN,          EMB_K_DNS_QUERY, EMB_K_TLS_SNI,  EMB_K_TLS_CERT_SUBJECT,
        EMB_K_TLS_CERT_ISSUER, EMB_K_HTTP_HOST, EMB_K_HTTP_URI, EMB_K_HTTP_USER_AGENT,
        EMB_K_QUIC_SNI,        EMB_K_JA4,       EMB_K_IP,       EMB_K_PORT,
        EMB_K_HTTP_SERVER,
    };
    for (size_t i = 0; i < sizeof(tx_keys) / sizeof(tx_keys[0]); i++)
        G.tx_keys |= UINT64_C(1) << tx_keys[i];
    SCLogConfig("embargo: mode %s", mode);
    return 0;
}

void EmbargoSc8Register(void) {
    if (Mode() != 0)
        FatalError("embargo: bad embargo.mode");
    if (LoadRules() != 0)
        FatalError("embargo: no rule pack, cannot run the embargo keyword");

    G.thread_id = ThreadStorageRegister("embargo.packets", sizeof(void *), NULL, ThreadFree);
    if (G.thread_id.id < 0)
        FatalError("embargo: cannot register thread storage");
    if (!SCThreadRegisterInitCallback(OnThreadInit, NULL) ||
        (G.mode != MODE_TRANSACTIONS && !SCFlowRegisterUpdateCallback(OnFlowUpdate, NULL)))
        FatalError("embargo: cannot register callbacks");

    G.keyword_id = SCDetectHelperNewKeywordId();
    SigTableElmt *kw = &sigmatch_table[G.keyword_id];
    kw->name = "embargo";
    kw->desc = "match when embargo raised this rule (sid N) or a rule of this vendor and/or "
               "channel on this transaction or packet";
    kw->Match = EmbargoMatch;
    kw->Setup = EmbargoSetup;
    kw->Free = EmbargoFree;
    kw->flags = SIGMATCH_QUOTES_OPTIONAL;
    emb_rules_summary_t sum;
    emb_rules_summary(G.rules, &sum);
    bool datagrams = false;
    for (size_t i = 0; i < sizeof(DATAGRAM_KEYS) / sizeof(DATAGRAM_KEYS[0]); i++)
        datagrams |= sum.indicators_per_key[DATAGRAM_KEYS[i]] > 0;
    bool segments = false;
    for (size_t i = 0; i < sizeof(SEGMENT_KEYS) / sizeof(SEGMENT_KEYS[0]); i++)
        segments |= sum.indicators_per_key[SEGMENT_KEYS[i]] > 0;
    uint8_t bodies = 0;
    if (sum.indicators_per_key[EMB_K_CWMP_MANUFACTURER] + sum.indicators_per_key[EMB_K_CWMP_OUI])
        bodies |= BODY_REQUEST;
    if (sum.indicators_per_key[EMB_K_ONVIF_DEVICE] +
        sum.indicators_per_key[EMB_K_HTTP_RESPONSE_BODY])
        bodies |= BODY_RESPONSE;
    /* payload patterns a UDP port bounds: read from those datagrams (UdpPayloadRule) */
    emb_rules_payload_ports(G.rules, SIZE_MAX, IPPROTO_UDP, G.payload_ports);
    bool payloads = EmbargoSc8PortsAny(G.payload_ports);
    /* payload patterns over TCP: read on Suricata's raw stream (detect-sc8-stream.c) */
    static uint8_t tcp_ports[EMBARGO_PORT_BITS];
    size_t anywhere = emb_rules_payload_ports(G.rules, SIZE_MAX, IPPROTO_TCP, tcp_ports);
    bool tcp = anywhere > 0 || EmbargoSc8PortsAny(tcp_ports);
    if (G.mode == MODE_TRANSACTIONS && tcp && StreamPayload()) {
        emb_config_t cfg;
        EmbargoSc8EngineConfig(&cfg);
        if (!EmbargoSc8StreamInit(tcp_ports, anywhere > 0, cfg.stream_depth))
            FatalError("embargo: cannot register the stream's payload patterns");
        G.streams = true;
    }
    if (G.mode != MODE_PACKETS &&
        !EmbargoSc8TxRegister(
            G.keyword_id, sum.indicators_per_key[EMB_K_JA4] > 0, G.mode == MODE_TRANSACTIONS,
            G.mode == MODE_TRANSACTIONS && PassFlows(), G.mode == MODE_TRANSACTIONS && datagrams,
            G.mode == MODE_TRANSACTIONS && sum.indicators_per_key[EMB_K_MAC] > 0,
            G.mode == MODE_TRANSACTIONS && segments, G.mode == MODE_TRANSACTIONS ? bodies : 0,
            G.mode == MODE_TRANSACTIONS && payloads ? G.payload_ports : NULL))
        FatalError("embargo: cannot register the transactions mode");
}
