/*
 * TCP stream reassembly, for inspection only: nothing is forwarded, so the
 * only questions are which bytes sit at which stream offset, and when the
 * prefix from offset 0 grows.
 *
 * Policy on overlaps: the first copy of a byte wins (later retransmissions
 * that disagree are ignored and counted). Offsets are sequence numbers minus
 * the stream's base, in 32-bit arithmetic, so sequence wrap needs no special
 * case; data that lies before the base (an old retransmission) is trimmed.
 * Only bytes below the depth are kept: the window. A sliding stream moves
 * its window past what its parser consumed when a segment would reach past
 * it (emb__stream_consume), so the depth bounds one message, not the
 * connection. Buffers start small and double up to the depth, within the
 * pool's memory cap; a stream refused memory is closed and the engine falls
 * back to looking at single packets. The buffers come from 2 MiB slabs in
 * huge pages (common/util.h), one free list per size, and go back to their
 * list: thousands of flows growing buffers cost a page fault per 2 MiB, not
 * one per 4 KiB, and no trip through malloc.
 */
#include "packet/stream.h"

#include "packet/ranges.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 2048

#define SLAB_SIZE ((size_t)2 << 20)

/* A buffer on a free list: its first bytes link to the next one. */
struct emb_stream_free {
    struct emb_stream_free *next;
};

static void push_free(emb_stream_pool_t *pool, unsigned c, uint8_t *b) {
    struct emb_stream_free *f = (struct emb_stream_free *)(void *)b;
    f->next = pool->free_bufs[c];
    pool->free_bufs[c] = f;
}

/* The size class of a buffer of `cap` bytes: 2 KiB << class. Under
 * AddressSanitizer every buffer is malloc's, so that a use after it went back
 * is still caught. */
static unsigned size_class(uint32_t cap) {
#ifdef __SANITIZE_ADDRESS__
    (void)cap;
    return EMB_STREAM_CLASSES;
#endif
    unsigned c = 0;
    while (c < EMB_STREAM_CLASSES && ((uint32_t)FIRST_CHUNK << c) < cap)
        c++;
    return c; /* EMB_STREAM_CLASSES: too large for a slab */
}

static uint8_t *buf_get(emb_stream_pool_t *pool, uint32_t cap) {
    unsigned c = size_class(cap);
    if (c == EMB_STREAM_CLASSES)
        return malloc(cap);
    size_t size = (size_t)FIRST_CHUNK << c;
    if (pool->free_bufs[c]) {
        struct emb_stream_free *f = pool->free_bufs[c];
        pool->free_bufs[c] = f->next;
        return (uint8_t *)f;
    }
    if (pool->carve_left < size) {
        if (pool->nslabs == pool->slabs_cap && emb__grow((void **)&pool->slabs, &pool->slabs_cap,
                                                         pool->nslabs + 1, sizeof(uint8_t *)) != 0)
            return NULL;
        /* What is left of the old slab goes to the free lists, largest first. */
        for (unsigned k = EMB_STREAM_CLASSES; k-- > 0;) {
            size_t ksize = (size_t)FIRST_CHUNK << k;
            while (pool->carve_left >= ksize) {
                push_free(pool, k, pool->carve);
                pool->carve += ksize;
                pool->carve_left -= ksize;
            }
        }
        uint8_t *slab = emb__big_alloc(SLAB_SIZE);
        if (slab == NULL)
            return NULL;
        pool->slabs[pool->nslabs++] = slab;
        pool->carve = slab;
        pool->carve_left = SLAB_SIZE;
    }
    uint8_t *b = pool->carve;
    pool->carve += size;
    pool->carve_left -= size;
    return b;
}

static void buf_put(emb_stream_pool_t *pool, uint8_t *b, uint32_t cap) {
    unsigned c = size_class(cap);
    if (c == EMB_STREAM_CLASSES) {
        free(b);
        return;
    }
    push_free(pool, c, b);
}

void emb__stream_pool_free(emb_stream_pool_t *pool) {
    for (size_t i = 0; i < pool->nslabs; i++)
        emb__big_free(pool->slabs[i], SLAB_SIZE);
    free(pool->slabs);
    pool->slabs = NULL;
    pool->nslabs = pool->slabs_cap = 0;
    memset(pool->free_bufs, 0, sizeof(pool->free_bufs));
    pool->carve = NULL;
    pool->carve_left = 0;
}

