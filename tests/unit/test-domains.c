/*
 * The suffix table of plain domain patterns (detect/domains.c) against what
 * it replaced: each pattern as a Hyperscan expression over the dotted name,
 * "\.<labels>\z" (exact: "^\.<labels>\z"), on names drawn from a few short
 * labels so that most of them share suffixes with some pattern. Every
 * pattern Hyperscan finds, the table finds, and no other; wildcard tails gate
 * exactly the names a wildcard can match.
 */
#include "helpers.h"
#include "detect/domains.h"

#include <criterion/criterion.h>
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const LABELS[] = {"a", "b", "ab", "com", "kaspersky", "geo", "x-1", "c0m"};
#define NLABELS (sizeof(LABELS) / sizeof(*LABELS))

/* A dotted name of 1 to `max` labels from LABELS, into buf. */
static size_t random_dotted(char *buf, size_t cap, int max, unsigned *seed) {
    size_t n = 0;
    int labels = 1 + rand_r(seed) % max;
    for (int i = 0; i < labels; i++) {
        const char *l = LABELS[rand_r(seed) % NLABELS];
        n += (size_t)snprintf(buf + n, cap - n, ".%s", l);
    }
    return n;
}

typedef struct {
    uint32_t got[64];
    size_t n;
} refs_t;

static void on_ref(uint32_t ref, void *ctx) {
    refs_t *r = ctx;
    cr_assert_lt(r->n, 64);
    r->got[r->n++] = ref;
}

static int on_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                 void *ctx) {
    (void)from;
    (void)to;
    (void)flags;
    ((bool *)ctx)[id] = true;
    return 0;
}

static char *escaped(const char *lit, bool exact) {
    char *o = malloc(strlen(lit) * 4 + 8);
    size_t n = 0;
    if (exact)
        o[n++] = '^';
    for (const char *p = lit; *p; p++)
        n += (size_t)sprintf(o + n, "\\x%02x", (unsigned char)*p);
    strcpy(o + n, "\\z");
    return o;
}

#define NPAT 60

Test(domains, same_answers_as_hyperscan_suffixes) {
    unsigned seed = 20261201;
    char text[NPAT][128];
    const char *exprs[NPAT];
    unsigned flags[NPAT], ids[NPAT];
    emb_domain_ref_t refs[NPAT];
    emb_domains_t *d = emb__domains_new();
    cr_assert_not_null(d);
    for (unsigned i = 0; i < NPAT; i++) {
        random_dotted(text[i], sizeof(text[i]), 3, &seed); /* repeats happen: both kept */
        refs[i] = (emb_domain_ref_t){i, 1u << (rand_r(&seed) % 3), rand_r(&seed) % 5 == 0, false};
        exprs[i] = escaped(text[i], refs[i].exact);
        flags[i] = HS_FLAG_SINGLEMATCH;
        ids[i] = i;
        cr_assert_eq(emb__domains_add(d, text[i], strlen(text[i]), &refs[i]), 0);
    }
    cr_assert_eq(emb__domains_seal(d), 0);
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    cr_assert_eq(hs_compile_multi(exprs, flags, ids, NPAT, HS_MODE_BLOCK, NULL, &db, &err),
                 HS_SUCCESS);
    hs_scratch_t *scratch = NULL;
    cr_assert_eq(hs_alloc_scratch(db, &scratch), HS_SUCCESS);

    size_t matched = 0;
    for (int t = 0; t < 20000; t++) {
        char name[256];
        size_t len = random_dotted(name, sizeof(name), 6, &seed);
        uint32_t field_bit = 1u << (rand_r(&seed) % 3);
        bool want[NPAT] = {false};
        cr_assert_eq(hs_scan(db, name, (unsigned)len, 0, scratch, on_hs, want), HS_SUCCESS);
        refs_t r = {{0}, 0};
        cr_assert_not(emb__domains_lookup(d, field_bit, name, len, on_ref, &r), "no gates");
        bool got[NPAT] = {false};
        for (size_t i = 0; i < r.n; i++) {
            cr_assert_not(got[r.got[i]], "'%s': pattern %u told twice", name, r.got[i]);
            got[r.got[i]] = true;
            /* the longest suffix first */
            if (i > 0)
                cr_assert_geq(strlen(text[r.got[i - 1]]), strlen(text[r.got[i]]));
        }
        for (unsigned i = 0; i < NPAT; i++) {
            bool expect = want[i] && (refs[i].fields & field_bit) != 0;
            cr_assert_eq(got[i], expect, "'%s' field %u against '%s'%s: table %d, Hyperscan %d",
                         name, field_bit, text[i], refs[i].exact ? " (exact)" : "", got[i], expect);
            matched += got[i];
        }
    }
    cr_assert_gt(matched, 1000, "the names must share suffixes with the patterns: %zu", matched);
    for (unsigned i = 0; i < NPAT; i++)
        free((char *)exprs[i]);
    hs_free_scratch(scratch);
    hs_free_database(db);
    emb__domains_free(d);
}

