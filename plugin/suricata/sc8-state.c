/*
 * State the two modes of the Suricata 8 `embargo` keyword share: each
 * worker's engine (thread storage, adopted from Init's compile or loaded
 * from the database cache), the alert context of a raised rule, and per flow
 * (flow storage) the sids it raised and whether its DNS attribution was
 * decided. A flow is handled by one worker at a time, under its lock, so the
 * flow storage needs no lock of its own, whichever worker gets the flow.
 */
#include "suricata-common.h"

#include "decode.h"
#include "detect-engine.h"
#include "detect.h"
#include "flow-storage.h"
#include "stream-tcp-private.h"
#include "output-eve.h"
#include "thread-callbacks.h"
#include "thread-storage.h"
#include "threadvars.h"
#include "tm-queues.h"
#include "tm-threads-common.h"
#include "util-debug.h"

#include <embargo/embargo.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc8-state.h"

#define MAX_FLOW_SIDS 16 /* sids remembered per flow (and listed on its flow record) */

typedef struct {
    EmbargoSc8FlowHead head; /* first: read on every packet (EmbargoSc8FlowDecided) */
    uint32_t sids[MAX_FLOW_SIDS];
    uint8_t n;
    bool first_message_seen;           /* its first client message was read */
    bool attrib_pending;               /* it named no server and no answer attributed it yet */
    uint8_t attrib_tries;              /* lookups again, at its later transactions */
    int64_t first_us;                  /* packet time of its first client message */
    uint64_t scanned[EMBARGO_READERS]; /* per transaction reader: last tx id read, plus one */
    uint8_t done;                      /* a bit per reader: EmbargoSc8FlowReaderDone */
    uint64_t body_next[2]; /* the next transaction whose body to read: request, response */
    int8_t endpoints;      /* EmbargoSc8FlowEndpoints: 0 not matched yet, 1 raise none, -1 some */
} EmbargoSc8Flow;

typedef struct {
    emb_engine_t *engine; /* built at the first use; NULL until then or if it failed */
    bool failed;          /* building it failed: do not retry per packet */
    int slot;             /* its watermark; -1: not a packet worker */
} EmbargoSc8Worker;

/*
 * How far each packet worker has read, for DNS attribution across threads
 * (EmbargoSc8CaughtUp): the packet time of the last packet it handled, and
 * when (monotonic wall clock). A worker reads its own packets in order, so
 * once every worker is past time T, every DNS answer of a packet before T is
 * in the shared table. One cache line per worker; written by its worker
 * only, read by the others.
 */
#define MAX_WORKERS 64
#define IDLE_US 20000 /* a worker that read nothing for this long has nothing queued */
#define WAIT_STEPS 2000
#define WAIT_STEP_NS                                                                               \
    100000 /* 0.1 ms: 200 ms at most, and only while a worker has queued packets                   \
            */
typedef struct {
    _Atomic int64_t pkt_us;
    _Atomic int64_t wall_us;
    const ThreadVars *tv;
    char pad[64 - 2 * sizeof(int64_t) - sizeof(void *)];
} Watermark;
static Watermark WM[MAX_WORKERS];
_Atomic int EmbargoSc8NumWorkers;
int EmbargoSc8FlowSlot = -1;

static struct {
    const emb_rules_t *rules;
    char cache_dir[PATH_MAX];
    emb_shared_t *shared;
    _Atomic(emb_engine_t *) spare; /* compiled at Init; the first worker adopts it */
    ThreadStorageId thread_id;
    FlowStorageId flow_id;
} S = {.thread_id = {.id = -1}, .flow_id = {.id = -1}};

void EmbargoSc8EngineConfig(emb_config_t *cfg) {
    emb_config_init(cfg);
    cfg->cache_dir = S.cache_dir[0] != '\0' ? S.cache_dir : NULL;
    cfg->shared = S.shared;
}

const EthernetHdr *EmbargoSc8NearestEthernet(const Packet *p) {
    for (; p != NULL; p = p->root)
        if (PacketIsEthernet(p))
            return PacketGetEthernet(p);
    return NULL;
}

