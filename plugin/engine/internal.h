/*
 * Types shared by the engine's files and its unit tests; not installed.
 *
 * A loaded rule pack is flat arrays (vendors, rules, alternatives,
 * indicators) that refer to each other by index, so the matcher can map a
 * Hyperscan pattern id back to (rule, alternative, condition) in O(1).
 */
#ifndef EMB_INTERNAL_H
#define EMB_INTERNAL_H

#include "embargo/embargo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- small helpers ----------------------------------------------------- */

/* Grows *arr (elements of `elsize`) so that it holds at least `need`. */
int emb__grow(void **arr, size_t *cap, size_t need, size_t elsize);
char *emb__strndup(const char *s, size_t n);
char *emb__strdup(const char *s);

/* ---- diagnostics ------------------------------------------------------- */

/* Appends a formatted message; returns EMB_ENOMEM if it could not. */
int emb__diag_add(emb_diags_t **d, const char *file, unsigned line, unsigned col, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* ---- rule pack --------------------------------------------------------- */

typedef enum { EMB_CONF_HIGH, EMB_CONF_MEDIUM, EMB_CONF_LOW } emb_confidence_t;
const char *emb__confidence_name(emb_confidence_t c);

typedef enum {
    EMB_PAT_DOMAIN,       /* name and every subdomain; may hold '*' */
    EMB_PAT_DOMAIN_EXACT, /* `=name`: only the name; may hold '*' */
    EMB_PAT_LITERAL,      /* substring; `hex:` payloads end up here too */
    EMB_PAT_REGEX         /* `re:` Hyperscan regex */
} emb_pat_kind_t;

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t plen;
    uint8_t addr[16];
} emb_cidr_t;

typedef struct {
    uint16_t lo, hi;
    uint8_t proto; /* 0 for any, 6 tcp, 17 udp */
} emb_portrange_t;

typedef struct {
    emb_key_t key;
    emb_pat_kind_t kind;
    char *text; /* pattern bytes (not NUL-safe for hex payloads: use len) */
    size_t len;
    emb_cidr_t cidr;       /* EMB_K_IP */
    emb_portrange_t ports; /* EMB_K_PORT */
    uint32_t file, line, col;
} emb_indicator_t;

/* One key of an alternative: any of its indicators satisfies it. */
typedef struct {
    emb_key_t key;
    uint32_t first, count; /* indicators[first .. first+count) */
} emb_cond_t;

/* One entry of a rule's `match` list: all its conditions must hold. */
typedef struct {
    uint32_t rule;
    uint32_t ncond;
    emb_cond_t cond[EMB_K__COUNT];
    uint32_t content_mask; /* bits of cond[] matched by content (not ip/port) */
    uint32_t file, line, col;
} emb_alt_t;

typedef struct {
    uint32_t sid, rev;
    int severity;
    emb_channel_t channel;
    emb_confidence_t confidence;
    char *msg;
    char *product; /* may be NULL */
    char **refs;
    size_t nrefs;
    uint32_t vendor;
    uint32_t first_alt, nalts;
    uint32_t file, line, col;
} emb_rule_t;

typedef struct {
    char *authority, *effective, *reference;
} emb_ban_t;

typedef struct {
    char *id, *name;
    emb_ban_t *bans;
    size_t nbans;
    const char **authorities; /* bans[i].authority, for emb_match_t */
    size_t nrules;
    uint32_t file;
} emb_vendor_t;

struct emb_rules {
    char **files;
    size_t nfiles, cap_files;
    emb_vendor_t *vendors;
    size_t nvendors, cap_vendors;
    emb_rule_t *rules;
    size_t nrules, cap_rules;
    emb_alt_t *alts;
    size_t nalts, cap_alts;
    emb_indicator_t *inds;
    size_t ninds, cap_inds;
};

/* Parses "a.b.c.d/n" or "v6/n" (a bare address is a full-length prefix). */
int emb__parse_cidr(const char *s, emb_cidr_t *out, const char **why);
/* Parses "N", "N-M", optionally followed by "/tcp" or "/udp". */
int emb__parse_ports(const char *s, emb_portrange_t *out, const char **why);
bool emb__cidr_contains(const emb_cidr_t *c, int family, const uint8_t *addr);

/* ---- fields and matching ----------------------------------------------- */

/* emb_field_t (the public header) is what an extractor produces; each field has
 * its own Hyperscan database. */
const char *emb__field_name(emb_field_t f);
/* True when indicators of `key` are matched against field `f`. */
bool emb__key_feeds_field(emb_key_t key, emb_field_t f);

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
    uint32_t cond;    /* index into the alternative's cond[] */
    uint32_t ind;     /* the indicator itself */
    uint32_t fields;  /* bit f set: the pattern applies to field f */
    uint16_t lit_len; /* a dotted-name literal: its length, to check where it matched */
    bool exact;       /* ... and it must cover the whole name */
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

/* Scans `data` for field `f`; returns 0, or EMB_EHS. */
int emb__matcher_scan(emb_matcher_t *m, emb_field_t f, const uint8_t *data, size_t len,
                      emb_match_fn fn, void *ctx);
/* Alternatives made only of ip/port conditions: checked once per new flow. */
const uint32_t *emb__matcher_flow_alts(const emb_matcher_t *m, size_t *n);

/* ---- normalisation ----------------------------------------------------- */

/*
 * Lower-cases a domain-valued field into `out` and drops one trailing dot.
 * Returns the length written (at most cap; longer input is cut).
 */
size_t emb__normalize_name(const uint8_t *in, size_t len, char *out, size_t cap);
/*
 * Splits an HTTP Host value into name and port: *name_len is the length of
 * the name part (brackets of "[v6]" included), *port the port or 0 if none.
 * A suffix that is not a valid port stays part of the name.
 */
void emb__host_split(const uint8_t *in, size_t len, size_t *name_len, size_t *port);
/* Like emb__normalize_name, for an HTTP Host value: also drops ":port" and []. */
size_t emb__normalize_host(const uint8_t *in, size_t len, char *out, size_t cap);

#endif /* EMB_INTERNAL_H */
