/*
 * The strict JSON scanner under the record parser (record-parse.c) and the
 * alert writer (record-alert.c): strings (escapes, surrogate pairs, UTF-8),
 * numbers, literals, and whole values stepped over with their nesting kept
 * in a bit stack, never by recursion, so a hostile record cannot exhaust the
 * stack. Every read goes through the cursor's bounds and nothing is
 * allocated. What each function promises is in record-json.h.
 */
#include "record-json.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first byte at or after p that ends a plain run of string text: a quote,
 * a backslash, a control character or a byte >= 0x80; `end` when none. Sixteen
 * bytes at a time where SSE2 is (every x86-64): most strings are plain ASCII. */
static inline const unsigned char *PlainRun(const unsigned char *p, const unsigned char *end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed: below 0x20 is a control character or a byte >= 0x80 */
        __m128i stop =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmplt_epi8(v, space));
        int m = _mm_movemask_epi8(stop);
        if (m != 0)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#endif
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

static int HexVal(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

bool EmbargoJsonHex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = HexVal(p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

/* Length of the UTF-8 sequence at p (a byte >= 0x80), 0 when not well-formed. */
static size_t Utf8Len(const unsigned char *p, const unsigned char *end) {
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f; /* no UTF-16 surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* The rest of a string from p, the first byte that is not plain text: escapes
 * and UTF-8 checked. Out of line: most strings never get here. */
static __attribute__((noinline)) bool ScanStringRest(Cur *c, const unsigned char *p, bool *esc) {
    const unsigned char *end = (const unsigned char *)c->end;
    for (;;) {
        if (p >= end)
            return false;
        if (*p == '"') {
            c->p = (const char *)p + 1;
            return true;
        }
        if (*p == '\\') {
            *esc = true;
            if (end - p < 2)
                return false;
            if (p[1] != 'u') {
                if (strchr("\"\\/bfnrt", p[1]) == NULL || p[1] == '\0')
                    return false;
                p = PlainRun(p + 2, end);
                continue;
            }
            unsigned u, lo;
            if (end - p < 6 || !EmbargoJsonHex4((const char *)p + 2, &u))
                return false;
            p += 6;
            if (u >= 0xdc00 && u <= 0xdfff)
                return false; /* a low surrogate alone */
            if (u >= 0xd800 && u <= 0xdbff) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                    !EmbargoJsonHex4((const char *)p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return false;
                p += 6;
            }
            p = PlainRun(p, end);
            continue;
        }
        if (*p < 0x20)
            return false; /* control characters must be escaped */
        size_t n = Utf8Len(p, end);
        if (n == 0)
            return false;
        p += n;
        p = PlainRun(p, end);
    }
}

/* A string at c->p (which is '"'): checked and stepped over. *esc is set
 * when it holds a backslash escape. */
static inline bool ScanString(Cur *c, bool *esc) {
    const unsigned char *p =
        PlainRun((const unsigned char *)c->p + 1, (const unsigned char *)c->end);
    if (p < (const unsigned char *)c->end && *p == '"') {
        c->p = (const char *)p + 1;
        return true;
    }
    return ScanStringRest(c, p, esc);
}

bool EmbargoJsonStringIs(const char *v, const char *vend) {
    Cur c = {v, vend};
    bool esc = false;
    return v < vend && *v == '"' && ScanString(&c, &esc) && c.p == vend;
}

/* Past the fraction and exponent of a JSON number whose integer part ends at
 * `p` (RFC 8259, section 6), *frac telling whether it had either; NULL when
 * one is malformed. */
static inline const char *NumberTail(const char *p, const char *end, bool *frac) {
    *frac = false;
    if (p < end && *p == '.') {
        *frac = true;
        if (++p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *frac = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

/* A number, its value read only when `value` (a constant where it is inlined:
 * stepping over the numbers of a record need not multiply). */
static inline bool ScanNumber(Cur *c, bool value, bool *is_uint, uint64_t *uval) {
    const char *p = c->p, *end = c->end;
    bool neg = false, frac = false, over = false;
    uint64_t v = 0;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return false;
    if (*p == '0')
        p++;
    else if (!value)
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        while (p < end && *p >= '0' && *p <= '9') {
            /* v * 10 + d past 2^63 - 1 = 922337203685477580 * 10 + 7? (no division) */
            uint64_t d = (uint64_t)(*p - '0');
            if (v < UINT64_C(922337203685477580) || (v == UINT64_C(922337203685477580) && d <= 7))
                v = v * 10 + d;
            else
                over = true;
            p++;
        }
    if ((p = NumberTail(p, end, &frac)) == NULL)
        return false;
    c->p = p;
    *is_uint = !neg && !frac && !over;
    *uval = v;
    return true;
}

bool EmbargoJsonScanNumber(Cur *c, bool *is_uint, uint64_t *uval) {
    return ScanNumber(c, true, is_uint, uval);
}

static bool ScanLiteral(Cur *c, const char *lit, size_t n) {
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* A key and its colon, at c->p (after whitespace). Inlined: every member has one. */
static inline __attribute__((always_inline)) bool ScanKey(Cur *c, const char **key, size_t *klen) {
    bool esc = false;
    if (c->p >= c->end || *c->p != '"')
        return false;
    const char *k = c->p + 1;
    if (!ScanString(c, &esc))
        return false;
    *key = k;
    *klen = (size_t)(c->p - 1 - k);
    Ws(c);
    if (c->p >= c->end || *c->p != ':')
        return false;
    c->p++;
    return true;
}

bool EmbargoJsonSkipValue(Cur *c, unsigned depth) {
    uint8_t stack[EMBARGO_RECORD_MAX_DEPTH / 8];
    unsigned d = 0;
    const char *k;
    size_t kn;
    for (;;) {
        /* a value */
        Ws(c);
        if (c->p >= c->end)
            return false;
        char ch = *c->p;
        if (ch == '{' || ch == '[') {
            if (depth + d >= EMBARGO_RECORD_MAX_DEPTH)
                return false;
            bool obj = ch == '{';
            stack[d / 8] =
                (uint8_t)(obj ? stack[d / 8] | (1u << (d % 8)) : stack[d / 8] & ~(1u << (d % 8)));
            d++;
            c->p++;
            Ws(c);
            if (c->p < c->end && *c->p == (obj ? '}' : ']')) {
                c->p++;
                d--;
            } else {
                if (obj && !ScanKey(c, &k, &kn))
                    return false;
                continue;
            }
        } else if (ch == '"') {
            bool esc = false;
            if (!ScanString(c, &esc))
                return false;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            bool u;
            uint64_t v;
            if (!ScanNumber(c, false, &u, &v))
                return false;
        } else if (!(ScanLiteral(c, "true", 4) || ScanLiteral(c, "false", 5) ||
                     ScanLiteral(c, "null", 4)))
            return false;
        /* after a value: close containers, or go on to the next element */
        for (;;) {
            if (d == 0)
                return true;
            Ws(c);
            if (c->p >= c->end)
                return false;
            bool obj = stack[(d - 1) / 8] & (1u << ((d - 1) % 8));
            if (*c->p == ',') {
                c->p++;
                if (obj) {
                    Ws(c);
                    if (!ScanKey(c, &k, &kn))
                        return false;
                }
                break;
            }
            if (*c->p != (obj ? '}' : ']'))
                return false;
            c->p++;
            d--;
        }
    }
}

/* ---- the rest of a record in one pass ------------------------------------ */

/* A string at p (which is '"'), as ScanString checks it, with the position
 * kept in a register: the caller's loop is the hot one. */
static inline __attribute__((always_inline)) bool StrAt(const unsigned char **pp,
                                                        const unsigned char *end) {
    const unsigned char *p = PlainRun(*pp + 1, end);
    if (p < end && *p == '"') {
        *pp = p + 1;
        return true;
    }
    Cur c = {(const char *)*pp, (const char *)end};
    bool esc = false;
    if (!ScanStringRest(&c, p, &esc))
        return false;
    *pp = (const unsigned char *)c.p;
    return true;
}

#define SKIP_WS()                                                                                  \
    while (p < end && *p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))          \
    p++

/*
 * EmbargoJsonSkipValue's grammar, from inside the container `it` iterates
 * to its end, as one loop over local pointers: no call per member, no
 * iterator. The record parser checks the rest of a record of ours with it
 * once its event_type is read, and reads the members it lists instead of
 * walking the record a second time. Accepts exactly what the iterator and
 * EmbargoJsonSkipValue accept (fuzz-record compares the two on every input).
 */
bool EmbargoJsonCheckRest(const Iter *it, JsonMember *m, size_t cap, size_t *n,
                          const char **after) {
    uint8_t stack[EMBARGO_RECORD_MAX_DEPTH / 8];
    const unsigned char *p = (const unsigned char *)it->c.p;
    const unsigned char *end = (const unsigned char *)it->c.end;
    /* the container itself is level 0 of the stack; depth counts as the iterator's */
    unsigned base = it->depth - 1, d = 1;
    size_t nm = 0;
    bool obj;
    stack[0] = it->obj ? 1 : 0;
    *n = 0;
    if (it->first)
        goto next; /* the closer is next */
    if (it->obj)
        goto key;
value:
    SKIP_WS();
    if (p >= end)
        return false;
    if (d == 1 && nm < cap) {
        m[nm].v = (const char *)p;
        if (!it->obj)
            m[nm].key = NULL, m[nm].klen = 0;
    }
    switch (*p) {
    case '"':
        if (!StrAt(&p, end))
            return false;
        goto done;
    case '{':
    case '[':
        if (base + d >= EMBARGO_RECORD_MAX_DEPTH)
            return false;
        obj = *p == '{';
        stack[d / 8] =
            (uint8_t)(obj ? stack[d / 8] | (1u << (d % 8)) : stack[d / 8] & ~(1u << (d % 8)));
        d++;
        p++;
        SKIP_WS();
        if (p < end && *p == (obj ? '}' : ']')) {
            p++;
            d--;
            goto done;
        }
        if (obj)
            goto key;
        goto value;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            return false;
        p += 4;
        goto done;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            return false;
        p += 5;
        goto done;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            return false;
        p += 4;
        goto done;
    default: break;
    }
    /* a number, by ScanNumber's grammar */
    if (*p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return false;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    bool frac;
    if ((p = (const unsigned char *)NumberTail((const char *)p, (const char *)end, &frac)) == NULL)
        return false;
done: /* a value ended at level d */
    if (d == 1) {
        if (nm < cap)
            m[nm].vend = (const char *)p;
        nm++;
    }
next: /* close containers, or go on to the next element */
    SKIP_WS();
    if (p >= end)
        return false;
    obj = stack[(d - 1) / 8] & (1u << ((d - 1) % 8));
    if (*p == ',') {
        p++;
        if (obj)
            goto key;
        goto value;
    }
    if (*p != (obj ? '}' : ']'))
        return false;
    p++;
    if (--d > 0)
        goto done;
    *n = nm;
    *after = (const char *)p;
    return true;
key:
    SKIP_WS();
    if (p >= end || *p != '"')
        return false;
    if (d == 1 && nm < cap)
        m[nm].key = (const char *)p + 1;
    if (!StrAt(&p, end))
        return false;
    if (d == 1 && nm < cap)
        m[nm].klen = (size_t)((const char *)p - 1 - m[nm].key);
    SKIP_WS();
    if (p >= end || *p != ':')
        return false;
    p++;
    goto value;
}

#undef SKIP_WS

/* ---- parts already checked --------------------------------------------- */

const bool embargo_json_scalar_byte[256] = {
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['E'] = 1, ['a'] = 1, ['e'] = 1,
    ['f'] = 1, ['l'] = 1, ['n'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
};

/* The next quote or bracket is found sixteen bytes at a time, strings are
 * stepped over whole. */
const unsigned char *EmbargoJsonSkipCheckedContainer(const unsigned char *p,
                                                     const unsigned char *end) {
    size_t depth = 0;
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}');
        const __m128i os = _mm_set1_epi8('['), cs = _mm_set1_epi8(']');
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i br = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, ob), _mm_cmpeq_epi8(v, cb)),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, os), _mm_cmpeq_epi8(v, cs)));
            int m = _mm_movemask_epi8(_mm_or_si128(br, _mm_cmpeq_epi8(v, quote)));
            if (m != 0) {
                p += __builtin_ctz((unsigned)m);
                goto found;
            }
            p += 16;
        }
#endif
        while (p < end && *p != '"' && *p != '{' && *p != '}' && *p != '[' && *p != ']')
            p++;
        if (p >= end)
            return NULL;
#if defined(__SSE2__)
    found:
#endif
        if (*p == '"') {
            if ((p = SkipCheckedString(p + 1, end)) == NULL)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (depth <= 1)
            return p + 1;
        else
            depth--;
        p++;
    }
}

/* ---- iteration ------------------------------------------------------------ */

bool EmbargoJsonIterBeginChecked(Iter *it, const char *p, const char *end, unsigned depth) {
    if (!EmbargoJsonIterBegin(it, p, end, depth))
        return false;
    it->checked = true;
    return true;
}

bool EmbargoJsonIterBegin(Iter *it, const char *p, const char *end, unsigned depth) {
    it->checked = false;
    it->c = (Cur){p, end};
    Ws(&it->c);
    if (it->c.p >= end || (*it->c.p != '{' && *it->c.p != '['))
        return false;
    it->obj = *it->c.p == '{';
    it->c.p++;
    it->first = true;
    it->depth = depth + 1;
    return true;
}

bool EmbargoJsonIterKeyStrict(Iter *it, const char **key, size_t *klen) {
    return ScanKey(&it->c, key, klen);
}

bool EmbargoJsonIterValueStrict(Iter *it) {
    Cur *c = &it->c;
    if (c->p < c->end && *c->p == '"') { /* most members: no call for a string */
        bool esc = false;
        return ScanString(c, &esc);
    }
    return EmbargoJsonSkipValue(c, it->depth);
}
