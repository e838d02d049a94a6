/*
 * `embargo rules diff OLD NEW`: what an update changes, for a reviewer to read
 * before trusting it. Rules are matched by sid. A rule is changed when its
 * vendor, channel, severity, confidence, message or set of indicators differ;
 * indicators are compared as text ("domain upd.kaspersky.com", "ip
 * 94.75.236.0/24", "port 13000/tcp"), so moving one between alternatives of
 * a rule is not a change but adding one to any of them is. Counts per vendor
 * and channel come first, then each rule added, removed or changed with the
 * indicators it gained and lost.
 */
#include "common/util.h"
#include "pack/pack.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **v;
    size_t n, cap;
} strs_t;

static void strs_free(strs_t *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strs_has(const strs_t *s, const char *x) {
    return bsearch(&x, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

/* One indicator as text: its key, then its value as the rule file writes it. */
static char *indicator_text(const emb_indicator_t *ind) {
    char val[256];
    switch (ind->key) {
    case EMB_K_IP: {
        char a[INET6_ADDRSTRLEN];
        if (inet_ntop(ind->cidr.family == 4 ? AF_INET : AF_INET6, ind->cidr.addr, a, sizeof(a)) ==
            NULL)
            a[0] = '\0';
        snprintf(val, sizeof(val), "%s/%u", a, ind->cidr.plen);
        break;
    }
    case EMB_K_PORT: {
        const char *proto = ind->ports.proto == 6 ? "/tcp" : ind->ports.proto == 17 ? "/udp" : "";
        if (ind->ports.lo == ind->ports.hi)
            snprintf(val, sizeof(val), "%u%s", ind->ports.lo, proto);
        else
            snprintf(val, sizeof(val), "%u-%u%s", ind->ports.lo, ind->ports.hi, proto);
        break;
    }
    default: {
        const char *prefix = ind->kind == EMB_PAT_DOMAIN_EXACT ? "="
                             : ind->kind == EMB_PAT_REGEX      ? "re:"
                                                               : "";
        size_t o = (size_t)snprintf(val, sizeof(val), "%s", prefix);
        bool printable = true;
        for (size_t i = 0; i < ind->len; i++)
            printable = printable && ind->text[i] >= 0x20 && ind->text[i] < 0x7f;
        if (!printable)
            o += (size_t)snprintf(val + o, sizeof(val) - o, "hex:");
        for (size_t i = 0; i < ind->len && o + 4 < sizeof(val); i++)
            o += (size_t)(printable ? snprintf(val + o, sizeof(val) - o, "%c", ind->text[i])
                                    : snprintf(val + o, sizeof(val) - o, "%s%02x", i ? " " : "",
                                               (unsigned char)ind->text[i]));
        break;
    }
    }
    size_t n = strlen(emb_key_name(ind->key)) + strlen(val) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s %s", emb_key_name(ind->key), val);
    return s;
}

/* The sorted, distinct indicators of rule r. */
static int indicators_of(const emb_rules_t *rs, const emb_rule_t *r, strs_t *out) {
    memset(out, 0, sizeof(*out));
    for (uint32_t a = r->first_alt; a < r->first_alt + r->nalts; a++) {
        const emb_alt_t *alt = &rs->alts[a];
        for (uint32_t c = 0; c < alt->ncond; c++)
            for (uint32_t i = alt->cond[c].first; i < alt->cond[c].first + alt->cond[c].count;
                 i++) {
                char *t = indicator_text(&rs->inds[i]);
                if (t == NULL ||
                    emb__grow((void **)&out->v, &out->cap, out->n + 1, sizeof(char *)) != 0) {
                    free(t);
                    return EMB_ENOMEM;
                }
                out->v[out->n++] = t;
            }
    }
    qsort(out->v, out->n, sizeof(char *), cmp_str);
    size_t k = 0; /* drop repeats */
    for (size_t i = 0; i < out->n; i++) {
        if (k > 0 && strcmp(out->v[k - 1], out->v[i]) == 0)
            free(out->v[i]);
        else
            out->v[k++] = out->v[i];
    }
    out->n = k;
    return 0;
}

static const emb_rule_t *by_sid(const emb_rules_t *rs, uint32_t sid) {
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i].sid == sid)
            return &rs->rules[i];
    return NULL;
}

static const char *vendor_of(const emb_rules_t *rs, const emb_rule_t *r) {
    return rs->vendors[r->vendor].id;
}

/* Per vendor and channel: rules and indicators added and removed. */
typedef struct {
    char vendor[64];
    emb_channel_t channel;
    size_t rules_added, rules_removed, rules_changed, inds_added, inds_removed;
} tally_t;

typedef struct {
    tally_t *v;
    size_t n, cap;
} tallies_t;

static tally_t *tally_of(tallies_t *t, const char *vendor, emb_channel_t ch) {
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].vendor, vendor) == 0 && t->v[i].channel == ch)
            return &t->v[i];
    if (emb__grow((void **)&t->v, &t->cap, t->n + 1, sizeof(tally_t)) != 0)
        return NULL;
    tally_t *x = &t->v[t->n++];
    memset(x, 0, sizeof(*x));
    snprintf(x->vendor, sizeof(x->vendor), "%s", vendor);
    x->channel = ch;
    return x;
}

