/*
 * The Hyperscan matcher: one database per field kind, compiled from the rule
 * pack (or loaded from the on-disk cache), and the scan that reports each
 * indicator that matched a field value.
 */
#ifndef EMB_DETECT_MATCH_H
#define EMB_DETECT_MATCH_H

#include "detect/fields.h"
#include "pack/pack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The Hyperscan expression for a string indicator, NUL-terminated, malloc'd.
 * Domain patterns are matched against "." + name: without '*' they are the
 * literal "." + name (the matcher checks that the match ends the name, and
 * for `=name` that it starts it too); with '*' they are the regex
 * "\.<labels>\z" (exact: "^\.<labels>\z") with '*' as "[^.]*". Other
 * literals are escaped byte by byte.
 */
char *emb__pattern_expr(const emb_indicator_t *ind);

typedef struct emb_matcher emb_matcher_t;

typedef struct {
    uint32_t alt;
    uint32_t cond;   /* index into the alternative's cond[] */
    uint32_t ind;    /* the indicator itself */
    uint32_t fields; /* bit f set: the pattern applies to field f */
    bool start;      /* a payload regex anchored with ^: only at the start of a stream */
} emb_patref_t;

/*
 * Compiles the pack's databases, or loads them from `cache_dir` (NULL: no
 * cache) when a checked copy of exactly these databases is there; a fresh
 * compile is stored there for the next start.
 */
int emb__matcher_new(const emb_rules_t *rules, const char *cache_dir, emb_matcher_t **out,
                     emb_diags_t **diags);
/* True when the databases came from the cache. */
bool emb__matcher_from_cache(const emb_matcher_t *m);
void emb__matcher_free(emb_matcher_t *m);

/* Called once per matching indicator pattern (Hyperscan SINGLEMATCH). */
typedef void (*emb_match_fn)(const emb_patref_t *ref, void *ctx);

/* Scans `data` for field `f`; returns 0, or EMB_EHS. A short value that
 * matched nothing is remembered, and not scanned again (match.c, misses). */
int emb__matcher_scan(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx);
/*
 * Where payload bytes lie, for the `^` of a payload regex: at the start of a
 * stream direction or a UDP payload, `^` holds at the first byte; in the
 * middle of a stream it never holds.
 */
typedef enum {
    EMB_AT_START,      /* the bytes start the stream (or datagram): every pattern */
    EMB_AT_MIDDLE,     /* the bytes are from its middle: anchored patterns are left out */
    EMB_AT_START_ONLY, /* the start again, longer: only the anchored patterns */
} emb_payload_at_t;

/* Scans payload bytes `at` a place in their stream; 0 or EMB_EHS. */
int emb__matcher_scan_payload(emb_matcher_t *m, const uint8_t *data, size_t len,
                              emb_payload_at_t at, emb_match_fn fn, void *ctx);
/* How many bytes from a stream's start anchored payload patterns can span
 * (0: the pack has none; UINT32_MAX: unbounded). */
uint32_t emb__matcher_start_width(const emb_matcher_t *m);

/* Alternatives made only of ip/port conditions: checked once per new flow. */
const uint32_t *emb__matcher_flow_alts(const emb_matcher_t *m, size_t *n);
/* Their sieves, in the same order (emb__flow_sieve_may). */
const emb_flow_sieve_t *emb__matcher_flow_sieves(const emb_matcher_t *m);
/* All of them at once (emb__flow_union_may). */
const emb_flow_union_t *emb__matcher_flow_union(const emb_matcher_t *m);
/* False when no `mac` prefix begins `mac`: a bit test of its first two
 * bytes, then a search of the prefixes, for a host that asks at every flow. */
bool emb__matcher_mac_may(const emb_matcher_t *m, const uint8_t mac[6]);

#endif /* EMB_DETECT_MATCH_H */
