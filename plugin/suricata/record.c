/*
 * EVE records in, facts and alert records out, without parsing into a tree.
 *
 * Suricata hands the EVE filetype every record it writes; only dns, tls,
 * http, quic and flow records carry anything embargo matches. A small
 * scanner walks the top-level members in order: Suricata writes
 * "event_type" within the first hundred bytes, so a record of another type
 * costs that much and no more. A record of ours is then checked whole
 * (strict JSON grammar, UTF-8, escapes, nesting bounded by a bit stack, no
 * recursion), and only the members the plugin needs are remembered, as
 * slices of the text. The alert record is spliced from those slices: header
 * members and the protocol object are copied as text, never re-encoded.
 *
 * The one design choice to know: everything is validated before anything is
 * used, and every read goes through the cursor's bounds. A member of the
 * wrong JSON type counts as absent, so a hostile or future record can at
 * worst miss a match, never raise a wrong one or crash.
 */
#include "record.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* ---- the scanner ----------------------------------------------------------- */

typedef struct {
    const char *p, *end;
} Cur;

static void Ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
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

/* Four hex digits at p (the caller checked p+4 <= end). */
static bool Hex4(const char *p, unsigned *out) {
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

/* A string at c->p (which is '"'): checked and stepped over. *esc is set
 * when it holds a backslash escape. */
static bool ScanString(Cur *c, bool *esc) {
    const unsigned char *p = (const unsigned char *)c->p + 1;
    const unsigned char *end = (const unsigned char *)c->end;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
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
                p += 2;
                continue;
            }
            unsigned u, lo;
            if (end - p < 6 || !Hex4((const char *)p + 2, &u))
                return false;
            p += 6;
            if (u >= 0xdc00 && u <= 0xdfff)
                return false; /* a low surrogate alone */
            if (u >= 0xd800 && u <= 0xdbff) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !Hex4((const char *)p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return false;
                p += 6;
            }
            continue;
        }
        if (*p < 0x20)
            return false; /* control characters must be escaped */
        size_t n = Utf8Len(p, end);
        if (n == 0)
            return false;
        p += n;
    }
}

/* A number at c->p, in JSON's grammar. *uval is set (and *is_uint true) for
 * a non-negative integer that fits in 63 bits. */
static bool ScanNumber(Cur *c, bool *is_uint, uint64_t *uval) {
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
    else
        while (p < end && *p >= '0' && *p <= '9') {
            if (v > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(*p - '0')) / 10)
                over = true;
            else
                v = v * 10 + (uint64_t)(*p - '0');
            p++;
        }
    if (p < end && *p == '.') {
        frac = true;
        if (++p >= end || *p < '0' || *p > '9')
            return false;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        frac = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return false;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    c->p = p;
    *is_uint = !neg && !frac && !over;
    *uval = v;
    return true;
}

