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
#define SHARE_DOMAINS 4

/* What one address answered for: registrable domains and their vendors. */
typedef struct {
    bool used;
    uint8_t family, ndomains;
    uint8_t addr[16];
    int64_t expires;
    uint64_t domain[SHARE_DOMAINS];
    uint32_t vendor[SHARE_DOMAINS]; /* tag of the vendor it raised, 0: none */
    int64_t seen_us[SHARE_DOMAINS]; /* when it first answered for it (packet time) */
} share_t;

struct emb_attrib {
    emb_attrib_entry_t *e;
    share_t *share; /* nsets * WAYS, set-associative by address */
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
    a->share = calloc(a->nsets * WAYS, sizeof(share_t));
    if (a->e == NULL || a->share == NULL) {
        free(a->e);
        free(a->share);
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
    free(a->share);
    free(a);
}

void emb__attrib_commit(emb_attrib_t *a) {
    /* calloc's memory reads as zeros; writing them is what commits each page */
    memset(a->e, 0, a->nsets * WAYS * sizeof(emb_attrib_entry_t));
    memset(a->share, 0, a->nsets * WAYS * sizeof(share_t));
}

const emb_attrib_stats_t *emb__attrib_stats(const emb_attrib_t *a) {
    return &a->stats;
}

/* The index of the set of (client, addr) in a->e, in sets. */
static size_t set_index(const emb_attrib_t *a, uint8_t family, const uint8_t *client,
                        const uint8_t *addr) {
    size_t alen = family == 4 ? 4 : 16;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < alen; i++)
        h = (h ^ client[i]) * 1099511628211ULL;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    return h % a->nsets;
}

static emb_attrib_entry_t *set_of(emb_attrib_t *a, uint8_t family, const uint8_t *client,
                                  const uint8_t *addr) {
    return &a->e[set_index(a, family, client, addr) * WAYS];
}

static bool same_pair(const emb_attrib_entry_t *e, uint8_t family, const uint8_t *client,
                      const uint8_t *addr) {
    size_t alen = family == 4 ? 4 : 16;
    return e->used && e->family == family && memcmp(e->client, client, alen) == 0 &&
           memcmp(e->addr, addr, alen) == 0;
}

/* Whether name[0, len) sorts before the entry's name (bytes, then length). */
static bool name_before(const char *name, size_t len, const emb_attrib_entry_t *e) {
    size_t n = len < e->name_len ? len : e->name_len;
    int c = memcmp(name, e->name, n);
    return c < 0 || (c == 0 && len < e->name_len);
}

/*
 * The way a new entry takes in `set`: an unused one, else the one that
 * expired longest before `now`; NULL when all are live. An expired entry
 * still answers a lookup as of a time before its expiry: an engine of a
 * sensor's other worker, behind in packet time, or a decision as of a
 * flow's start. So the same (client, address, rule) answered again after
 * its entry expired takes a way of its own while one is free, rather than
 * that entry's: the two answers' times stay apart (the later answer's
 * connections are made after it, seen_us).
 */
static emb_attrib_entry_t *free_way(emb_attrib_entry_t *set, int64_t now) {
    emb_attrib_entry_t *slot = NULL;
    for (int w = 0; w < WAYS; w++) {
        if (!set[w].used)
            return &set[w];
        if (set[w].expires < now && (slot == NULL || set[w].expires < slot->expires))
            slot = &set[w];
    }
    return slot;
}

