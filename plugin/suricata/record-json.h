/*
 * What the record parser (record-parse.c) and the alert writer
 * (record-alert.c) share, private to the record library: the strict JSON
 * scanner of record-json.c, and how a span of the record is read back.
 * Calls run one way: both files call the scanner, the scanner calls neither.
 */
#ifndef EMBARGO_SURICATA_RECORD_JSON_H
#define EMBARGO_SURICATA_RECORD_JSON_H

#include "record.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A read position in JSON text; nothing is read at or after `end`. */
typedef struct {
    const char *p, *end;
} Cur;

/* Steps over whitespace. Here, inline, because every value and member the
 * scanner reads starts with it. */
static inline void Ws(Cur *c) {
    if (c->p < c->end && (unsigned char)*c->p > ' ')
        return; /* compact JSON, as Suricata writes it: no whitespace at all */
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Four hex digits at p (the caller checked p+4 <= end). */
bool EmbargoJsonHex4(const char *p, unsigned *out);

/* A number at c->p, in JSON's grammar. *uval is set (and *is_uint true) for
 * a non-negative integer that fits in 63 bits. */
bool EmbargoJsonScanNumber(Cur *c, bool *is_uint, uint64_t *uval);

/* Whether [v, vend) is exactly one JSON string, checked as the scanner
 * checks strings (escapes, surrogate pairs, UTF-8, no control character). */
bool EmbargoJsonStringIs(const char *v, const char *vend);

/* Steps over one value of any kind, checking it; no recursion: a bit per
 * level says object or array. `depth` is the nesting already around it
 * (at most EMBARGO_RECORD_MAX_DEPTH in all). */
bool EmbargoJsonSkipValue(Cur *c, unsigned depth);

/*
 * Iterates the members of an object or the elements of an array, each value
 * checked by EmbargoJsonSkipValue. Used on the whole record (depth 0), then on
 * parts already checked (EmbargoJsonIterBeginChecked: the cursor still bounds
 * every read).
 */
typedef struct {
    Cur c;
    bool obj, first;
    bool checked; /* a part already checked: values are stepped over, not checked again */
    unsigned depth;
} Iter;

typedef enum { ITER_ITEM, ITER_END, ITER_BAD } IterStep;

/* Starts at the object or array at p (after whitespace); false when there is none. */
bool EmbargoJsonIterBegin(Iter *it, const char *p, const char *end, unsigned depth);

/* The same on a part of the record that a first iteration already checked
 * whole: values and keys are stepped over by their quotes and brackets alone
 * (each read still within the cursor), so a record's protocol object is
 * checked once, not once per level the parser reads. */
bool EmbargoJsonIterBeginChecked(Iter *it, const char *p, const char *end, unsigned depth);

/* ---- stepping over parts already checked (inline: the parser's hot loop) --- */

/* Past the closing quote of a checked string whose text starts at p; NULL
 * when the text ends first. */
static inline const unsigned char *SkipCheckedString(const unsigned char *p,
                                                     const unsigned char *end) {
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            int m = _mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
            if (m != 0) {
                p += __builtin_ctz((unsigned)m);
                goto found;
            }
            p += 16;
        }
#endif
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p >= end)
            return NULL;
#if defined(__SSE2__)
    found:
#endif
        if (*p == '"')
            return p + 1;
        if (end - p < 2)
            return NULL;
        p += 2; /* an escape: what follows the backslash is never the closing quote */
    }
}

/* Past the closer of a checked object or array at p; NULL when the text ends first. */
const unsigned char *EmbargoJsonSkipCheckedContainer(const unsigned char *p,
                                                     const unsigned char *end);

/* The bytes a number or a literal is made of (digits, signs, '.', letters of
 * e, true, false, null). */
extern const bool embargo_json_scalar_byte[256];

/* Steps over one checked value: only quotes, backslashes and brackets are
 * looked at. Still bounded by the cursor; false only if the text was not
 * checked after all. */
