/*
 * What the record parser (record-parse.c) and the alert writer
 * (record-alert.c) share, private to the record library: the strict JSON
 * scanner of record-json.c, and how a span of the record is read back.
 * Calls run one way: both files call the scanner, the scanner calls neither.
 */
#ifndef EMBARGO_SURICATA_RECORD_JSON_H
#define EMBARGO_SURICATA_RECORD_JSON_H

#include "record.h"

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

/* The next member: *key (NULL in arrays) and the value's extent [*v, *vend). */
IterStep EmbargoJsonIterNext(Iter *it, const char **key, size_t *klen, const char **v,
                             const char **vend);

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