/* A worker's engine, at its first use: the one built at load time if no
 * worker took it yet, else a new one. Out of line and cold: EmbargoSc8Engine
 * runs at every transaction and device packet, this once per thread. A packet
 * worker's is built when Suricata creates the thread (WorkerInit), before any
 * packet: built at its first DNS answer instead (16 ms from the cache, more on
 * a loaded machine), it held that answer back from the other workers, which
 * wait for it to be read (EmbargoSc8CaughtUp). */
static emb_engine_t *__attribute__((noinline, cold))
EngineFirstUse(ThreadVars *tv, EmbargoSc8Worker *w) {
    w->engine = atomic_exchange(&S.spare, NULL);
    if (w->engine == NULL) {
        emb_config_t cfg;
        EmbargoSc8EngineConfig(&cfg);
        int rc = emb_engine_new(S.rules, &cfg, &w->engine, NULL);
        if (rc == 0 && (rc = emb_engine_prepare_alerts(w->engine)) != 0) {
            emb_engine_free(w->engine);
            w->engine = NULL;
        }
        if (rc != 0) {
            SCLogError("embargo: cannot build the engine of worker %s: %s", tv->name,
                       emb_strerror(rc));
            w->engine = NULL;
            w->failed = true;
        }
    }
    return w->engine;
}

emb_engine_t *EmbargoSc8Engine(ThreadVars *tv) {
    EmbargoSc8Worker *w = tv != NULL ? ThreadGetStorageById(tv, S.thread_id) : NULL;
    if (w == NULL)
        return NULL;
    if (w->engine != NULL || w->failed)
        return w->engine;
    return EngineFirstUse(tv, w);
}

static void WorkerFree(void *ptr) {
    EmbargoSc8Worker *w = ptr;
    if (w == NULL)
        return;
    emb_engine_free(w->engine);
    SCFree(w);
}

static int64_t WallUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* per packet: no clock read, ms resolution */
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void WorkerInit(ThreadVars *tv, void *user) {
    (void)user;
    EmbargoSc8Worker *w = SCCalloc(1, sizeof(*w));
    if (w == NULL) {
        SCLogError("embargo: out of memory for thread %s", tv->name);
        return;
    }
    w->slot = -1;
    /* Packet workers ("W#01", ...): the threads that run detection. */
    if (tv->type == TVT_PPT && strncmp(tv->name, "W#", 2) == 0) {
        int slot = atomic_fetch_add(&EmbargoSc8NumWorkers, 1);
        if (slot < MAX_WORKERS) {
            w->slot = slot;
            WM[slot].tv = tv;
            atomic_store(&WM[slot].wall_us, WallUs());
        } else {
            atomic_store(&EmbargoSc8NumWorkers, MAX_WORKERS);
        }
        EngineFirstUse(tv, w); /* in the main thread, while Suricata starts */
    }
    ThreadSetStorageById(tv, S.thread_id, w);
}

void EmbargoSc8WorkerRead(ThreadVars *tv, const Packet *p) {
    /* One worker (runmode single, or one thread) reads every packet in order:
     * nothing to wait for. All workers are counted before the first packet. */
    if (atomic_load_explicit(&EmbargoSc8NumWorkers, memory_order_relaxed) <= 1)
        return;
    EmbargoSc8Worker *w = ThreadGetStorageById(tv, S.thread_id);
    if (w == NULL || w->slot < 0 || PKT_IS_PSEUDOPKT(p))
        return;
    int64_t us = EmbargoSc8Us(p->ts);
    Watermark *m = &WM[w->slot];
    if (us > atomic_load_explicit(&m->pkt_us, memory_order_relaxed))
        atomic_store_explicit(&m->pkt_us, us, memory_order_release);
    atomic_store_explicit(&m->wall_us, WallUs(), memory_order_relaxed);
}