void emb__attrib_add(emb_attrib_t *a, uint8_t family, const uint8_t *client, const uint8_t *addr,
                     uint32_t rule, const char *name, size_t name_len, uint32_t ttl, int64_t now,
                     int64_t seen_us) {
    emb_attrib_entry_t *set = set_of(a, family, client, addr), *slot = NULL;
    for (int w = 0; w < WAYS && slot == NULL; w++)
        if (same_pair(&set[w], family, client, addr) && set[w].rule == rule)
            slot = &set[w];
    bool same = slot != NULL && slot->expires >= now; /* a live entry refreshed */
    if (!same)
        slot = free_way(set, now);
    if (slot == NULL) {
        slot = &set[0];
        for (int w = 1; w < WAYS; w++)
            if (set[w].expires < slot->expires)
                slot = &set[w];
        __atomic_fetch_add(&a->stats.replaced, 1, __ATOMIC_RELAXED);
    }
    if (!slot->used)
        __atomic_fetch_add(&a->stats.entries, 1, __ATOMIC_RELAXED);
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
    if (!same || now + ttl > slot->expires) /* the latest expiry, in any order */
        slot->expires = now + ttl;
    /* A refreshed answer keeps the time it was first seen (a connection made
     * after the first answer was made after an answer: attrib_grace_ms) and
     * that answer's name: the earliest in packet time, whichever order the
     * answers were learned in (workers of a sensor learn them out of order;
     * the later answer's name used to win there and then varied from run to
     * run). Of two answers seen at the same time, the smaller name. */
    if (name_len >= EMB_ATTRIB_NAME_MAX)
        name_len = EMB_ATTRIB_NAME_MAX - 1;
    bool earlier = !same || seen_us < slot->seen_us ||
                   (seen_us == slot->seen_us && name_before(name, name_len, slot));
    if (earlier) {
        slot->seen_us = seen_us;
        memcpy(slot->name, name, name_len);
        slot->name[name_len] = '\0';
        slot->name_len = name_len;
    }
    __atomic_fetch_add(&a->stats.added, 1, __ATOMIC_RELAXED);
}

size_t emb__attrib_lookup(emb_attrib_t *a, uint8_t family, const uint8_t *client,
                          const uint8_t *addr, int64_t now, const emb_attrib_entry_t **out,
                          size_t max) {
    emb_attrib_entry_t *set = set_of(a, family, client, addr);
    size_t n = 0;
    for (int w = 0; w < WAYS && n < max; w++)
        if (same_pair(&set[w], family, client, addr) && set[w].expires >= now)
            out[n++] = &set[w];
    __atomic_fetch_add(&a->stats.hits, n, __ATOMIC_RELAXED);
    return n;
}

bool emb__attrib_holds(emb_attrib_t *a, uint8_t family, const uint8_t *client, const uint8_t *addr,
                       int64_t now, int64_t as_of_us) {
    const emb_attrib_entry_t *set = set_of(a, family, client, addr);
    for (int w = 0; w < WAYS; w++)
        if (same_pair(&set[w], family, client, addr) && set[w].expires >= now &&
            set[w].seen_us <= as_of_us)
            return true;
    return false;
}

void emb__attrib_remap(emb_attrib_t *a, uint32_t (*map)(uint32_t rule, void *ctx), void *ctx) {
    for (size_t i = 0; i < a->nsets * WAYS; i++) {
        emb_attrib_entry_t *e = &a->e[i];
        if (!e->used)
            continue;
        uint32_t r = map(e->rule, ctx);
        if (r == UINT32_MAX) {
            e->used = false;
            __atomic_fetch_sub(&a->stats.entries, 1, __ATOMIC_RELAXED);
        } else {
            e->rule = r;
        }
    }
}

/* ---- shared addresses ------------------------------------------------------ */

static uint32_t clamp_ttl(const emb_attrib_t *a, uint32_t ttl) {
    return ttl < a->floor ? a->floor : ttl > a->ceiling ? a->ceiling : ttl;
}

/* FNV-1a of the registrable part of a dotted, normalised name (see attrib.h). */
static uint64_t registrable_hash(const char *name, size_t len) {
    size_t dots[3] = {len, len, len}; /* positions of the last three dots */
    int ndots = 0;
    for (size_t i = len; i-- > 0 && ndots < 3;)
        if (name[i] == '.')
            dots[ndots++] = i;
    size_t start = 0;
    if (ndots >= 2) {
        start = dots[1] + 1; /* last two labels */
        size_t sld = dots[0] - start, tld = len - dots[0] - 1;
        static const char *const second[] = {"co", "com", "net", "org", "gov", "edu", "ac"};
        for (size_t i = 0; tld == 2 && i < sizeof(second) / sizeof(second[0]); i++)
            if (strlen(second[i]) == sld && memcmp(name + start, second[i], sld) == 0)
                start = ndots >= 3 ? dots[2] + 1 : 0;
    }
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = start; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 1099511628211ULL;
    return h;
}

