/*
 * The loaded rule pack, as the engine and the pack tools read it; not
 * installed.
 *
 * A loaded rule pack is flat arrays (vendors, rules, alternatives,
 * indicators) that refer to each other by index, so the matcher can map a
 * Hyperscan pattern id back to (rule, alternative, condition) in O(1).
 * load.c fills it from YAML; indicator.c parses one indicator's text.
 */
#ifndef EMB_PACK_H
#define EMB_PACK_H

#include "embargo/embargo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { EMB_CONF_HIGH, EMB_CONF_MEDIUM, EMB_CONF_LOW } emb_confidence_t;

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
    char *product;   /* may be NULL */
    bool any_packet; /* `established: false`: its ip/port alternatives hold on any packet,
                        a lone SYN included, not only once the flow is a conversation */
    char **refs;
    size_t nrefs;
    uint32_t vendor;
    uint32_t first_alt, nalts;
    uint32_t file, line, col;
} emb_rule_t;

/* What a ban restricts (docs/rules.md, "Bans"): bits of emb_ban_t.restricts. */
typedef enum {
    EMB_R_SALE = 1,
    EMB_R_UPDATES = 2,
    EMB_R_USE = 4,
    EMB_R_PROCUREMENT = 8,
    EMB_R_NEW_AUTHORIZATION = 16,
    EMB_R__COUNT = 5
} emb_restrict_t;

typedef enum { EMB_BAN_IN_FORCE, EMB_BAN_PROPOSED, EMB_BAN_EXPIRED } emb_ban_status_t;

typedef struct {
    char *authority, *effective, *reference;
    char *scope;        /* "all" (default), "federal", "federal-contractors", "state:XX" */
    char *sunset;       /* YYYY-MM-DD or NULL */
    char *note;         /* conditions in words, or NULL */
    uint32_t restricts; /* emb_restrict_t bits; 0 when not said */
    emb_ban_status_t status;
    bool applies; /* selected for this run (emb_rules_select); at load: in force */
} emb_ban_t;

/* "sale", "updates", ... for one bit of emb_restrict_t; NULL otherwise. */
const char *emb__restrict_name(uint32_t bit);
/* The bit of a restriction's name, 0 when there is none. */
uint32_t emb__restrict_lookup(const char *s);
const char *emb__ban_status_name(emb_ban_status_t s);
/* True for "all", "federal", "federal-contractors" and "state:XX" (two capitals). */
bool emb__scope_valid(const char *s);
/* Frees what a ban holds (load.c). */
void emb__ban_free(emb_ban_t *b);

typedef struct {
    char *id, *name;
    emb_ban_t *bans;
    size_t nbans;
    bool selected;            /* a ban of it applies, or it has none: its rules alert */
    const char **authorities; /* bans[i].authority, for emb_match_t */
    size_t nrules;
    uint32_t file;
} emb_vendor_t;

typedef enum { EMB_TERM_SCOPE, EMB_TERM_RESTRICTS, EMB_TERM_STATUS } emb_ban_term_t;
/* The distinct scopes, restrictions or statuses of the bans of `v` that
 * apply, in the order of its bans; returns how many were put in out[0..max). */
size_t emb__ban_terms(const emb_vendor_t *v, emb_ban_term_t what, const char **out, size_t max);

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

/* What an alternative of addresses and ports alone can hold on, coarsely:
 * the first bytes of the addresses its `ip` conditions cover (one bit each,
 * per family), the span of the server ports its `port` conditions cover.
 * Most flows' endpoints fall outside, and are then turned away without a
 * walk of the ranges (match.c). */
typedef struct {
    bool has_ip, has_port; /* false: the alternative has no such condition */
    uint16_t port_lo, port_hi;
    uint64_t v4[4], v6[4];
} emb_flow_sieve_t;
void emb__flow_sieve_of(const emb_rules_t *r, const emb_alt_t *alt, emb_flow_sieve_t *out);
/* False when the alternative cannot hold on a flow between `a` and `b`
 * (addresses of `family`) to server port `port`; true says only "maybe". */
