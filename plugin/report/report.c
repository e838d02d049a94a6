/*
 * The compliance inventory (see report.h): aggregation of EVE alerts per
 * internal host, vendor, product and channel, and its four writers.
 *
 * Design choice: every aggregate (host; host+vendor+product+channel;
 * host+destination; vendor; vendor+channel) is a growable array indexed
 * through one string-keyed hash map, so one alert costs a few hash lookups
 * whatever the number of hosts. Keys join their parts with a 0x1f byte,
 * which cannot occur in a JSON-decoded string we keep (control bytes are
 * replaced when strings are copied in). Sorting happens only when writing.
 */
#include "report/report.h"

#include "embargo/embargo.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers -------------------------------------------------------- */

#define NO_TIME INT64_MIN
#define MAX_FIELD 256 /* longest string kept from a record (a DNS name is <= 253) */

typedef struct {
    uint64_t alerts;
    int64_t first, last; /* NO_TIME until an alert with a time is seen */
} span_t;

static void span_add(span_t *s, int64_t ts) {
    s->alerts++;
    if (ts == NO_TIME)
        return;
    if (s->first == NO_TIME || ts < s->first)
        s->first = ts;
    if (s->last == NO_TIME || ts > s->last)
        s->last = ts;
}

static void span_init(span_t *s) {
    s->alerts = 0;
    s->first = s->last = NO_TIME;
}