bool EmbargoSc8CaughtUp(int64_t us) {
    int n = atomic_load(&EmbargoSc8NumWorkers);
    if (n <= 1)
        return true; /* the caller is the only worker: it read all before */
    int64_t now = WallUs();
    for (int i = 0; i < n && i < MAX_WORKERS; i++) {
        if (atomic_load_explicit(&WM[i].pkt_us, memory_order_acquire) >= us)
            continue;
        /* Not there yet. Idle: it read nothing for IDLE_US (longer than a
         * scheduler's time slice: not merely preempted between taking a
         * packet and reading it) and, in autofp, its input queue is empty. */
        const ThreadVars *tv = WM[i].tv;
        const PacketQueue *q =
            tv != NULL && tv->inq != NULL && !tv->inq->is_packet_pool ? tv->inq->pq : NULL;
        bool idle = now - atomic_load_explicit(&WM[i].wall_us, memory_order_relaxed) >= IDLE_US &&
                    (q == NULL || __atomic_load_n(&q->len, __ATOMIC_RELAXED) == 0);
        if (!idle)
            return false;
    }
    return true;
}

void EmbargoSc8FlowFacts(const Flow *f, emb_facts_t *out) {
    memset(out, 0, sizeof(*out));
    out->proto = f->proto;
    out->client_port = f->sp;
    out->server_port = f->dp;
    if (FLOW_IS_IPV4(f)) {
        out->family = 4;
        memcpy(out->client, f->src.addr_data32, 4);
        memcpy(out->server, f->dst.addr_data32, 4);
    } else if (FLOW_IS_IPV6(f)) {
        out->family = 6;
        memcpy(out->client, f->src.addr_data32, 16);
        memcpy(out->server, f->dst.addr_data32, 16);
    }
}

emb_packet_t EmbargoSc8Packet(const Packet *r) {
    return (emb_packet_t){
        .ts_sec = (int64_t)SCTIME_SECS(r->ts),
        .ts_usec = (uint32_t)SCTIME_USECS(r->ts),
        .linktype = r->datalink,
        .data = GET_PKT_DATA(r),
        .caplen = GET_PKT_LEN(r),
        .len = GET_PKT_LEN(r),
        .pcap_cnt = r->pcap_cnt,
    };
}

/* ---- hits and their alert context -------------------------------------- */

