/*
 * The inventory's model (see model.h): EVE lines in, aggregates out. Owns
 * reading a line, picking its vendor, channel, product, internal host and
 * destination, counting it into every aggregate, the totals and bad-line
 * places, and EVE timestamps (parsing them in, formatting them out). Nothing
 * here sorts or writes: views.c orders the aggregates, the renderers write.
 *
 * Design choice: every aggregate is a growable array indexed through one
 * string-keyed hash map, so one alert costs a few hash lookups whatever the
 * number of hosts. Keys join their parts with a 0x1f byte, which cannot occur
 * in a JSON-decoded string we keep (control bytes are replaced when strings
 * are copied in).
 */
#include "report/model.h"

#include "embargo/embargo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers -------------------------------------------------------- */

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
    for (size_t i = 0; i < r->n_vendors; i++) {
        free(r->vendors[i].name);
        free(r->vendors[i].bans);
    }
    for (size_t i = 0; i < r->n_devices; i++) {
        free(r->devices[i].field);
        free(r->devices[i].value);
    }
    free(r->devices);
    for (size_t i = 0; i < r->n_vcs; i++)
        free(r->vcs[i].channel);
    for (size_t i = 0; i < r->n_sources; i++)
        free(r->sources[i]);
    for (size_t i = 0; i < r->n_sensors; i++)
        free(r->sensors[i].name);
    free(r->sensors);
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

bool report__device_field(const char *field) {
    static const char *const names[] = {EMB_DEVICE_KEY_NAMES};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(field, names[i]) == 0)
            return true;
    return false;
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

/*
 * A vendor's bans in words, from alert.context.embargo.bans: what each
 * restricts and whom it binds, "no new FCC equipment authorizations (equipment
 * already authorized may still be used), for everyone; no procurement, by
 * federal agencies". Kept in the record (ctx "ban_words", so it lives as long
 * as the record) and returned; NULL when the alert lists none.
 */
static const char *ban_words(json_t *ctx) {
    json_t *bans = json_object_get(ctx, "bans");
    static const struct {
        const char *term, *words;
    } restricts[] = {
        {"new-authorization",
         "no new FCC equipment authorizations (equipment already authorized may still be used)"},
        {"sale", "no sale"},
        {"updates", "no updates"},
        {"use", "no use"},
        {"procurement", "no procurement"},
    };
    char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(bans); i++) {
        json_t *b = json_array_get(bans, i);
        const char *scope = get_str(b, "scope", NULL, NULL),
                   *status = get_str(b, "status", NULL, NULL);
        json_t *rs = json_object_get(b, "restricts");
        for (size_t k = 0; k < json_array_size(rs) && n < sizeof(buf); k++) {
            const char *t = json_string_value(json_array_get(rs, k)), *w = t;
            for (size_t m = 0; t && m < sizeof(restricts) / sizeof(restricts[0]); m++)
                if (strcmp(t, restricts[m].term) == 0)
                    w = restricts[m].words;
            if (w == NULL)
                continue;
            char who[64];
            if (scope == NULL || strcmp(scope, "all") == 0)
                snprintf(who, sizeof(who), "for everyone");
            else if (strcmp(scope, "federal") == 0)
                snprintf(who, sizeof(who), "by federal agencies");
            else if (strcmp(scope, "federal-contractors") == 0)
                snprintf(who, sizeof(who), "by federal contractors");
            else if (strncmp(scope, "state:", 6) == 0)
                snprintf(who, sizeof(who), "by %.2s state agencies", scope + 6);
            else
                snprintf(who, sizeof(who), "(%.40s)", scope);
            int w_n = snprintf(buf + n, sizeof(buf) - n, "%s%s, %s%s", n ? "; " : "", w, who,
                               status && strcmp(status, "in-force") != 0 ? " (proposed)" : "");
            if (w_n < 0 || (size_t)w_n >= sizeof(buf) - n)
                break;
            n += (size_t)w_n;
        }
    }
    if (n == 0)
        return NULL;
    json_t *words = json_string(buf);
    if (words == NULL || json_object_set_new(ctx, "ban_words", words) != 0)
        return NULL;
    return json_string_value(words);
}

