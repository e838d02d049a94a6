/*
 * Fragment reassembly. Datagrams under reassembly sit in a fixed table,
 * found through a hash of (addresses, id, protocol) and kept on a list by
 * age, so a fragment costs the same whether 10 or 1,000 datagrams are
 * waiting (a flood of incomplete datagrams must not turn every fragment into
 * a walk over the table). Each holds a buffer that grows as fragments
 * arrive, within a memory cap shared by all.
 *
 * Overlap policy: the first copy of a byte wins, as in TCP reassembly; a
 * fragment that would make the datagram exceed 65,535 bytes, or that
 * disagrees about where the datagram ends, kills it (counted as invalid).
 * A full table evicts the datagram waiting longest.
 */
#include "packet/defrag.h"

#include "embargo/embargo.h"
#include "packet/ranges.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DATAGRAM 65535u
#define MAX_PIECES 16

#define NIL (-1)

typedef struct {
    bool used;
    int32_t hnext;        /* next slot in the same bucket */
    int32_t older, newer; /* the age list */
    uint32_t hash;
    uint8_t family, proto;
    uint8_t src[16], dst[16];
    uint32_t id;
    int64_t first_seen;
    uint32_t epoch; /* the clock's, when the datagram began */
    uint32_t total; /* 0 until the last fragment says where the datagram ends */
    uint8_t *buf;
    uint32_t cap;
    emb_range_t ranges[MAX_PIECES];
    uint8_t nranges;
} tracker_t;

struct emb_defrag {
    tracker_t *slots;
    size_t nslots;
    int32_t *buckets; /* nbuckets, a power of two; NIL when empty */
    size_t nbuckets;
    int32_t oldest, newest; /* ends of the age list */
    int32_t free_head;      /* unused slots, through hnext */
    size_t memcap;
    uint32_t timeout;
    emb_clock_t clock; /* datagrams expire on it (packet/clock.h) */
    uint8_t *done;     /* the last datagram handed out */
    emb_defrag_stats_t stats;
};

int emb__defrag_new(size_t max_datagrams, size_t memcap, uint32_t timeout_s, emb_defrag_t **out) {
    *out = NULL;
    if (max_datagrams == 0)
        return EMB_EINVAL;
    emb_defrag_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return EMB_ENOMEM;
    d->slots = calloc(max_datagrams, sizeof(tracker_t));
    if (d->slots == NULL) {
        free(d);
        return EMB_ENOMEM;
    }
    d->nslots = max_datagrams;
    d->nbuckets = 1;
    while (d->nbuckets < 2 * max_datagrams)
        d->nbuckets <<= 1;
    d->buckets = malloc(d->nbuckets * sizeof(int32_t));
    if (max_datagrams > INT32_MAX / 2 || d->buckets == NULL) {
        free(d->buckets);
        free(d->slots);
        free(d);
        return EMB_ENOMEM;
    }
    for (size_t i = 0; i < d->nbuckets; i++)
        d->buckets[i] = NIL;
    for (size_t i = 0; i < max_datagrams; i++)
        d->slots[i].hnext = i + 1 < max_datagrams ? (int32_t)(i + 1) : NIL;
    d->free_head = 0;
    d->oldest = d->newest = NIL;
    d->memcap = memcap;
    d->timeout = timeout_s;
    *out = d;
    return 0;
}

/* Takes slot `t` out of its bucket and the age list and frees what it holds. */
static void release(emb_defrag_t *d, tracker_t *t) {
    int32_t idx = (int32_t)(t - d->slots);
    int32_t *pp = &d->buckets[t->hash & (d->nbuckets - 1)];
    while (*pp != idx)
        pp = &d->slots[*pp].hnext;
    *pp = t->hnext;
    if (t->older != NIL)
        d->slots[t->older].newer = t->newer;
    else
        d->oldest = t->newer;
    if (t->newer != NIL)
        d->slots[t->newer].older = t->older;
    else
        d->newest = t->older;
    d->stats.mem_in_use -= t->cap;
    d->stats.pending--;
    memset(t, 0, sizeof(*t));
    t->hnext = d->free_head;
    d->free_head = idx;
}

static void drop(emb_defrag_t *d, tracker_t *t) {
    free(t->buf);
    release(d, t);
}

void emb__defrag_free(emb_defrag_t *d) {
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nslots; i++)
        free(d->slots[i].buf);
    free(d->slots);
    free(d->buckets);
    free(d->done);
    free(d);
}

const emb_defrag_stats_t *emb__defrag_stats(const emb_defrag_t *d) {
    return &d->stats;
}

static bool same_datagram(const tracker_t *t, const emb_decoded_t *f) {
    size_t alen = f->family == 4 ? 4 : 16;
    return t->used && t->family == f->family && t->id == f->frag_id && t->proto == f->frag_proto &&
           memcmp(t->src, f->src, alen) == 0 && memcmp(t->dst, f->dst, alen) == 0;
}

static uint32_t datagram_hash(const emb_decoded_t *f) {
    size_t alen = f->family == 4 ? 4 : 16;
    uint32_t h = 2166136261u ^ f->frag_id ^ ((uint32_t)f->frag_proto << 24);
    for (size_t i = 0; i < alen; i++)
        h = (h ^ f->src[i]) * 16777619u;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ f->dst[i]) * 16777619u;
    return h;
}