static json_t *strs_json(const strs_t *s, const strs_t *minus) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->n; i++)
        if (minus == NULL || !strs_has(minus, s->v[i]))
            json_array_append_new(a, json_string(s->v[i]));
    return a;
}

/* One rule's record: sid, vendor, channel, msg, and what changed. */
static json_t *rule_json(const emb_rules_t *rs, const emb_rule_t *r, const char *what) {
    return json_pack("{s:s, s:I, s:s, s:s, s:s}", "change", what, "sid", (json_int_t)r->sid,
                     "vendor", vendor_of(rs, r), "channel", emb_channel_name(r->channel), "msg",
                     r->msg);
}

static void note_fields(json_t *o, const emb_rules_t *a, const emb_rule_t *ra, const emb_rules_t *b,
                        const emb_rule_t *rb) {
    json_t *f = json_array();
    if (strcmp(vendor_of(a, ra), vendor_of(b, rb)) != 0)
        json_array_append_new(f, json_string("vendor"));
    if (ra->channel != rb->channel)
        json_array_append_new(f, json_string("channel"));
    if (ra->severity != rb->severity)
        json_array_append_new(f, json_string("severity"));
    if (ra->confidence != rb->confidence)
        json_array_append_new(f, json_string("confidence"));
    if (strcmp(ra->msg, rb->msg) != 0)
        json_array_append_new(f, json_string("msg"));
    if (ra->rev != rb->rev)
        json_array_append_new(f, json_string("rev"));
    json_object_set_new(o, "fields", f);
}

/* The whole difference as one JSON document; NULL when out of memory. */
static json_t *diff_json(const emb_rules_t *a, const emb_rules_t *b) {
    json_t *rules = json_array();
    tallies_t t = {0};
    bool oom = rules == NULL;
    for (int side = 0; side < 2 && !oom; side++) {
        const emb_rules_t *from = side ? b : a, *to = side ? a : b;
        for (size_t i = 0; i < from->nrules && !oom; i++) {
            const emb_rule_t *r = &from->rules[i];
            const emb_rule_t *o = by_sid(to, r->sid);
            strs_t ri, oi;
            if (indicators_of(from, r, &ri) != 0) {
                strs_free(&ri);
                oom = true;
                break;
            }
            memset(&oi, 0, sizeof(oi));
            if (o == NULL) { /* only in one of them */
                tally_t *x = tally_of(&t, vendor_of(from, r), r->channel);
                json_t *j = rule_json(from, r, side ? "added" : "removed");
                if (x == NULL || j == NULL) {
                    oom = true;
                } else {
                    if (side)
                        x->rules_added++, x->inds_added += ri.n;
                    else
                        x->rules_removed++, x->inds_removed += ri.n;
                    json_object_set_new(j, "indicators", strs_json(&ri, NULL));
                    json_array_append_new(rules, j);
                }
            } else if (side == 1 && indicators_of(to, o, &oi) == 0) { /* in both: once */
                json_t *j = rule_json(from, r, "changed");
                note_fields(j, to, o, from, r);
                json_t *added = strs_json(&ri, &oi), *removed = strs_json(&oi, &ri);
                bool changed = json_array_size(json_object_get(j, "fields")) > 0 ||
                               json_array_size(added) > 0 || json_array_size(removed) > 0;
                tally_t *x = changed ? tally_of(&t, vendor_of(from, r), r->channel) : NULL;
                if (changed && x) {
                    x->rules_changed++;
                    x->inds_added += json_array_size(added);
                    x->inds_removed += json_array_size(removed);
                    json_object_set_new(j, "indicators_added", added);
                    json_object_set_new(j, "indicators_removed", removed);
                    json_array_append_new(rules, j);
                } else {
                    oom = oom || (changed && x == NULL);
                    json_decref(added);
                    json_decref(removed);
                    json_decref(j);
                }
            }
            strs_free(&ri);
            strs_free(&oi);
        }
    }
    json_t *per = json_array();
    for (size_t i = 0; per && i < t.n; i++)
        json_array_append_new(per,
                              json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "vendor",
                                        t.v[i].vendor, "channel", emb_channel_name(t.v[i].channel),
                                        "rules_added", (json_int_t)t.v[i].rules_added,
                                        "rules_removed", (json_int_t)t.v[i].rules_removed,
                                        "rules_changed", (json_int_t)t.v[i].rules_changed,
                                        "indicators_added", (json_int_t)t.v[i].inds_added,
                                        "indicators_removed", (json_int_t)t.v[i].inds_removed));
    free(t.v);
    if (oom || per == NULL) {
        json_decref(rules);
        json_decref(per);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "summary", per, "rules", rules);
}

