/*
 * Hyperscan matching: one database per field kind, compiled once from the
 * rule pack, and the normalisation of domain-valued fields.
 *
 * Every string indicator becomes one expression in the database of each field
 * it applies to (a `domain` indicator lands in the DNS, SNI, Host, QUIC and
 * certificate-name databases). The expression id is an index into that
 * field's table of (alternative, condition) references, so a match maps back
 * to its rule in O(1). All expressions use HS_FLAG_SINGLEMATCH: the engine
 * only needs to know that a condition held, not where or how often.
 */
#include "internal.h"

#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[EMB_FIELD__COUNT] = {
    "dns.query",       "tls.sni",  "http.host",     "http.uri",
    "http.user_agent", "quic.sni", "tls.cert_name", "tls.cert_subject",
    "tls.cert_issuer", "ja4",      "payload"};

const char *emb__field_name(emb_field_t f) {
    return (unsigned)f < EMB_FIELD__COUNT ? field_names[f] : "unknown";
}

bool emb__key_feeds_field(emb_key_t key, emb_field_t f) {
    switch (key) {
    case EMB_K_DOMAIN:
        return f == EMB_FIELD_DNS_QUERY || f == EMB_FIELD_TLS_SNI || f == EMB_FIELD_HTTP_HOST ||
               f == EMB_FIELD_QUIC_SNI || f == EMB_FIELD_TLS_CERT_NAME;
    case EMB_K_DNS_QUERY: return f == EMB_FIELD_DNS_QUERY;
    case EMB_K_TLS_SNI: return f == EMB_FIELD_TLS_SNI;
    case EMB_K_TLS_CERT_SUBJECT: return f == EMB_FIELD_TLS_CERT_SUBJECT;
    case EMB_K_TLS_CERT_ISSUER: return f == EMB_FIELD_TLS_CERT_ISSUER;
    case EMB_K_HTTP_HOST: return f == EMB_FIELD_HTTP_HOST;
    case EMB_K_HTTP_URI: return f == EMB_FIELD_HTTP_URI;
    case EMB_K_HTTP_USER_AGENT: return f == EMB_FIELD_HTTP_USER_AGENT;
    case EMB_K_QUIC_SNI: return f == EMB_FIELD_QUIC_SNI;
    case EMB_K_JA4: return f == EMB_FIELD_JA4;
    case EMB_K_PAYLOAD: return f == EMB_FIELD_PAYLOAD;
    default: return false;
    }
}

/* ---- normalisation ----------------------------------------------------- */

size_t emb__normalize_name(const uint8_t *in, size_t len, char *out, size_t cap) {
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len > cap)
        len = cap;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return len;
}

void emb__host_split(const uint8_t *in, size_t len, size_t *name_len, size_t *port) {
    *name_len = len;
    *port = 0;
    size_t colon;
    if (len > 0 && in[0] == '[') {
        /* "[v6]" or "[v6]:port" */
        size_t end = 1;
        while (end < len && in[end] != ']')
            end++;
        if (end == len)
            return;
        *name_len = end + 1;
        colon = end + 1;
        if (colon == len)
            return;
        if (in[colon] != ':') {
            *name_len = len;
            return;
        }
    } else {
        /* One colon only: a bare IPv6 address has several and keeps them. */
        const uint8_t *c = memchr(in, ':', len);
        if (c == NULL || memchr(c + 1, ':', len - (size_t)(c - in) - 1) != NULL)
            return;
        colon = (size_t)(c - in);
    }
    size_t v = 0, i = colon + 1;
    if (i == len || len - i > 5)
        return;
    for (; i < len; i++) {
        if (in[i] < '0' || in[i] > '9')
            return;
        v = v * 10 + (size_t)(in[i] - '0');
    }
    if (v > 65535)
        return;
    *name_len = colon;
    *port = v;
}

size_t emb__normalize_host(const uint8_t *in, size_t len, char *out, size_t cap) {
    size_t name_len, port;
    emb__host_split(in, len, &name_len, &port);
    if (name_len >= 2 && in[0] == '[' && in[name_len - 1] == ']')
        return emb__normalize_name(in + 1, name_len - 2, out, cap);
    return emb__normalize_name(in, name_len, out, cap);
}

/* ---- expressions ------------------------------------------------------- */

/* Appends `c` escaped so Hyperscan reads it as that literal byte. */
static size_t put_lit(char *o, uint8_t c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-' || c == '/' || c == ' ')
        return (size_t)(o[0] = (char)c, 1);
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    o[1] = 'x';
    o[2] = hex[c >> 4];
    o[3] = hex[c & 15];
    return 4;
}

char *emb__pattern_expr(const emb_indicator_t *ind) {
    if (ind->kind == EMB_PAT_REGEX)
        return emb__strndup(ind->text, ind->len);

    /* Worst case: every byte becomes "[^.]*" or "\xHH" (5 chars), plus anchors. */
    char *o = malloc(ind->len * 5 + 16);
    if (o == NULL)
        return NULL;
    size_t n = 0;
    if (ind->kind == EMB_PAT_DOMAIN) {
        memcpy(o, "(?:^|\\.)", 8);
        n = 8;
    } else if (ind->kind == EMB_PAT_DOMAIN_EXACT) {
        o[n++] = '^';
    }
    bool domain = ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT;
    for (size_t i = 0; i < ind->len; i++) {
        uint8_t c = (uint8_t)ind->text[i];
        if (domain && c == '*') {
            memcpy(o + n, "[^.]*", 5);
            n += 5;
        } else {
            n += put_lit(o + n, c);
        }
    }
    if (domain) {
        memcpy(o + n, "\\z", 2);
        n += 2;
    }
    o[n] = '\0';
    return o;
}

