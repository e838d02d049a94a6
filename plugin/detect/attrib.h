/*
 * DNS attribution: which addresses a rule's names resolved to, per client.
 * A later flow from that client to such an address raises the rule even when
 * no name is on the wire (Encrypted Client Hello, no SNI, raw TCP).
 */
#ifndef EMB_ATTRIB_H
#define EMB_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMB_ATTRIB_NAME_MAX 256

typedef struct {
    bool used;
    uint8_t family;
    uint8_t client[16], addr[16];
    uint32_t rule;
    int64_t expires;
    int64_t seen_us;                /* when the answer was seen (packet time, microseconds) */
    char name[EMB_ATTRIB_NAME_MAX]; /* the name that resolved, normalised */
    size_t name_len;
} emb_attrib_entry_t;

typedef struct emb_attrib emb_attrib_t;

/*
 * `max` entries at most; a TTL is held between `ttl_floor` and `ttl_ceiling`
 * seconds (a zero or tiny TTL must not make the answer useless, a week-long
 * one must not pin it forever).
 */
int emb__attrib_new(size_t max, uint32_t ttl_floor, uint32_t ttl_ceiling, emb_attrib_t **out);
void emb__attrib_free(emb_attrib_t *a);
/* Touches every page of the table (its memory is fixed at creation but, as
 * calloc leaves it, committed only page by page at first use): for a table
 * made at load time in a long-running host, so that no page fault lands on
 * the packet path of the worker that first writes there. */
void emb__attrib_commit(emb_attrib_t *a);

/* Remembers that `addr` belongs to `rule` for `client`, from a name with `ttl`. */
void emb__attrib_add(emb_attrib_t *a, uint8_t family, const uint8_t *client, const uint8_t *addr,
                     uint32_t rule, const char *name, size_t name_len, uint32_t ttl, int64_t now,
                     int64_t seen_us);

/* Fills out[] (up to max) with the live entries for (client, addr); returns how many. */
size_t emb__attrib_lookup(emb_attrib_t *a, uint8_t family, const uint8_t *client,
                          const uint8_t *addr, int64_t now, const emb_attrib_entry_t **out,
                          size_t max);

/* Whether emb__attrib_lookup would find a live entry for (client, addr)
 * seen no later than `as_of_us`; counts no hit. */
bool emb__attrib_holds(emb_attrib_t *a, uint8_t family, const uint8_t *client, const uint8_t *addr,
                       int64_t now, int64_t as_of_us);

/*
 * Renumbers every entry's rule with map(rule, ctx); an entry whose rule maps
 * to UINT32_MAX is dropped. For a rule pack swapped under a live engine.
 */
void emb__attrib_remap(emb_attrib_t *a, uint32_t (*map)(uint32_t rule, void *ctx), void *ctx);

/*
 * Shared addresses: every A/AAAA answer is noted with the registrable domain
 * of the name asked (its last two labels, three under a two-letter country
 * code with co/com/net/org/gov/edu/ac before it: an approximation, no public
 * suffix list) and the vendor the answer's message raised (0: none). An
 * address that answers for two unrelated domains (different registrable
 * domains not both of one vendor) while the notes live is a shared edge (a
 * CDN), and no vendor is attributed for it. At most 4 domains per address;
 * as many addresses as the table has entries; a note lives as long as an
 * attribution from the same TTL would.
 */
void emb__attrib_note(emb_attrib_t *a, uint8_t family, const uint8_t *addr, const char *name,
                      size_t name_len, uint32_t vendor_tag, uint32_t ttl, int64_t now,
                      int64_t seen_us);
/* Whether `addr` is a shared edge, from the answers seen up to `as_of_us`
 * (packet time; INT64_MAX: all). */
bool emb__attrib_shared(emb_attrib_t *a, uint8_t family, const uint8_t *addr, int64_t now,
                        int64_t as_of_us);

/*
 * Engines that share a table (detect/shared.c) lock it by stripe: each set of
 * the table, and of its shared-address records, belongs to one of
 * EMB_ATTRIB_STRIPES locks (its index modulo the count). An operation on
 * (client, addr) touches the pair's set and the address's record: the two
 * stripes, in ascending order (out[0] <= out[1]; equal when they are one).
 */
#define EMB_ATTRIB_STRIPES 64
void emb__attrib_stripes(const emb_attrib_t *a, uint8_t family, const uint8_t *client,
                         const uint8_t *addr, unsigned out[2]);

/* Counted with relaxed atomics: engines under different stripes add to them. */
typedef struct {
    uint64_t added, replaced, hits;
    size_t entries; /* live or expired entries held */
} emb_attrib_stats_t;

const emb_attrib_stats_t *emb__attrib_stats(const emb_attrib_t *a);

#endif /* EMB_ATTRIB_H */
