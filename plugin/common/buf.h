/*
 * Checked reads from untrusted bytes, in the spirit of tcpdump's GET_BE_U_2:
 * every multi-byte read goes through these, so a bounds check cannot be
 * forgotten. Each returns false, reading nothing, when the bytes are not there.
 */
#ifndef EMB_UTIL_BUF_H
#define EMB_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool emb_rd_u8(const uint8_t *p, size_t len, size_t off, uint8_t *v) {
    if (off >= len)
        return false;
    *v = p[off];
    return true;
}

static inline bool emb_rd_be16(const uint8_t *p, size_t len, size_t off, uint16_t *v) {
    if (len < 2 || off > len - 2)
        return false;
    *v = (uint16_t)(p[off] << 8 | p[off + 1]);
    return true;
}

static inline bool emb_rd_be24(const uint8_t *p, size_t len, size_t off, uint32_t *v) {
    if (len < 3 || off > len - 3)
        return false;
    *v = (uint32_t)p[off] << 16 | (uint32_t)p[off + 1] << 8 | p[off + 2];
    return true;
}

static inline bool emb_rd_be32(const uint8_t *p, size_t len, size_t off, uint32_t *v) {
    if (len < 4 || off > len - 4)
        return false;
    *v = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
         p[off + 3];
    return true;
}

/* True when [off, off+n) lies inside a buffer of `len` bytes. */
static inline bool emb_have(size_t len, size_t off, size_t n) {
    return off <= len && n <= len - off;
}

#endif /* EMB_UTIL_BUF_H */