/* Grows s->buf to hold [0, need), within depth and memcap. */
static bool reserve(emb_stream_pool_t *pool, emb_stream_t *s, uint32_t need) {
    if (need <= s->cap)
        return true;
    uint32_t ncap = s->cap ? s->cap : FIRST_CHUNK;
    while (ncap < need)
        ncap *= 2;
    if (ncap > pool->depth)
        ncap = pool->depth;
    size_t extra = ncap - s->cap;
    if (pool->stats.mem_in_use + extra > pool->memcap) {
        pool->stats.memcap_refused++;
        return false;
    }
    uint8_t *nb = buf_get(pool, ncap);
    if (nb == NULL)
        return false;
    if (s->buf) {
        memcpy(nb, s->buf, s->cap);
        buf_put(pool, s->buf, s->cap);
    }
    s->buf = nb;
    s->cap = ncap;
    pool->stats.mem_in_use += extra;
    if (pool->stats.mem_in_use > pool->stats.mem_peak)
        pool->stats.mem_peak = pool->stats.mem_in_use;
    return true;
}

static void release_buf(emb_stream_pool_t *pool, emb_stream_t *s) {
    if (s->buf) {
        pool->stats.mem_in_use -= s->cap;
        buf_put(pool, s->buf, s->cap);
    }
    s->buf = NULL;
    s->cap = 0;
}

void emb__stream_consume(emb_stream_pool_t *pool, emb_stream_t *s, uint32_t n) {
    if (n == 0 || s->closed)
        return;
    /* The islands move back by n; what lies before n goes. */
    uint8_t k = 0;
    uint32_t keep_end = 0;
    for (uint8_t i = 0; i < s->nranges; i++) {
        if (s->ranges[i].end <= n)
            continue;
        uint32_t start = s->ranges[i].start > n ? s->ranges[i].start - n : 0;
        keep_end = s->ranges[i].end - n;
        s->ranges[k++] = (emb_range_t){start, keep_end};
    }
    s->nranges = k;
    if (k > 0 && s->buf)
        memmove(s->buf, s->buf + n, keep_end);
    s->base += n;
    s->offset += n;
    s->cursor = s->cursor > n ? s->cursor - n : 0;
    s->have = k > 0 && s->ranges[0].start == 0 ? s->ranges[0].end : 0;
    if (k == 0)
        release_buf(pool, s); /* an idle keep-alive connection holds no memory */
}

void emb__stream_close(emb_stream_pool_t *pool, emb_stream_t *s) {
    release_buf(pool, s);
    s->nranges = 0;
    s->closed = true;
}

uint32_t emb__stream_add(emb_stream_pool_t *pool, emb_stream_t *s, uint32_t seq, bool syn,
                         const uint8_t *data, size_t len) {
    if (syn && !s->base_set) {
        s->base = seq + 1;
        s->base_set = true;
        seq += 1; /* a SYN occupies one sequence number; data may follow it */
    }
    if (s->closed || len == 0)
        return 0;
    if (!s->base_set) {
        s->base = seq;
        s->base_set = true;
        s->midstream = true;
    }

    uint32_t rel = seq - s->base;
    if (s->slide && s->cursor > 0 && rel < 0x80000000u && (uint64_t)rel + len > pool->depth)
        emb__stream_consume(pool, s, s->cursor); /* the parser is done with [0, cursor) */
    rel = seq - s->base;
    if (rel >= 0x80000000u) {
        /* before the base: keep only what reaches past it */
        uint32_t behind = s->base - seq;
        if (behind >= len)
            return 0;
        data += behind;
        len -= behind;
        rel = 0;
    }
    if (rel >= pool->depth)
        return 0;
    uint32_t end = rel + (uint32_t)(len < pool->depth - rel ? len : pool->depth - rel);

    if (!reserve(pool, s, end)) {
        emb__stream_close(pool, s);
        pool->stats.dropped++;
        return 0;
    }
    if (emb__ranges_copy_gaps(s->ranges, s->nranges, s->buf, rel, end, data))
        pool->stats.overlaps++;
    if (!emb__ranges_insert(s->ranges, &s->nranges, EMB_STREAM_MAX_RANGES, rel, end)) {
        pool->stats.dropped++; /* too many islands: this one is forgotten */
        return 0;
    }
    pool->stats.segments++;
    if (rel > s->have)
        pool->stats.out_of_order++;

    uint32_t old = s->have;
    if (s->nranges > 0 && s->ranges[0].start == 0)
        s->have = s->ranges[0].end;
    return s->have - old;
}
