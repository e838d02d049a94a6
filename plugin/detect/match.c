/*
 * Hyperscan matching: one database per field kind, compiled once from the
 * rule pack (and kept in a cache: hsdb.c).
 *
 * Every string indicator becomes one expression in the database of each field
 * it applies to (a `domain` indicator with '*' lands in the one database the
 * DNS, SNI, Host, QUIC and certificate-name fields share; one without, in the
 * table of domain suffixes, domains.c, which answers it without a scan). The
 * expression id is an index into that field's table of (alternative,
 * condition) references, so a match maps back to its rule in O(1). All
 * expressions use HS_FLAG_SINGLEMATCH: the engine only needs to know that a
 * condition held, not where or how often.
 */
#include "detect/match.h"

#include "common/names.h"
#include "detect/domains.h"
#include "detect/hsdb.h"
#include "common/util.h"

#include <hs.h>
#include <stdlib.h>
#include <string.h>

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

/* A domain pattern without '*' is a plain literal over the dotted name. */
static bool dotted_literal(const emb_indicator_t *ind) {
    return (ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT) &&
           memchr(ind->text, '*', ind->len) == NULL;
}

char *emb__pattern_expr(const emb_indicator_t *ind) {
    if (ind->kind == EMB_PAT_REGEX)
        return emb__strndup(ind->text, ind->len);
    if (ind->key == EMB_K_MAC) { /* a prefix of "AA:BB:CC:DD:EE:FF" */
        char *o = malloc(ind->len + 2);
        if (o) {
            o[0] = '^';
            memcpy(o + 1, ind->text, ind->len);
            o[ind->len + 1] = '\0';
        }
        return o;
    }
    if (dotted_literal(ind)) {
        char *o = malloc(ind->len + 2);
        if (o) {
            o[0] = '.';
            memcpy(o + 1, ind->text, ind->len);
            o[ind->len + 1] = '\0';
        }
        return o;
    }

    /* Worst case: every byte becomes "[^.]*" or "\xHH" (5 chars), plus anchors. */
    char *o = malloc(ind->len * 5 + 16);
    if (o == NULL)
        return NULL;
    size_t n = 0;
    /* Domain patterns are matched against the name with a dot in front
     * (".kaspersky.com"), so "the name or any subdomain" is one plain suffix,
     * ".kaspersky.com" at the end, with no alternation for Hyperscan to
     * compile: that keeps start-up fast with thousands of names. */
    if (ind->kind == EMB_PAT_DOMAIN_EXACT)
        o[n++] = '^';
    if (ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT) {
        memcpy(o + n, "\\.", 2);
        n += 2;
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

/*
 * Databases. The five domain-valued fields share one: their patterns are
 * mostly the same `domain` indicators, and compiling them five times would
 * make start-up five times slower. Each pattern carries the set of fields it
 * applies to, and a hit in a field outside that set is ignored. Every other
 * field has a database of its own.
 */
typedef enum {
    DB_DOTTED,    /* domain patterns without '*': no database, the suffix table (domains.c) */
    DB_DOTTED_RE, /* domain patterns with '*': regexes over "." + name */
    DB_NAMES,     /* other patterns of the name fields (substrings, regexes), over the name */
    DB_URI,
    DB_UA,
    DB_SUBJECT,
    DB_ISSUER,
    DB_JA4,
    DB_PAYLOAD,
    DB_DEVICE, /* the device fields (http.server ... dhcp.hostname), told apart by field bit */
    DB_OUI,    /* cwmp.oui: thousands of IEEE assignments, kept out of the small one */
    DB__COUNT
} db_t;

#define NAME_FIELDS                                                                                \
    ((1u << EMB_FIELD_DNS_QUERY) | (1u << EMB_FIELD_TLS_SNI) | (1u << EMB_FIELD_HTTP_HOST) |       \
     (1u << EMB_FIELD_QUIC_SNI) | (1u << EMB_FIELD_TLS_CERT_NAME))

static db_t db_of(emb_field_t f) {
    switch (f) {
    case EMB_FIELD_HTTP_URI: return DB_URI;
    case EMB_FIELD_HTTP_USER_AGENT: return DB_UA;
    case EMB_FIELD_TLS_CERT_SUBJECT: return DB_SUBJECT;
    case EMB_FIELD_TLS_CERT_ISSUER: return DB_ISSUER;
    case EMB_FIELD_JA4: return DB_JA4;
    case EMB_FIELD_PAYLOAD: return DB_PAYLOAD;
    case EMB_FIELD_CWMP_OUI: return DB_OUI;
    default: return emb__field_is_device(f) ? DB_DEVICE : DB_NAMES;
    }
}

static uint32_t fields_of_db(db_t db) {
    if (db == DB_DOTTED || db == DB_DOTTED_RE)
        db = DB_NAMES;
    uint32_t mask = 0;
    for (int f = 0; f < EMB_FIELD__COUNT; f++)
        if (db_of((emb_field_t)f) == db)
            mask |= 1u << f;
    return mask;
}

static uint32_t fields_of_key(emb_key_t key) {
    uint32_t mask = 0;
    for (int f = 0; f < EMB_FIELD__COUNT; f++)
        if (emb__key_feeds_field(key, (emb_field_t)f))
            mask |= 1u << f;
    return mask;
}

/*
 * `mac` indicators are prefixes of 24 to 48 bits of an Ethernet address:
 * thousands of IEEE assignments, looked up once per flow direction. A sorted
 * table answers that with a binary search per prefix length (two lengths in
 * the shipped pack: MA-L and MA-M), with no Hyperscan scan of a 17-byte text
 * against a large database.
 */
typedef struct {
    uint64_t value; /* the prefix's bits, left-aligned in 48 */
    uint8_t bits;
    emb_patref_t ref;
} mac_prefix_t;

struct emb_matcher {
    hs_database_t *db[DB__COUNT];
    emb_patref_t *refs[DB__COUNT];
    size_t nrefs[DB__COUNT];
    hs_scratch_t *scratch;
    uint32_t *flow_alts;
    emb_flow_sieve_t *flow_sieves; /* per flow alternative (emb__matcher_flow_alt_may) */
    size_t nflow_alts;
    emb_flow_union_t flow_union; /* all of them (emb__matcher_flow_union) */
    uint32_t start_width;        /* emb__matcher_start_width */
    mac_prefix_t *macs;          /* `mac` indicators, by length then value (mac_table_build) */
    size_t nmacs, cap_macs;
    size_t mac_group[8]; /* where each prefix length's run starts; the last, nmacs */
    size_t nmac_groups;
    uint64_t *mac16; /* a bit per first 16 bits of a prefix (emb__matcher_mac_may); NULL: none */
    bool from_cache;
    struct miss *miss;      /* MISS_SLOTS values that matched nothing; NULL until the first */
    emb_domains_t *domains; /* DB_DOTTED's patterns, and the tails DB_DOTTED_RE's need */
    bool re_ungated;        /* a DB_DOTTED_RE pattern has no tail: always scanned */
    char dotted[1 + 4096];  /* "." + a name */
    /* The fields some pattern of each database is for (a bit per emb_field_t, from its
     * refs), known at the first scan: a field no pattern is for costs no scan. */
    uint32_t db_fields[DB__COUNT];
    bool db_fields_known;
};

/*
 * Values that matched nothing, remembered per matcher (emb__matcher_scan).
 * Values repeat: a DNS name is in the query, its answer, the SNI and the
 * Host that follow; user agents and JA4s repeat per client; and almost none
 * of them is a vendor's. A direct-mapped table of the exact value: a slot
 * is reused by the next miss that hashes to it, a hit is never kept (what it
 * raised is the round's work), and a value longer than MISS_LEN is scanned
 * every time. The databases do not change during a matcher's life, so a
 * miss stays a miss.
 */
#define MISS_SLOTS 1024
#define MISS_LEN 122
struct miss {
    uint32_t hash;
    uint8_t field, len; /* len 0: empty */
    char value[MISS_LEN];
};

static int cmp_mac(const void *a, const void *b) {
    const mac_prefix_t *x = a, *y = b;
    if (x->bits != y->bits)
        return x->bits < y->bits ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

/* "AA:BB:CC" or "EC:5B:CD:E" (indicator.c's form) as (value, bits). */
static bool mac_value(const char *t, size_t n, uint64_t *value, uint8_t *bits) {
    uint64_t v = 0;
    unsigned nb = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == ':')
            continue;
        int d = emb__hexval((unsigned char)t[i]);
        if (d < 0 || nb >= 48)
            return false;
        v = v << 4 | (uint64_t)d;
        nb += 4;
    }
    *value = nb ? v << (48 - nb) : 0;
    *bits = (uint8_t)nb;
    return nb > 0;
}

static int mac_table_build(emb_matcher_t *m, const emb_rules_t *r) {
    for (uint32_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        for (uint32_t c = 0; c < alt->ncond; c++) {
            if (alt->cond[c].key != EMB_K_MAC)
                continue;
            for (uint32_t i = alt->cond[c].first; i < alt->cond[c].first + alt->cond[c].count;
                 i++) {
                mac_prefix_t mp = {0};
                if (!mac_value(r->inds[i].text, r->inds[i].len, &mp.value, &mp.bits))
                    continue;
                mp.ref = (emb_patref_t){a, c, i, 1u << EMB_FIELD_MAC, false};
                if (emb__grow((void **)&m->macs, &m->cap_macs, m->nmacs + 1, sizeof(*m->macs)))
                    return EMB_ENOMEM;
                m->macs[m->nmacs++] = mp;
            }
        }
    }
    if (m->nmacs > 1)
        qsort(m->macs, m->nmacs, sizeof(*m->macs), cmp_mac);
    /* Lengths are 4 to 48 bits in steps of 4: at most 12 runs; 7 fit 24..48. */
    for (size_t i = 0; i < m->nmacs; i++) {
        if (i > 0 && m->macs[i].bits == m->macs[i - 1].bits)
            continue;
        if (m->nmac_groups == sizeof(m->mac_group) / sizeof(m->mac_group[0]) - 1)
            return EMB_EINVAL; /* indicator.c refuses prefixes under 24 bits */
        m->mac_group[m->nmac_groups++] = i;
    }
    m->mac_group[m->nmac_groups] = m->nmacs;
    if (m->nmacs == 0)
        return 0;
    /* Every prefix is 24 bits or more: its first 16 are an address's first two bytes. */
    if ((m->mac16 = calloc(65536 / 64, sizeof(uint64_t))) == NULL)
        return EMB_ENOMEM;
    for (size_t i = 0; i < m->nmacs; i++) {
        uint32_t top = (uint32_t)(m->macs[i].value >> 32) & 0xffff;
        m->mac16[top / 64] |= UINT64_C(1) << (top % 64);
    }
    return 0;
}

/* The prefixes of the table that 48-bit address `mac` begins with, each to `fn`; with fn
 * NULL, only whether there is one. */
static bool mac_find(const emb_matcher_t *m, uint64_t mac, emb_match_fn fn, void *ctx) {
    bool found = false;
    for (size_t g = 0; g < m->nmac_groups; g++) {
        size_t lo = m->mac_group[g], hi = m->mac_group[g + 1], end = hi;
        uint8_t bits = m->macs[lo].bits;
        uint64_t want = mac & (~0ULL << (48 - bits)) & ((1ULL << 48) - 1);
        while (lo < hi) { /* the first entry of this length not below `want` */
            size_t mid = lo + (hi - lo) / 2;
            if (m->macs[mid].value < want)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < end && m->macs[lo].value == want; lo++) {
            if (fn == NULL)
                return true;
            fn(&m->macs[lo].ref, ctx);
            found = true;
        }
    }
    return found;
}

/* Whether a prefix of the table begins `mac`: the first two bytes' bit, then the table
 * itself (a 16-bit gate alone let one address in six through on real traffic). */
bool emb__matcher_mac_may(const emb_matcher_t *m, const uint8_t mac[6]) {
    uint32_t top = (uint32_t)mac[0] << 8 | mac[1];
    if (m->mac16 == NULL || !(m->mac16[top / 64] >> (top % 64) & 1))
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | mac[i];
    return mac_find(m, v, NULL, NULL);
}

/* Every prefix of the table that the address text ("AA:BB:CC:DD:EE:FF") begins with. */
static void mac_lookup(const emb_matcher_t *m, const uint8_t *text, size_t len, emb_match_fn fn,
                       void *ctx) {
    uint64_t mac;
    uint8_t nb;
    if (m->nmacs == 0 || !mac_value((const char *)text, len, &mac, &nb) || nb != 48)
        return;
    mac_find(m, mac, fn, ctx);
}

/* One expression of a database, before compilation. */
typedef struct {
    char *expr;
    emb_patref_t ref;
} pending_t;

typedef struct {
    pending_t *p;
    size_t n, cap;
} pending_list_t;

static void pending_free(pending_list_t *pl) {
    for (size_t i = 0; i < pl->n; i++)
        free(pl->p[i].expr);
    free(pl->p);
    memset(pl, 0, sizeof(*pl));
}

/*
 * True when every match of regex `re` starts at the first byte it is given:
 * it begins with ^ (or \A), after inline flags other than m (multiline, where
 * ^ also holds after a newline), and has no alternative outside parentheses.
 */
static bool anchored_at_start(const char *re) {
    while (re[0] == '(' && re[1] == '?' && re[2] != ':') {
        const char *close = strchr(re, ')');
        if (close == NULL || memchr(re, 'm', (size_t)(close - re)) != NULL ||
            memchr(re, ':', (size_t)(close - re)) != NULL)
            return false;
        re = close + 1;
    }
    if (re[0] == '^')
        re++;
    else if (re[0] == '\\' && re[1] == 'A')
        re += 2;
    else
        return false;
    int depth = 0;
    bool in_class = false;
    for (; *re; re++) {
        if (*re == '\\') {
            if (re[1] == '\0')
                break;
            re++;
        } else if (in_class) {
            in_class = *re != ']';
        } else if (*re == '[') {
            in_class = true;
            if (re[1] == ']' || (re[1] == '^' && re[2] == ']'))
                re += re[1] == '^' ? 2 : 1; /* a ] first in a class is a member */
        } else if (*re == '(') {
            depth++;
        } else if (*re == ')') {
            depth--;
        } else if (*re == '|' && depth == 0) {
            return false;
        }
    }
    return true;
}

/* The expressions of database `db`, in a fixed order (alternatives, then
 * conditions, then indicators): the order is the pattern id. */
static int collect(const emb_rules_t *r, db_t db, pending_list_t *pl) {
    uint32_t want = fields_of_db(db);
    for (uint32_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        for (uint32_t c = 0; c < alt->ncond; c++) {
            uint32_t fields = fields_of_key(alt->cond[c].key) & want;
            if (fields == 0 || alt->cond[c].key == EMB_K_MAC)
                continue; /* MAC prefixes: the matcher's prefix table, not Hyperscan */
            for (uint32_t i = alt->cond[c].first; i < alt->cond[c].first + alt->cond[c].count;
                 i++) {
                const emb_indicator_t *ind = &r->inds[i];
                bool domain = ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT;
                db_t home = !domain ? DB_NAMES : dotted_literal(ind) ? DB_DOTTED : DB_DOTTED_RE;
                if ((db == DB_DOTTED || db == DB_DOTTED_RE || db == DB_NAMES) && db != home)
                    continue;
                if (emb__grow((void **)&pl->p, &pl->cap, pl->n + 1, sizeof(*pl->p)))
                    return EMB_ENOMEM;
                pending_t *pe = &pl->p[pl->n];
                pe->expr = emb__pattern_expr(&r->inds[i]);
                if (pe->expr == NULL)
                    return EMB_ENOMEM;
                pe->ref = (emb_patref_t){a, c, i, fields, false};
                pe->ref.start =
                    db == DB_PAYLOAD && ind->kind == EMB_PAT_REGEX && anchored_at_start(ind->text);
                pl->n++;
            }
        }
    }
    return 0;
}

static const char *db_name(db_t db) {
    static const char *const names[DB__COUNT] = {[DB_DOTTED] = "domain names",
                                                 [DB_DOTTED_RE] = "domain wildcards",
                                                 [DB_NAMES] = "names",
                                                 [DB_URI] = "http.uri",
                                                 [DB_UA] = "http.user_agent",
                                                 [DB_SUBJECT] = "tls.cert_subject",
                                                 [DB_ISSUER] = "tls.cert_issuer",
                                                 [DB_JA4] = "ja4",
                                                 [DB_PAYLOAD] = "payload",
                                                 [DB_DEVICE] = "device fields",
                                                 [DB_OUI] = "cwmp.oui"};
    return names[db];
}

/* How every database is compiled; the cache key covers both. */
#define DB_MODE HS_MODE_BLOCK

static int compile_db(const emb_rules_t *r, db_t db, const pending_list_t *pl, hs_database_t **out,
                      emb_diags_t **diags) {
    const char **exprs = malloc(pl->n * sizeof(*exprs));
    unsigned *flags = malloc(pl->n * sizeof(*flags));
    unsigned *ids = malloc(pl->n * sizeof(*ids));
    int rc = 0;
    if (exprs == NULL || flags == NULL || ids == NULL) {
        rc = EMB_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < pl->n; i++) {
        exprs[i] = pl->p[i].expr;
        flags[i] = HS_FLAG_SINGLEMATCH;
        ids[i] = (unsigned)i;
    }
    hs_compile_error_t *cerr = NULL;
    hs_error_t herr =
        hs_compile_multi(exprs, flags, ids, (unsigned)pl->n, DB_MODE, NULL, out, &cerr);
    if (herr != HS_SUCCESS) {
        const emb_indicator_t *bad =
            cerr && cerr->expression >= 0 && (size_t)cerr->expression < pl->n
                ? &r->inds[pl->p[cerr->expression].ref.ind]
                : NULL;
        if (bad)
            emb__diag_add(diags, r->files[bad->file], bad->line, bad->col,
                          "Hyperscan cannot compile this pattern for %s: %s", db_name(db),
                          cerr->message);
        else
            emb__diag_add(diags, NULL, 0, 0, "Hyperscan compile failed for %s: %s", db_name(db),
                          cerr ? cerr->message : "?");
        hs_free_compile_error(cerr);
        rc = EMB_EHS;
    }
out:
    free(exprs);
    free(flags);
    free(ids);
    return rc;
}

/* ---- the database cache (hsdb.c) ----------------------------------------- */

/* Every expression of every database with its id, flags and compile mode. */
static uint64_t cache_key(pending_list_t lists[DB__COUNT]) {
    uint64_t h = emb__hsdb_key_begin();
    for (int db = 0; db < DB__COUNT; db++) {
        uint64_t head[3] = {lists[db].n, HS_FLAG_SINGLEMATCH, DB_MODE};
        h = emb__hsdb_key_add(h, head, sizeof(head));
        for (size_t i = 0; i < lists[db].n; i++) {
            uint64_t id = i; /* the id compile_db gives expression i */
            h = emb__hsdb_key_add(h, &id, sizeof(id));
            h = emb__hsdb_key_add(h, lists[db].p[i].expr, strlen(lists[db].p[i].expr) + 1);
        }
    }
    return h;
}

static void list_counts(const pending_list_t lists[DB__COUNT], uint64_t counts[DB__COUNT]) {
    for (int db = 0; db < DB__COUNT; db++)
        counts[db] = lists[db].n;
}

/*
 * The plain domain patterns go to the suffix table instead of a database
 * (their list is emptied: nothing to compile or cache), and each wildcard
 * pattern's fixed tail gates the wildcard database (domains.h).
 */
static int domains_build(emb_matcher_t *m, const emb_rules_t *r, pending_list_t lists[DB__COUNT]) {
    const pending_list_t *lit = &lists[DB_DOTTED], *re = &lists[DB_DOTTED_RE];
    if (lit->n == 0 && re->n == 0)
        return 0;
    if ((m->domains = emb__domains_new()) == NULL)
        return EMB_ENOMEM;
    int rc = 0;
    if (lit->n > 0 && (m->refs[DB_DOTTED] = malloc(lit->n * sizeof(emb_patref_t))) == NULL)
        return EMB_ENOMEM;
    for (size_t i = 0; i < lit->n && rc == 0; i++) {
        const emb_patref_t *ref = &lit->p[i].ref;
        m->refs[DB_DOTTED][i] = *ref;
        emb_domain_ref_t dr = {(uint32_t)i, ref->fields,
                               r->inds[ref->ind].kind == EMB_PAT_DOMAIN_EXACT, false};
        rc = emb__domains_add(m->domains, lit->p[i].expr, strlen(lit->p[i].expr), &dr);
    }
    m->nrefs[DB_DOTTED] = lit->n;
    for (size_t i = 0; i < re->n && rc == 0; i++) {
        const emb_indicator_t *ind = &r->inds[re->p[i].ref.ind];
        bool gated = false;
        rc =
            emb__domains_add_wildcard(m->domains, ind->text, ind->len, re->p[i].ref.fields, &gated);
        m->re_ungated |= !gated;
    }
    if (rc == 0)
        rc = emb__domains_seal(m->domains);
    pending_free(&lists[DB_DOTTED]);
    return rc;
}

int emb__matcher_new(const emb_rules_t *r, const char *cache_dir, emb_matcher_t **out,
                     emb_diags_t **diags) {
    *out = NULL;
    emb_matcher_t *m = calloc(1, sizeof(*m));
    pending_list_t lists[DB__COUNT];
    memset(lists, 0, sizeof(lists));
    if (m == NULL)
        return EMB_ENOMEM;
    int rc = 0;
    for (int db = 0; db < DB__COUNT; db++)
        if ((rc = collect(r, (db_t)db, &lists[db])) != 0)
            goto fail;
    if ((rc = domains_build(m, r, lists)) != 0)
        goto fail;

    uint64_t key = cache_key(lists);
    uint64_t counts[DB__COUNT];
    list_counts(lists, counts);
    m->from_cache = cache_dir && emb__hsdb_load(cache_dir, key, DB__COUNT, counts, m->db);
    if (!m->from_cache) {
        for (int db = 0; db < DB__COUNT; db++)
            if (lists[db].n > 0 && (rc = compile_db(r, (db_t)db, &lists[db], &m->db[db], diags)))
                goto fail;
        if (cache_dir)
            emb__hsdb_store(cache_dir, key, DB__COUNT, counts, m->db);
    }
    for (int db = 0; db < DB__COUNT; db++) {
        if (m->db[db] == NULL)
            continue;
        if (hs_alloc_scratch(m->db[db], &m->scratch) != HS_SUCCESS) {
            emb__diag_add(diags, NULL, 0, 0, "Hyperscan could not allocate scratch space");
            rc = EMB_EHS;
            goto fail;
        }
        m->refs[db] = malloc(lists[db].n * sizeof(emb_patref_t));
        if (m->refs[db] == NULL) {
            rc = EMB_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < lists[db].n; i++)
            m->refs[db][i] = lists[db].p[i].ref;
        m->nrefs[db] = lists[db].n;
    }

    for (size_t i = 0; i < lists[DB_PAYLOAD].n; i++) {
        const pending_t *pe = &lists[DB_PAYLOAD].p[i];
        if (!pe->ref.start)
            continue;
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *cerr = NULL;
        uint32_t width = UINT32_MAX;
        if (hs_expression_info(pe->expr, HS_FLAG_SINGLEMATCH, &info, &cerr) == HS_SUCCESS) {
            width = info->max_width;
            free(info);
        } else {
            hs_free_compile_error(cerr);
        }
        if (width > m->start_width)
            m->start_width = width;
    }
    if ((rc = mac_table_build(m, r)) != 0)
        goto fail;
    for (uint32_t a = 0; a < r->nalts; a++) {
        if (r->alts[a].content_mask != 0)
            continue;
        uint32_t *grown = realloc(m->flow_alts, (m->nflow_alts + 1) * sizeof(uint32_t));
        if (grown == NULL) {
            rc = EMB_ENOMEM;
            goto fail;
        }
        m->flow_alts = grown;
        emb_flow_sieve_t *sv =
            realloc(m->flow_sieves, (m->nflow_alts + 1) * sizeof(*m->flow_sieves));
        if (sv == NULL) {
            rc = EMB_ENOMEM;
            goto fail;
        }
        m->flow_sieves = sv;
        emb__flow_sieve_of(r, &r->alts[a], &sv[m->nflow_alts]);
        emb__flow_union_add(&m->flow_union, &sv[m->nflow_alts]);
        m->flow_alts[m->nflow_alts++] = a;
    }
    for (int db = 0; db < DB__COUNT; db++)
        pending_free(&lists[db]);
    *out = m;
    return 0;
fail:
    for (int db = 0; db < DB__COUNT; db++)
        pending_free(&lists[db]);
    emb__matcher_free(m);
    return rc;
}

bool emb__matcher_from_cache(const emb_matcher_t *m) {
    return m->from_cache;
}

void emb__matcher_free(emb_matcher_t *m) {
    if (m == NULL)
        return;
    for (int db = 0; db < DB__COUNT; db++) {
        hs_free_database(m->db[db]);
        free(m->refs[db]);
    }
    hs_free_scratch(m->scratch);
    emb__domains_free(m->domains);
    free(m->miss);
    free(m->flow_alts);
    free(m->flow_sieves);
    free(m->macs);
    free(m->mac16);
    free(m);
}

const uint32_t *emb__matcher_flow_alts(const emb_matcher_t *m, size_t *n) {
    *n = m->nflow_alts;
    return m->flow_alts;
}

const emb_flow_sieve_t *emb__matcher_flow_sieves(const emb_matcher_t *m) {
    return m->flow_sieves;
}

const emb_flow_union_t *emb__matcher_flow_union(const emb_matcher_t *m) {
    return &m->flow_union;
}

typedef struct {
    const emb_patref_t *refs;
    uint32_t field_bit;
    emb_match_fn fn;
    void *ctx;
    emb_payload_at_t at;
} scan_ctx_t;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *arg) {
    (void)from;
    (void)to;
    (void)flags;
    scan_ctx_t *sc = arg;
    const emb_patref_t *ref = &sc->refs[id];
    if (!(ref->fields & sc->field_bit))
        return 0;
    if (ref->start ? sc->at == EMB_AT_MIDDLE : sc->at == EMB_AT_START_ONLY)
        return 0; /* a ^ away from the start, or a pattern the first pass reported */
    sc->fn(ref, sc->ctx);
    return 0;
}

