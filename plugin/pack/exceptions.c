/*
 * A site's exceptions file (docs/exceptions.md): which alerts an analyst has
 * accepted, for which clients, why, whose call it was and until when.
 *
 * Loaded like a rule file: libyaml's node tree, every error as
 * file:line:column, all errors of the file reported, any error rejects it.
 * The engine consults the list when it writes an alert (detect/round.c): an
 * alert a live exception covers is still written, marked.
 */
#include "pack/pack.h"

#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_ERRORS 100

typedef struct {
    emb_exceptions_t *x;
    emb_diags_t **diags;
    size_t nerrors;
    bool oom;
    yaml_document_t *doc;
} xloader_t;

static unsigned line_of(const yaml_node_t *n) {
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}
static unsigned col_of(const yaml_node_t *n) {
    return n ? (unsigned)n->start_mark.column + 1 : 0;
}

static void xerr(xloader_t *L, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xerr(xloader_t *L, const yaml_node_t *n, const char *fmt, ...) {
    if (++L->nerrors > MAX_ERRORS)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (emb__diag_add(L->diags, L->x->file, line_of(n), col_of(n), "%s", msg) != 0)
        L->oom = true;
}

static const char *scalar_of(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool emb__parse_date(const char *s, int64_t *day_start) {
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    unsigned y = (unsigned)atoi(s), m = (unsigned)atoi(s + 5), d = (unsigned)atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return false;
    *day_start = days_from_civil(y, m, d) * 86400;
    return true;
}

static void load_entry(xloader_t *L, yaml_node_t *n) {
    if (n->type != YAML_MAPPING_NODE) {
        xerr(L, n,
             "each exception must be a mapping (host, vendor/channel/sid, reason, owner, "
             "expires)");
        return;
    }
    emb_exception_t ex;
    memset(&ex, 0, sizeof(ex));
    ex.channel = -1;
    ex.line = line_of(n);
    ex.col = col_of(n);
    bool ok = true, have_host = false, have_expires = false;
    const char *vendor = NULL, *reason = NULL, *owner = NULL;

    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
        const char *k = scalar_of(kn), *v = scalar_of(vn);
        if (k == NULL) {
            xerr(L, kn, "an exception's keys must be scalars");
            ok = false;
            continue;
        }
        if (v == NULL || *v == '\0') {
            xerr(L, vn ? vn : kn, "'%s' must be a non-empty scalar", k);
            ok = false;
            continue;
        }
        const char *why = NULL;
        if (strcmp(k, "host") == 0) {
            have_host = true;
            if (emb__parse_cidr(v, &ex.host, &why) != 0) {
                xerr(L, vn, "bad host '%s': %s", v, why);
                ok = false;
            }
        } else if (strcmp(k, "vendor") == 0) {
            vendor = v;
        } else if (strcmp(k, "channel") == 0) {
            emb_channel_t ch;
            if (!emb__channel_lookup(v, &ch)) {
                xerr(L, vn, "unknown channel '%s'", v);
                ok = false;
            } else {
                ex.channel = (int)ch;
            }
        } else if (strcmp(k, "sid") == 0) {
            if (!emb__parse_u32(v, 1, UINT32_MAX, &ex.sid)) {
                xerr(L, vn, "bad sid '%s': a number from 1", v);
                ok = false;
            }
        } else if (strcmp(k, "reason") == 0) {
            reason = v;
        } else if (strcmp(k, "owner") == 0) {
            owner = v;
        } else if (strcmp(k, "expires") == 0) {
            have_expires = true;
            int64_t start;
            if (!emb__parse_date(v, &start)) {
                xerr(L, vn, "bad expires '%s': a date YYYY-MM-DD", v);
                ok = false;
            } else {
                memcpy(ex.expires, v, 11);
                ex.until = start + 86400;
            }
        } else {
            xerr(L, kn, "unknown key '%s' (host, vendor, channel, sid, reason, owner, expires)", k);
            ok = false;
        }
    }
    static const char *const required[] = {"host", "reason", "owner", "expires"};
    const bool have[] = {have_host, reason != NULL, owner != NULL, have_expires};
    for (size_t i = 0; i < 4; i++)
        if (!have[i]) {
            xerr(L, n, "exception without '%s'", required[i]);
            ok = false;
        }
    if (vendor == NULL && ex.channel < 0 && ex.sid == 0) {
        xerr(L, n, "exception without vendor, channel or sid: it would silence every alert");
        ok = false;
    }
    if (!ok)
        return;
    ex.vendor = vendor ? emb__strdup(vendor) : NULL;
    ex.reason = emb__strdup(reason);
    ex.owner = emb__strdup(owner);
    emb_exceptions_t *x = L->x;
    if ((vendor && ex.vendor == NULL) || ex.reason == NULL || ex.owner == NULL ||
        emb__grow((void **)&x->v, &x->cap, x->n + 1, sizeof(*x->v))) {
        free(ex.vendor);
        free(ex.reason);
        free(ex.owner);
        L->oom = true;
        return;
    }
    x->v[x->n++] = ex;
}

static void load_root(xloader_t *L, yaml_node_t *root) {
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        xerr(L, root, "an exceptions file must be a mapping with one key, 'exceptions'");
        return;
    }
    bool seen = false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top && !L->oom; p++) {
        yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
        const char *k = scalar_of(kn);
        if (k == NULL || strcmp(k, "exceptions") != 0) {
            xerr(L, kn, "unknown key '%s' (only 'exceptions')", k ? k : "?");
            continue;
        }
        seen = true;
        if (vn->type != YAML_SEQUENCE_NODE) {
            xerr(L, vn, "'exceptions' must be a list");
            continue;
        }
        for (yaml_node_item_t *it = vn->data.sequence.items.start;
             it < vn->data.sequence.items.top && !L->oom; it++)
            load_entry(L, yaml_document_get_node(L->doc, *it));
    }
    if (!seen)
        xerr(L, root, "no 'exceptions' list");
}