static void Copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Appends n bytes of `s` to out[0..cap) at *len; false when they do not fit. */
static bool Put(char *out, size_t cap, size_t *len, const char *s, size_t n) {
    if (n >= cap - *len)
        return false;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

static bool PutStr(char *out, size_t cap, size_t *len, const char *s) {
    return Put(out, cap, len, s, strlen(s));
}

/* `len` bytes as a JSON string (emb_json_string). */
static bool PutJson(char *out, size_t cap, size_t *len, const uint8_t *v, size_t n) {
    size_t w = emb_json_string(v, n, out + *len, cap - *len);
    if (w >= cap - *len)
        return false;
    *len += w;
    out[*len] = '\0';
    return true;
}

/* What the device said besides its protocol and host: each of its values
 * (the first of a name), as `embargo scan` lists them; the matched one,
 * `value` (JSON text), under its key when no value of that name was kept. */
static bool PutDeviceValues(char *o, size_t cap, size_t *n, const EmbargoDevice *device,
                            const char *value, size_t value_len) {
    bool ok = true, key = false;
    for (size_t i = 0; ok && i < device->nvalues; i++) {
        const emb_device_value_t *v = &device->values[i];
        bool again = false;
        for (size_t j = 0; j < i && !again; j++)
            again = strcmp(device->values[j].name, v->name) == 0;
        if (again)
            continue;
        key |= strcmp(v->name, device->key) == 0;
        ok = PutStr(o, cap, n, ",\"") && PutStr(o, cap, n, v->name) && PutStr(o, cap, n, "\":") &&
             PutJson(o, cap, n, v->value, v->len);
    }
    if (ok && !key && value_len > 0)
        ok = PutStr(o, cap, n, ",\"") && PutStr(o, cap, n, device->key) &&
             PutStr(o, cap, n, "\":") && Put(o, cap, n, value, value_len);
    return ok;
}

/* The length of the JSON string at `p` (its opening quote), quotes included;
 * 0 when it does not end before `end`. */
static size_t StringLen(const char *p, const char *end) {
    if (p >= end || *p != '"')
        return 0;
    for (const char *q = p + 1; q < end; q++) {
        if (*q == '\\')
            q++;
        else if (*q == '"')
            return (size_t)(q - p) + 1;
    }
    return 0;
}

/* Past the JSON array or object at `p` (its opening bracket); NULL when it
 * does not end before `end`. */
static const char *PastBrackets(const char *p, const char *end) {
    int depth = 0;
    for (const char *q = p; q < end; q++) {
        if (*q == '"') {
            size_t n = StringLen(q, end);
            if (n == 0)
                return NULL;
            q += n - 1;
        } else if (*q == '[' || *q == '{') {
            depth++;
        } else if ((*q == ']' || *q == '}') && --depth == 0) {
            return q + 1;
        }
    }
    return NULL;
}

/*
 * The alert object's context.embargo, as the alert's context, cut out of the
 * alert text embargo's EVE output writes (emb_match_alert_write, or the alert
 * of an engine's EVE record): context is the alert's last member, and in it
 * embargo's first members are vendor, channel, field, value. A quote inside a JSON
 * string is escaped, so a member name found with its quotes is the member.
 * What the host adds goes after: `named` (an attribution is made only for a
 * connection that named no server), `evidence` (what made the flow a
 * conversation, for a rule of addresses and ports), `device`. Suricata keeps
 * SIG_JSON_CONTENT_ITEM_LEN bytes of it: when the whole does not fit, the
 * bans go first (the rule's metadata names them), then what a device said
 * beyond its protocol and host.
 */
static bool ContextText(EmbargoHit *h, const char *alert, size_t len, const char *field,
                        const char *evidence, const EmbargoDevice *device) {
    static const char open[] = "\"context\":{\"embargo\":{";
    const char *at = len > 3 ? memmem(alert, len, open, sizeof(open) - 1) : NULL;
    if (at == NULL || memcmp(alert + len - 3, "}}}", 3) != 0)
        return false;
    const char *body = at + sizeof(open) - 1, *end = alert + len - 3;
    if (body > end)
        return false;
    const char *bans = memmem(body, (size_t)(end - body), ",\"bans\":[", 9);
    const char *past_bans = bans != NULL ? PastBrackets(bans + 8, end) : NULL;
    if (past_bans == NULL)
        bans = NULL;
    const char *value = memmem(body, (size_t)(end - body), "\"value\":", 8);
    size_t value_len = value != NULL ? StringLen(value + 8, end) : 0;
    bool named = field != NULL && strcmp(field, "dns.attribution") == 0;
    for (int shed = 0; shed < 3; shed++) {
        if (shed == 2 && (device == NULL || value_len == 0))
            break;
        const char *stop = shed >= 1 && bans != NULL ? bans : end;
        size_t n = 0;
        char *o = h->json;
        const size_t cap = sizeof(h->json);
        bool ok =
            PutStr(o, cap, &n, "\"embargo\":{") && Put(o, cap, &n, body, (size_t)(stop - body));
        if (ok && stop != end) /* what follows the bans */
            ok = Put(o, cap, &n, past_bans, (size_t)(end - past_bans));
        if (ok && named)
            ok = PutStr(o, cap, &n, ",\"named\":false");
        if (ok && evidence != NULL)
            ok = PutStr(o, cap, &n, ",\"evidence\":\"") && PutStr(o, cap, &n, evidence) &&
                 PutStr(o, cap, &n, "\"");
        if (ok && device != NULL) {
            ok = PutStr(o, cap, &n, ",\"device\":{\"protocol\":\"") &&
                 PutStr(o, cap, &n, device->protocol) && PutStr(o, cap, &n, "\",\"host\":\"") &&
                 PutStr(o, cap, &n, device->host) && PutStr(o, cap, &n, "\"");
            if (ok && shed < 2)
                ok = PutDeviceValues(o, cap, &n, device, value != NULL ? value + 8 : NULL,
                                     value_len);
            ok = ok && PutStr(o, cap, &n, "}");
        }
        if (ok && PutStr(o, cap, &n, "}"))
            return true;
    }
    return false;
}

static void HitFrom(EmbargoHit *h, uint32_t sid, const char *vendor, const char *channel,
                    const char *field, const char *alert, size_t alert_len, const char *evidence,
                    const EmbargoDevice *device) {
    h->sid = sid;
    h->attribution = field != NULL && strcmp(field, "dns.attribution") == 0;
    Copy(h->vendor, sizeof(h->vendor), vendor);
    Copy(h->channel, sizeof(h->channel), channel);
    if (alert == NULL || !ContextText(h, alert, alert_len, field, evidence, device))
        /* no value (too long or unreadable): the rest of the context still goes */
        snprintf(h->json, sizeof(h->json),
                 "\"embargo\":{\"vendor\":\"%s\",\"channel\":\"%s\",\"field\":\"%s\"}", h->vendor,
                 h->channel, field != NULL ? field : "");
}

void EmbargoSc8HitFrom(EmbargoHit *h, uint32_t sid, const char *vendor, const char *channel,
                       const char *field, const char *alert_json) {
    HitFrom(h, sid, vendor, channel, field, alert_json, alert_json != NULL ? strlen(alert_json) : 0,
            NULL, NULL);
}

void EmbargoSc8HitFromMatch(EmbargoHit *h, emb_engine_t *e, const emb_match_t *m,
                            const char *evidence, const EmbargoDevice *device) {
    /* The rule's alert text from the engine's per-rule template: no allocation. */
    char buf[4096];
    size_t n = emb_match_alert_write(e, m, buf, sizeof(buf));
    if (n > 0 && n <= sizeof(buf)) {
        HitFrom(h, m->sid, m->vendor, m->channel, m->field, buf, n, evidence, device);
        return;
    }
    char *alert = emb_match_alert_json(e, m); /* longer than buf */
    HitFrom(h, m->sid, m->vendor, m->channel, m->field, alert, alert != NULL ? strlen(alert) : 0,
            evidence, device);
    free(alert);
}

bool EmbargoSc8HitMatches(const EmbargoHit *h, const EmbargoSc8Data *d) {
    return (d->sid == 0 || h->sid == d->sid) && (h->attribution || !d->attribution) &&
           (d->vendor[0] == '\0' || strcmp(h->vendor, d->vendor) == 0) &&
           (d->channel[0] == '\0' || strcmp(h->channel, d->channel) == 0);
}

void EmbargoSc8AlertContext(DetectEngineThreadCtx *det_ctx, const Signature *s,
                            const EmbargoHit *h) {
    if (DetectEngineThreadCtxGetJsonContext(det_ctx) != 0)
        return; /* Suricata's bound on contexts per packet: the alert goes without */
    SigJsonContent *jc = &det_ctx->json_content[det_ctx->json_content_len++];
    jc->id = (void *)s;
    memcpy(jc->json_content, h->json, sizeof(jc->json_content));
}

/* ---- per flow ------------------------------------------------------------ */

/* The states of flows in which nothing was noted but what a bit says:
 * shared, never written (FlowState gives a flow its own before the first
 * write), so that the many flows that get no further cost no allocation.
 * Bit 1: its endpoints raise no rule of addresses and ports; bit 2: its DNS
 * attribution is none of the packet path's business any more
 * (EmbargoSc8FlowPacketAttribution). */
static const EmbargoSc8Flow SHARED[4] = {
    {.endpoints = 0},
    {.head = {.conversation_seen = true}, .endpoints = 1},
    {.head = {.attributed = true}},
    {.head = {.conversation_seen = true, .attributed = true}, .endpoints = 1},
};

/* Which of SHARED `fs` is: 0 for none (NULL), -1 for a flow's own. */
static int Shared(const EmbargoSc8Flow *fs) {
    uintptr_t at = (uintptr_t)fs, base = (uintptr_t)SHARED;
    if (fs == NULL)
        return 0;
    return at >= base && at < base + sizeof(SHARED) ? (int)((at - base) / sizeof(SHARED[0])) : -1;
}

static EmbargoSc8Flow *FlowState(Flow *f) {
    if (f == NULL || S.flow_id.id < 0)
        return NULL;
    /* Read in place: this runs on every packet of a flow (PrefilterFlow), and
     * FlowGetStorageById is two calls for one load (flow.h: Flow.storage[]). */
    EmbargoSc8Flow *fs = f->storage[S.flow_id.id].ptr;
    if (fs != NULL && Shared(fs) < 0)
        return fs;
    EmbargoSc8Flow *own = SCCalloc(1, sizeof(*own));
    if (own == NULL)
        return NULL;
    if (fs != NULL)
        *own = *fs;
    FlowSetStorageById(f, S.flow_id, own);
    return own;
}

/* Sets bit `bit` of SHARED on `f`'s state; false when `f` has its own. */
static bool SetShared(Flow *f, int bit) {
    int k = Shared(f->storage[S.flow_id.id].ptr);
    if (k < 0)
        return false;
    FlowSetStorageById(f, S.flow_id, (void *)&SHARED[k | bit]);
    return true;
}

bool EmbargoSc8FlowNote(Flow *f, uint32_t sid) {
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs == NULL)
        return true;
    for (uint8_t i = 0; i < fs->n; i++)
        if (fs->sids[i] == sid)
            return false;
    if (fs->n < MAX_FLOW_SIDS)
        fs->sids[fs->n++] = sid;
    return true;
}

