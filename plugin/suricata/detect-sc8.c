/*
 * embargo inside Suricata 8's detection: the `embargo` packet keyword.
 *
 * Each Suricata worker thread gets its own embargo engine (thread storage,
 * built lazily from the database cache that Init filled: a load, not a
 * compile). Every packet Suricata reads is handed, raw bytes and datalink, to
 * the engine of the thread that handles it, from the flow-update callback
 * (packets with a flow) or, for the others (IP fragments, tunnel outer
 * packets), from the keyword itself; the engine does its own decoding,
 * defragmentation, stream reassembly and DNS attribution, and the rules it
 * raises on that packet are kept in the thread state until the next packet.
 * The keyword then matches on that same packet: `embargo: sid 4200101;` when
 * that rule was raised, `embargo: vendor kaspersky, channel update;` when any
 * rule of that vendor and channel was. Its alert carries the engine's match in
 * alert.context.embargo {vendor, channel, field, value} through the same
 * per-alert JSON context Suricata's dataset keyword uses.
 *
 * The design choice to know: the keyword carries the whole condition. A rule
 * that adds content or a sticky buffer is inspected on a later pseudo-packet
 * without payload, where nothing was raised, and never fires; the exported
 * rules (embargo rules export --format suricata-plugin) have the keyword
 * alone. A packet that Suricata decodes into tunnel or defrag children is
 * given to the engine once, as its root (the engine decapsulates and
 * defragments itself), and the keyword matches on the children, which carry
 * the inner addresses the engine reports, never on the root.
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

#include "detect-sc8.h"

#ifndef EMBARGO_INSTALL_RULES_DIR
#define EMBARGO_INSTALL_RULES_DIR "/usr/share/embargo/rules"
#endif

#define MAX_HITS 16     /* rules raised on one packet that are kept (Suricata's own bound) */
#define MAX_FLOW_SIDS 8 /* sids listed on a flow record */
#define NAME_LEN 48

/* One rule the engine raised on the current packet. */
typedef struct {
    uint32_t sid;
    char vendor[NAME_LEN];
    char channel[NAME_LEN];
    char json[SIG_JSON_CONTENT_ITEM_LEN]; /* "embargo":{...}, the alert's context */
} EmbargoHit;

/* Per worker thread. */
typedef struct {
    emb_engine_t *engine; /* built at the first packet; NULL until then or if it failed */
    bool failed;          /* building the engine failed: do not retry per packet */
    /* the root packet last given to the engine, and what it raised */
    const Packet *key;
    uint64_t key_cnt;
    SCTime_t key_ts;
    EmbargoHit hits[MAX_HITS];
    int nhits;
    uint64_t packets, alerts, dropped_hits, errors;
} EmbargoSc8Thread;

/* The sids a flow raised, for its flow record. */
typedef struct {
    uint32_t sids[MAX_FLOW_SIDS];
    int n;
} EmbargoSc8Flow;

/* What the keyword asks for; 0 / "" means any. */
typedef struct {
    uint32_t sid;
    char vendor[NAME_LEN];
    char channel[NAME_LEN];
} EmbargoSc8Data;

static struct {
    char rules_path[PATH_MAX];
    char cache_dir[PATH_MAX]; /* "" when none */
    emb_rules_t *rules;
    _Atomic(emb_engine_t *) spare; /* compiled at Init; the first worker adopts it */
    uint32_t *sids;                /* the pack's sids, sorted: the keyword checks its argument */
    size_t nsids;
    int keyword_id;
    ThreadStorageId thread_id;
    FlowStorageId flow_id;
} G = {.keyword_id = -1, .thread_id = {.id = -1}, .flow_id = {.id = -1}};

/* ---- the engine, per thread -------------------------------------------- */

static void EngineConfig(emb_config_t *cfg) {
    emb_config_init(cfg);
    cfg->cache_dir = G.cache_dir[0] != '\0' ? G.cache_dir : NULL;
}

static emb_engine_t *ThreadEngine(EmbargoSc8Thread *t) {
    if (t->engine != NULL || t->failed)
        return t->engine;
    t->engine = atomic_exchange(&G.spare, NULL);
    if (t->engine == NULL) {
        emb_config_t cfg;
        EngineConfig(&cfg);
        int rc = emb_engine_new(G.rules, &cfg, &t->engine, NULL);
        if (rc != 0) {
            SCLogError("embargo: cannot build the engine of a worker: %s", emb_strerror(rc));
            t->engine = NULL;
            t->failed = true;
        }
    }
    return t->engine;
}

