/*
 * The pack's plain domain names as a table of dotted suffixes: the name
 * fields' "the name or any subdomain" patterns answered by a few hash
 * lookups, one per label of the name, instead of a Hyperscan scan (match.c).
 */
#ifndef EMB_DETECT_DOMAINS_H
#define EMB_DETECT_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct emb_domains emb_domains_t;

/* What one suffix stands for: a pattern, told back by `ref`, or a gate. */
typedef struct {
    uint32_t ref;    /* the caller's index of the pattern */
    uint32_t fields; /* bit f set: it applies to field f */
    bool exact;      /* it must be the whole name, not a suffix of it */
    bool gate;       /* not a pattern: some pattern the table does not hold needs it */
} emb_domain_ref_t;

emb_domains_t *emb__domains_new(void);
void emb__domains_free(emb_domains_t *d);

/*
 * Adds a suffix: `dotted` is "." and the labels (".kaspersky.com"). A name
 * ending in it (or, exact, equal to it) matches pattern `ref->ref`; for a
 * gate, it may match a pattern the table does not hold (a wildcard's fixed
 * tail: "dnl-*.geo.kaspersky.com" needs ".geo.kaspersky.com"), and the
 * lookup says so. Returns 0 or EMB_ENOMEM.
 */
int emb__domains_add(emb_domains_t *d, const char *dotted, size_t len, const emb_domain_ref_t *ref);

/*
 * Adds the gate of wildcard domain pattern `text` for `fields`: the part
 * from the first dot after its last '*'. *gated is false when it has none
 * ("foo.*"): then no name can be turned away for it. 0 or EMB_ENOMEM.
 */
int emb__domains_add_wildcard(emb_domains_t *d, const char *text, size_t len, uint32_t fields,
                              bool *gated);

/* Makes the table ready for lookups; call once, after every add. */
int emb__domains_seal(emb_domains_t *d);

/*
 * Calls `fn` with every pattern for field bit `field_bit` that the dotted
 * name ("." + name) ends in, the longest suffix first, each suffix's
 * patterns in the order they were added. Returns true when a gate for that
 * field ends the name.
 */
bool emb__domains_lookup(const emb_domains_t *d, uint32_t field_bit, const char *dotted, size_t len,
                         void (*fn)(uint32_t ref, void *ctx), void *ctx);

#endif