/* Whether a pattern of `db` is for a field of `field_bit` (on_match reports
 * no other). A device field the pack has no rule of (an HTTP response body's
 * first bytes, with the shipped pack) is not scanned at all. */
static bool db_has_field(emb_matcher_t *m, db_t db, uint32_t field_bit) {
    if (!m->db_fields_known) {
        for (int d = 0; d < DB__COUNT; d++) {
            m->db_fields[d] = 0;
            for (size_t i = 0; i < m->nrefs[d]; i++)
                m->db_fields[d] |= m->refs[d][i].fields;
        }
        m->db_fields_known = true;
    }
    return (m->db_fields[db] & field_bit) != 0;
}

static int scan_db_at(emb_matcher_t *m, db_t db, uint32_t field_bit, const uint8_t *data,
                      size_t len, emb_payload_at_t at, emb_match_fn fn, void *ctx) {
    if (m->db[db] == NULL || len == 0 || !db_has_field(m, db, field_bit))
        return 0;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    scan_ctx_t sc = {m->refs[db], field_bit, fn, ctx, at};
    hs_error_t err =
        hs_scan(m->db[db], (const char *)data, (unsigned)len, 0, m->scratch, on_match, &sc);
    return err == HS_SUCCESS ? 0 : EMB_EHS;
}