static size_t share_index(const emb_attrib_t *a, uint8_t family, const uint8_t *addr) {
    size_t alen = family == 4 ? 4 : 16;
    uint64_t h = 1469598103934665603ULL ^ family;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    return h % a->nsets;
}

static share_t *share_set(emb_attrib_t *a, uint8_t family, const uint8_t *addr) {
    return &a->share[share_index(a, family, addr) * WAYS];
}

void emb__attrib_stripes(const emb_attrib_t *a, uint8_t family, const uint8_t *client,
                         const uint8_t *addr, unsigned out[2]) {
    unsigned p = (unsigned)(set_index(a, family, client, addr) % EMB_ATTRIB_STRIPES);
    unsigned s = (unsigned)(share_index(a, family, addr) % EMB_ATTRIB_STRIPES);
    out[0] = p < s ? p : s;
    out[1] = p < s ? s : p;
}

static share_t *share_find(share_t *set, uint8_t family, const uint8_t *addr, int64_t now) {
    size_t alen = family == 4 ? 4 : 16;
    for (int w = 0; w < WAYS; w++)
        if (set[w].used && set[w].family == family && set[w].expires >= now &&
            memcmp(set[w].addr, addr, alen) == 0)
            return &set[w];
    return NULL;
}

void emb__attrib_note(emb_attrib_t *a, uint8_t family, const uint8_t *addr, const char *name,
                      size_t name_len, uint32_t vendor_tag, uint32_t ttl, int64_t now,
                      int64_t seen_us) {
    share_t *set = share_set(a, family, addr);
    share_t *s = share_find(set, family, addr, now);
    if (s == NULL) {
        /* an unused way, else the one that expired longest ago (it still tells
         * a lookup as of before its expiry what the address answered for), else
         * the one that expires soonest */
        s = &set[0];
        for (int w = 0; w < WAYS && s->used; w++)
            if (!set[w].used || set[w].expires < s->expires)
                s = &set[w];
        memset(s, 0, sizeof(*s));
        s->used = true;
        s->family = family;
        memcpy(s->addr, addr, family == 4 ? 4 : 16);
    }
    int64_t expires = now + clamp_ttl(a, ttl);
    if (expires > s->expires)
        s->expires = expires;
    uint64_t d = registrable_hash(name, name_len);
    for (uint8_t i = 0; i < s->ndomains; i++)
        if (s->domain[i] == d) {
            if (vendor_tag)
                s->vendor[i] = vendor_tag;
            return;
        }
    if (s->ndomains < SHARE_DOMAINS) {
        s->domain[s->ndomains] = d;
        s->seen_us[s->ndomains] = seen_us;
        s->vendor[s->ndomains++] = vendor_tag;
    }
}

bool emb__attrib_shared(emb_attrib_t *a, uint8_t family, const uint8_t *addr, int64_t now,
                        int64_t as_of_us) {
    /* The domains it answered for up to `as_of_us`: a host that looks up late
     * must see what an in-order lookup would. An address answered for again
     * after its record expired has two records (emb__attrib_note); both are read. */
    const share_t *set = share_set(a, family, addr);
    size_t alen = family == 4 ? 4 : 16;
    uint64_t domains[WAYS * SHARE_DOMAINS];
    uint32_t tags[WAYS * SHARE_DOMAINS];
    uint8_t n = 0;
    for (int w = 0; w < WAYS; w++) {
        const share_t *s = &set[w];
        if (!s->used || s->family != family || s->expires < now || memcmp(s->addr, addr, alen) != 0)
            continue;
        for (uint8_t i = 0; i < s->ndomains; i++) {
            bool again = false;
            for (uint8_t j = 0; j < n && !again; j++)
                again = domains[j] == s->domain[i];
            if (s->seen_us[i] <= as_of_us && !again) {
                domains[n] = s->domain[i];
                tags[n++] = s->vendor[i];
            }
        }
    }
    for (uint8_t i = 1; i < n; i++)
        if (tags[i] == 0 || tags[i] != tags[0])
            return true; /* another vendor's domain, or a domain of no vendor */
    return n > 1 && tags[0] == 0;
}