static int out(emb_write_cb write, void *ud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int out(emb_write_cb write, void *ud, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return EMB_EIO;
    return write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, ud) ? EMB_EIO : 0;
}

static int text(const json_t *d, emb_write_cb write, void *ud) {
    const json_t *per = json_object_get(d, "summary"), *rules = json_object_get(d, "rules");
    int rc = 0;
    if (json_array_size(rules) == 0)
        return out(write, ud, "no difference in rules or indicators\n");
    rc = out(write, ud, "%-14s %-11s %6s %8s %8s %11s %11s\n", "vendor", "channel", "rules+",
             "rules-", "changed", "indicators+", "indicators-");
    size_t i;
    json_t *x;
    json_array_foreach(per, i, x) {
        if (rc == 0)
            rc = out(write, ud, "%-14s %-11s %6lld %8lld %8lld %11lld %11lld\n",
                     json_string_value(json_object_get(x, "vendor")),
                     json_string_value(json_object_get(x, "channel")),
                     json_integer_value(json_object_get(x, "rules_added")),
                     json_integer_value(json_object_get(x, "rules_removed")),
                     json_integer_value(json_object_get(x, "rules_changed")),
                     json_integer_value(json_object_get(x, "indicators_added")),
                     json_integer_value(json_object_get(x, "indicators_removed")));
    }
    json_array_foreach(rules, i, x) {
        if (rc != 0)
            break;
        rc = out(write, ud, "\n%s %lld (%s %s): %s\n",
                 json_string_value(json_object_get(x, "change")),
                 json_integer_value(json_object_get(x, "sid")),
                 json_string_value(json_object_get(x, "vendor")),
                 json_string_value(json_object_get(x, "channel")),
                 json_string_value(json_object_get(x, "msg")));
        const json_t *f = json_object_get(x, "fields");
        if (rc == 0 && json_array_size(f) > 0) {
            size_t k;
            json_t *y;
            rc = out(write, ud, "  fields changed:");
            json_array_foreach(f, k, y) {
                if (rc == 0)
                    rc = out(write, ud, " %s", json_string_value(y));
            }
            if (rc == 0)
                rc = out(write, ud, "\n");
        }
        const char *lists[] = {"indicators", "indicators_added", "indicators_removed"};
        const char *marks[] = {"  ", "  + ", "  - "};
        for (int l = 0; l < 3 && rc == 0; l++) {
            size_t k;
            json_t *y;
            json_array_foreach(json_object_get(x, lists[l]), k, y) {
                if (rc == 0)
                    rc = out(write, ud, "%s%s\n", marks[l], json_string_value(y));
            }
        }
    }
    return rc;
}

static int dump_cb(const char *buf, size_t len, void *data) {
    void **ctx = data;
    emb_write_cb write = (emb_write_cb)(uintptr_t)ctx[0];
    return write(buf, len, ctx[1]);
}

int emb_rules_diff(const emb_rules_t *old, const emb_rules_t *new_rules, bool json,
                   emb_write_cb write, void *userdata) {
    if (old == NULL || new_rules == NULL || write == NULL)
        return EMB_EINVAL;
    json_t *d = diff_json(old, new_rules);
    if (d == NULL)
        return EMB_ENOMEM;
    int rc;
    if (json) {
        void *ctx[2] = {(void *)(uintptr_t)write, userdata};
        rc = json_dump_callback(d, dump_cb, ctx, JSON_INDENT(2)) == 0 &&
                     write("\n", 1, userdata) == 0
                 ? 0
                 : EMB_EIO;
    } else {
        rc = text(d, write, userdata);
    }
    json_decref(d);
    return rc;
}