static int scan_db(emb_matcher_t *m, db_t db, uint32_t field_bit, const uint8_t *data, size_t len,
                   emb_match_fn fn, void *ctx) {
    return scan_db_at(m, db, field_bit, data, len, EMB_AT_START, fn, ctx);
}

int emb__matcher_scan_payload(emb_matcher_t *m, const uint8_t *data, size_t len,
                              emb_payload_at_t at, emb_match_fn fn, void *ctx) {
    if (at == EMB_AT_START_ONLY && m->start_width == 0)
        return 0;
    return scan_db_at(m, DB_PAYLOAD, 1u << EMB_FIELD_PAYLOAD, data, len, at, fn, ctx);
}

uint32_t emb__matcher_start_width(const emb_matcher_t *m) {
    return m->start_width;
}

/* What a scan reported, for the table of misses. */
typedef struct {
    emb_match_fn fn;
    void *ctx;
    bool hit;
} counted_t;

static void counted_fn(const emb_patref_t *ref, void *ctx) {
    counted_t *c = ctx;
    c->hit = true;
    c->fn(ref, c->ctx);
}

/* Names are read here for every field of every message (emb__hash_bytes). */
static uint32_t miss_hash(emb_field_t f, const uint8_t *data, size_t len) {
    return (uint32_t)emb__hash_bytes((uint64_t)f << 32, data, len);
}

