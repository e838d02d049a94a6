/*
 * Range lists for reassembly. The lists are short (a handful of islands per
 * stream or datagram), so a linear walk is the simplest correct thing.
 */
#include "packet/ranges.h"

#include <string.h>

#define MAX_RANGES_ANY 32

bool emb__ranges_copy_gaps(const emb_range_t *r, uint8_t n, uint8_t *dst, uint32_t start,
                           uint32_t end, const uint8_t *src) {
    bool overlap = false;
    uint32_t pos = start;
    for (uint8_t i = 0; i < n && pos < end; i++) {
        if (r[i].end <= pos)
            continue;
        if (r[i].start >= end)
            break;
        if (r[i].start > pos)
            memcpy(dst + pos, src + (pos - start), r[i].start - pos);
        overlap = true;
        pos = r[i].end;
    }
    if (pos < end)
        memcpy(dst + pos, src + (pos - start), end - pos);
    return overlap;
}

bool emb__ranges_insert(emb_range_t *r, uint8_t *n, uint8_t max, uint32_t start, uint32_t end) {
    emb_range_t merged = {start, end};
    emb_range_t out[MAX_RANGES_ANY + 1];
    uint8_t k = 0;
    bool placed = false;
    if (max > MAX_RANGES_ANY)
        max = MAX_RANGES_ANY;
    for (uint8_t i = 0; i < *n; i++) {
        if (r[i].end < merged.start) {
            out[k++] = r[i];
        } else if (r[i].start > merged.end) {
            if (!placed) {
                out[k++] = merged;
                placed = true;
            }
            out[k++] = r[i];
        } else {
            merged.start = r[i].start < merged.start ? r[i].start : merged.start;
            merged.end = r[i].end > merged.end ? r[i].end : merged.end;
        }
        if (k > max)
            return false;
    }
    if (!placed)
        out[k++] = merged;
    if (k > max)
        return false;
    memcpy(r, out, k * sizeof(*out));
    *n = k;
    return true;
}
