/*
 * embargo.so: an EVE filetype for Suricata 7 ("filetype: embargo" under an
 * eve-log output). It replaces `regular`: every record Suricata hands over is
 * written unchanged, one per line, and after each dns/tls/http/quic/flow
 * record whose names, addresses or ports raise a rule of the pack, an alert
 * record built from it (record.h), once per rule per flow.
 *
 * The design choice to know: state is per thread and nothing is shared on
 * the hot path but the read-only rules. With `threaded: yes` Suricata calls
 * ThreadInit for each logging thread; each gets its own engine (loaded from
 * the database cache that Init filled: milliseconds, not a compile), dedup
 * table and output file (eve.N.json, as `regular` names them), so Write
 * takes no lock. Without it Suricata calls Write from any thread with no thread data;
 * the plugin then keeps per-thread parse state and dedup table in a
 * thread-local cache, and takes one mutex per record around the matching
 * (one engine, compiled once, shared under the lock) and the single writev()
 * to the shared file, which keeps a record and its alerts together, as
 * `regular` locks its FILE. Per record, the cost is record-parse.c's scan (other
 * event types stop after "event_type"; ours are read by quotes and brackets,
 * each value used checked alone, and checked whole only when a rule raises
 * an alert on them) and, per alert, a splice of text: the
 * alert object comes from emb_match_alert_write, each rule's constant text
 * rendered once, so no alert allocates.
 */
#define _GNU_SOURCE
#include "record.h"
#include "sc-shim.h"
#include "suricata-plugin.h"

#include <embargo/embargo.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_MAX_RECORD (256 * 1024)
#define DEFAULT_DEDUP_SETS 1024 /* x 4 ways = 4096 (flow_id, sid) pairs per thread */
#define DEDUP_WAYS 4

#ifndef EMBARGO_INSTALL_RULES_DIR
#define EMBARGO_INSTALL_RULES_DIR "/usr/share/embargo/rules"
#endif

/* ---- the output file --------------------------------------------------- */

typedef struct {
    char path[PATH_MAX];
    int fd;
    int rotate; /* set to 1 by Suricata on SIGHUP */
    bool registered;
    uint64_t errors;
} EmbargoFile;

static int FileOpen(EmbargoFile *f, bool append, mode_t mode) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    f->fd = open(f->path, flags, mode ? mode : 0666);
    if (f->fd < 0)
        return -errno;
    if (mode != 0)
        (void)fchmod(f->fd, mode);
    return 0;
}

/* On rotation (logrotate moved the file, then sent SIGHUP): reopen the path,
 * always appending, as `regular` does. */