bool EmbargoSc8FlowAttribution(Flow *f, bool client_first, bool named, int64_t now_us, bool last,
                               int64_t *first_us) {
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs == NULL)
        return false;
    if (!fs->first_message_seen) {
        if (!client_first)
            return false;
        fs->first_message_seen = true;
        fs->attrib_pending = !named;
        fs->first_us = now_us;
    }
    if (!fs->attrib_pending)
        return false;
    /* Decided once every worker has read past the first message: what is in
     * the shared table then is every answer before it, as in one thread.
     * Before, a lookup could miss an answer, or see an address as one
     * vendor's before the answer that shows it shared. So at the first
     * message it waits for the workers still reading (sleeping: on a loaded
     * machine the late worker gets the CPU), at most WAIT_STEPS steps; if
     * they are still behind, it is decided at a later transaction of the
     * flow, at its end (`last`, after waiting again), or at the
     * EMBARGO_ATTRIB_TRIES-th chance. */
    bool wait = fs->attrib_tries == 0 || last;
    for (int i = 0; wait && i < WAIT_STEPS && !EmbargoSc8CaughtUp(fs->first_us); i++) {
        struct timespec step = {0, WAIT_STEP_NS};
        nanosleep(&step, NULL);
    }
    if (!last && !EmbargoSc8CaughtUp(fs->first_us) && ++fs->attrib_tries < EMBARGO_ATTRIB_TRIES)
        return false;
    fs->attrib_pending = false;
    *first_us = fs->first_us;
    return true;
}