static bool ScanLiteral(Cur *c, const char *lit, size_t n) {
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* A key and its colon, at c->p (after whitespace). */
static bool ScanKey(Cur *c, const char **key, size_t *klen) {
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

/* Steps over one value of any kind, checking it; no recursion: a bit per
 * level says object or array. `depth` is the nesting already around it. */
static bool SkipValue(Cur *c, unsigned depth) {
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
            if (!ScanNumber(c, &u, &v))
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

/*
 * Iterates the members of an object or the elements of an array, each value
 * checked by SkipValue. Used on the whole record (depth 0) and again on
 * parts already checked (the cursor still bounds every read).
 */
typedef struct {
    Cur c;
    bool obj, first;
    unsigned depth;
} Iter;

static bool IterBegin(Iter *it, const char *p, const char *end, unsigned depth) {
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

typedef enum { ITER_ITEM, ITER_END, ITER_BAD } IterStep;

/* The next member: *key (NULL in arrays) and the value's extent [*v, *vend). */
static IterStep IterNext(Iter *it, const char **key, size_t *klen, const char **v,
                         const char **vend) {
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
    if (it->obj && !ScanKey(c, key, klen))
        return ITER_BAD;
    Ws(c);
    *v = c->p;
    if (!SkipValue(c, it->depth))
        return ITER_BAD;
    *vend = c->p;
    Ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return ITER_ITEM;
    }
    if (c->p < c->end && *c->p == (it->obj ? '}' : ']')) {
        it->first = true; /* the closer is left for the next call: ITER_END */
        return ITER_ITEM;
    }
    return ITER_BAD;
}

#define KEY_IS(k, n, lit) ((n) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

/* ---- values ---------------------------------------------------------------- */

static EmbargoSpan SpanOf(const EmbargoRecord *r, const char *v, const char *vend) {
    return (EmbargoSpan){(uint32_t)(v - r->buf), (uint32_t)(vend - v)};
}

/* The contents of a string value [v, vend) without quotes; false if not a string. */
static bool StrRaw(const char *v, const char *vend, const char **s, size_t *n) {
    if (vend - v < 2 || *v != '"')
        return false;
    *s = v + 1;
    *n = (size_t)(vend - v - 2);
    return true;
}

static bool StrIs(const char *v, const char *vend, const char *lit) {
    const char *s;
    size_t n;
    return StrRaw(v, vend, &s, &n) && n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static size_t Utf8Put(char *o, unsigned u) {
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xc0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xe0 | u >> 12);
        o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        o[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | u >> 18);
    o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
    o[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

/*
 * A string value as bytes: a slice of the record when it has no escape,
 * else decoded into r->scratch (already checked by ScanString, so escapes
 * are well-formed). False when not a string or the scratch is full.
 */
static bool StrValue(EmbargoRecord *r, const char *v, const char *vend, const char **s, size_t *n) {
    const char *raw;
    size_t rn;
    if (!StrRaw(v, vend, &raw, &rn))
        return false;
    if (memchr(raw, '\\', rn) == NULL) {
        *s = raw;
        *n = rn;
        return true;
    }
    /* decoded is never longer than the escaped text */
    if (rn > sizeof(r->scratch) - r->scratch_used)
        return false;
    char *o = r->scratch + r->scratch_used, *o0 = o;
    for (size_t i = 0; i < rn;) {
        if (raw[i] != '\\') {
            *o++ = raw[i++];
            continue;
        }
        char e = raw[i + 1];
        if (e != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            *o++ = to[strchr(from, e) - from];
            i += 2;
            continue;
        }
        unsigned u = 0, lo = 0;
        (void)Hex4(raw + i + 2, &u);
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            (void)Hex4(raw + i + 2, &lo);
            i += 6;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        }
        o += Utf8Put(o, u);
    }
    *s = o0;
    *n = (size_t)(o - o0);
    r->scratch_used += *n;
    return true;
}

static bool UintValue(const char *v, const char *vend, uint64_t *out) {
    Cur c = {v, vend};
    bool u;
    if (v >= vend || !(*v == '-' || (*v >= '0' && *v <= '9')) || !ScanNumber(&c, &u, out))
        return false;
    return u && c.p == vend;
}

/* ---- facts ----------------------------------------------------------------- */

static void AddFact(EmbargoRecord *r, emb_field_t field, const char *v, size_t n) {
    if (r->facts.nfacts == EMBARGO_RECORD_MAX_FACTS || n == 0)
        return;
    r->fact[r->facts.nfacts++] = (emb_fact_t){.field = field, .value = v, .len = n};
}

/* A string value as a fact; not a string: nothing. */
static bool AddStr(EmbargoRecord *r, emb_field_t field, const char *v, const char *vend,
                   const char **s, size_t *n) {
    const char *s0;
    size_t n0;
    if (!StrValue(r, v, vend, &s0, &n0))
        return false;
    AddFact(r, field, s0, n0);
    if (s != NULL) {
        *s = s0;
        *n = n0;
    }
    return true;
}

/* The CN of a distinguished name as Suricata writes it: "C=RU, O=..., CN=x". */
static void AddCn(EmbargoRecord *r, const char *v, size_t n) {
    for (size_t i = 0; i + 3 <= n; i++) {
        if ((i == 0 || (i >= 2 && v[i - 2] == ',' && v[i - 1] == ' ')) &&
            memcmp(v + i, "CN=", 3) == 0) {
            size_t start = i + 3, end = start;
            while (end < n && !(v[end] == ',' && end + 1 < n && v[end + 1] == ' '))
                end++;
            AddFact(r, EMB_FIELD_TLS_CERT_NAME, v + start, end - start);
            return;
        }
    }
}

static bool IsNameRrtype(const char *k, size_t n) {
    return KEY_IS(k, n, "CNAME") || KEY_IS(k, n, "NS") || KEY_IS(k, n, "PTR") ||
           KEY_IS(k, n, "MX") || KEY_IS(k, n, "DNAME");
}

/* Each string of an array [v, vend) as a fact. */
static void AddStrArray(EmbargoRecord *r, emb_field_t field, const char *v, const char *vend,
                        unsigned depth) {
    Iter it;
    const char *k, *e, *ee;
    size_t kn;
    if (*v != '[' || !IterBegin(&it, v, vend, depth))
        return;
    for (int i = 0; i < EMBARGO_RECORD_MAX_ITEMS && IterNext(&it, &k, &kn, &e, &ee) == ITER_ITEM;
         i++)
        (void)AddStr(r, field, e, ee, NULL, NULL);
}

/* rrname of each object of an array (dns.queries, dns.answers ...); rdata too
 * when `rdata` and the record type holds a name. */
static void AddRrList(EmbargoRecord *r, const char *v, const char *vend, bool rdata,
                      unsigned depth) {
    Iter it, o;
    const char *k, *e, *ee;
    size_t kn;
    if (*v != '[' || !IterBegin(&it, v, vend, depth))
        return;
    for (int i = 0; i < EMBARGO_RECORD_MAX_ITEMS && IterNext(&it, &k, &kn, &e, &ee) == ITER_ITEM;
         i++) {
        if (*e != '{' || !IterBegin(&o, e, ee, depth + 1))
            continue;
        const char *rd = NULL, *rde = NULL, *mk, *mv, *mve;
        bool named = false;
        size_t mkn;
        while (IterNext(&o, &mk, &mkn, &mv, &mve) == ITER_ITEM) {
            const char *s;
            size_t n;
            if (KEY_IS(mk, mkn, "rrname"))
                (void)AddStr(r, EMB_FIELD_DNS_QUERY, mv, mve, NULL, NULL);
            else if (KEY_IS(mk, mkn, "rdata"))
                rd = mv, rde = mve;
            else if (KEY_IS(mk, mkn, "rrtype") && StrRaw(mv, mve, &s, &n))
                named = IsNameRrtype(s, n);
        }
        if (rdata && named && rd != NULL)
            (void)AddStr(r, EMB_FIELD_DNS_QUERY, rd, rde, NULL, NULL);
    }
}

static void DnsFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    while (IterNext(it, &k, &kn, &v, &ve) == ITER_ITEM) {
        if (KEY_IS(k, kn, "rrname")) /* EVE DNS v2 */
            (void)AddStr(r, EMB_FIELD_DNS_QUERY, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "type"))
            r->dns_response = StrIs(v, ve, "answer") || StrIs(v, ve, "response");
        else if (KEY_IS(k, kn, "queries") || KEY_IS(k, kn, "query")) /* v3 */
            AddRrList(r, v, ve, false, 2);
        else if (KEY_IS(k, kn, "answers"))
            AddRrList(r, v, ve, true, 2);
        else if (KEY_IS(k, kn, "grouped") && *v == '{') {
            Iter g;
            const char *gk, *gv, *gve;
            size_t gkn;
            if (!IterBegin(&g, v, ve, 2))
                continue;
            while (IterNext(&g, &gk, &gkn, &gv, &gve) == ITER_ITEM)
                if (IsNameRrtype(gk, gkn))
                    AddStrArray(r, EMB_FIELD_DNS_QUERY, gv, gve, 3);
        }
    }
}

static void TlsFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve, *s;
    size_t kn, n;
    while (IterNext(it, &k, &kn, &v, &ve) == ITER_ITEM) {
        if (KEY_IS(k, kn, "sni"))
            (void)AddStr(r, EMB_FIELD_TLS_SNI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "subject")) {
            if (AddStr(r, EMB_FIELD_TLS_CERT_SUBJECT, v, ve, &s, &n))
                AddCn(r, s, n);
        } else if (KEY_IS(k, kn, "issuerdn"))
            (void)AddStr(r, EMB_FIELD_TLS_CERT_ISSUER, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "ja4"))
            (void)AddStr(r, EMB_FIELD_JA4, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "subjectaltname")) /* Suricata 8 */
            AddStrArray(r, EMB_FIELD_TLS_CERT_NAME, v, ve, 2);
    }
}