/* ---- databases --------------------------------------------------------- */

struct emb_matcher {
    hs_database_t *db[EMB_FIELD__COUNT];
    emb_patref_t *refs[EMB_FIELD__COUNT];
    size_t nrefs[EMB_FIELD__COUNT];
    hs_scratch_t *scratch;
    uint32_t *flow_alts;
    size_t nflow_alts;
};

/* One expression of a field's database, before compilation. */
typedef struct {
    char *expr;
    uint32_t ind; /* indicator it came from, for error messages */
    emb_patref_t ref;
} pending_t;

/* Compiles the database of one field; leaves db NULL when no indicator feeds it. */
static int build_field(emb_matcher_t *m, const emb_rules_t *r, emb_field_t f, emb_diags_t **diags) {
    pending_t *pend = NULL;
    size_t n = 0, cap = 0;
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    int rc = 0;

    for (uint32_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        for (uint32_t c = 0; c < alt->ncond; c++) {
            const emb_cond_t *cond = &alt->cond[c];
            if (!emb__key_feeds_field(cond->key, f))
                continue;
            for (uint32_t i = cond->first; i < cond->first + cond->count; i++) {
                if (emb__grow((void **)&pend, &cap, n + 1, sizeof(*pend)))
                    goto nomem;
                pend[n].expr = emb__pattern_expr(&r->inds[i]);
                if (pend[n].expr == NULL)
                    goto nomem;
                pend[n].ind = i;
                pend[n].ref.alt = a;
                pend[n].ref.cond = c;
                pend[n].ref.ind = i;
                n++;
            }
        }
    }
    if (n == 0)
        goto out;

    exprs = malloc(n * sizeof(*exprs));
    flags = malloc(n * sizeof(*flags));
    ids = malloc(n * sizeof(*ids));
    m->refs[f] = malloc(n * sizeof(emb_patref_t));
    if (exprs == NULL || flags == NULL || ids == NULL || m->refs[f] == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        exprs[i] = pend[i].expr;
        flags[i] = HS_FLAG_SINGLEMATCH;
        ids[i] = (unsigned)i;
        m->refs[f][i] = pend[i].ref;
    }
    m->nrefs[f] = n;

    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &m->db[f], &cerr) !=
        HS_SUCCESS) {
        const emb_indicator_t *bad = cerr && cerr->expression >= 0 && (size_t)cerr->expression < n
                                         ? &r->inds[pend[cerr->expression].ind]
                                         : NULL;
        if (bad)
            emb__diag_add(diags, r->files[bad->file], bad->line, bad->col,
                          "Hyperscan cannot compile this pattern for %s: %s", emb__field_name(f),
                          cerr->message);
        else
            emb__diag_add(diags, NULL, 0, 0, "Hyperscan compile failed for %s: %s",
                          emb__field_name(f), cerr ? cerr->message : "?");
        hs_free_compile_error(cerr);
        rc = EMB_EHS;
        goto out;
    }
    if (hs_alloc_scratch(m->db[f], &m->scratch) != HS_SUCCESS) {
        emb__diag_add(diags, NULL, 0, 0, "Hyperscan could not allocate scratch space");
        rc = EMB_EHS;
    }
    goto out;

nomem:
    rc = EMB_ENOMEM;
out:
    for (size_t i = 0; i < n; i++)
        free(pend[i].expr);
    free(pend);
    free(exprs);
    free(flags);
    free(ids);
    return rc;
}

int emb__matcher_new(const emb_rules_t *r, emb_matcher_t **out, emb_diags_t **diags) {
    *out = NULL;
    emb_matcher_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return EMB_ENOMEM;
    int rc = 0;
    for (int f = 0; f < EMB_FIELD__COUNT; f++) {
        if ((rc = build_field(m, r, (emb_field_t)f, diags)) != 0)
            goto fail;
    }
    for (uint32_t a = 0; a < r->nalts; a++) {
        if (r->alts[a].content_mask != 0)
            continue;
        uint32_t *grown = realloc(m->flow_alts, (m->nflow_alts + 1) * sizeof(uint32_t));
        if (grown == NULL) {
            rc = EMB_ENOMEM;
            goto fail;
        }
        m->flow_alts = grown;
        m->flow_alts[m->nflow_alts++] = a;
    }
    *out = m;
    return 0;
fail:
    emb__matcher_free(m);
    return rc;
}

void emb__matcher_free(emb_matcher_t *m) {
    if (m == NULL)
        return;
    for (int f = 0; f < EMB_FIELD__COUNT; f++) {
        hs_free_database(m->db[f]);
        free(m->refs[f]);
    }
    hs_free_scratch(m->scratch);
    free(m->flow_alts);
    free(m);
}

const uint32_t *emb__matcher_flow_alts(const emb_matcher_t *m, size_t *n) {
    *n = m->nflow_alts;
    return m->flow_alts;
}

typedef struct {
    const emb_patref_t *refs;
    emb_match_fn fn;
    void *ctx;
} scan_ctx_t;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *arg) {
    (void)from;
    (void)to;
    (void)flags;
    scan_ctx_t *sc = arg;
    sc->fn(&sc->refs[id], sc->ctx);
    return 0;
}

int emb__matcher_scan(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx) {
    if (m->db[f] == NULL || len == 0)
        return 0;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    scan_ctx_t sc = {m->refs[f], fn, ctx};
    hs_error_t err =
        hs_scan(m->db[f], (const char *)data, (unsigned)len, 0, m->scratch, on_match, &sc);
    return err == HS_SUCCESS ? 0 : EMB_EHS;
}
