/*
 * A regex as an automaton (pack-tools/lint-regex.c), for the linter's
 * question about a pattern of a name key: can it match any name at all, of
 * the names a key can meet?
 */
#ifndef EMB_PACKTOOLS_LINT_REGEX_H
#define EMB_PACKTOOLS_LINT_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of bytes. */
typedef struct {
    uint64_t w[4];
} emb_bset_t;

static inline void emb__bs_add(emb_bset_t *s, unsigned c) {
    s->w[c >> 6] |= 1ull << (c & 63);
}
static inline void emb__bs_del(emb_bset_t *s, unsigned c) {
    s->w[c >> 6] &= ~(1ull << (c & 63));
}
static inline bool emb__bs_has(const emb_bset_t *s, unsigned c) {
    return (s->w[c >> 6] >> (c & 63)) & 1;
}
static inline void emb__bs_range(emb_bset_t *s, unsigned lo, unsigned hi) {
    for (unsigned c = lo; c <= hi; c++)
        emb__bs_add(s, c);
}

/* The names a key can meet, as the search sees them. */
typedef struct {
    emb_bset_t bytes; /* what a name can hold */
    bool labels;      /* no leading dot, no dot after a dot */
    bool no_end_dot;  /* never ends with a dot, nor `$` holds between one and a final '\n' */
} emb_rx_model_t;

typedef struct emb_rx emb_rx_t;

/* Reads a Hyperscan regex; NULL when it holds a construct this reader does
 * not follow (lookarounds, \p, (?x), ...), is too big, or memory ran out. */
emb_rx_t *emb__rx_read(const char *re, size_t len);
void emb__rx_free(emb_rx_t *rx);

/* True when some name of `md` holds a match of `rx` (or memory ran out). */
bool emb__rx_can_match(const emb_rx_t *rx, const emb_rx_model_t *md);

#endif /* EMB_PACKTOOLS_LINT_REGEX_H */