int emb_exceptions_load(const char *path, emb_exceptions_t **out, emb_diags_t **diags) {
    if (diags)
        *diags = NULL;
    if (out == NULL)
        return EMB_EINVAL;
    *out = NULL;
    if (path == NULL)
        return EMB_EINVAL;
    emb_exceptions_t *x = calloc(1, sizeof(*x));
    if (x == NULL || (x->file = emb__strdup(path)) == NULL) {
        free(x);
        return EMB_ENOMEM;
    }
    emb_diags_t *local = NULL;
    xloader_t L = {.x = x, .diags = &local};
    int rc = 0;

    FILE *f = fopen(path, "rb");
    yaml_parser_t parser;
    yaml_document_t doc;
    if (f == NULL) {
        emb__diag_add(&local, path, 0, 0, "cannot open: %s", strerror(errno));
        rc = EMB_EIO;
    } else if (!yaml_parser_initialize(&parser)) {
        L.oom = true;
    } else {
        yaml_parser_set_input_file(&parser, f);
        if (!yaml_parser_load(&parser, &doc)) {
            const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column
                                       ? &parser.problem_mark
                                       : &parser.context_mark;
            emb__diag_add(&local, path, (unsigned)m->line + 1, (unsigned)m->column + 1,
                          "YAML error: %s", parser.problem ? parser.problem : "malformed YAML");
            L.nerrors++;
        } else {
            L.doc = &doc;
            load_root(&L, yaml_document_get_root_node(&doc));
            yaml_document_delete(&doc);
        }
        yaml_parser_delete(&parser);
    }
    if (f)
        fclose(f);
    if (rc == 0 && L.oom)
        rc = EMB_ENOMEM;
    else if (rc == 0 && L.nerrors > 0)
        rc = EMB_ERULES;
    if (rc != 0) {
        emb_exceptions_free(x);
        emb__diags_give(local, diags);
        return rc;
    }
    emb_diags_free(local);
    *out = x;
    return 0;
}

void emb_exceptions_free(emb_exceptions_t *x) {
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n; i++) {
        free(x->v[i].vendor);
        free(x->v[i].reason);
        free(x->v[i].owner);
    }
    free(x->v);
    free(x->file);
    free(x);
}

size_t emb_exceptions_count(const emb_exceptions_t *x) {
    return x ? x->n : 0;
}

int emb_exceptions_info(const emb_exceptions_t *x, size_t i, emb_exception_info_t *out) {
    if (x == NULL || i >= x->n || out == NULL)
        return EMB_EINVAL;
    const emb_exception_t *ex = &x->v[i];
    *out = (emb_exception_info_t){.file = x->file,
                                  .line = ex->line,
                                  .column = ex->col,
                                  .reason = ex->reason,
                                  .owner = ex->owner,
                                  .expires = ex->expires};
    return 0;
}

long emb__exceptions_find(const emb_exceptions_t *x, int family, const uint8_t *addr,
                          const char *vendor, emb_channel_t channel, uint32_t sid, int64_t ts,
                          uint64_t *expired_hits) {
    long live = -1;
    for (size_t i = 0; x && i < x->n; i++) {
        const emb_exception_t *ex = &x->v[i];
        if (!emb__cidr_contains(&ex->host, family, addr) ||
            (ex->vendor && (vendor == NULL || strcmp(ex->vendor, vendor) != 0)) ||
            (ex->channel >= 0 && ex->channel != (int)channel) || (ex->sid && ex->sid != sid))
            continue;
        if (ts < ex->until) {
            if (live < 0)
                live = (long)i;
        } else if (expired_hits) {
            expired_hits[i]++;
        }
    }
    return live;
}