void EmbargoSc8FlowSetAttributed(Flow *f) {
    if (S.flow_id.id < 0 || SetShared(f, 2))
        return;
    ((EmbargoSc8Flow *)f->storage[S.flow_id.id].ptr)->head.attributed = true;
}

/* The protocols whose transaction readers decide a flow's attribution at the
 * client's first message (detect-sc8-read.c: the readers marked client_first),
 * and DNS, which is never attributed. */
static bool ReadersAttribute(const Flow *f) {
    return f->alproto == ALPROTO_TLS || f->alproto == ALPROTO_HTTP1 || f->alproto == ALPROTO_QUIC ||
           f->alproto == ALPROTO_DNS || f->sp == 53 || f->dp == 53;
}

bool EmbargoSc8MayAttribute(emb_engine_t *e, const emb_facts_t *facts, int64_t us) {
    return !EmbargoSc8CaughtUp(us) ||
           (e != NULL &&
            emb_engine_may_attribute(e, facts, us / 1000000, (uint32_t)(us % 1000000)));
}

/* The same for flow `f`, with the engine of the worker running `tv`. */
static bool MayAttribute(ThreadVars *tv, const Flow *f, int64_t us) {
    emb_facts_t facts;
    EmbargoSc8FlowFacts(f, &facts);
    return EmbargoSc8MayAttribute(EmbargoSc8Engine(tv), &facts, us);
}

/* Whether packet `p` brings the first bytes its flow's client sent (Suricata
 * has put them on the stream, or counted the datagram, before detection). */
static bool ClientFirstBytes(const Flow *f, const Packet *p) {
    if (!(p->flowflags & FLOW_PKT_TOSERVER) || p->payload_len == 0 || PKT_IS_PSEUDOPKT(p))
        return false;
    if (f->proto != IPPROTO_TCP)
        return f->todstpktcnt == 1;
    const TcpSession *ssn = f->protoctx;
    return ssn != NULL && STREAM_HAS_SEEN_DATA(&ssn->client) &&
           STREAM_RIGHT_EDGE(&ssn->client) <= p->payload_len;
}