/* The embargo alert in one EVE record; false when the record is not one. */
static bool extract(json_t *root, report_fact_t *f) {
    memset(f, 0, sizeof(*f));
    const char *et = get_str(root, "event_type", NULL, NULL);
    json_t *alert = json_object_get(root, "alert");
    if (et == NULL || strcmp(et, "alert") != 0 || !json_is_object(alert))
        return false;
    json_t *meta = json_object_get(alert, "metadata");
    json_t *ctx = json_object_get(json_object_get(alert, "context"), "embargo");
    const char *vendor = get_str(meta, "vendor", NULL, NULL);
    if (vendor == NULL)
        vendor = get_str(ctx, "vendor", NULL, NULL);
    if (vendor == NULL || *vendor == '\0')
        return false;
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
    f->ts = NO_TIME;
    const char *tstr = get_str(root, "timestamp", NULL, NULL);
    if (tstr == NULL || !report_parse_time(tstr, &f->ts))
        f->ts = NO_TIME;
    /* What a device said of itself: the device is the host, the sender of the
     * message; its peer the packet's destination (docs/rules.md, "Devices"). */
    const char *device = get_str(ctx, "device", "host", NULL);
    if (device != NULL && *device) {
        client = device;
        server = dst ? dst : "unknown";
    }
    f->client = client;
    f->server = server;
    f->name = device != NULL && *device ? "" : dest_name(root, ctx, server);
    f->vendor = vendor;
    f->product = product;
    f->channel = channel;
    f->field = get_str(ctx, "field", NULL, NULL);
    f->value = get_str(ctx, "value", NULL, NULL);
    json_t *sid = json_object_get(alert, "signature_id");
    f->sid = json_is_integer(sid) ? (uint64_t)json_integer_value(sid) : 0;
    json_t *fid = json_object_get(root, "flow_id");
    f->flow_id = json_is_integer(fid) ? (uint64_t)json_integer_value(fid) : 0;
    f->excepted = json_object_get(ctx, "excepted") != NULL;
    f->bans = ban_words(ctx);
    return true;
}

int report_add_sensor(report_t *r, const char *sensor, int64_t ts, int64_t packets, int64_t drops) {
    size_t i = 0;
    while (i < r->n_sensors && strcmp(r->sensors[i].name, sensor) != 0)
        i++;
    if (i == r->n_sensors) {
        if (grow((void **)&r->sensors, &r->cap_sensors, i + 1, sizeof(rsensor_t)) != 0)
            return -1;
        rsensor_t *s = &r->sensors[i];
        memset(s, 0, sizeof(*s));
        if ((s->name = copy_field(sensor)) == NULL)
            return -1;
        s->first = s->last = NO_TIME;
        s->drops = -1;
        r->n_sensors++;
    }
    rsensor_t *s = &r->sensors[i];
    if (ts == NO_TIME)
        return 0;
    s->records++;
    if (s->first == NO_TIME || ts < s->first)
        s->first = ts;
    if (s->last == NO_TIME || ts > s->last)
        s->last = ts;
    if (packets > s->packets)
        s->packets = packets;
    if (drops > s->drops)
        s->drops = drops;
    return 0;
}

/* A line without its surrounding blanks (and CR): the start, and *len its end. */
static size_t line_bounds(const char *line, size_t *len) {
    while (*len > 0 && (line[*len - 1] == '\r' || line[*len - 1] == ' ' || line[*len - 1] == '\t'))
        (*len)--;
    size_t start = 0;
    while (start < *len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    return start;
}

int report_parse_fact(const char *line, size_t len, report_fact_t *f, void **doc) {
    *doc = NULL;
    size_t start = line_bounds(line, &len);
    if (start == len)
        return REPORT_LINE_SKIPPED;
    json_error_t err;
    json_t *root = json_loadb(line + start, len - start, 0, &err);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return REPORT_LINE_BAD;
    }
    if (!extract(root, f)) {
        json_decref(root);
        return REPORT_LINE_SKIPPED;
    }
    *doc = root;
    return REPORT_LINE_ALERT;
}

void report_fact_free(void *doc) {
    json_decref((json_t *)doc);
}

int report_add_fact(report_t *r, const report_fact_t *f) {
    const char *vendor = f->vendor, *channel = f->channel, *product = f->product;
    const char *client = f->client, *server = f->server, *name = f->name ? f->name : "";
    int64_t ts = f->ts;

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
        r->vendors[v].bans = NULL;
        r->n_vendors++;
    }
    if (r->vendors[v].bans == NULL && f->bans != NULL &&
        (r->vendors[v].bans = strdup(f->bans)) == NULL)
        goto out;
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

    if (f->field && report__device_field(f->field)) {
        size_t dv;
        if (lookup(r, make_key(key, sizeof(key), 'D', hname, vname, NULL, NULL), r->n_devices, &dv,
                   &added) != 0)
            goto out;
        if (added) {
            if (grow((void **)&r->devices, &r->cap_devices, r->n_devices + 1, sizeof(rdevice_t)) !=
                0)
                goto out;
            rdevice_t *de = &r->devices[dv];
            de->host = h;
            de->vendor = v;
            de->field = copy_field(f->field);
            de->value = copy_field(f->value ? f->value : "");
            span_init(&de->s);
            r->n_devices++;
            if (de->field == NULL || de->value == NULL)
                goto out;
        }
        span_add(&r->devices[dv].s, ts);
    }

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
    size_t start = line_bounds(line, &len);
    if (start == len)
        return REPORT_LINE_SKIPPED;
    r->lines++;
    report_fact_t f;
    void *doc;
    int rc = report_parse_fact(line + start, len - start, &f, &doc);
    if (rc == REPORT_LINE_BAD)
        return note_bad(r, lineno) == 0 ? REPORT_LINE_BAD : -1;
    if (rc == REPORT_LINE_ALERT)
        rc = report_add_fact(r, &f);
    if (rc == REPORT_LINE_SKIPPED)
        r->skipped++;
    report_fact_free(doc);
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

/* Floors to the second, so a time before 1970 keeps a fraction in 0..999999. */
const char *report__fmt_time(int64_t us, bool full, char buf[40]) {
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