static void ThreadFree(void *ptr) {
    EmbargoSc8Thread *t = ptr;
    if (t == NULL)
        return;
    if (t->packets > 0)
        SCLogNotice("embargo: %" PRIu64 " packets inspected, %" PRIu64 " rules raised, %" PRIu64
                    " beyond %d on one packet not kept, %" PRIu64 " errors",
                    t->packets, t->alerts, t->dropped_hits, MAX_HITS, t->errors);
    emb_engine_free(t->engine);
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

static void Copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* The engine's alert.context.embargo object, as the alert's context. */
static bool HitJson(EmbargoHit *h, const emb_alert_t *a) {
    json_error_t err;
    json_t *rec = json_loadb(a->eve, a->eve_len, 0, &err);
    json_t *emb =
        json_object_get(json_object_get(json_object_get(rec, "alert"), "context"), "embargo");
    /* Suricata keeps SIG_JSON_CONTENT_ITEM_LEN bytes of context: when the whole
     * object does not fit, the bans go first (the rule's metadata names them),
     * then what a device said beyond its protocol and host. */
    static const char *const shed[] = {"bans", NULL};
    int n = -1;
    for (size_t i = 0; emb != NULL; i++) {
        char *text = json_dumps(emb, JSON_COMPACT);
        if (text == NULL)
            break;
        n = snprintf(h->json, sizeof(h->json), "\"embargo\":%s", text);
        free(text);
        if (n > 0 && (size_t)n < sizeof(h->json))
            break;
        n = -1;
        if (i < sizeof(shed) / sizeof(shed[0]) - 1) {
            json_object_del(emb, shed[i]);
            continue;
        }
        json_t *dev = json_object_get(emb, "device");
        if (dev == NULL || json_object_size(dev) <= 2)
            break;
        json_t *slim = json_object();
        json_object_set(slim, "protocol", json_object_get(dev, "protocol"));
        json_object_set(slim, "host", json_object_get(dev, "host"));
        json_object_set_new(emb, "device", slim);
    }
    json_decref(rec);
    return n > 0;
}

static int OnAlert(const emb_alert_t *a, void *userdata) {
    EmbargoSc8Thread *t = userdata;
    t->alerts++;
    if (t->nhits == MAX_HITS) {
        t->dropped_hits++;
        return 0;
    }
    EmbargoHit *h = &t->hits[t->nhits];
    h->sid = a->sid;
    Copy(h->vendor, sizeof(h->vendor), a->vendor);
    Copy(h->channel, sizeof(h->channel), a->channel);
    if (!HitJson(h, a)) {
        /* no value (too long or unreadable): the rest of the context still goes */
        t->errors++;
        snprintf(h->json, sizeof(h->json),
                 "\"embargo\":{\"vendor\":\"%s\",\"channel\":\"%s\",\"field\":\"%s\"}",
                 a->vendor != NULL ? a->vendor : "", a->channel != NULL ? a->channel : "",
                 a->field != NULL ? a->field : "");
    }
    t->nhits++;
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

static void RecordOnFlow(Flow *f, const EmbargoSc8Thread *t) {
    if (f == NULL || G.flow_id.id < 0 || t->nhits == 0)
        return;
    EmbargoSc8Flow *fs = FlowGetStorageById(f, G.flow_id);
    if (fs == NULL) {
        if ((fs = SCCalloc(1, sizeof(*fs))) == NULL)
            return;
        FlowSetStorageById(f, G.flow_id, fs);
    }
    for (int i = 0; i < t->nhits; i++) {
        bool seen = false;
        for (int j = 0; j < fs->n && !seen; j++)
            seen = fs->sids[j] == t->hits[i].sid;
        if (!seen && fs->n < MAX_FLOW_SIDS)
            fs->sids[fs->n++] = t->hits[i].sid;
    }
}

/* Gives the root of `p` to the engine once; afterwards t->hits are its rules. */
static bool EnsureInspected(EmbargoSc8Thread *t, const Packet *p) {
    const Packet *r = RootOf(p);
    if (r == NULL)
        return false;
    if (IsKey(t, r))
        return true;
    t->key = r;
    t->key_cnt = r->pcap_cnt;
    t->key_ts = r->ts;
    t->nhits = 0;
    emb_engine_t *e = ThreadEngine(t);
    if (e == NULL)
        return true;
    emb_packet_t pkt = {
        .ts_sec = (int64_t)SCTIME_SECS(r->ts),
        .ts_usec = (uint32_t)SCTIME_USECS(r->ts),
        .linktype = r->datalink,
        .data = GET_PKT_DATA(r),
        .caplen = GET_PKT_LEN(r),
        .len = GET_PKT_LEN(r),
        .pcap_cnt = r->pcap_cnt,
    };
    t->packets++;
    if (emb_engine_process(e, &pkt, OnAlert, t) != 0)
        t->errors++;
    return true;
}

static void OnFlowUpdate(ThreadVars *tv, Flow *f, Packet *p, void *user) {
    (void)user;
    EmbargoSc8Thread *t = ThreadGetStorageById(tv, G.thread_id);
    if (t == NULL || !EnsureInspected(t, p))
        return;
    /* A tunnel root's rules belong to its children's flows. */
    if (!PacketIsTunnelRoot(p) && IsKey(t, RootOf(p)))
        RecordOnFlow(f, t);
}

static void FlowFree(void *ptr) {
    SCFree(ptr);
}

/* ---- the keyword ------------------------------------------------------- */

static bool HitMatches(const EmbargoHit *h, const EmbargoSc8Data *d) {
    return (d->sid == 0 || h->sid == d->sid) &&
           (d->vendor[0] == '\0' || strcmp(h->vendor, d->vendor) == 0) &&
           (d->channel[0] == '\0' || strcmp(h->channel, d->channel) == 0);
}

static int EmbargoMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const Signature *s,
                        const SigMatchCtx *ctx) {
    const EmbargoSc8Data *d = (const EmbargoSc8Data *)ctx;
    if (det_ctx->tv == NULL || PacketIsTunnelRoot(p))
        return 0;
    EmbargoSc8Thread *t = ThreadGetStorageById(det_ctx->tv, G.thread_id);
    /* Packets without a flow (fragments, outer tunnel packets) were not given
     * to the engine by the flow callback: this does it, once. */
    if (t == NULL || !EnsureInspected(t, p))
        return 0;
    for (int i = 0; i < t->nhits; i++) {
        const EmbargoHit *h = &t->hits[i];
        if (!HitMatches(h, d))
            continue;
        if (DetectEngineThreadCtxGetJsonContext(det_ctx) == 0) {
            SigJsonContent *jc = &det_ctx->json_content[det_ctx->json_content_len++];
            jc->id = (void *)s;
            memcpy(jc->json_content, h->json, sizeof(jc->json_content));
        }
        return 1;
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

/* "sid N" | "vendor V" | "channel C", comma-separated, each at most once. */
static int ParseArg(const char *arg, EmbargoSc8Data *d) {
    char buf[256];
    if (arg == NULL || snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
        SCLogError("embargo: the keyword needs an argument: sid N, vendor V, channel C");
        return -1;
    }
    char *save = NULL;
    bool any = false;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char key[16], val[NAME_LEN], extra;
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
    if (!any) {
        SCLogError("embargo: the keyword needs an argument: sid N, vendor V, channel C");
        return -1;
    }
    return 0;
}

static int EmbargoSetup(DetectEngineCtx *de_ctx, Signature *s, const char *arg) {
    EmbargoSc8Data *d = SCCalloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    if (ParseArg(arg, d) != 0 ||
        SCSigMatchAppendSMToList(de_ctx, s, (uint16_t)G.keyword_id, (SigMatchCtx *)d,
                                 DETECT_SM_LIST_MATCH) == NULL) {
        SCFree(d);
        return -1;
    }
    return 0;
}

static void EmbargoFree(DetectEngineCtx *de_ctx, void *ptr) {
    (void)de_ctx;
    SCFree(ptr);
}

/* ---- EVE: the sids of a flow on its flow record ------------------------ */

static void OnEve(ThreadVars *tv, const Packet *p, Flow *f, SCJsonBuilder *jb, void *user) {
    (void)tv;
    (void)user;
    /* Only records without a packet (flow, netflow): alerts carry alert.context.embargo. */
    if (p != NULL || f == NULL)
        return;
    const EmbargoSc8Flow *fs = FlowGetStorageById(f, G.flow_id);
    if (fs == NULL || fs->n == 0)
        return;
    SCJbOpenObject(jb, "embargo");
    SCJbOpenArray(jb, "sids");
    for (int i = 0; i < fs->n; i++)
        SCJbAppendUint(jb, fs->sids[i]);
    SCJbClose(jb);
    SCJbClose(jb);
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
    return 0;
}

static int CmpSid(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
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
        EngineConfig(&cfg);
        rc = emb_engine_new(G.rules, &cfg, &e, &diags);
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
    qsort(G.sids, G.nsids, sizeof(*G.sids), CmpSid);
    atomic_store(&G.spare, e);
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

void EmbargoSc8Register(void) {
    if (LoadRules() != 0)
        FatalError("embargo: no rule pack, cannot run the embargo keyword");

    G.thread_id = ThreadStorageRegister("embargo", sizeof(void *), NULL, ThreadFree);
    G.flow_id = FlowStorageRegister("embargo", sizeof(void *), NULL, FlowFree);
    if (G.thread_id.id < 0 || G.flow_id.id < 0)
        FatalError("embargo: cannot register thread or flow storage");
    if (!SCThreadRegisterInitCallback(OnThreadInit, NULL) ||
        !SCFlowRegisterUpdateCallback(OnFlowUpdate, NULL) || !SCEveRegisterCallback(OnEve, NULL))
        FatalError("embargo: cannot register callbacks");

    G.keyword_id = SCDetectHelperNewKeywordId();
    SigTableElmt *kw = &sigmatch_table[G.keyword_id];
    kw->name = "embargo";
    kw->desc = "match when embargo's engine raised this rule (sid N) or a rule of this vendor "
               "and/or channel on this packet";
    kw->Match = EmbargoMatch;
    kw->Setup = EmbargoSetup;
    kw->Free = EmbargoFree;
    kw->flags = SIGMATCH_QUOTES_OPTIONAL;
}
