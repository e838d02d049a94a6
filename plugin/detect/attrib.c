/*
 * The attribution table is set-associative: (client, address) picks a set
 * of WAYS entries, and all rules for that pair live in that set. A new entry
 * takes a free way, the same (client, address, rule), or else the way that
 * expires soonest. Memory is fixed at creation; nothing is allocated later.
 */
#include "detect/attrib.h"

#include "embargo/embargo.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct emb_attrib {
    emb_attrib_entry_t *e;
    size_t nsets;
    uint32_t floor, ceiling;
    emb_attrib_stats_t stats;
};

int emb__attrib_new(size_t max, uint32_t ttl_floor, uint32_t ttl_ceiling, emb_attrib_t **out) {
    *out = NULL;
    if (max < WAYS || ttl_floor > ttl_ceiling)
        return EMB_EINVAL;
    emb_attrib_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return EMB_ENOMEM;
    a->nsets = max / WAYS;
    a->e = calloc(a->nsets * WAYS, sizeof(emb_attrib_entry_t));
    if (a->e == NULL) {
        free(a);
        return EMB_ENOMEM;
    }
    a->floor = ttl_floor;
    a->ceiling = ttl_ceiling;
    *out = a;
    return 0;
}

void emb__attrib_free(emb_attrib_t *a) {
    if (a == NULL)
        return;
    free(a->e);
    free(a);
}

const emb_attrib_stats_t *emb__attrib_stats(const emb_attrib_t *a) {
    return &a->stats;
}

static emb_attrib_entry_t *set_of(emb_attrib_t *a, uint8_t family, const uint8_t *client,
                                  const uint8_t *addr) {
    size_t alen = family == 4 ? 4 : 16;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < alen; i++)
        h = (h ^ client[i]) * 1099511628211ULL;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    return &a->e[(h % a->nsets) * WAYS];
}

static bool same_pair(const emb_attrib_entry_t *e, uint8_t family, const uint8_t *client,
                      const uint8_t *addr) {
    size_t alen = family == 4 ? 4 : 16;
    return e->used && e->family == family && memcmp(e->client, client, alen) == 0 &&
           memcmp(e->addr, addr, alen) == 0;
}

void emb__attrib_add(emb_attrib_t *a, uint8_t family, const uint8_t *client, const uint8_t *addr,
                     uint32_t rule, const char *name, size_t name_len, uint32_t ttl, int64_t now) {
    emb_attrib_entry_t *set = set_of(a, family, client, addr), *slot = NULL;
    for (int w = 0; w < WAYS && slot == NULL; w++)
        if (same_pair(&set[w], family, client, addr) && set[w].rule == rule)
            slot = &set[w];
    for (int w = 0; w < WAYS && slot == NULL; w++)
        if (!set[w].used || set[w].expires < now)
            slot = &set[w];
    if (slot == NULL) {
        slot = &set[0];
        for (int w = 1; w < WAYS; w++)
            if (set[w].expires < slot->expires)
                slot = &set[w];
        a->stats.replaced++;
    }
    if (!slot->used)
        a->stats.entries++;
    if (ttl < a->floor)
        ttl = a->floor;
    if (ttl > a->ceiling)
        ttl = a->ceiling;
    size_t alen = family == 4 ? 4 : 16;
    slot->used = true;
    slot->family = family;
    memset(slot->client, 0, 16);
    memset(slot->addr, 0, 16);
    memcpy(slot->client, client, alen);
    memcpy(slot->addr, addr, alen);
    slot->rule = rule;
    slot->expires = now + ttl;
    if (name_len >= EMB_ATTRIB_NAME_MAX)
        name_len = EMB_ATTRIB_NAME_MAX - 1;
    memcpy(slot->name, name, name_len);
    slot->name[name_len] = '\0';
    slot->name_len = name_len;
    a->stats.added++;
}

size_t emb__attrib_lookup(emb_attrib_t *a, uint8_t family, const uint8_t *client,
                          const uint8_t *addr, int64_t now, const emb_attrib_entry_t **out,
                          size_t max) {
    emb_attrib_entry_t *set = set_of(a, family, client, addr);
    size_t n = 0;
    for (int w = 0; w < WAYS && n < max; w++)
        if (same_pair(&set[w], family, client, addr) && set[w].expires >= now)
            out[n++] = &set[w];
    a->stats.hits += n;
    return n;
}

void emb__attrib_remap(emb_attrib_t *a, uint32_t (*map)(uint32_t rule, void *ctx), void *ctx) {
    for (size_t i = 0; i < a->nsets * WAYS; i++) {
        emb_attrib_entry_t *e = &a->e[i];
        if (!e->used)
            continue;
        uint32_t r = map(e->rule, ctx);
        if (r == UINT32_MAX) {
            e->used = false;
            a->stats.entries--;
        } else {
            e->rule = r;
        }
    }
}
