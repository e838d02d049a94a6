/*
 * Domain names as a hash table of dotted suffixes.
 *
 * A plain `domain` pattern (no '*') holds for a name that is it or ends in
 * "." + it: over the dotted name (".a.upd.kaspersky.com") that is one of the
 * suffixes starting at a dot. A name has a handful of those, so a lookup
 * hashes each one no longer than the longest pattern and probes the table:
 * a few dozen instructions a label, where a Hyperscan scan of the name
 * against a literal database costs several hundred and evicts the host's code
 * from the instruction cache on the way (docs/suricata.md, "Overhead").
 *
 * Wildcard patterns stay in Hyperscan (match.c) but are gated here: '*' is
 * "[^.]*", so a name matching "dnl-*.geo.kaspersky.com" ends in the part of
 * the pattern from the first dot after its last '*' (".geo.kaspersky.com"),
 * and a name that ends in no such tail needs no scan.
 *
 * Entries are unique suffixes; each lists its patterns (refs) in the order
 * they were added. The table is open addressing with linear probing, at most
 * half full, built once and read only after: engines of several threads may
 * share it.
 */
#include "detect/domains.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash;
    uint32_t off, len;    /* the suffix, in text */
    uint32_t first, n;    /* its patterns, in refs */
    uint32_t gate_fields; /* fields it gates a wildcard of */
} entry_t;

typedef struct {
    uint32_t off, len, order;
    const char *s; /* text + off, set for the sort once the text stops moving */
    emb_domain_ref_t ref;
} pending_t;

struct emb_domains {
    char *text;
    size_t ntext, cap_text;
    pending_t *pend;
    size_t npend, cap_pend;
    entry_t *entries;
    size_t nentries;
    emb_domain_ref_t *refs; /* grouped by entry */
    uint32_t *slots;        /* entry index + 1; 0: empty */
    uint32_t mask;
    size_t minlen, maxlen;
};

#define SEED 0x646f6d61696e73ull /* "domains" */

emb_domains_t *emb__domains_new(void) {
    return calloc(1, sizeof(emb_domains_t));
}

void emb__domains_free(emb_domains_t *d) {
    if (d == NULL)
        return;
    free(d->text);
    free(d->pend);
    free(d->entries);
    free(d->refs);
    free(d->slots);
    free(d);
}

int emb__domains_add(emb_domains_t *d, const char *dotted, size_t len,
                     const emb_domain_ref_t *ref) {
    if (len == 0 || len > UINT32_MAX / 2 || d->ntext + len > UINT32_MAX / 2)
        return EMB_EINVAL;
    if (emb__grow((void **)&d->text, &d->cap_text, d->ntext + len, 1) ||
        emb__grow((void **)&d->pend, &d->cap_pend, d->npend + 1, sizeof(*d->pend)))
        return EMB_ENOMEM;
    memcpy(d->text + d->ntext, dotted, len);
    d->pend[d->npend] =
        (pending_t){(uint32_t)d->ntext, (uint32_t)len, (uint32_t)d->npend, NULL, *ref};
    d->npend++;
    d->ntext += len;
    return 0;
}

int emb__domains_add_wildcard(emb_domains_t *d, const char *text, size_t len, uint32_t fields,
                              bool *gated) {
    const char *star = NULL, *dot = NULL;
    for (size_t k = 0; k < len; k++)
        if (text[k] == '*')
            star = text + k;
    if (star != NULL)
        dot = memchr(star, '.', len - (size_t)(star - text));
    *gated = dot != NULL && dot + 1 < text + len;
    if (!*gated)
        return 0;
    emb_domain_ref_t gate = {0, fields, false, true};
    return emb__domains_add(d, dot, len - (size_t)(dot - text), &gate);
}

static int cmp_pending(const void *a, const void *b) {
    const pending_t *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = memcmp(x->s, y->s, x->len);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

int emb__domains_seal(emb_domains_t *d) {
    if (d->npend == 0)
        return 0;
    for (size_t i = 0; i < d->npend; i++)
        d->pend[i].s = d->text + d->pend[i].off;
    qsort(d->pend, d->npend, sizeof(*d->pend), cmp_pending);
    size_t nslots = 16;
    while (nslots < 2 * d->npend)
        nslots *= 2;
    d->entries = calloc(d->npend, sizeof(*d->entries));
    d->refs = calloc(d->npend, sizeof(*d->refs));
    d->slots = calloc(nslots, sizeof(*d->slots));
    if (d->entries == NULL || d->refs == NULL || d->slots == NULL)
        return EMB_ENOMEM;
    d->mask = (uint32_t)(nslots - 1);
    d->minlen = SIZE_MAX;
    size_t nrefs = 0;
    for (size_t i = 0; i < d->npend;) {
        const pending_t *p = &d->pend[i];
        entry_t *en = &d->entries[d->nentries];
        *en = (entry_t){
            emb__hash_bytes(SEED, d->text + p->off, p->len), p->off, p->len, (uint32_t)nrefs, 0, 0};
        for (; i < d->npend && d->pend[i].len == p->len &&
               memcmp(d->text + d->pend[i].off, d->text + p->off, p->len) == 0;
             i++) {
            if (d->pend[i].ref.gate)
                en->gate_fields |= d->pend[i].ref.fields;
            else
                d->refs[nrefs++] = d->pend[i].ref;
        }
        en->n = (uint32_t)nrefs - en->first;
        uint32_t s = (uint32_t)en->hash & d->mask;
        while (d->slots[s] != 0)
            s = (s + 1) & d->mask;
        d->slots[s] = (uint32_t)++d->nentries;
        if (en->len < d->minlen)
            d->minlen = en->len;
        if (en->len > d->maxlen)
            d->maxlen = en->len;
    }
    free(d->pend);
    d->pend = NULL;
    d->npend = d->cap_pend = 0;
    return 0;
}

static const entry_t *find(const emb_domains_t *d, const char *s, size_t len) {
    uint64_t h = emb__hash_bytes(SEED, s, len);
    for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t slot = d->slots[i];
        if (slot == 0)
            return NULL;
        const entry_t *en = &d->entries[slot - 1];
        if (en->hash == h && en->len == len && memcmp(d->text + en->off, s, len) == 0)
            return en;
    }
}

bool emb__domains_lookup(const emb_domains_t *d, uint32_t field_bit, const char *dotted, size_t len,
                         void (*fn)(uint32_t ref, void *ctx), void *ctx) {
    if (d == NULL || d->nentries == 0 || len < d->minlen)
        return false;
    bool gate = false;
    size_t p = len > d->maxlen ? len - d->maxlen : 0;
    for (; p + d->minlen <= len; p++) {
        if (dotted[p] != '.')
            continue;
        const entry_t *en = find(d, dotted + p, len - p);
        if (en == NULL)
            continue;
        gate |= (en->gate_fields & field_bit) != 0;
        for (uint32_t i = en->first; i < en->first + en->n; i++) {
            const emb_domain_ref_t *r = &d->refs[i];
            if ((r->fields & field_bit) != 0 && (!r->exact || p == 0))
                fn(r->ref, ctx);
        }
    }
    return gate;
}