/* Whether the client of `f` has sent anything. */
static bool ClientSpoke(const Flow *f) {
    const TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    return f->proto == IPPROTO_TCP ? ssn != NULL && STREAM_HAS_SEEN_DATA(&ssn->client)
                                   : f->todstpktcnt > 0;
}

/* Decided as of `as_of` (EmbargoSc8FlowAttribution, which waits for the workers;
 * while they are behind, another chance is a later message of the client, as for
 * embargo live -j N, not any packet: a reply's packets come within microseconds).
 * A FIN or RST is the last chance: a closed connection's end brings no pseudo
 * packet when its streams were all read. */
static bool Decide(Flow *f, const Packet *p, EmbargoSc8Flow *fs, int64_t as_of, bool last,
                   int64_t *first_us) {
    last = last || (PacketIsTCP(p) && (PacketGetTCP(p)->th_flags & (TH_FIN | TH_RST)));
    if (fs->first_message_seen && !last && !EmbargoSc8CaughtUp(fs->first_us) &&
        !((p->flowflags & FLOW_PKT_TOSERVER) && p->payload_len > 0))
        return false;
    bool now = EmbargoSc8FlowAttribution(f, true, false, as_of, last, first_us);
    if (!fs->attrib_pending)
        fs->head.attributed = true;
    return now;
}

bool EmbargoSc8FlowPacketAttribution(Flow *f, const Packet *p, ThreadVars *tv, int64_t *first_us) {
    if (S.flow_id.id < 0 || (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) ||
        ReadersAttribute(f)) {
        EmbargoSc8FlowSetAttributed(f); /* ICMP, ESP, SCTP: never attributed, as embargo scan */
        return false;
    }
    const bool last = PKT_IS_PSEUDOPKT(p);
    EmbargoSc8Flow *fs = f->storage[S.flow_id.id].ptr;
    if (Shared(fs) < 0 && fs->first_message_seen) /* waiting for the workers */
        return Decide(f, p, fs, fs->first_us, last, first_us);
    const bool first = ClientFirstBytes(f, p);
    /* Suricata has not said what the flow is, and over TCP its client's first bytes
     * could begin a TLS record or an HTTP request line, which name their server: wait
     * (its verdict, or the flow's end). Bytes that cannot are decided on, as embargo
     * scan decides (inspect.c). */
    if (f->alproto == ALPROTO_UNKNOWN && !last &&
        !(first && f->proto == IPPROTO_TCP &&
          !emb_bytes_may_name_server(p->payload, p->payload_len)))
        return false;
    int64_t as_of = EmbargoSc8Us(p->ts);
    if (!first && ClientSpoke(f)) {
        /* decided after its client's first bytes (a verdict that came later): as of
         * the flow's start, the stricter */
        as_of = EmbargoSc8Us(f->startts);
    } else if (!first) {
        /* Its client has not spoken: at the flow's end it never did (nothing to
         * attribute, as embargo scan), or its protocol was recognised from the
         * server's side (a banner): if no answer so far gave the server to the
         * client, none that counts can come before its first bytes. */
        if (!last && MayAttribute(tv, f, as_of))
            return false;
        EmbargoSc8FlowSetAttributed(f);
        return false;
    }
    if (!MayAttribute(tv, f, as_of)) { /* no answer by then names the server */
        EmbargoSc8FlowSetAttributed(f);
        return false;
    }
    if ((fs = FlowState(f)) == NULL)
        return false;
    return Decide(f, p, fs, as_of, last, first_us);
}

bool EmbargoSc8FlowScanned(Flow *f, int reader, uint64_t tx_id) {
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs == NULL || reader < 0 || reader >= EMBARGO_READERS)
        return false;
    if (fs->scanned[reader] == tx_id + 1)
        return true;
    fs->scanned[reader] = tx_id + 1;
    return false;
}