static void HttpFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    while (IterNext(it, &k, &kn, &v, &ve) == ITER_ITEM) {
        if (KEY_IS(k, kn, "hostname"))
            (void)AddStr(r, EMB_FIELD_HTTP_HOST, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "url"))
            (void)AddStr(r, EMB_FIELD_HTTP_URI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "http_user_agent"))
            (void)AddStr(r, EMB_FIELD_HTTP_USER_AGENT, v, ve, NULL, NULL);
    }
}

static void QuicFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    while (IterNext(it, &k, &kn, &v, &ve) == ITER_ITEM) {
        if (KEY_IS(k, kn, "sni"))
            (void)AddStr(r, EMB_FIELD_QUIC_SNI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "ja4"))
            (void)AddStr(r, EMB_FIELD_JA4, v, ve, NULL, NULL);
    }
}

/* ---- endpoints ------------------------------------------------------------- */

static const char *SpanPtr(const EmbargoRecord *r, EmbargoSpan s) {
    return r->buf + s.off;
}

static int ParseAddr(const EmbargoRecord *r, EmbargoSpan sp, uint8_t out[16]) {
    const char *s;
    size_t n;
    char tmp[64];
    memset(out, 0, 16);
    /* an address has no escapes; a string with one is not an address */
    if (sp.len == 0 || !StrRaw(SpanPtr(r, sp), SpanPtr(r, sp) + sp.len, &s, &n) ||
        n >= sizeof(tmp) || memchr(s, '\\', n) != NULL)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, tmp, out) == 1)
        return 6;
    return 0;
}