static void FileCheckRotate(EmbargoFile *f, mode_t mode) {
    if (!__atomic_load_n(&f->rotate, __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&f->rotate, 0, __ATOMIC_RELAXED);
    int old = f->fd;
    if (FileOpen(f, true, mode) != 0) {
        EmbargoLogError("cannot reopen %s after rotation: %s; still writing the old file", f->path,
                        strerror(errno));
        f->fd = old;
        return;
    }
    if (old >= 0)
        close(old);
}

static void FileWritev(EmbargoFile *f, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(f->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (f->errors++ == 0) /* only the first, as `regular` */
                EmbargoLogError("error writing to %s: %s", f->path, strerror(errno));
            return;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

static void FileClose(EmbargoFile *f) {
    if (f->registered)
        OutputUnregisterFileRotationFlag(&f->rotate);
    f->registered = false;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* ---- per-thread state -------------------------------------------------- */

typedef struct {
    uint64_t flow_id;
    uint32_t sid;
    uint32_t age;
} DedupEntry;

typedef struct EmbargoThread_ {
    struct EmbargoCtx_ *ctx;
    emb_engine_t *engine;
    EmbargoRecord rec;
    DedupEntry *dedup; /* nsets x DEDUP_WAYS, evicting the oldest of a set */
    size_t dedup_sets;
    uint32_t clock;
    char *alerts; /* this record's alert lines */
    size_t alerts_len, alerts_cap;
    char *alert; /* one alert object (emb_match_alert_write), reused */
    size_t alert_cap;
    EmbargoFile file; /* threaded: this thread's file; else unused (fd -1) */
    pthread_t owner;
    struct EmbargoThread_ *next;
    /* counters */
    uint64_t records, parsed, invalid, toobig, alerts_written, alerts_repeated, errors;
} EmbargoThread;

typedef struct EmbargoCtx_ {
    uint64_t id; /* tells contexts apart in the thread-local cache */
    bool threaded, append, flow_logged;
    unsigned types; /* record types scanned (EMBARGO_REC_MASK bits) */
    mode_t mode;
    size_t max_record;
    size_t dedup_sets;
    char rules_path[PATH_MAX];
    char cache_dir[PATH_MAX]; /* compiled databases; "" when none */
    /* embargo.scope, .restricts, .proposed: the bans that apply (emb_rules_select) */
    char scope[32], restricts[128];
    bool proposed, select_bans;
    char filename[PATH_MAX];    /* resolved against the log directory */
    EmbargoPortSet *flow_ports; /* NULL: every flow record is read for its endpoints */
    emb_rules_t *rules;
    _Atomic(emb_engine_t *) spare; /* compiled at Init; the first thread adopts it */
    emb_engine_t *shared;          /* non-threaded: the one engine, used under lock */
    pthread_mutex_t lock;          /* non-threaded: the file; and the list below */
    EmbargoFile file;              /* non-threaded: the shared file */
    EmbargoThread *threads;        /* non-threaded: every thread's state */
} EmbargoCtx;

static atomic_uint_fast64_t ctx_ids = 1;

static bool DedupSeen(EmbargoThread *t, uint64_t flow_id, uint32_t sid) {
    if (flow_id == 0)
        return false; /* nothing to tell flows apart by: every match alerts */
    uint64_t h = (flow_id ^ ((uint64_t)sid * 0x9E3779B97F4A7C15ull)) * 0xff51afd7ed558ccdull;
    DedupEntry *set = &t->dedup[(h >> 32) % t->dedup_sets * DEDUP_WAYS];
    DedupEntry *victim = &set[0];
    t->clock++;
    for (int i = 0; i < DEDUP_WAYS; i++) {
        if (set[i].flow_id == flow_id && set[i].sid == sid) {
            set[i].age = t->clock;
            return true;
        }
        if (set[i].flow_id == 0 || (victim->flow_id != 0 && set[i].age < victim->age))
            victim = &set[i];
    }
    *victim = (DedupEntry){flow_id, sid, t->clock};
    return false;
}

/* Splices the alert line for t->rec straight into t->alerts (record-alert.c
 * writes it from slices of the record; nothing is parsed back). */
static int AlertsSplice(EmbargoThread *t, const char *alert, size_t alert_len, const char *field) {
    size_t room = t->alerts_cap > t->alerts_len ? t->alerts_cap - t->alerts_len : 0;
    size_t n = EmbargoRecordAlertWrite(&t->rec, alert, alert_len, field,
                                       t->alerts ? t->alerts + t->alerts_len : NULL, room);
    if (n == 0)
        return -1;
    if (n + 1 > room) { /* grow, then write it again */
        size_t cap = t->alerts_cap ? t->alerts_cap : 4096;
        while (cap < t->alerts_len + n + 1)
            cap *= 2;
        char *p = realloc(t->alerts, cap);
        if (p == NULL)
            return -1;
        t->alerts = p;
        t->alerts_cap = cap;
        (void)EmbargoRecordAlertWrite(&t->rec, alert, alert_len, field, t->alerts + t->alerts_len,
                                      n);
    }
    t->alerts_len += n;
    t->alerts[t->alerts_len++] = '\n';
    return 0;
}

static int OnMatch(const emb_match_t *m, void *userdata) {
    EmbargoThread *t = userdata;
    /* With flow records logged, a rule raised by addresses or ports alone
     * alerts on the flow record: the flow's app records may be logged by
     * another thread, and this way it still alerts once per flow. */
    bool endpoint_only = strcmp(m->field, "ip") == 0 || strcmp(m->field, "port") == 0;
    if (endpoint_only && t->ctx->flow_logged && t->rec.type != EMBARGO_REC_FLOW)
        return 0;
    /* Nothing of a record is copied into an alert, nor its flow marked as
     * alerted, before the record is checked whole; one that fails is
     * counted invalid and raises nothing more. */
    if (t->rec.unchecked && !EmbargoRecordCheck(&t->rec)) {
        t->parsed--;
        t->invalid++;
        return 1; /* stops the match */
    }
    if (DedupSeen(t, t->rec.flow_id, m->sid)) {
        t->alerts_repeated++;
        return 0;
    }
    /* The rule's constant text was rendered once: this copies it and writes
     * field and value, into a buffer that only ever grows. */
    size_t n = emb_match_alert_write(t->engine, m, t->alert, t->alert_cap);
    if (n > t->alert_cap) {
        size_t cap = t->alert_cap ? t->alert_cap : 4096;
        while (cap < n)
            cap *= 2;
        char *p = realloc(t->alert, cap);
        if (p == NULL) {
            t->errors++;
            return 0;
        }
        t->alert = p;
        t->alert_cap = cap;
        n = emb_match_alert_write(t->engine, m, t->alert, t->alert_cap);
    }
    if (n == 0 || AlertsSplice(t, t->alert, n, m->field) != 0)
        t->errors++;
    else
        t->alerts_written++;
    return 0;
}

static int Raised(const emb_match_t *m, void *userdata) {
    (void)m;
    *(bool *)userdata = true;
    return 1; /* one is enough */
}

static void Count(EmbargoThread *t, EmbargoParseResult res) {
    switch (res) {
    case EMBARGO_PARSE_OK: t->parsed++; break;
    case EMBARGO_PARSE_INVALID: t->invalid++; break;
    case EMBARGO_PARSE_TOOBIG: t->toobig++; break;
    case EMBARGO_PARSE_HEADER:
    case EMBARGO_PARSE_SKIP: break;
    }
}

/*
 * Matches the record parsed into t->rec, its alerts into t->alerts. A flow
 * record read for its endpoints alone (most of them: one per flow, and only
 * address and port rules can hold on one) is matched first without writing
 * anything; only when a rule holds is it parsed again whole and matched for
 * its alerts, which OnMatch checks it for first (EmbargoRecordCheck), so
 * nothing unchecked reaches an alert.
 */
static void MatchRecord(EmbargoThread *t, const char *buf, size_t len, EmbargoParseResult res) {
    if (res == EMBARGO_PARSE_HEADER) {
        bool raised = false;
        (void)emb_engine_match(t->engine, &t->rec.facts, Raised, &raised);
        if (!raised) {
            t->parsed++;
            return;
        }
        res = EmbargoRecordParseTypes(&t->rec, buf, len, t->ctx->max_record,
                                      t->ctx->types & ~EMBARGO_REC_FLOW_HEADER);
        Count(t, res);
    }
    if (res != EMBARGO_PARSE_OK)
        return;
    /* With flow records logged, the rules of addresses and ports alone are
     * the flow record's (OnMatch): an app record is matched on its fields
     * only, as embargo scan matches a message, and its endpoints are not
     * tried against every address range again. */
    t->rec.facts.fields_only = t->ctx->flow_logged && t->rec.type != EMBARGO_REC_FLOW;
    (void)emb_engine_match(t->engine, &t->rec.facts, OnMatch, t);
}

static void EngineConfig(const EmbargoCtx *ctx, emb_config_t *cfg) {
    emb_config_init(cfg);
    cfg->max_flows = 16; /* the engine's flow table is unused here */
    cfg->cache_dir = ctx->cache_dir[0] != '\0' ? ctx->cache_dir : NULL;
}

static EmbargoThread *ThreadNew(EmbargoCtx *ctx) {
    EmbargoThread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ctx = ctx;
    t->file.fd = -1;
    t->owner = pthread_self();
    t->dedup_sets = ctx->dedup_sets;
    t->dedup = calloc(t->dedup_sets * DEDUP_WAYS, sizeof(DedupEntry));
    t->rec.facts.facts = t->rec.fact;
    /* Threaded: an engine of its own (the first thread adopts the one Init
     * compiled). Otherwise all threads share that one under ctx->lock. */
    t->engine = ctx->threaded ? atomic_exchange(&ctx->spare, NULL) : ctx->shared;
    if (t->engine == NULL) {
        /* Init compiled the pack and stored it in the cache: this loads it */
        emb_config_t cfg;
        EngineConfig(ctx, &cfg);
        if (emb_engine_new(ctx->rules, &cfg, &t->engine, NULL) != 0)
            t->engine = NULL;
        else if (emb_engine_prepare_alerts(t->engine) != 0) {
            emb_engine_free(t->engine);
            t->engine = NULL;
        }
    }
    if (t->dedup == NULL || t->engine == NULL) {
        if (t->engine != ctx->shared)
            emb_engine_free(t->engine);
        free(t->dedup);
        free(t);
        return NULL;
    }
    return t;
}

static void ThreadFree(EmbargoThread *t) {
    if (t == NULL)
        return;
    FileClose(&t->file);
    EmbargoRecordClear(&t->rec);
    if (t->engine != t->ctx->shared)
        emb_engine_free(t->engine);
    free(t->dedup);
    free(t->alerts);
    free(t->alert);
    free(t);
}

/* Non-threaded mode: this OS thread's state for `ctx`. */
#define TL_CACHE 4
static _Thread_local struct {
    uint64_t ctx_id;
    EmbargoThread *t;
} tl_cache[TL_CACHE];

static EmbargoThread *ThreadLookup(EmbargoCtx *ctx) {
    for (int i = 0; i < TL_CACHE; i++)
        if (tl_cache[i].ctx_id == ctx->id)
            return tl_cache[i].t;
    pthread_mutex_lock(&ctx->lock);
    EmbargoThread *t = ctx->threads;
    while (t != NULL && !pthread_equal(t->owner, pthread_self()))
        t = t->next;
    if (t == NULL && (t = ThreadNew(ctx)) != NULL) {
        t->next = ctx->threads;
        ctx->threads = t;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (t != NULL) {
        for (int i = TL_CACHE - 1; i > 0; i--)
            tl_cache[i] = tl_cache[i - 1];
        tl_cache[0].ctx_id = ctx->id;
        tl_cache[0].t = t;
    }
    return t;
}

/* ---- configuration ----------------------------------------------------- */

static bool ParseSize(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > (1ull << 30))
        return false;
    *out = (size_t)v;
    return true;
}

/* Is `flow` among this output's types? Then ip/port rules alert on flow records. */
static bool TypesHaveFlow(ConfNode *conf) {
    ConfNode *types = ConfNodeLookupChild(conf, "types");
    if (types == NULL)
        return false;
    ConfNode *c;
    TAILQ_FOREACH(c, &types->head, next) {
        if (c->val != NULL && strcmp(c->val, "flow") == 0)
            return true;
        if (c->name != NULL && strcmp(c->name, "flow") == 0)
            return true;
    }
    return false;
}

static const char *DefaultRules(void) {
    const char *env = getenv("EMBARGO_RULES");
    if (env != NULL && *env != '\0')
        return env;
    struct stat st;
#ifdef EMBARGO_SOURCE_RULES_DIR
    if (stat(EMBARGO_INSTALL_RULES_DIR, &st) != 0 && stat(EMBARGO_SOURCE_RULES_DIR, &st) == 0)
        return EMBARGO_SOURCE_RULES_DIR;
#endif
    (void)st;
    return EMBARGO_INSTALL_RULES_DIR;
}

static void CtxFree(EmbargoCtx *ctx) {
    if (ctx == NULL)
        return;
    EmbargoThread *t = ctx->threads;
    while (t != NULL) {
        EmbargoThread *next = t->next;
        ThreadFree(t);
        t = next;
    }
    FileClose(&ctx->file);
    emb_engine_free(atomic_exchange(&ctx->spare, NULL));
    emb_engine_free(ctx->shared);
    emb_rules_free(ctx->rules);
    free(ctx->flow_ports);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

static int LoadRules(EmbargoCtx *ctx) {
    emb_diags_t *diags = NULL;
    int rc = emb_rules_load(ctx->rules_path, &ctx->rules, &diags);
    if (rc == 0 && ctx->select_bans) {
        char err[160];
        if (emb_rules_select(ctx->rules, ctx->scope[0] ? ctx->scope : NULL,
                             ctx->restricts[0] ? ctx->restricts : NULL, ctx->proposed, err,
                             sizeof(err)) < 0) {
            EmbargoLogError("%s", err);
            emb_diags_free(diags);
            emb_rules_free(ctx->rules);
            ctx->rules = NULL;
            return EMB_EINVAL;
        }
    }
    if (rc == 0) {
        emb_config_t cfg;
        EngineConfig(ctx, &cfg);
        emb_engine_t *e = NULL;
        rc = emb_engine_new(ctx->rules, &cfg, &e, &diags);
        /* every rule's alert text now, not at a thread's first alert (each
         * rule at its own confidence; the low variant of an ip/port rule
         * reported low is still rendered at its first use) */
        if (rc == 0 && (rc = emb_engine_prepare_alerts(e)) != 0) {
            emb_engine_free(e);
            e = NULL;
        }
        if (rc == 0 && cfg.cache_dir != NULL)
            EmbargoLogConfig("compiled rules %s %s",
                             emb_engine_from_cache(e) ? "loaded from" : "compiled and stored in",
                             cfg.cache_dir);
        if (ctx->threaded)
            atomic_store(&ctx->spare, e);
        else
            ctx->shared = e;
    }
    if (rc != 0) {
        size_t n = emb_diags_count(diags);
        if (n == 0)
            EmbargoLogError("cannot load rules %s: %s", ctx->rules_path, emb_strerror(rc));
        for (size_t i = 0; i < n; i++)
            EmbargoLogError("%s", emb_diags_message(diags, i));
    }
    emb_diags_free(diags);
    /* Which pack runs, from its manifest; a stale one is said so. */
    emb_manifest_t *m = NULL;
    if (rc == 0 && emb_manifest_load(ctx->rules_path, &m, NULL) == 0) {
        emb_manifest_info_t mi;
        emb_manifest_info(m, &mi);
        EmbargoLogConfig("rule pack %s %s (released %s, expires %s)", mi.name, mi.version,
                         mi.released, mi.expires);
        if (emb_manifest_expired(m))
            EmbargoLogWarning("rule pack %s %s expired on %s: it still runs, but it is stale",
                              mi.name, mi.version, mi.expires);
        emb_manifest_free(m);
    }
    return rc;
}

/* mkdir -p for one level below an existing parent; true when `path` is a
 * directory we can write. */
static bool UsableDir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return false;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

/*
 * Where compiled databases are cached, so that a restart loads the pack in
 * milliseconds instead of compiling it (and each thread of `threaded: yes`
 * loads what Init compiled): embargo.cache-dir; "no" for none; by default
 * /var/cache/embargo when it can be used, else embargo-cache under the log
 * directory. The engine checks every file it loads and rewrites a bad one.
 */
static void CacheDir(EmbargoCtx *ctx, const char *opt, const char *logdir) {
    ctx->cache_dir[0] = '\0';
    if (opt != NULL && ConfValIsFalse(opt))
        return;
    char path[PATH_MAX];
    int n = opt != NULL ? snprintf(path, sizeof(path), "%s", opt)
                        : snprintf(path, sizeof(path), "%s", "/var/cache/embargo");
    if (n > 0 && (size_t)n < sizeof(path) && UsableDir(path)) {
        snprintf(ctx->cache_dir, sizeof(ctx->cache_dir), "%s", path);
        return;
    }
    if (opt != NULL) {
        EmbargoLogWarning("embargo.cache-dir %s is not a writable directory: the rules are "
                          "compiled at every start",
                          opt);
        return;
    }
    n = snprintf(path, sizeof(path), "%s/embargo-cache", logdir ? logdir : ".");
    if (n > 0 && (size_t)n < sizeof(path) && UsableDir(path))
        snprintf(ctx->cache_dir, sizeof(ctx->cache_dir), "%s", path);
}

static int EmbargoInit(ConfNode *conf, bool threaded, void **init_data) {
    EmbargoCtx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return -1;
    ctx->id = atomic_fetch_add(&ctx_ids, 1);
    pthread_mutex_init(&ctx->lock, NULL);
    ctx->file.fd = -1;
    ctx->threaded = threaded;
    ctx->max_record = DEFAULT_MAX_RECORD;
    ctx->dedup_sets = DEFAULT_DEDUP_SETS;
    ctx->append = true;

    const char *filename = conf ? ConfNodeLookupChildValue(conf, "filename") : NULL;
    if (filename == NULL)
        filename = "eve.json";
    const char *dir = ConfigGetLogDirectory();
    int n = filename[0] == '/' ? snprintf(ctx->filename, sizeof(ctx->filename), "%s", filename)
                               : snprintf(ctx->filename, sizeof(ctx->filename), "%s/%s",
                                          dir ? dir : ".", filename);
    if (n < 0 || (size_t)n >= sizeof(ctx->filename)) {
        EmbargoLogError("eve-log filename too long: %s", filename);
        goto fail;
    }
    const char *append = conf ? ConfNodeLookupChildValue(conf, "append") : NULL;
    if (append != NULL)
        ctx->append = ConfValIsTrue(append);
    const char *mode = conf ? ConfNodeLookupChildValue(conf, "filemode") : NULL;
    if (mode != NULL) {
        char *end;
        unsigned long m = strtoul(mode, &end, 8);
        if (end == mode || *end != '\0' || m > 07777) {
            EmbargoLogError("eve-log filemode '%s' is not an octal mode", mode);
            goto fail;
        }
        ctx->mode = (mode_t)m;
    }
    if (conf != NULL && ConfNodeLookupChildValue(conf, "rotate-interval") != NULL)
        EmbargoLogWarning("rotate-interval is not supported by filetype embargo; "
                          "rotate with SIGHUP (logrotate's postrotate)");
    ctx->flow_logged = conf != NULL && TypesHaveFlow(conf);

    ConfNode *emb = conf ? ConfNodeLookupChild(conf, "embargo") : NULL;
    const char *rules = emb ? ConfNodeLookupChildValue(emb, "rules") : NULL;
    snprintf(ctx->rules_path, sizeof(ctx->rules_path), "%s", rules ? rules : DefaultRules());
    const char *scope = emb ? ConfNodeLookupChildValue(emb, "scope") : NULL;
    const char *restricts = emb ? ConfNodeLookupChildValue(emb, "restricts") : NULL;
    const char *proposed = emb ? ConfNodeLookupChildValue(emb, "proposed") : NULL;
    snprintf(ctx->scope, sizeof(ctx->scope), "%s", scope ? scope : "");
    snprintf(ctx->restricts, sizeof(ctx->restricts), "%s", restricts ? restricts : "");
    ctx->proposed = proposed != NULL && ConfValIsTrue(proposed);
    ctx->select_bans = scope != NULL || restricts != NULL || ctx->proposed;
    const char *max = emb ? ConfNodeLookupChildValue(emb, "max-record-size") : NULL;
    if (max != NULL && !ParseSize(max, &ctx->max_record)) {
        EmbargoLogError("embargo.max-record-size '%s' is not a size in bytes", max);
        goto fail;
    }
    const char *dd = emb ? ConfNodeLookupChildValue(emb, "dedup-entries") : NULL;
    if (dd != NULL) {
        size_t entries;
        if (!ParseSize(dd, &entries)) {
            EmbargoLogError("embargo.dedup-entries '%s' is not a count", dd);
            goto fail;
        }
        ctx->dedup_sets = (entries + DEDUP_WAYS - 1) / DEDUP_WAYS;
    }

    const char *cache = emb ? ConfNodeLookupChildValue(emb, "cache-dir") : NULL;
    CacheDir(ctx, cache, dir);

    if (LoadRules(ctx) != 0)
        goto fail;
    /* Flow records are matched only for address and port rules, and only
     * when flow is among the types: otherwise they are not even scanned. */
    emb_rules_summary_t sum;
    emb_rules_summary(ctx->rules, &sum);
    /* Records are read unchecked and checked whole only when they alert
     * (OnMatch): Suricata wrote them, and most raise nothing. */
    ctx->types = (EMBARGO_REC_ALL & ~EMBARGO_REC_MASK(EMBARGO_REC_FLOW)) | EMBARGO_REC_UNCHECKED;
    if (ctx->flow_logged && sum.indicators_per_key[EMB_K_IP] + sum.indicators_per_key[EMB_K_PORT])
        ctx->types |= EMBARGO_REC_MASK(EMBARGO_REC_FLOW) | EMBARGO_REC_FLOW_HEADER;
    /* Most flows are on ports no address or port rule names (DNS, ...): their
     * records are left after the header. Without the table (no memory) each
     * is read for its endpoints and matched. */
    if ((ctx->types & EMBARGO_REC_FLOW_HEADER) &&
        (ctx->flow_ports = calloc(1, sizeof(*ctx->flow_ports))) != NULL)
        EmbargoPortSetFill(ctx->flow_ports, ctx->rules);

    if (!threaded) {
        snprintf(ctx->file.path, sizeof(ctx->file.path), "%s", ctx->filename);
        if (FileOpen(&ctx->file, ctx->append, ctx->mode) != 0) {
            EmbargoLogError("cannot open %s: %s", ctx->file.path, strerror(errno));
            goto fail;
        }
        OutputRegisterFileRotationFlag(&ctx->file.rotate);
        ctx->file.registered = true;
    }
    emb_rules_summary_t s;
    emb_rules_summary(ctx->rules, &s);
    EmbargoLogConfig("%zu rules of %zu vendors from %s, writing %s%s", s.rules, s.vendors,
                     ctx->rules_path, ctx->filename, threaded ? " (one file per thread)" : "");
    *init_data = ctx;
    return 0;
fail:
    CtxFree(ctx);
    return -1;
}

/* threaded: eve.json -> eve.N.json, as `regular` names per-thread files */
static int ThreadedName(const char *path, int id, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int n = (dot != NULL && dot != base && dot[1] != '\0')
                ? snprintf(out, cap, "%.*s.%d%s", (int)(dot - path), path, id, dot)
                : snprintf(out, cap, "%s.%d", path, id);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int EmbargoThreadInit(void *init_data, int thread_id, void **thread_data) {
    EmbargoCtx *ctx = init_data;
    *thread_data = NULL;
    if (ctx == NULL)
        return -1;
    EmbargoThread *t = ThreadNew(ctx);
    if (t == NULL) {
        EmbargoLogError("cannot set up thread %d: out of memory", thread_id);
        return -1;
    }
    if (ThreadedName(ctx->filename, thread_id, t->file.path, sizeof(t->file.path)) != 0 ||
        FileOpen(&t->file, ctx->append, ctx->mode) != 0) {
        EmbargoLogError("cannot open %s: %s", t->file.path, strerror(errno));
        ThreadFree(t);
        return -1;
    }
    OutputRegisterFileRotationFlag(&t->file.rotate);
    t->file.registered = true;
    *thread_data = t;
    return 0;
}

static void AddStats(EmbargoThread *sum, const EmbargoThread *t) {
    sum->records += t->records;
    sum->parsed += t->parsed;
    sum->invalid += t->invalid;
    sum->toobig += t->toobig;
    sum->alerts_written += t->alerts_written;
    sum->alerts_repeated += t->alerts_repeated;
    sum->errors += t->errors;
}

static void LogStats(const char *what, const EmbargoThread *s) {
    EmbargoLogNotice("%s: %llu records, %llu matched against the rules, %llu alerts "
                     "(%llu repeats on a flow not written), %llu not JSON or malformed, "
                     "%llu over max-record-size, %llu alerts not rendered",
                     what, (unsigned long long)s->records, (unsigned long long)s->parsed,
                     (unsigned long long)s->alerts_written, (unsigned long long)s->alerts_repeated,
                     (unsigned long long)s->invalid, (unsigned long long)s->toobig,
                     (unsigned long long)s->errors);
}

static int EmbargoThreadDeinit(void *init_data, void *thread_data) {
    (void)init_data;
    EmbargoThread *t = thread_data;
    if (t != NULL && t->records > 0)
        LogStats(t->file.path, t);
    ThreadFree(t);
    return 0;
}

static void EmbargoDeinit(void *init_data) {
    EmbargoCtx *ctx = init_data;
    if (ctx == NULL)
        return;
    if (!ctx->threaded) {
        EmbargoThread sum = {0};
        for (const EmbargoThread *t = ctx->threads; t != NULL; t = t->next)
            AddStats(&sum, t);
        LogStats(ctx->filename, &sum);
    }
    CtxFree(ctx);
}

static int EmbargoWrite(const char *buffer, int buffer_len, void *init_data, void *thread_data) {
    EmbargoCtx *ctx = init_data;
    if (ctx == NULL || buffer == NULL || buffer_len < 0)
        return -1;
    size_t len = (size_t)buffer_len;
    EmbargoThread *t = ctx->threaded ? thread_data : ThreadLookup(ctx);

    EmbargoParseResult res = EMBARGO_PARSE_SKIP;
    if (t != NULL) {
        t->records++;
        t->alerts_len = 0;
        res = EmbargoRecordParseFlows(&t->rec, buffer, len, ctx->max_record, ctx->types,
                                      ctx->flow_ports);
        Count(t, res);
    }
    bool match = res == EMBARGO_PARSE_OK || res == EMBARGO_PARSE_HEADER;
    if (ctx->threaded && match)
        MatchRecord(t, buffer, len, res);

    struct iovec iov[3] = {{(void *)buffer, len}, {"\n", 1}, {NULL, 0}};
    if (ctx->threaded) {
        if (t == NULL)
            return -1;
        EmbargoRecordClear(&t->rec);
        iov[2] = (struct iovec){t->alerts, t->alerts_len};
        FileCheckRotate(&t->file, ctx->mode);
        FileWritev(&t->file, iov, t->alerts_len > 0 ? 3 : 2);
    } else {
        /* One lock for the shared engine and the file: matching takes a few
         * microseconds and only records with names or endpoints get here. */
        pthread_mutex_lock(&ctx->lock);
        if (match)
            MatchRecord(t, buffer, len, res); /* t->engine is ctx->shared */
        if (t != NULL)
            iov[2] = (struct iovec){t->alerts, t->alerts_len};
        FileCheckRotate(&ctx->file, ctx->mode);
        FileWritev(&ctx->file, iov, iov[2].iov_len > 0 ? 3 : 2);
        pthread_mutex_unlock(&ctx->lock);
        if (t != NULL)
            EmbargoRecordClear(&t->rec);
    }
    return 0;
}

static SCEveFileType embargo_filetype = {
    .name = "embargo",
    .Init = EmbargoInit,
    .Write = EmbargoWrite,
    .Deinit = EmbargoDeinit,
    .ThreadInit = EmbargoThreadInit,
    .ThreadDeinit = EmbargoThreadDeinit,
};

static void EmbargoPluginInit(void) {
    if (!SCRegisterEveFileType(&embargo_filetype))
        EmbargoLogError("cannot register the EVE filetype 'embargo'");
}

static SCPlugin embargo_plugin = {
    .name = "embargo",
    .license = "NOASSERTION", /* the project has not chosen a licence yet */
    .author = "embargo",
    .Init = EmbargoPluginInit,
};

__attribute__((visibility("default"))) SCPlugin *SCPluginRegister(void);
SCPlugin *SCPluginRegister(void) {
    return &embargo_plugin;
}
