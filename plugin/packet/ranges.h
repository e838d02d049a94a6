/*
 * Sorted, disjoint byte ranges: which parts of a reassembly buffer hold data.
 * Shared by TCP stream and IP fragment reassembly, which both keep the first
 * copy of a byte when pieces overlap.
 */
#ifndef EMB_UTIL_RANGES_H
#define EMB_UTIL_RANGES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t start, end; /* end exclusive */
} emb_range_t;

/*
 * Copies src (which holds bytes [start, end)) into dst at the same offsets,
 * but only where no range holds data yet: the first copy wins. Returns true
 * when some bytes were already held (an overlap).
 */
bool emb__ranges_copy_gaps(const emb_range_t *r, uint8_t n, uint8_t *dst, uint32_t start,
                           uint32_t end, const uint8_t *src);

/* Adds [start, end), merging neighbours. False (nothing changed) when more
 * than `max` ranges would be needed. */
bool emb__ranges_insert(emb_range_t *r, uint8_t *n, uint8_t max, uint32_t start, uint32_t end);

#endif /* EMB_UTIL_RANGES_H */