/* A copy of at most MAX_FIELD bytes of s with control bytes replaced by '?'. */
static char *copy_field(const char *s) {
    size_t n = strnlen(s, MAX_FIELD);
    char *c = malloc(n + 1);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    c[n] = '\0';
    return c;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ---- a string -> index map (open addressing, FNV-1a) ---------------------- */

typedef struct {
    char **keys;
    size_t *vals;
    size_t cap, n;
} strmap_t;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void map_free(strmap_t *m) {
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

static int map_rehash(strmap_t *m) {
    size_t ncap = m->cap ? m->cap * 2 : 64;
    char **keys = calloc(ncap, sizeof(*keys));
    size_t *vals = calloc(ncap, sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = hash_str(m->keys[i]) & (ncap - 1);
        while (keys[j])
            j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    return 0;
}

/*
 * Finds `key`; when absent adds it with value `next`. Returns 0 and sets *val
 * and *added, or -1 when out of memory.
 */
static int map_get_or_add(strmap_t *m, const char *key, size_t next, size_t *val, bool *added) {
    if ((m->n + 1) * 10 > m->cap * 7 && map_rehash(m) != 0)
        return -1;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) {
            *val = m->vals[j];
            *added = false;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = strdup(key);
    if (m->keys[j] == NULL)
        return -1;
    m->vals[j] = next;
    m->n++;
    *val = next;
    *added = true;
    return 0;
}

/* ---- the inventory --------------------------------------------------------- */

typedef struct {
    char *ip;
    span_t s;
} rhost_t;

typedef struct {
    size_t host, vendor;
    char *product, *channel;
    span_t s;
} ritem_t;

typedef struct {
    size_t host;
    char *ip, *name;
    span_t s;
} rdest_t;

typedef struct {
    char *name;
    span_t s;
    size_t hosts;
} rvendor_t;

typedef struct {
    size_t vendor;
    char *channel;
    span_t s;
    size_t hosts;
} rvc_t;

typedef struct {
    int64_t ts;
    size_t vendor;
} rtick_t;

#define ARRAY(type, name)                                                                          \
    type *name;                                                                                    \
    size_t n_##name, cap_##name

struct report {
    strmap_t map; /* every key kind, prefixed by a letter */
    ARRAY(rhost_t, hosts);
    ARRAY(ritem_t, items);
    ARRAY(rdest_t, dests);
    ARRAY(rvendor_t, vendors);
    ARRAY(rvc_t, vcs);
    ARRAY(rtick_t, ticks);
    ARRAY(char *, sources);
    char *bad[REPORT_MAX_BAD_PLACES];
    size_t nbad;
    uint64_t lines, alerts, skipped, badlines;
};

report_t *report_new(void) {
    return calloc(1, sizeof(report_t));
}

void report_free(report_t *r) {
    if (r == NULL)
        return;
    map_free(&r->map);
    for (size_t i = 0; i < r->n_hosts; i++)
        free(r->hosts[i].ip);
    for (size_t i = 0; i < r->n_items; i++) {
        free(r->items[i].product);
        free(r->items[i].channel);
    }
    for (size_t i = 0; i < r->n_dests; i++) {
        free(r->dests[i].ip);
        free(r->dests[i].name);
    }
    for (size_t i = 0; i < r->n_vendors; i++)
        free(r->vendors[i].name);
    for (size_t i = 0; i < r->n_vcs; i++)
        free(r->vcs[i].channel);
    for (size_t i = 0; i < r->n_sources; i++)
        free(r->sources[i]);
    for (size_t i = 0; i < r->nbad; i++)
        free(r->bad[i]);
    free(r->hosts);
    free(r->items);
    free(r->dests);
    free(r->vendors);
    free(r->vcs);
    free(r->ticks);
    free(r->sources);
    free(r);
}

int report_add_source(report_t *r, const char *name) {
    if (grow((void **)&r->sources, &r->cap_sources, r->n_sources + 1, sizeof(char *)) != 0)
        return -1;
    char *c = copy_field(name);
    if (c == NULL)
        return -1;
    r->sources[r->n_sources++] = c;
    return 0;
}

/* Builds "<kind>\x1f<a>\x1f<b>..." into buf (parts are at most MAX_FIELD each). */
static const char *make_key(char *buf, size_t size, char kind, const char *a, const char *b,
                            const char *c, const char *d) {
    snprintf(buf, size, "%c\x1f%s\x1f%s\x1f%s\x1f%s", kind, a, b ? b : "", c ? c : "", d ? d : "");
    return buf;
}

#define KEYBUF (6 * MAX_FIELD + 16)

/* The first string of an array value, or the string itself. */
static const char *str_or_first(json_t *v) {
    if (json_is_array(v))
        v = json_array_get(v, 0);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *get_str(json_t *obj, const char *k1, const char *k2, const char *k3) {
    json_t *v = json_object_get(obj, k1);
    if (k2)
        v = json_object_get(v, k2);
    if (k3)
        v = json_object_get(v, k3);
    return str_or_first(v);
}

static bool is_name_field(const char *field) {
    static const char *const names[] = {"domain",   "dns.query", "dns.answer", "tls.sni",
                                        "quic.sni", "http.host", "tls.cert",   "tls.cert_name"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(field, names[i]) == 0)
            return true;
    return false;
}

/* The destination's name: what matched when it is a name, else what the record shows. */
static const char *dest_name(json_t *root, json_t *ctx, const char *server) {
    const char *field = get_str(ctx, "field", NULL, NULL);
    const char *value = get_str(ctx, "value", NULL, NULL);
    if (field && value && is_name_field(field))
        return value;
    json_t *dns = json_object_get(root, "dns");
    const char *cand[] = {
        get_str(root, "tls", "sni", NULL),
        get_str(root, "quic", "sni", NULL),
        get_str(root, "http", "hostname", NULL),
        get_str(json_array_get(json_object_get(dns, "queries"), 0), "rrname", NULL, NULL),
        get_str(dns, "rrname", NULL, NULL),
    };
    for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
        if (cand[i] && *cand[i] && strcmp(cand[i], server) != 0)
            return cand[i];
    return "";
}

static int note_bad(report_t *r, size_t lineno) {
    r->badlines++;
    if (r->nbad >= REPORT_MAX_BAD_PLACES)
        return 0;
    const char *src = r->n_sources ? r->sources[r->n_sources - 1] : "-";
    size_t n = strlen(src) + 24;
    char *p = malloc(n);
    if (p == NULL)
        return -1;
    snprintf(p, n, "%s:%zu", src, lineno);
    r->bad[r->nbad++] = p;
    return 0;
}

/* Index of the aggregate under `key`, adding a fresh one (index n) when new. */
static int lookup(report_t *r, const char *key, size_t n, size_t *idx, bool *added) {
    return map_get_or_add(&r->map, key, n, idx, added);
}

static int add_alert(report_t *r, json_t *root, json_t *alert) {
    json_t *meta = json_object_get(alert, "metadata");
    json_t *ctx = json_object_get(json_object_get(alert, "context"), "embargo");
    const char *vendor = get_str(meta, "vendor", NULL, NULL);
    if (vendor == NULL)
        vendor = get_str(ctx, "vendor", NULL, NULL);
    if (vendor == NULL || *vendor == '\0')
        return REPORT_LINE_SKIPPED;
    const char *channel = get_str(meta, "channel", NULL, NULL);
    if (channel == NULL)
        channel = get_str(ctx, "channel", NULL, NULL);
    if (channel == NULL)
        channel = "unknown";
    const char *product = get_str(meta, "product", NULL, NULL);
    if (product == NULL)
        product = "";

    const char *src = get_str(root, "src_ip", NULL, NULL);
    const char *dst = get_str(root, "dest_ip", NULL, NULL);
    const char *fsrc = get_str(root, "flow", "src_ip", NULL);
    const char *fdst = get_str(root, "flow", "dest_ip", NULL);
    const char *dir = get_str(root, "direction", NULL, NULL);
    const char *client, *server;
    if (fsrc && fdst) {
        client = fsrc;
        server = fdst;
    } else if (dir && strcmp(dir, "to_client") == 0) {
        client = dst;
        server = src;
    } else {
        client = src;
        server = dst;
    }
    if (client == NULL)
        client = "unknown";
    if (server == NULL)
        server = "unknown";
    const char *name = dest_name(root, ctx, server);

    int64_t ts = NO_TIME;
    const char *tstr = get_str(root, "timestamp", NULL, NULL);
    if (tstr == NULL || !report_parse_time(tstr, &ts))
        ts = NO_TIME;

    /* Fields are cut to MAX_FIELD and cleaned, so keys and stored copies agree. */
    char *cv = copy_field(vendor), *cc = copy_field(channel), *cp = copy_field(product);
    char *ch = copy_field(client), *cs = copy_field(server), *cn = copy_field(name);
    int rc = -1;
    if (!cv || !cc || !cp || !ch || !cs || !cn)
        goto out;

    char key[KEYBUF];
    size_t h, v, it, d, vc, dummy;
    bool added;

    if (lookup(r, make_key(key, sizeof(key), 'h', ch, NULL, NULL, NULL), r->n_hosts, &h, &added) !=
        0)
        goto out;
    if (added) {
        if (grow((void **)&r->hosts, &r->cap_hosts, r->n_hosts + 1, sizeof(rhost_t)) != 0)
            goto out;
        r->hosts[h].ip = ch;
        ch = NULL;
        span_init(&r->hosts[h].s);
        r->n_hosts++;
    }
    span_add(&r->hosts[h].s, ts);

    if (lookup(r, make_key(key, sizeof(key), 'v', cv, NULL, NULL, NULL), r->n_vendors, &v,
               &added) != 0)
        goto out;
    if (added) {
        if (grow((void **)&r->vendors, &r->cap_vendors, r->n_vendors + 1, sizeof(rvendor_t)) != 0)
            goto out;
        r->vendors[v].name = cv;
        cv = NULL;
        span_init(&r->vendors[v].s);
        r->vendors[v].hosts = 0;
        r->n_vendors++;
    }
    span_add(&r->vendors[v].s, ts);
    const char *vname = r->vendors[v].name, *hname = r->hosts[h].ip;
    if (lookup(r, make_key(key, sizeof(key), 'H', vname, hname, NULL, NULL), 0, &dummy, &added) !=
        0)
        goto out;
    if (added)
        r->vendors[v].hosts++;

    if (lookup(r, make_key(key, sizeof(key), 'c', vname, cc, NULL, NULL), r->n_vcs, &vc, &added) !=
        0)
        goto out;
    if (added) {
        if (grow((void **)&r->vcs, &r->cap_vcs, r->n_vcs + 1, sizeof(rvc_t)) != 0)
            goto out;
        r->vcs[vc].vendor = v;
        r->vcs[vc].channel = strdup(cc);
        if (r->vcs[vc].channel == NULL)
            goto out;
        span_init(&r->vcs[vc].s);
        r->vcs[vc].hosts = 0;
        r->n_vcs++;
    }
    span_add(&r->vcs[vc].s, ts);
    if (lookup(r, make_key(key, sizeof(key), 'C', vname, cc, hname, NULL), 0, &dummy, &added) != 0)
        goto out;
    if (added)
        r->vcs[vc].hosts++;

    if (lookup(r, make_key(key, sizeof(key), 'i', hname, vname, cp, cc), r->n_items, &it, &added) !=
        0)
        goto out;
    if (added) {
        if (grow((void **)&r->items, &r->cap_items, r->n_items + 1, sizeof(ritem_t)) != 0)
            goto out;
        r->items[it].host = h;
        r->items[it].vendor = v;
        r->items[it].product = cp;
        r->items[it].channel = cc;
        cp = cc = NULL;
        span_init(&r->items[it].s);
        r->n_items++;
    }
    span_add(&r->items[it].s, ts);

    if (lookup(r, make_key(key, sizeof(key), 'd', hname, cs, cn, NULL), r->n_dests, &d, &added) !=
        0)
        goto out;
    if (added) {
        if (grow((void **)&r->dests, &r->cap_dests, r->n_dests + 1, sizeof(rdest_t)) != 0)
            goto out;
        r->dests[d].host = h;
        r->dests[d].ip = cs;
        r->dests[d].name = cn;
        cs = cn = NULL;
        span_init(&r->dests[d].s);
        r->n_dests++;
    }
    span_add(&r->dests[d].s, ts);

    if (ts != NO_TIME) {
        if (grow((void **)&r->ticks, &r->cap_ticks, r->n_ticks + 1, sizeof(rtick_t)) != 0)
            goto out;
        r->ticks[r->n_ticks++] = (rtick_t){ts, v};
    }
    r->alerts++;
    rc = REPORT_LINE_ALERT;
out:
    free(cv);
    free(cc);
    free(cp);
    free(ch);
    free(cs);
    free(cn);
    return rc;
}

int report_add_line(report_t *r, size_t lineno, const char *line, size_t len) {
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t start = 0;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    if (start == len)
        return REPORT_LINE_SKIPPED;
    r->lines++;
    json_error_t err;
    json_t *root = json_loadb(line + start, len - start, 0, &err);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return note_bad(r, lineno) == 0 ? REPORT_LINE_BAD : -1;
    }
    int rc = REPORT_LINE_SKIPPED;
    const char *et = get_str(root, "event_type", NULL, NULL);
    json_t *alert = json_object_get(root, "alert");
    if (et && strcmp(et, "alert") == 0 && json_is_object(alert))
        rc = add_alert(r, root, alert);
    if (rc == REPORT_LINE_SKIPPED)
        r->skipped++;
    json_decref(root);
    return rc;
}

void report_totals(const report_t *r, report_totals_t *out) {
    memset(out, 0, sizeof(*out));
    out->lines = r->lines;
    out->alerts = r->alerts;
    out->skipped = r->skipped;
    out->bad = r->badlines;
    out->hosts = r->n_hosts;
    out->vendors = r->n_vendors;
    out->bad_places = r->nbad;
    int64_t first = NO_TIME, last = NO_TIME;
    for (size_t i = 0; i < r->n_vendors; i++) {
        const span_t *s = &r->vendors[i].s;
        if (s->first != NO_TIME && (first == NO_TIME || s->first < first))
            first = s->first;
        if (s->last != NO_TIME && (last == NO_TIME || s->last > last))
            last = s->last;
    }
    out->first = first == NO_TIME ? 0 : first;
    out->last = last == NO_TIME ? 0 : last;
}

const char *report_bad_place(const report_t *r, size_t i) {
    return i < r->nbad ? r->bad[i] : NULL;
}

bool report_format_parse(const char *s, report_format_t *out) {
    static const struct {
        const char *name;
        report_format_t fmt;
    } f[] = {
        {"text", REPORT_TEXT}, {"json", REPORT_JSON}, {"csv", REPORT_CSV}, {"html", REPORT_HTML}};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (strcmp(s, f[i].name) == 0) {
            *out = f[i].fmt;
            return true;
        }
    return false;
}

/* ---- time ---------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool report_parse_time(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    int64_t usec = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 6) {
                usec = usec * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        for (; n < 6; n++)
            usec *= 10;
    }
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        const char *q = p + 1;
        if (!digits(q, 2, &oh))
            return false;
        q += 2;
        if (*q == ':')
            q++;
        if (!digits(q, 2, &om))
            return false;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p = q + 2;
    } else if (*p == 'Z') {
        p++;
    }
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - off;
    *out = t * 1000000 + usec;
    return true;
}

/* "2024-09-30T12:00:00.000000+0000" (full) or "2024-09-30 12:00:00" (short). */
static const char *fmt_time(int64_t us, bool full, char buf[40]) {
    if (us == NO_TIME) {
        snprintf(buf, 40, "%s", full ? "" : "-");
        return buf;
    }
    time_t secs = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    long frac = (long)(us - (int64_t)secs * 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof(base), full ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
    if (full)
        snprintf(buf, 40, "%s.%06ld+0000", base, frac);
    else
        snprintf(buf, 40, "%s", base);
    return buf;
}

/* ---- sorted views ---------------------------------------------------------- */

static const report_t *sort_ctx; /* qsort has no context argument in C11 */

static int cmp_hosts(const void *a, const void *b) {
    const rhost_t *x = &sort_ctx->hosts[*(const size_t *)a],
                  *y = &sort_ctx->hosts[*(const size_t *)b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->ip, y->ip);
}

static int cmp_vendors(const void *a, const void *b) {
    const rvendor_t *x = &sort_ctx->vendors[*(const size_t *)a],
                    *y = &sort_ctx->vendors[*(const size_t *)b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_items(const void *a, const void *b) {
    const ritem_t *x = &sort_ctx->items[*(const size_t *)a],
                  *y = &sort_ctx->items[*(const size_t *)b];
    int c = strcmp(sort_ctx->vendors[x->vendor].name, sort_ctx->vendors[y->vendor].name);
    if (c)
        return c;
    if ((c = strcmp(x->channel, y->channel)) != 0)
        return c;
    return strcmp(x->product, y->product);
}

static int cmp_dests(const void *a, const void *b) {
    const rdest_t *x = &sort_ctx->dests[*(const size_t *)a],
                  *y = &sort_ctx->dests[*(const size_t *)b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    int c = strcmp(x->ip, y->ip);
    return c ? c : strcmp(x->name, y->name);
}

static int cmp_vcs(const void *a, const void *b) {
    const rvc_t *x = &sort_ctx->vcs[*(const size_t *)a], *y = &sort_ctx->vcs[*(const size_t *)b];
    int c = strcmp(sort_ctx->vendors[x->vendor].name, sort_ctx->vendors[y->vendor].name);
    if (c)
        return c;
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->channel, y->channel);
}

typedef struct {
    size_t *hosts, *vendors, *vcs;
    size_t *items, *items_at; /* items sorted by host order, items_at[h]..items_at[h+1] */
    size_t *dests, *dests_at;
} views_t;

static size_t *iota(size_t n) {
    size_t *v = malloc((n ? n : 1) * sizeof(size_t));
    if (v)
        for (size_t i = 0; i < n; i++)
            v[i] = i;
    return v;
}

static void views_free(views_t *v) {
    free(v->hosts);
    free(v->vendors);
    free(v->vcs);
    free(v->items);
    free(v->items_at);
    free(v->dests);
    free(v->dests_at);
}

/* Groups `n` indices by host (counting sort on host), then sorts each group. */
static int group_by_host(const report_t *r, size_t n, size_t (*host_of)(const report_t *, size_t),
                         int (*cmp)(const void *, const void *), size_t **out, size_t **at) {
    size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
    size_t *start = calloc(r->n_hosts + 1, sizeof(size_t));
    if (idx == NULL || start == NULL) {
        free(idx);
        free(start);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        start[host_of(r, i) + 1]++;
    for (size_t h = 0; h < r->n_hosts; h++)
        start[h + 1] += start[h];
    size_t *fill = malloc((r->n_hosts + 1) * sizeof(size_t));
    if (fill == NULL) {
        free(idx);
        free(start);
        return -1;
    }
    memcpy(fill, start, (r->n_hosts + 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        idx[fill[host_of(r, i)]++] = i;
    free(fill);
    for (size_t h = 0; h < r->n_hosts; h++)
        qsort(idx + start[h], start[h + 1] - start[h], sizeof(size_t), cmp);
    *out = idx;
    *at = start;
    return 0;
}

static size_t item_host(const report_t *r, size_t i) {
    return r->items[i].host;
}
static size_t dest_host(const report_t *r, size_t i) {
    return r->dests[i].host;
}

static int views_make(const report_t *r, views_t *v) {
    memset(v, 0, sizeof(*v));
    sort_ctx = r;
    v->hosts = iota(r->n_hosts);
    v->vendors = iota(r->n_vendors);
    v->vcs = iota(r->n_vcs);
    if (!v->hosts || !v->vendors || !v->vcs)
        goto fail;
    qsort(v->hosts, r->n_hosts, sizeof(size_t), cmp_hosts);
    qsort(v->vendors, r->n_vendors, sizeof(size_t), cmp_vendors);
    qsort(v->vcs, r->n_vcs, sizeof(size_t), cmp_vcs);
    if (group_by_host(r, r->n_items, item_host, cmp_items, &v->items, &v->items_at) != 0 ||
        group_by_host(r, r->n_dests, dest_host, cmp_dests, &v->dests, &v->dests_at) != 0)
        goto fail;
    return 0;
fail:
    views_free(v);
    errno = ENOMEM;
    return -1;
}

/* Vendor v's channel aggregates in the order of v->vcs. */
#define FOR_VC_OF(r, views, vendor_idx, k)                                                         \
    for (size_t k##_i = 0, k = 0; k##_i < (r)->n_vcs; k##_i++)                                     \
        if ((k = (views)->vcs[k##_i]), (r)->vcs[k].vendor == (vendor_idx))

/* ---- text ------------------------------------------------------------------- */

/* Strings kept are already free of control bytes (copy_field). */
static void text_write(const report_t *r, const views_t *v, FILE *f) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40], b[40];
    fprintf(f, "embargo compliance report\n");
    fprintf(f, "  %" PRIu64 " alert%s from %zu internal host%s, %zu vendor%s", t.alerts,
            t.alerts == 1 ? "" : "s", t.hosts, t.hosts == 1 ? "" : "s", t.vendors,
            t.vendors == 1 ? "" : "s");
    if (t.alerts && r->n_ticks)
        fprintf(f, ", %s to %s UTC", fmt_time(t.first, false, a), fmt_time(t.last, false, b));
    fprintf(f,
            "\n  read %" PRIu64 " record%s from %zu file%s: %" PRIu64
            " other records skipped, %" PRIu64 " bad line%s\n",
            t.lines, t.lines == 1 ? "" : "s", r->n_sources, r->n_sources == 1 ? "" : "s", t.skipped,
            t.bad, t.bad == 1 ? "" : "s");
    if (r->n_vendors == 0) {
        fprintf(f, "\nNo traffic of a banned vendor was seen.\n");
        return;
    }
    fprintf(f, "\nVendors\n");
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rvendor_t *ve = &r->vendors[v->vendors[i]];
        fprintf(f, "  %-16s %6" PRIu64 " alerts  %4zu host%s  %s .. %s\n", ve->name, ve->s.alerts,
                ve->hosts, ve->hosts == 1 ? " " : "s", fmt_time(ve->s.first, false, a),
                fmt_time(ve->s.last, false, b));
        FOR_VC_OF(r, v, v->vendors[i], k) {
            const rvc_t *c = &r->vcs[k];
            fprintf(f, "    %-14s %6" PRIu64 " alerts  %4zu host%s\n", c->channel, c->s.alerts,
                    c->hosts, c->hosts == 1 ? "" : "s");
        }
    }
    fprintf(f, "\nHosts\n");
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        const rhost_t *ho = &r->hosts[h];
        fprintf(f, "  %-39s %6" PRIu64 " alerts  %s .. %s\n", ho->ip, ho->s.alerts,
                fmt_time(ho->s.first, false, a), fmt_time(ho->s.last, false, b));
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            fprintf(f, "    %-12s %-12s %-30s %5" PRIu64 "  %s .. %s\n",
                    r->vendors[it->vendor].name, it->channel, *it->product ? it->product : "-",
                    it->s.alerts, fmt_time(it->s.first, false, a), fmt_time(it->s.last, false, b));
        }
        fprintf(f, "    top destinations:");
        size_t shown = 0;
        for (size_t j = v->dests_at[h]; j < v->dests_at[h + 1] && shown < REPORT_TOP_DESTINATIONS;
             j++, shown++) {
            const rdest_t *d = &r->dests[v->dests[j]];
            fprintf(f, "%s %s%s%s%s (%" PRIu64 ")", shown ? "," : "", d->ip, *d->name ? " " : "",
                    d->name, "", d->s.alerts);
        }
        fprintf(f, "\n");
    }
    if (t.bad) {
        fprintf(f, "\nBad lines (not JSON), skipped:");
        for (size_t i = 0; i < r->nbad; i++)
            fprintf(f, " %s", r->bad[i]);
        if (t.bad > r->nbad)
            fprintf(f, " and %" PRIu64 " more", t.bad - r->nbad);
        fprintf(f, "\n");
    }
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *span_json(json_t *o, const span_t *s) {
    char a[40];
    json_object_set_new(o, "alerts", json_integer((json_int_t)s->alerts));
    json_object_set_new(o, "first_seen",
                        s->first == NO_TIME ? json_null()
                                            : json_string(fmt_time(s->first, true, a)));
    json_object_set_new(o, "last_seen",
                        s->last == NO_TIME ? json_null() : json_string(fmt_time(s->last, true, a)));
    return o;
}

static json_t *json_build(const report_t *r, const views_t *v) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40];
    json_t *root = json_object();
    json_t *input = json_object();
    json_t *files = json_array();
    for (size_t i = 0; i < r->n_sources; i++)
        json_array_append_new(files, json_string(r->sources[i]));
    json_object_set_new(input, "files", files);
    json_object_set_new(input, "records", json_integer((json_int_t)t.lines));
    json_object_set_new(input, "alerts", json_integer((json_int_t)t.alerts));
    json_object_set_new(input, "skipped", json_integer((json_int_t)t.skipped));
    json_object_set_new(input, "bad_lines", json_integer((json_int_t)t.bad));
    json_t *bad = json_array();
    for (size_t i = 0; i < r->nbad; i++)
        json_array_append_new(bad, json_string(r->bad[i]));
    json_object_set_new(input, "bad_line_places", bad);
    json_object_set_new(root, "input", input);
    json_object_set_new(root, "first_seen",
                        r->n_ticks ? json_string(fmt_time(t.first, true, a)) : json_null());
    json_object_set_new(root, "last_seen",
                        r->n_ticks ? json_string(fmt_time(t.last, true, a)) : json_null());
    json_object_set_new(root, "hosts_total", json_integer((json_int_t)t.hosts));

    json_t *vendors = json_array();
    for (size_t i = 0; i < r->n_vendors; i++) {
        size_t vi = v->vendors[i];
        const rvendor_t *ve = &r->vendors[vi];
        json_t *o = json_object();
        json_object_set_new(o, "vendor", json_string(ve->name));
        span_json(o, &ve->s);
        json_object_set_new(o, "hosts", json_integer((json_int_t)ve->hosts));
        json_t *chans = json_array();
        FOR_VC_OF(r, v, vi, k) {
            json_t *c = json_object();
            json_object_set_new(c, "channel", json_string(r->vcs[k].channel));
            span_json(c, &r->vcs[k].s);
            json_object_set_new(c, "hosts", json_integer((json_int_t)r->vcs[k].hosts));
            json_array_append_new(chans, c);
        }
        json_object_set_new(o, "channels", chans);
        json_array_append_new(vendors, o);
    }
    json_object_set_new(root, "vendors", vendors);

    json_t *hosts = json_array();
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(r->hosts[h].ip));
        span_json(o, &r->hosts[h].s);
        json_t *seen = json_array();
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            json_t *s = json_object();
            json_object_set_new(s, "vendor", json_string(r->vendors[it->vendor].name));
            json_object_set_new(s, "product",
                                *it->product ? json_string(it->product) : json_null());
            json_object_set_new(s, "channel", json_string(it->channel));
            span_json(s, &it->s);
            json_array_append_new(seen, s);
        }
        json_object_set_new(o, "seen", seen);
        json_t *dests = json_array();
        size_t shown = 0;
        for (size_t j = v->dests_at[h]; j < v->dests_at[h + 1] && shown < REPORT_TOP_DESTINATIONS;
             j++, shown++) {
            const rdest_t *d = &r->dests[v->dests[j]];
            json_t *s = json_object();
            json_object_set_new(s, "ip", json_string(d->ip));
            json_object_set_new(s, "name", *d->name ? json_string(d->name) : json_null());
            json_object_set_new(s, "alerts", json_integer((json_int_t)d->s.alerts));
            json_array_append_new(dests, s);
        }
        json_object_set_new(o, "top_destinations", dests);
        json_array_append_new(hosts, o);
    }
    json_object_set_new(root, "hosts", hosts);
    return root;
}

/* ---- CSV --------------------------------------------------------------------- */

/* RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet shows, not runs, it. */
static void csv_field(FILE *f, const char *s, bool last) {
    fputc('"', f);
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputs(last ? "\"\r\n" : "\",", f);
}

static void csv_write(const report_t *r, const views_t *v, FILE *f) {
    char a[40], b[40], n[32];
    fputs("host,vendor,product,channel,alerts,first_seen,last_seen,top_destination\r\n", f);
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            /* the host's top destination for this vendor is not kept; the host's is */
            char dest[2 * MAX_FIELD + 4] = "";
            if (v->dests_at[h] < v->dests_at[h + 1]) {
                const rdest_t *d = &r->dests[v->dests[v->dests_at[h]]];
                snprintf(dest, sizeof(dest), "%s%s%s", d->ip, *d->name ? " " : "", d->name);
            }
            snprintf(n, sizeof(n), "%" PRIu64, it->s.alerts);
            csv_field(f, r->hosts[h].ip, false);
            csv_field(f, r->vendors[it->vendor].name, false);
            csv_field(f, it->product, false);
            csv_field(f, it->channel, false);
            csv_field(f, n, false);
            csv_field(f, fmt_time(it->s.first, true, a), false);
            csv_field(f, fmt_time(it->s.last, true, b), false);
            csv_field(f, dest, true);
        }
    }
}

/* ---- HTML ---------------------------------------------------------------------- */

/* Escapes for element text and quoted attribute values alike. */
static void h(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *const palette[] = {"#d1495b", "#2e86ab", "#edae49", "#66a182", "#8d6a9f",
                                      "#00798c", "#f18f01", "#6c757d", "#a23b72", "#3b1f2b"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

static const char *vendor_color(const views_t *v, size_t nvendors, size_t vendor) {
    for (size_t i = 0; i < nvendors; i++)
        if (v->vendors[i] == vendor)
            return palette[i % NPALETTE];
    return palette[NPALETTE - 1];
}

/* Picks a bucket width so the period spans at most ~60 bars. */
static int64_t bucket_width(int64_t span) {
    static const int64_t steps[] = {1,    5,     10,    30,    60,    300,    600,     1800,
                                    3600, 10800, 21600, 43200, 86400, 604800, 2592000, 31536000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (span / (steps[i] * 1000000) < 60)
            return steps[i] * 1000000;
    return (span / 60 + 1);
}

static const char *width_name(int64_t w, char buf[32]) {
    int64_t s = w / 1000000;
    if (s % 86400 == 0)
        snprintf(buf, 32, "%" PRId64 " day%s", s / 86400, s == 86400 ? "" : "s");
    else if (s % 3600 == 0)
        snprintf(buf, 32, "%" PRId64 " hour%s", s / 3600, s == 3600 ? "" : "s");
    else if (s % 60 == 0)
        snprintf(buf, 32, "%" PRId64 " minute%s", s / 60, s == 60 ? "" : "s");
    else
        snprintf(buf, 32, "%" PRId64 " second%s", s, s == 1 ? "" : "s");
    return buf;
}

/* Alerts over time, stacked per vendor. */
static int svg_timeline(const report_t *r, const views_t *v, FILE *f) {
    if (r->n_ticks == 0) {
        fputs("<p class=\"muted\">No alert carries a timestamp.</p>\n", f);
        return 0;
    }
    report_totals_t t;
    report_totals(r, &t);
    int64_t w = bucket_width(t.last - t.first);
    int64_t start = t.first - ((t.first % w) + w) % w;
    size_t nb = (size_t)((t.last - start) / w) + 1;
    size_t nv = r->n_vendors;
    uint64_t *cnt = calloc(nb * nv, sizeof(uint64_t));
    if (cnt == NULL)
        return -1;
    for (size_t i = 0; i < r->n_ticks; i++)
        cnt[(size_t)((r->ticks[i].ts - start) / w) * nv + r->ticks[i].vendor]++;
    uint64_t max = 1;
    for (size_t b = 0; b < nb; b++) {
        uint64_t sum = 0;
        for (size_t k = 0; k < nv; k++)
            sum += cnt[b * nv + k];
        if (sum > max)
            max = sum;
    }
    const int W = 760, H = 240, L = 48, R = 12, T = 12, B = 40;
    double pw = W - L - R, ph = H - T - B, bw = pw / (double)nb;
    char a[40], wn[32];
    fprintf(f,
            "<svg class=\"chart\" id=\"chart-timeline\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"Alerts over time per vendor\">\n",
            W, H, W, H);
    fprintf(f, "<title>Alerts over time per vendor, %s per bar</title>\n", width_name(w, wn));
    for (int g = 0; g <= 4; g++) {
        double y = T + ph - ph * g / 4.0;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%.0f</text>\n",
                L, W - R, y, y, L - 6, y + 4, (double)max * g / 4.0);
    }
    for (size_t b = 0; b < nb; b++) {
        double y = T + ph;
        for (size_t i = 0; i < nv; i++) {
            size_t k = v->vendors[i];
            uint64_t c = cnt[b * nv + k];
            if (c == 0)
                continue;
            double hh = ph * (double)c / (double)max;
            y -= hh;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>",
                    L + bw * (double)b + (bw > 4 ? 1 : 0), y, bw > 4 ? bw - 2 : bw, hh,
                    palette[i % NPALETTE]);
            h(f, r->vendors[k].name);
            fprintf(f, ": %" PRIu64 " alert%s from %s UTC</title></rect>\n", c, c == 1 ? "" : "s",
                    fmt_time(start + (int64_t)b * w, false, a));
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\">%s</text>\n", L, H - B + 18,
            fmt_time(start, false, a));
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">%s</text>\n", W - R,
            H - B + 18, fmt_time(start + (int64_t)nb * w, false, a));
    fprintf(f,
            "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">UTC, %s per "
            "bar</text>\n",
            L + pw / 2, H - B + 18, width_name(w, wn));
    /* legend */
    double lx = L;
    for (size_t i = 0; i < nv && i < 8; i++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>", lx, H - 14,
                palette[i % NPALETTE]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"legend\">", lx + 14, H - 5);
        h(f, r->vendors[v->vendors[i]].name);
        fputs("</text>\n", f);
        lx += 24 + 7.0 * (double)strlen(r->vendors[v->vendors[i]].name);
    }
    fputs("</svg>\n", f);
    free(cnt);
    return 0;
}

/* Hosts per vendor and channel: one bar per pair, coloured by vendor. */
static void svg_hosts(const report_t *r, const views_t *v, FILE *f) {
    size_t maxh = 1;
    for (size_t i = 0; i < r->n_vcs; i++)
        if (r->vcs[i].hosts > maxh)
            maxh = r->vcs[i].hosts;
    const int W = 760, L = 230, R = 60, row = 24, T = 8;
    int H = T * 2 + row * (int)r->n_vcs;
    fprintf(f,
            "<svg class=\"chart\" id=\"chart-hosts\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"Hosts per vendor and channel\">\n",
            W, H, W, H);
    fputs("<title>Hosts per vendor and channel</title>\n", f);
    int y = T;
    for (size_t i = 0; i < r->n_vendors; i++) {
        size_t vi = v->vendors[i];
        FOR_VC_OF(r, v, vi, k) {
            const rvc_t *c = &r->vcs[k];
            double bw = (W - L - R) * (double)c->hosts / (double)maxh;
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">", L - 8,
                    y + 16);
            h(f, r->vendors[vi].name);
            fputs(" \xc2\xb7 ", f);
            h(f, c->channel);
            fprintf(f,
                    "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                    "<title>",
                    L, y + 3, bw, row - 6, vendor_color(v, r->n_vendors, vi));
            h(f, r->vendors[vi].name);
            fputs(" ", f);
            h(f, c->channel);
            fprintf(f,
                    ": %zu host%s, %" PRIu64 " alerts</title></rect>"
                    "<text x=\"%.1f\" y=\"%d\" class=\"value\">%zu</text>\n",
                    c->hosts, c->hosts == 1 ? "" : "s", c->s.alerts, L + bw + 6, y + 16, c->hosts);
            y += row;
        }
    }
    fputs("</svg>\n", f);
}

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;color:#1d232a;background:#f4f5f7}"
    "main{max-width:1040px;margin:0 auto;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}"
    ".muted{color:#5b6672}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}"
    ".card{background:#fff;border-radius:8px;padding:12px 16px;min-width:140px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08)}"
    ".card b{display:block;font-size:26px}"
    ".card.alert b{color:#c0392b}"
    ".panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px "
    "rgba(0,0,0,.08);overflow-x:auto}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;"
    "border-bottom:1px solid #e6e8eb;vertical-align:top}th{font-weight:600;color:#5b6672;"
    "font-size:12px;text-transform:uppercase;letter-spacing:.03em}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}td.t{white-space:nowrap}"
    ".tag{display:inline-block;border-radius:10px;padding:0 8px;margin:1px 2px;font-size:12px;"
    "color:#fff}"
    ".chan{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;"
    "background:#e9edf2}"
    ".mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px;"
    "word-break:break-all}"
    "svg .grid{stroke:#e6e8eb}svg .axis{font-size:11px;fill:#5b6672}"
    "svg .legend,svg .label{font-size:12px;fill:#1d232a}svg .value{font-size:12px;fill:#5b6672}"
    ".ok{background:#e7f6ec;border-radius:8px;padding:16px;font-size:16px}"
    "footer{margin-top:28px;font-size:12px;color:#5b6672}";

static int html_write(const report_t *r, const views_t *v, FILE *f) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40], b[40];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>embargo compliance report</title>\n<style>",
          f);
    fputs(css, f);
    fputs("</style></head><body><main>\n<h1>Banned-vendor traffic: compliance report</h1>\n", f);
    fputs("<p class=\"muted\">", f);
    if (r->n_ticks)
        fprintf(f, "%s to %s UTC &middot; ", fmt_time(t.first, false, a),
                fmt_time(t.last, false, b));
    fprintf(f, "from %zu EVE file%s (", r->n_sources, r->n_sources == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_sources; i++) {
        if (i)
            fputs(", ", f);
        if (i == 8) {
            fprintf(f, "&hellip; %zu more", r->n_sources - 8);
            break;
        }
        h(f, r->sources[i]);
    }
    fputs(")</p>\n", f);

    fputs("<div class=\"cards\">", f);
    fprintf(f, "<div class=\"card%s\" id=\"total-hosts\"><b>%zu</b>internal host%s</div>",
            t.hosts ? " alert" : "", t.hosts, t.hosts == 1 ? "" : "s");
    fprintf(f, "<div class=\"card%s\"><b>%zu</b>banned vendor%s</div>", t.vendors ? " alert" : "",
            t.vendors, t.vendors == 1 ? "" : "s");
    fprintf(f, "<div class=\"card\" id=\"total-alerts\"><b>%" PRIu64 "</b>alert%s</div>", t.alerts,
            t.alerts == 1 ? "" : "s");
    fprintf(f, "<div class=\"card\"><b>%" PRIu64 "</b>record%s read</div>", t.lines,
            t.lines == 1 ? "" : "s");
    if (t.bad)
        fprintf(f, "<div class=\"card alert\"><b>%" PRIu64 "</b>bad line%s skipped</div>", t.bad,
                t.bad == 1 ? "" : "s");
    fputs("</div>\n", f);

    if (r->n_vendors == 0) {
        fputs("<div class=\"ok\">No traffic of a banned vendor was seen.</div>\n", f);
    } else {
        fputs("<h2>Vendors</h2>\n<div class=\"panel\"><table id=\"vendors\"><tr><th>Vendor</th>"
              "<th>Channels (hosts)</th><th class=\"n\">Hosts</th><th class=\"n\">Alerts</th>"
              "<th>First seen</th><th>Last seen</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_vendors; i++) {
            size_t vi = v->vendors[i];
            const rvendor_t *ve = &r->vendors[vi];
            fprintf(f, "<tr><td><span class=\"tag\" style=\"background:%s\">",
                    palette[i % NPALETTE]);
            h(f, ve->name);
            fputs("</span></td><td>", f);
            FOR_VC_OF(r, v, vi, k) {
                fputs("<span class=\"chan\">", f);
                h(f, r->vcs[k].channel);
                fprintf(f, " %zu</span> ", r->vcs[k].hosts);
            }
            fprintf(f,
                    "</td><td class=\"n\">%zu</td><td class=\"n\">%" PRIu64
                    "</td><td class=\"t\">%s</td><td class=\"t\">%s</td></tr>\n",
                    ve->hosts, ve->s.alerts, fmt_time(ve->s.first, false, a),
                    fmt_time(ve->s.last, false, b));
        }
        fputs("</table></div>\n", f);

        fputs("<h2>Alerts over time</h2>\n<div class=\"panel\">", f);
        if (svg_timeline(r, v, f) != 0)
            return -1;
        fputs("</div>\n<h2>Hosts per vendor and channel</h2>\n<div class=\"panel\">", f);
        svg_hosts(r, v, f);
        fputs("</div>\n", f);

        fputs("<h2>Internal hosts</h2>\n<div class=\"panel\"><table id=\"hosts\"><tr>"
              "<th>Host</th><th>Vendor</th><th>Product</th><th>Channel</th>"
              "<th class=\"n\">Alerts</th><th>First seen</th><th>Last seen</th>"
              "<th>Top destinations</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_hosts; i++) {
            size_t hi = v->hosts[i];
            size_t n = v->items_at[hi + 1] - v->items_at[hi];
            for (size_t j = v->items_at[hi]; j < v->items_at[hi + 1]; j++) {
                const ritem_t *it = &r->items[v->items[j]];
                fputs("<tr>", f);
                if (j == v->items_at[hi]) {
                    fprintf(f, "<td rowspan=\"%zu\" class=\"mono host\"><b>", n);
                    h(f, r->hosts[hi].ip);
                    fprintf(f, "</b><br><span class=\"muted\">%" PRIu64 " alerts</span></td>",
                            r->hosts[hi].s.alerts);
                }
                fprintf(f, "<td><span class=\"tag\" style=\"background:%s\">",
                        vendor_color(v, r->n_vendors, it->vendor));
                h(f, r->vendors[it->vendor].name);
                fputs("</span></td><td>", f);
                h(f, *it->product ? it->product : "\xe2\x80\x94");
                fputs("</td><td><span class=\"chan\">", f);
                h(f, it->channel);
                fprintf(f,
                        "</span></td><td class=\"n\">%" PRIu64
                        "</td><td class=\"t\">%s</td><td class=\"t\">%s</td>",
                        it->s.alerts, fmt_time(it->s.first, false, a),
                        fmt_time(it->s.last, false, b));
                if (j == v->items_at[hi]) {
                    fprintf(f, "<td rowspan=\"%zu\" class=\"mono\">", n);
                    size_t shown = 0;
                    for (size_t d = v->dests_at[hi];
                         d < v->dests_at[hi + 1] && shown < REPORT_TOP_DESTINATIONS; d++, shown++) {
                        const rdest_t *de = &r->dests[v->dests[d]];
                        h(f, de->ip);
                        if (*de->name) {
                            fputs(" ", f);
                            h(f, de->name);
                        }
                        fprintf(f, " <span class=\"muted\">(%" PRIu64 ")</span><br>", de->s.alerts);
                    }
                    fputs("</td>", f);
                }
                fputs("</tr>\n", f);
            }
        }
        fputs("</table></div>\n", f);
    }
    if (t.bad) {
        fprintf(f,
                "<h2>Bad lines</h2>\n<p>%" PRIu64 " line%s that are not JSON were skipped: ", t.bad,
                t.bad == 1 ? "" : "s");
        for (size_t i = 0; i < r->nbad; i++) {
            if (i)
                fputs(", ", f);
            fputs("<span class=\"mono\">", f);
            h(f, r->bad[i]);
            fputs("</span>", f);
        }
        if (t.bad > r->nbad)
            fprintf(f, " and %" PRIu64 " more", t.bad - r->nbad);
        fputs(".</p>\n", f);
    }
    fprintf(f,
            "<footer>Written by embargo %s. %" PRIu64 " other records skipped. The internal host "
            "is the client side of each flow. Names come from the traffic and are shown as "
            "seen.</footer>\n</main></body></html>\n",
            EMB_VERSION_STRING, t.skipped);
    return 0;
}

int report_write(const report_t *r, report_format_t fmt, FILE *f) {
    views_t v;
    if (views_make(r, &v) != 0)
        return -1;
    int rc = 0;
    switch (fmt) {
    case REPORT_TEXT: text_write(r, &v, f); break;
    case REPORT_CSV: csv_write(r, &v, f); break;
    case REPORT_HTML: rc = html_write(r, &v, f); break;
    case REPORT_JSON: {
        json_t *root = json_build(r, &v);
        if (root == NULL || json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            rc = -1;
        else
            fputc('\n', f);
        json_decref(root);
        break;
    }
    }
    views_free(&v);
    if (rc == 0 && (ferror(f) || fflush(f) != 0))
        rc = -1;
    return rc;
}