static void Endpoints(EmbargoRecord *r) {
    emb_facts_t *f = &r->facts;
    uint8_t src[16], dst[16];
    int fs = ParseAddr(r, r->src_ip, src);
    int fd = ParseAddr(r, r->dest_ip, dst);
    if (fs == 0 || fs != fd)
        return; /* family stays 0: no ip or port condition holds */
    const char *pp = SpanPtr(r, r->proto), *ppe = pp + r->proto.len;
    f->proto = r->proto.len == 0 ? 0 : StrIs(pp, ppe, "TCP") ? 6 : StrIs(pp, ppe, "UDP") ? 17 : 0;
    if (f->proto != 0 && (r->src_port < 0 || r->dest_port < 0))
        f->proto = 0; /* ICMP, SCTP, or no ports: no port condition can hold */
    uint16_t sport = (uint16_t)(r->src_port < 0 ? 0 : r->src_port);
    uint16_t dport = (uint16_t)(r->dest_port < 0 ? 0 : r->dest_port);
    /* Suricata logs these records in flow direction (src = client); a record
     * that says it goes to the client has the server first. */
    bool swap = r->to_client;
    f->family = (uint8_t)fs;
    memcpy(f->client, swap ? dst : src, 16);
    memcpy(f->server, swap ? src : dst, 16);
    f->client_port = swap ? dport : sport;
    f->server_port = swap ? sport : dport;
}

/* ---- the record ------------------------------------------------------------ */

/* The first member of a name counts, as for every header member. */
static void SetApp(const char *app[2], const char *v, const char *ve) {
    if (app[0] == NULL)
        app[0] = v, app[1] = ve;
}