static int scan_field(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx);

int emb__matcher_scan(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx) {
    if (f == EMB_FIELD_MAC) {
        mac_lookup(m, data, len, fn, ctx);
        return 0;
    }
    if (len == 0 || len > MISS_LEN)
        return scan_field(m, f, data, len, fn, ctx);
    if (m->miss == NULL && (m->miss = calloc(MISS_SLOTS, sizeof(*m->miss))) == NULL)
        return scan_field(m, f, data, len, fn, ctx);
    uint32_t h = miss_hash(f, data, len);
    struct miss *slot = &m->miss[h % MISS_SLOTS];
    if (slot->hash == h && slot->field == f && slot->len == len &&
        memcmp(slot->value, data, len) == 0)
        return 0; /* seen, and it matched nothing */
    counted_t c = {fn, ctx, false};
    int rc = scan_field(m, f, data, len, counted_fn, &c);
    if (rc == 0 && !c.hit) {
        *slot = (struct miss){.hash = h, .field = (uint8_t)f, .len = (uint8_t)len};
        memcpy(slot->value, data, len);
    }
    return rc;
}

typedef struct {
    const emb_patref_t *refs;
    emb_match_fn fn;
    void *ctx;
} dotted_ctx_t;

static void on_dotted(uint32_t ref, void *arg) {
    const dotted_ctx_t *dc = arg;
    dc->fn(&dc->refs[ref], dc->ctx);
}

static int scan_field(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx) {
    db_t db = db_of(f);
    int rc = scan_db(m, db, 1u << f, data, len, fn, ctx);
    if (rc != 0 || db != DB_NAMES || len == 0 || m->domains == NULL)
        return rc;
    /* A name longer than any real one is cut: domain patterns anchor at its end, so
     * keep the end. */
    if (len > sizeof(m->dotted) - 1) {
        data += len - (sizeof(m->dotted) - 1);
        len = sizeof(m->dotted) - 1;
    }
    m->dotted[0] = '.';
    memcpy(m->dotted + 1, data, len);
    dotted_ctx_t dc = {m->refs[DB_DOTTED], fn, ctx};
    bool gated = emb__domains_lookup(m->domains, 1u << f, m->dotted, len + 1, on_dotted, &dc);
    if (gated || m->re_ungated)
        rc = scan_db(m, DB_DOTTED_RE, 1u << f, (const uint8_t *)m->dotted, len + 1, fn, ctx);
    return rc;
}