static inline bool emb__flow_sieve_may(const emb_flow_sieve_t *sv, int family, const uint8_t *a,
                                       const uint8_t *b, uint16_t port) {
    if (sv->has_port && (port < sv->port_lo || port > sv->port_hi))
        return false;
    if (!sv->has_ip)
        return true;
    const uint64_t *set = family == 4 ? sv->v4 : sv->v6;
    return ((set[a[0] >> 6] >> (a[0] & 63)) & 1) || ((set[b[0] >> 6] >> (b[0] & 63)) & 1);
}

/* The sieves of all of a matcher's alternatives of addresses and ports at
 * once: false when none of them can hold, which for most flows spares the
 * walk of every alternative (and the round around it). The first bytes of
 * the addresses of those with an `ip` condition; the port spans of those
 * with ports alone (up to EMB_UNION_SPANS; more widen the last). */
#define EMB_UNION_SPANS 8
typedef struct {
    uint64_t v4[4], v6[4];
    uint16_t span_lo[EMB_UNION_SPANS], span_hi[EMB_UNION_SPANS];
    uint8_t nspans;
} emb_flow_union_t;
void emb__flow_union_add(emb_flow_union_t *u, const emb_flow_sieve_t *sv);
static inline bool emb__flow_union_may(const emb_flow_union_t *u, int family, const uint8_t *a,
                                       const uint8_t *b, uint16_t port) {
    for (unsigned i = 0; i < u->nspans; i++)
        if (port >= u->span_lo[i] && port <= u->span_hi[i])
            return true;
    if (family != 4 && family != 6)
        return false;
    const uint64_t *set = family == 4 ? u->v4 : u->v6;
    return ((set[a[0] >> 6] >> (a[0] & 63)) & 1) || ((set[b[0] >> 6] >> (b[0] & 63)) & 1);
}

/* ---- indicator.c: names and indicator text ------------------------------ */

const char *emb__confidence_name(emb_confidence_t c);
/* The key or channel of that name; false when there is none. */
bool emb__key_lookup(const char *s, emb_key_t *out);
bool emb__channel_lookup(const char *s, emb_channel_t *out);
/* A decimal number in [min, max], digits only. */
bool emb__parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/*
 * Fills `ind` (key, kind, text, len, cidr, ports; not its position) from the
 * text `v` of one indicator of `key`. Returns 0; EMB_EINVAL with the reason
 * in `err` ("bad CIDR '10.0.0.1/8': ..."); or EMB_ENOMEM.
 */
int emb__indicator_parse(emb_key_t key, const char *v, emb_indicator_t *ind, char *err,
                         size_t errcap);

/* ---- exceptions.c: a site's exceptions file ----------------------------- */

typedef struct {
    emb_cidr_t host; /* the flow's client */
    char *vendor;    /* NULL: any */
    int channel;     /* an emb_channel_t; -1: any */
    uint32_t sid;    /* 0: any */
    char *reason, *owner;
    char expires[11]; /* YYYY-MM-DD, as written */
    int64_t until;    /* the first second (UTC) after the expiry day */
    uint32_t line, col;
} emb_exception_t;

struct emb_exceptions {
    char *file; /* the path as given, for messages */
    emb_exception_t *v;
    size_t n, cap;
};

/* "YYYY-MM-DD" (a real date) to its first second, UTC; false when it is not one. */
bool emb__parse_date(const char *s, int64_t *day_start);

/*
 * The index of the first exception of `x` that covers an alert of (vendor,
 * channel, sid) on a flow whose client is (family, addr), at time `ts`; -1
 * when none does. Each exception that would cover it but expired before `ts`
 * adds one to expired_hits[its index] (when expired_hits is not NULL).
 */
long emb__exceptions_find(const emb_exceptions_t *x, int family, const uint8_t *addr,
                          const char *vendor, emb_channel_t channel, uint32_t sid, int64_t ts,
                          uint64_t *expired_hits);

#endif /* EMB_PACK_H */