static inline bool SkipCheckedValue(Cur *c) {
    const unsigned char *p = (const unsigned char *)c->p, *end = (const unsigned char *)c->end;
    if (p < end && (*p == '{' || *p == '[')) {
        if ((p = EmbargoJsonSkipCheckedContainer(p, end)) == NULL)
            return false;
    } else if (p < end && *p == '"') {
        if ((p = SkipCheckedString(p + 1, end)) == NULL)
            return false;
    } else {
        while (p < end && embargo_json_scalar_byte[*p]) /* a table look-up a byte */
            p++;
    }
    c->p = (const char *)p;
    return true;
}

/* The strict halves of the iterator below (out of line). */
bool EmbargoJsonIterKeyStrict(Iter *it, const char **key, size_t *klen);
bool EmbargoJsonIterValueStrict(Iter *it);

/* IterNext in two steps, for a caller that reads a value by iterating it:
 * IterOpen reads the next member's key and stops where its value starts
 * (*v); then either IterValue steps over the value (its end in *vend), or,
 * once an iteration of that value begun at *v (bounded by it->c.end, not by
 * an end found first) ran to ITER_END, IterPast(it, that iteration's c.p)
 * resumes after it. Each byte of a value so read is looked at once. */
static inline IterStep EmbargoJsonIterOpen(Iter *it, const char **key, size_t *klen,
                                           const char **v) {
    Cur *c = &it->c;
    Ws(c);
    if (c->p >= c->end)
        return ITER_BAD;
    if (*c->p == (it->obj ? '}' : ']')) {
        if (!it->first)
            return ITER_BAD; /* "x," then the end: a trailing comma */
        c->p++;
        return ITER_END;
    }
    it->first = false;
    *key = NULL;
    *klen = 0;
    if (it->obj) {
        if (!it->checked) {
            if (!EmbargoJsonIterKeyStrict(it, key, klen))
                return ITER_BAD;
        } else {
            const unsigned char *q;
            if (*c->p != '"' || (q = SkipCheckedString((const unsigned char *)c->p + 1,
                                                       (const unsigned char *)c->end)) == NULL)
                return ITER_BAD;
            *key = c->p + 1;
            *klen = (size_t)((const char *)q - 1 - *key);
            c->p = (const char *)q;
            Ws(c);
            if (c->p >= c->end || *c->p != ':')
                return ITER_BAD;
            c->p++;
        }
    }
    Ws(c);
    *v = c->p;
    return c->p < c->end ? ITER_ITEM : ITER_BAD;
}

static inline bool EmbargoJsonIterPast(Iter *it, const char *p) {
    Cur *c = &it->c;
    if (p < c->p || p > c->end)
        return false;
    c->p = p;
    Ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return true;
    }
    if (c->p < c->end && *c->p == (it->obj ? '}' : ']')) {
        it->first = true; /* the closer is left for the next call: ITER_END */
        return true;
    }
    return false;
}

static inline bool EmbargoJsonIterValue(Iter *it, const char **vend) {
    if (!(it->checked ? SkipCheckedValue(&it->c) : EmbargoJsonIterValueStrict(it)))
        return false;
    *vend = it->c.p;
    return EmbargoJsonIterPast(it, it->c.p);
}

/* The next member: *key (NULL in arrays) and the value's extent [*v, *vend). */
static inline IterStep EmbargoJsonIterNext(Iter *it, const char **key, size_t *klen, const char **v,
                                           const char **vend) {
    IterStep st = EmbargoJsonIterOpen(it, key, klen, v);
    if (st == ITER_ITEM && !EmbargoJsonIterValue(it, vend))
        return ITER_BAD;
    return st;
}

/* A member of a container: *key (NULL in arrays) and the value's extent. */
typedef struct {
    const char *key;
    size_t klen;
    const char *v, *vend;
} JsonMember;

/*
 * The rest of the container `it` iterates, from where it stands after an
 * ITER_ITEM (a comma or the closer next) to its closer, checked as the
 * iterator would check it, in one pass; `it` is not moved. Its members at
 * its own level are listed in m[0..cap) and counted in *n (more than `cap`:
 * only the first `cap` are in m[]); *after is the position past the closer.
 */
bool EmbargoJsonCheckRest(const Iter *it, JsonMember *m, size_t cap, size_t *n, const char **after);

/* The text of a span of a parsed record. */
static inline const char *SpanPtr(const EmbargoRecord *r, EmbargoSpan s) {
    return r->buf + s.off;
}

#endif /* EMBARGO_SURICATA_RECORD_JSON_H */
