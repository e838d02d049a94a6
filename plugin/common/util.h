/*
 * The allocation helpers and the diagnostics list that every room of the
 * engine uses. Nothing here knows about packets or rules.
 */
#ifndef EMB_COMMON_UTIL_H
#define EMB_COMMON_UTIL_H

#include "embargo/embargo.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Grows *arr (elements of `elsize`) so that it holds at least `need`. */
int emb__grow(void **arr, size_t *cap, size_t need, size_t elsize);
char *emb__strndup(const char *s, size_t n);

/*
 * Zeroed memory for a large table or a slab of buffers, in huge pages where
 * the kernel gives them on request (transparent huge pages in `madvise`
 * mode): one page fault per 2 MiB touched instead of one per 4 KiB. Filling
 * a flow table or the reassembly buffers is mostly first touches of memory,
 * and a page fault costs microseconds (more under a hypervisor). Below 2 MiB,
 * calloc. Free with the same size.
 */
void *emb__big_alloc(size_t size);
void emb__big_free(void *p, size_t size);
char *emb__strdup(const char *s);

/* A packet's time in microseconds. A capture may say any 64-bit second
 * (pcapng): one before 1970 counts as 1970, one past what microseconds hold
 * in 64 bits (year 292,000) as that limit, so that no product or difference
 * of two such times overflows. */
static inline int64_t emb__time_us(int64_t sec, uint32_t usec) {
    const int64_t lim = INT64_MAX / 1000000 - 5000; /* room for usec < 2^32 */
    sec = sec < 0 ? 0 : sec > lim ? lim : sec;
    return sec * 1000000 + (int64_t)usec;
}

/* A 64-bit hash of `n` bytes, eight a step (a multiply and a shift each, as
 * in MurmurHash3's finaliser): for the lookup tables read once per name or
 * value of every message, where a byte-at-a-time hash costs more than the
 * lookup. */
static inline uint64_t emb__hash_bytes(uint64_t seed, const void *data, size_t n) {
    const uint64_t k = 0xff51afd7ed558ccdull;
    const uint8_t *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ seed ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    for (size_t j = 0; i + j < n; j++)
        w |= (uint64_t)p[i + j] << (8 * j);
    h = (h ^ w) * k;
    h ^= h >> 29;
    return h;
}

/* ---- diagnostics ------------------------------------------------------- */

/* Appends a formatted message; returns EMB_ENOMEM if it could not. */
int emb__diag_add(emb_diags_t **d, const char *file, unsigned line, unsigned col, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* Hands a loader's diagnostics to the caller who asked for them (`out` not
 * NULL), else frees them. */
void emb__diags_give(emb_diags_t *local, emb_diags_t **out);

#endif /* EMB_COMMON_UTIL_H */