uint64_t *EmbargoSc8FlowBodyNext(Flow *f, bool request) {
    EmbargoSc8Flow *fs = FlowState(f);
    return fs != NULL ? &fs->body_next[request ? 0 : 1] : NULL;
}

void EmbargoSc8FlowReaderDone(Flow *f, int reader) {
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs != NULL && reader >= 0 && reader < EMBARGO_READERS)
        fs->done |= (uint8_t)(1u << reader);
}

bool EmbargoSc8FlowReadersDone(const Flow *f, uint32_t readers) {
    const EmbargoSc8Flow *fs = S.flow_id.id < 0 ? NULL : f->storage[S.flow_id.id].ptr;
    return fs != NULL && readers != 0 && (fs->done & readers) == readers;
}

bool EmbargoSc8FlowReadAll(const Flow *f, uint32_t readers) {
    const EmbargoSc8Flow *fs = S.flow_id.id < 0 ? NULL : f->storage[S.flow_id.id].ptr;
    if (fs == NULL)
        return readers == 0;
    if (fs->attrib_pending)
        return false;
    for (int r = 0; r < EMBARGO_READERS; r++)
        if ((readers & (1u << r)) != 0 && fs->scanned[r] == 0)
            return false;
    return true;
}

int EmbargoSc8FlowEndpoints(Flow *f) {
    const EmbargoSc8Flow *fs = S.flow_id.id < 0 ? NULL : f->storage[S.flow_id.id].ptr;
    return fs == NULL ? 0 : fs->endpoints;
}

void EmbargoSc8FlowSetEndpoints(Flow *f, bool none) {
    if (none && S.flow_id.id >= 0 && SetShared(f, 1))
        return; /* decided: nothing to decide */
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs == NULL)
        return;
    fs->endpoints = none ? 1 : -1;
    if (none)
        fs->head.conversation_seen = true; /* decided: nothing to decide */
}

bool EmbargoSc8FlowConversation(Flow *f) {
    EmbargoSc8Flow *fs = FlowState(f);
    if (fs == NULL || fs->head.conversation_seen)
        return false;
    fs->head.conversation_seen = true;
    return true;
}

static void FlowFree(void *ptr) {
    if (Shared(ptr) < 0)
        SCFree(ptr);
}

bool EmbargoSc8Passing;

void EmbargoSc8SetPassing(void) {
    EmbargoSc8Passing = true;
}

/* Flow records (no packet) of flows that raised rules get "embargo": {"sids": [...]},
 * of flows passed once settled "embargo": {"passed": true} (sc8-pass.c); alerts carry
 * alert.context.embargo. */
static void OnEve(ThreadVars *tv, const Packet *p, Flow *f, SCJsonBuilder *jb, void *user) {
    (void)tv;
    (void)user;
    if (p != NULL || f == NULL)
        return;
    const EmbargoSc8Flow *fs = FlowGetStorageById(f, S.flow_id);
    bool sids = fs != NULL && fs->n > 0, passed = EmbargoSc8FlowPassed(f);
    if (!sids && !passed)
        return;
    SCJbOpenObject(jb, "embargo");
    if (sids) {
        SCJbOpenArray(jb, "sids");
        for (uint8_t i = 0; i < fs->n; i++)
            SCJbAppendUint(jb, fs->sids[i]);
        SCJbClose(jb);
    }
    if (passed)
        SCJbSetBool(jb, "passed", true);
    SCJbClose(jb);
}

bool EmbargoSc8StateInit(const emb_rules_t *rules, emb_engine_t *spare, const char *cache_dir,
                         emb_shared_t *shared) {
    S.rules = rules;
    Copy(S.cache_dir, sizeof(S.cache_dir), cache_dir);
    S.shared = shared;
    atomic_store(&S.spare, spare);
    S.thread_id = ThreadStorageRegister("embargo", sizeof(void *), NULL, WorkerFree);
    S.flow_id = FlowStorageRegister("embargo", sizeof(void *), NULL, FlowFree);
    EmbargoSc8FlowSlot = S.flow_id.id;
    return S.thread_id.id >= 0 && S.flow_id.id >= 0 &&
           SCThreadRegisterInitCallback(WorkerInit, NULL) && SCEveRegisterCallback(OnEve, NULL);
}