static EmbargoRecordType TypeOf(const char *v, const char *vend) {
    static const struct {
        const char *name;
        EmbargoRecordType type;
    } types[] = {
        {"dns", EMBARGO_REC_DNS},   {"tls", EMBARGO_REC_TLS},   {"http", EMBARGO_REC_HTTP},
        {"quic", EMBARGO_REC_QUIC}, {"flow", EMBARGO_REC_FLOW},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (StrIs(v, vend, types[i].name))
            return types[i].type;
    return EMBARGO_REC_OTHER;
}

static const char *const app_names[] = {
    [EMBARGO_REC_DNS] = "dns",   [EMBARGO_REC_TLS] = "tls",   [EMBARGO_REC_HTTP] = "http",
    [EMBARGO_REC_QUIC] = "quic", [EMBARGO_REC_FLOW] = "flow",
};

void EmbargoRecordClear(EmbargoRecord *r) {
    if (r == NULL)
        return;
    /* everything but the scratch bytes, which are only read up to scratch_used */
    memset(r, 0, offsetof(EmbargoRecord, scratch));
    r->src_port = r->dest_port = -1;
    r->facts.facts = r->fact;
}

EmbargoRecordType EmbargoRecordPeekType(const char *buf, size_t len) {
    Iter it;
    const char *k, *v, *ve;
    size_t kn;
    if (buf == NULL || !IterBegin(&it, buf, buf + len, 0) || !it.obj)
        return EMBARGO_REC_OTHER;
    while (IterNext(&it, &k, &kn, &v, &ve) == ITER_ITEM)
        if (KEY_IS(k, kn, "event_type"))
            return TypeOf(v, ve);
    return EMBARGO_REC_OTHER;
}

EmbargoParseResult EmbargoRecordParseTypes(EmbargoRecord *r, const char *buf, size_t len,
                                           size_t max_len, unsigned types) {
    EmbargoRecordClear(r);
    if (buf == NULL)
        return EMBARGO_PARSE_INVALID;
    r->buf = buf;
    r->len = len;
    Iter it;
    const char *k, *v, *ve;
    size_t kn;
    const char *apps[EMBARGO_REC_FLOW + 1][2] = {{NULL, NULL}};
    if (!IterBegin(&it, buf, buf + len, 0) || !it.obj)
        goto invalid;
    for (;;) {
        IterStep st = IterNext(&it, &k, &kn, &v, &ve);
        if (st == ITER_END)
            break;
        if (st == ITER_BAD)
            goto invalid;
        if (KEY_IS(k, kn, "event_type")) {
            if (r->type != EMBARGO_REC_OTHER)
                continue; /* the first one counts */
            r->type = TypeOf(v, ve);
            if (r->type == EMBARGO_REC_OTHER || !(types & EMBARGO_REC_MASK(r->type)))
                goto skip;
            if (len > max_len || len > UINT32_MAX) {
                EmbargoRecordClear(r);
                return EMBARGO_PARSE_TOOBIG;
            }
            continue;
        }
        bool str = *v == '"';
        EmbargoSpan *hs = NULL;
        switch (kn) { /* dispatch on length first: most keys are none of these */
        case 3:
            if (KEY_IS(k, kn, "dns"))
                SetApp(apps[EMBARGO_REC_DNS], v, ve);
            else if (KEY_IS(k, kn, "tls"))
                SetApp(apps[EMBARGO_REC_TLS], v, ve);
            break;
        case 4:
            if (KEY_IS(k, kn, "http"))
                SetApp(apps[EMBARGO_REC_HTTP], v, ve);
            else if (KEY_IS(k, kn, "quic"))
                SetApp(apps[EMBARGO_REC_QUIC], v, ve);
            else if (KEY_IS(k, kn, "flow"))
                SetApp(apps[EMBARGO_REC_FLOW], v, ve);
            else if (KEY_IS(k, kn, "vlan") && *v == '[')
                hs = &r->vlan;
            break;
        case 5:
            if (KEY_IS(k, kn, "proto") && str)
                hs = &r->proto;
            break;
        case 6:
            if (KEY_IS(k, kn, "src_ip") && str)
                hs = &r->src_ip;
            break;
        case 7:
            if (KEY_IS(k, kn, "dest_ip") && str)
                hs = &r->dest_ip;
            else if (KEY_IS(k, kn, "pkt_src") && str)
                hs = &r->pkt_src;
            else if (KEY_IS(k, kn, "flow_id")) {
                uint64_t u;
                if (r->flow_id == 0 && UintValue(v, ve, &u))
                    r->flow_id = u;
            }
            break;
        case 8:
            if (KEY_IS(k, kn, "src_port") || KEY_IS(k, kn, "in_iface")) {
                uint64_t u;
                if (k[0] == 'i')
                    hs = str ? &r->in_iface : NULL;
                else if (r->src_port < 0 && UintValue(v, ve, &u) && u <= 65535)
                    r->src_port = (int32_t)u;
            } else if (KEY_IS(k, kn, "pcap_cnt")) {
                uint64_t u;
                if (!r->has_pcap_cnt && UintValue(v, ve, &u))
                    r->pcap_cnt = u, r->has_pcap_cnt = true;
            }
            break;
        case 9:
            if (KEY_IS(k, kn, "timestamp") && str)
                hs = &r->timestamp;
            else if (KEY_IS(k, kn, "dest_port")) {
                uint64_t u;
                if (r->dest_port < 0 && UintValue(v, ve, &u) && u <= 65535)
                    r->dest_port = (int32_t)u;
            } else if (KEY_IS(k, kn, "app_proto") && str)
                hs = &r->app_proto;
            else if (KEY_IS(k, kn, "direction"))
                r->to_client = StrIs(v, ve, "to_client");
            break;
        case 12:
            if (KEY_IS(k, kn, "community_id") && str)
                hs = &r->community_id;
            break;
        default: break;
        }
        if (hs != NULL && hs->len == 0)
            *hs = SpanOf(r, v, ve);
    }
    /* nothing but whitespace after the object */
    Ws(&it.c);
    if (it.c.p != it.c.end)
        goto invalid;
    if (r->type == EMBARGO_REC_OTHER)
        goto skip; /* no event_type */

    Endpoints(r);
    v = apps[r->type][0];
    ve = apps[r->type][1];
    if (v != NULL && *v == '{') {
        r->app = SpanOf(r, v, ve);
        Iter o;
        if (r->type != EMBARGO_REC_FLOW && IterBegin(&o, v, ve, 1)) {
            switch (r->type) {
            case EMBARGO_REC_DNS: DnsFacts(r, &o); break;
            case EMBARGO_REC_TLS: TlsFacts(r, &o); break;
            case EMBARGO_REC_HTTP: HttpFacts(r, &o); break;
            case EMBARGO_REC_QUIC: QuicFacts(r, &o); break;
            case EMBARGO_REC_FLOW:
            case EMBARGO_REC_OTHER: break;
            }
        }
    }
    return EMBARGO_PARSE_OK;
skip:
    EmbargoRecordClear(r);
    return EMBARGO_PARSE_SKIP;
invalid:
    EmbargoRecordClear(r);
    return EMBARGO_PARSE_INVALID;
}

EmbargoParseResult EmbargoRecordParse(EmbargoRecord *r, const char *buf, size_t len,
                                      size_t max_len) {
    return EmbargoRecordParseTypes(r, buf, len, max_len, EMBARGO_REC_ALL);
}

/* ---- the alert record ------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
} Out;

static void Put(Out *o, const char *s, size_t n) {
    if (o->n < o->cap)
        memcpy(o->p + o->n, s, n <= o->cap - o->n ? n : o->cap - o->n);
    o->n += n;
}

#define PUTS(o, lit) Put((o), (lit), sizeof(lit) - 1)

/* `,"key":` (no comma right after the opening brace: o->n counts every byte,
 * written or not, so 1 means only "{" so far). */
static void PutKey(Out *o, const char *key) {
    if (o->n > 1)
        Put(o, ",", 1);
    Put(o, "\"", 1);
    Put(o, key, strlen(key));
    Put(o, "\":", 2);
}

static void PutSpan(Out *o, const EmbargoRecord *r, const char *key, EmbargoSpan s) {
    if (s.len == 0)
        return;
    PutKey(o, key);
    Put(o, SpanPtr(r, s), s.len);
}

static void PutUint(Out *o, const char *key, uint64_t v) {
    char num[24];
    size_t n = sizeof(num);
    do
        num[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    PutKey(o, key);
    Put(o, num + n, sizeof(num) - n);
}

/* Did the server send what matched? Then the alert is written to_client. */
static bool ServerSide(const EmbargoRecord *r, const char *field) {
    if (field == NULL)
        return r->dns_response;
    if (strncmp(field, "tls.cert", 8) == 0)
        return true;
    return r->dns_response && (strncmp(field, "dns.", 4) == 0 || strcmp(field, "domain") == 0);
}

size_t EmbargoRecordAlertWrite(const EmbargoRecord *r, const char *alert, size_t alert_len,
                               const char *field, char *out, size_t cap) {
    if (r == NULL || r->buf == NULL || r->type == EMBARGO_REC_OTHER || alert == NULL)
        return 0;
    /* The alert text must be exactly one object: it is spliced in as is. */
    Cur c = {alert, alert + alert_len};
    Ws(&c);
    if (c.p >= c.end || *c.p != '{' || !SkipValue(&c, 1))
        return 0;
    Ws(&c);
    if (c.p != c.end)
        return 0;

    bool to_client = ServerSide(r, field) || r->to_client;
    bool swap = to_client != r->to_client;
    Out o = {out, 0, out ? cap : 0};
    /* The header, in Suricata's order. */
    PUTS(&o, "{");
    PutSpan(&o, r, "timestamp", r->timestamp);
    if (r->flow_id != 0)
        PutUint(&o, "flow_id", r->flow_id);
    PutSpan(&o, r, "in_iface", r->in_iface);
    if (r->has_pcap_cnt)
        PutUint(&o, "pcap_cnt", r->pcap_cnt);
    PutKey(&o, "event_type");
    PUTS(&o, "\"alert\"");
    PutSpan(&o, r, "vlan", r->vlan);
    PutSpan(&o, r, "src_ip", swap ? r->dest_ip : r->src_ip);
    int32_t sp = swap ? r->dest_port : r->src_port, dp = swap ? r->src_port : r->dest_port;
    if (sp >= 0)
        PutUint(&o, "src_port", (uint64_t)sp);
    PutSpan(&o, r, "dest_ip", swap ? r->src_ip : r->dest_ip);
    if (dp >= 0)
        PutUint(&o, "dest_port", (uint64_t)dp);
    PutSpan(&o, r, "proto", r->proto);
    PutSpan(&o, r, "pkt_src", r->pkt_src);
    PutSpan(&o, r, "community_id", r->community_id);
    if (to_client)
        PUTS(&o, ",\"direction\":\"to_client\"");
    else
        PUTS(&o, ",\"direction\":\"to_server\"");
    PUTS(&o, ",\"alert\":");
    Put(&o, alert, alert_len);
    /* app_proto: the record's, else the protocol of the record (not for flows) */
    if (r->app_proto.len != 0)
        PutSpan(&o, r, "app_proto", r->app_proto);
    else if (r->type != EMBARGO_REC_FLOW) {
        PUTS(&o, ",\"app_proto\":\"");
        Put(&o, app_names[r->type], strlen(app_names[r->type]));
        PUTS(&o, "\"");
    }
    PutSpan(&o, r, app_names[r->type], r->app);
    PUTS(&o, "}");
    return o.n;
}

char *EmbargoRecordAlert(const EmbargoRecord *r, const char *alert_json, size_t *len) {
    if (len == NULL)
        return NULL;
    *len = 0;
    if (alert_json == NULL)
        return NULL;
    size_t alen = strlen(alert_json);
    size_t n = EmbargoRecordAlertWrite(r, alert_json, alen, NULL, NULL, 0);
    if (n == 0)
        return NULL;
    char *text = malloc(n + 1);
    if (text == NULL)
        return NULL;
    (void)EmbargoRecordAlertWrite(r, alert_json, alen, NULL, text, n);
    text[n] = '\0';
    *len = n;
    return text;
}