static bool timed_out(const emb_defrag_t *d, const tracker_t *t) {
    return emb__clock_past(&d->clock, t->epoch, t->first_seen, d->timeout);
}

/* Finds the datagram of `f`, or starts one (expiring and evicting as needed).
 * Expiry is judged on the clock, and a datagram found past it starts afresh,
 * so which datagrams were reaped early never changes the outcome. */
static tracker_t *find_or_start(emb_defrag_t *d, const emb_decoded_t *f, int64_t now) {
    emb__clock_tick(&d->clock, now);
    while (d->oldest != NIL && timed_out(d, &d->slots[d->oldest])) {
        drop(d, &d->slots[d->oldest]);
        d->stats.timeouts++;
    }
    uint32_t h = datagram_hash(f);
    for (int32_t i = d->buckets[h & (d->nbuckets - 1)]; i != NIL; i = d->slots[i].hnext)
        if (d->slots[i].hash == h && same_datagram(&d->slots[i], f)) {
            if (!timed_out(d, &d->slots[i]))
                return &d->slots[i];
            drop(d, &d->slots[i]);
            d->stats.timeouts++;
            break;
        }
    if (d->free_head == NIL) {
        drop(d, &d->slots[d->oldest]); /* full: the datagram waiting longest goes */
        d->stats.evicted++;
    }
    int32_t idx = d->free_head;
    tracker_t *t = &d->slots[idx];
    d->free_head = t->hnext;
    t->used = true;
    d->stats.pending++;
    t->hash = h;
    t->family = f->family;
    t->proto = f->frag_proto;
    memcpy(t->src, f->src, 16);
    memcpy(t->dst, f->dst, 16);
    t->id = f->frag_id;
    t->first_seen = now;
    t->epoch = d->clock.epoch;
    int32_t *bucket = &d->buckets[h & (d->nbuckets - 1)];
    t->hnext = *bucket;
    *bucket = idx;
    t->newer = NIL;
    t->older = d->newest;
    if (d->newest != NIL)
        d->slots[d->newest].newer = idx;
    else
        d->oldest = idx;
    d->newest = idx;
    return t;
}

static bool reserve(emb_defrag_t *d, tracker_t *t, uint32_t need) {
    if (need <= t->cap)
        return true;
    uint32_t ncap = t->cap ? t->cap : 2048;
    while (ncap < need)
        ncap *= 2;
    if (ncap > MAX_DATAGRAM)
        ncap = MAX_DATAGRAM;
    if (d->stats.mem_in_use + (ncap - t->cap) > d->memcap) {
        d->stats.memcap_refused++;
        return false;
    }
    uint8_t *nb = realloc(t->buf, ncap);
    if (nb == NULL)
        return false;
    d->stats.mem_in_use += ncap - t->cap;
    if (d->stats.mem_in_use > d->stats.mem_peak)
        d->stats.mem_peak = d->stats.mem_in_use;
    t->buf = nb;
    t->cap = ncap;
    return true;
}

bool emb__defrag_add(emb_defrag_t *d, const emb_decoded_t *f, int64_t now, const uint8_t **data,
                     size_t *len) {
    free(d->done);
    d->done = NULL;
    d->stats.fragments++;

    tracker_t *t = find_or_start(d, f, now);
    if (t == NULL)
        return false;
    uint32_t start = f->frag_off;
    uint32_t end = start + (uint32_t)f->frag_len;
    /* Every fragment but the last carries a multiple of 8 bytes (RFC 791, 8200). */
    bool bad = end > MAX_DATAGRAM || (f->frag_more && (f->frag_len % 8) != 0) ||
               (t->total && (end > t->total || (!f->frag_more && end != t->total)));
    if (!bad && !f->frag_more) {
        for (uint8_t i = 0; i < t->nranges; i++)
            bad = bad || t->ranges[i].end > end;
        t->total = end;
    }
    if (bad) {
        d->stats.invalid++;
        drop(d, t);
        return false;
    }
    if (f->frag_len > 0) {
        if (!reserve(d, t, end)) {
            drop(d, t);
            return false;
        }
        if (emb__ranges_copy_gaps(t->ranges, t->nranges, t->buf, start, end, f->frag_data))
            d->stats.overlaps++;
        if (!emb__ranges_insert(t->ranges, &t->nranges, MAX_PIECES, start, end)) {
            d->stats.invalid++; /* more islands than a sane sender makes */
            drop(d, t);
            return false;
        }
    }
    if (t->total == 0 || t->nranges != 1 || t->ranges[0].start != 0 || t->ranges[0].end != t->total)
        return false;

    /* Complete: hand the buffer out until the next call, free the slot. */
    d->done = t->buf;
    *data = t->buf;
    *len = t->total;
    t->buf = NULL;
    release(d, t);
    d->stats.reassembled++;
    return true;
}

void emb__defrag_clock(emb_defrag_t *d, int64_t sec) {
    emb__clock_tick(&d->clock, sec);
}