/* A wildcard's gate is the part from the first dot after its last '*': every
 * name the wildcard matches ends in it, for the fields it applies to. */
Test(domains, wildcard_gates) {
    emb_domains_t *d = emb__domains_new();
    bool gated = false;
    const char *w1 = "dnl-*.geo.kaspersky.com", *w2 = "ksn-*-geo.kaspersky-labs.com";
    cr_assert_eq(emb__domains_add_wildcard(d, w1, strlen(w1), 1u << 1, &gated), 0);
    cr_assert(gated);
    cr_assert_eq(emb__domains_add_wildcard(d, w2, strlen(w2), 1u << 1, &gated), 0);
    cr_assert(gated);
    cr_assert_eq(emb__domains_add_wildcard(d, "foo.*", 5, 1u << 1, &gated), 0);
    cr_assert_not(gated, "no fixed tail: never gated");
    cr_assert_eq(emb__domains_add_wildcard(d, "*", 1, 1u << 1, &gated), 0);
    cr_assert_not(gated);
    cr_assert_eq(emb__domains_seal(d), 0);
    refs_t r = {{0}, 0};
    static const struct {
        const char *dotted;
        uint32_t field_bit;
        bool gate;
    } cases[] = {
        {".dnl-1.geo.kaspersky.com", 1u << 1, true},
        {".x.geo.kaspersky.com", 1u << 1, true}, /* the gate is necessary, not sufficient */
        {".dnl-1.geo.kaspersky.com", 1u << 2, false},
        {".dnl-1.geo.kaspersky.com.evil", 1u << 1, false},
        {".kaspersky.com", 1u << 1, false},
        {".xgeo.kaspersky.com", 1u << 1, false},
        {".ksn-1-geo.kaspersky-labs.com", 1u << 1, true},
        {".kaspersky-labs.com", 1u << 1, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        cr_assert_eq(emb__domains_lookup(d, cases[i].field_bit, cases[i].dotted,
                                         strlen(cases[i].dotted), on_ref, &r),
                     cases[i].gate, "%s", cases[i].dotted);
    cr_assert_eq(r.n, 0, "gates are no patterns");
    emb__domains_free(d);
}

/* Many patterns (a pack built from whole domain lists): every one found on
 * its own name and a subdomain, none on a lookalike. */
Test(domains, thousands_of_names) {
    emb_domains_t *d = emb__domains_new();
    char name[64];
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(name, sizeof(name), ".host%u.vendor%u.example", i, i % 97);
        emb_domain_ref_t ref = {i, 1, false, false};
        cr_assert_eq(emb__domains_add(d, name, (size_t)n, &ref), 0);
    }
    cr_assert_eq(emb__domains_seal(d), 0);
    for (uint32_t i = 0; i < 20000; i += 7) {
        refs_t r = {{0}, 0};
        int n = snprintf(name, sizeof(name), ".a.host%u.vendor%u.example", i, i % 97);
        emb__domains_lookup(d, 1, name, (size_t)n, on_ref, &r);
        cr_assert_eq(r.n, 1);
        cr_assert_eq(r.got[0], i);
        r.n = 0;
        n = snprintf(name, sizeof(name), ".xhost%u.vendor%u.example", i, i % 97);
        emb__domains_lookup(d, 1, name, (size_t)n, on_ref, &r);
        cr_assert_eq(r.n, 0, "%s", name);
    }
    emb__domains_free(d);
}
