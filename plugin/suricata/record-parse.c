/*
 * EVE records in, facts out, without parsing into a tree: this file owns
 * EmbargoRecord, from the first look at a record to the facts kept from it.
 *
 * Suricata hands the EVE filetype every record it writes; only dns, tls,
 * http, quic and flow records carry anything embargo matches. A small
 * scanner walks the top-level members in order: Suricata writes
 * "event_type" within the first hundred bytes, so a record of another type
 * costs that much and no more. Of a record of ours only the members the
 * plugin needs are remembered, as slices of the text, which record-alert.c
 * splices into the alert record. The JSON grammar itself is record-json.c's.
 *
 * Two ways to read one. EmbargoRecordParse checks it whole first (strict
 * JSON grammar, UTF-8, escapes, nesting bounded by a bit stack, no
 * recursion) and then reads the checked text. The plugin reads it
 * unchecked (EMBARGO_REC_UNCHECKED), by quotes and brackets alone, the
 * protocol object where it stands, each byte once; each string taken as a
 * fact is checked on its own, and the whole record is checked
 * (EmbargoRecordCheck) only when a rule raises an alert on it, before any
 * of it is copied. Suricata wrote the record, most raise nothing, and the
 * check was a third of the plugin's cost. Either way every read goes
 * through the cursor's bounds, and a member of the wrong JSON type counts
 * as absent: a hostile or future record can at worst miss a match, never
 * write a wrong alert or crash. On a record the strict parse takes, both
 * ways give the same facts (test-record.c, fuzz-record.c compare them).
 */
#include "record-json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

/* A key as the iterator gives it, compared as written (escapes not decoded). */
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
    if (!StrRaw(v, vend, &raw, &rn) || (r->unchecked && !EmbargoJsonStringIs(v, vend)))
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
        (void)EmbargoJsonHex4(raw + i + 2, &u);
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            (void)EmbargoJsonHex4(raw + i + 2, &lo);
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
    /* Most are plain digits that fit (flow_id, ports, pcap_cnt): read them
     * here; what JSON's grammar must decide goes to the scanner. */
    size_t n = (size_t)(vend - v);
    if (n >= 1 && n <= 18 && (*v != '0' || n == 1)) {
        uint64_t u = 0;
        size_t i = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9')
            u = u * 10 + (uint64_t)(v[i++] - '0');
        if (i == n) {
            *out = u;
            return true;
        }
    }
    Cur c = {v, vend};
    bool u;
    if (v >= vend || !(*v == '-' || (*v >= '0' && *v <= '9')) ||
        !EmbargoJsonScanNumber(&c, &u, out))
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

/*
 * The facts functions read a protocol object with the iterator `it` over
 * its members (a part already checked, or a record read unchecked) and run
 * it to its end; a nested value they read is iterated where it stands
 * (EmbargoJsonIterOpen) and `it` resumes after it (EmbargoJsonIterPast), so
 * every byte is looked at once. False when the object ends badly (only
 * possible unchecked: the record is then invalid).
 */

/* Each string of the array at v, the value `it` stands at, as a fact. */
static bool AddStrArray(EmbargoRecord *r, Iter *it, const char *v, emb_field_t field,
                        unsigned depth) {
    Iter a;
    const char *k, *e, *ee;
    size_t kn;
    IterStep st;
    if (*v != '[' || !EmbargoJsonIterBeginChecked(&a, v, it->c.end, depth))
        return EmbargoJsonIterValue(it, &ee);
    for (int i = 0; (st = EmbargoJsonIterNext(&a, &k, &kn, &e, &ee)) == ITER_ITEM; i++)
        if (i < EMBARGO_RECORD_MAX_ITEMS)
            (void)AddStr(r, field, e, ee, NULL, NULL);
    return st == ITER_END && EmbargoJsonIterPast(it, a.c.p);
}

/* rrname of each object of the array at v (dns.queries, dns.answers ...),
 * the value `it` stands at; rdata too when `rdata` and the record type
 * holds a name. */
static bool AddRrList(EmbargoRecord *r, Iter *it, const char *v, bool rdata, unsigned depth) {
    Iter a, o;
    const char *k, *e, *ee;
    size_t kn;
    IterStep st, mt;
    if (*v != '[' || !EmbargoJsonIterBeginChecked(&a, v, it->c.end, depth))
        return EmbargoJsonIterValue(it, &ee);
    for (int i = 0; (st = EmbargoJsonIterOpen(&a, &k, &kn, &e)) == ITER_ITEM; i++) {
        if (i >= EMBARGO_RECORD_MAX_ITEMS || *e != '{') {
            if (!EmbargoJsonIterValue(&a, &ee))
                return false;
            continue;
        }
        if (!EmbargoJsonIterBeginChecked(&o, e, a.c.end, depth + 1))
            return false;
        const char *rd = NULL, *rde = NULL, *mk, *mv, *mve;
        bool named = false;
        size_t mkn;
        while ((mt = EmbargoJsonIterNext(&o, &mk, &mkn, &mv, &mve)) == ITER_ITEM) {
            const char *s;
            size_t n;
            if (KEY_IS(mk, mkn, "rrname"))
                (void)AddStr(r, EMB_FIELD_DNS_QUERY, mv, mve, NULL, NULL);
            else if (KEY_IS(mk, mkn, "rdata"))
                rd = mv, rde = mve;
            else if (KEY_IS(mk, mkn, "rrtype") && StrRaw(mv, mve, &s, &n))
                named = IsNameRrtype(s, n);
        }
        if (mt != ITER_END || !EmbargoJsonIterPast(&a, o.c.p))
            return false;
        if (rdata && named && rd != NULL)
            (void)AddStr(r, EMB_FIELD_DNS_QUERY, rd, rde, NULL, NULL);
    }
    return st == ITER_END && EmbargoJsonIterPast(it, a.c.p);
}

/* dns.grouped, the object at v: the names of the record types that hold one. */
static bool Grouped(EmbargoRecord *r, Iter *it, const char *v) {
    Iter g;
    const char *k, *gv, *gve;
    size_t kn;
    IterStep st;
    if (!EmbargoJsonIterBeginChecked(&g, v, it->c.end, 2))
        return false;
    while ((st = EmbargoJsonIterOpen(&g, &k, &kn, &gv)) == ITER_ITEM)
        if (!(IsNameRrtype(k, kn) ? AddStrArray(r, &g, gv, EMB_FIELD_DNS_QUERY, 3)
                                  : EmbargoJsonIterValue(&g, &gve)))
            return false;
    return st == ITER_END && EmbargoJsonIterPast(it, g.c.p);
}

static bool DnsFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    IterStep st;
    while ((st = EmbargoJsonIterOpen(it, &k, &kn, &v)) == ITER_ITEM) {
        bool ok;
        if (KEY_IS(k, kn, "queries") || KEY_IS(k, kn, "query")) /* v3 */
            ok = AddRrList(r, it, v, false, 2);
        else if (KEY_IS(k, kn, "answers"))
            ok = AddRrList(r, it, v, true, 2);
        else if (KEY_IS(k, kn, "grouped") && *v == '{')
            ok = Grouped(r, it, v);
        else if ((ok = EmbargoJsonIterValue(it, &ve))) {
            if (KEY_IS(k, kn, "rrname")) /* EVE DNS v2 */
                (void)AddStr(r, EMB_FIELD_DNS_QUERY, v, ve, NULL, NULL);
            else if (KEY_IS(k, kn, "type"))
                r->dns_response = StrIs(v, ve, "answer") || StrIs(v, ve, "response");
        }
        if (!ok)
            return false;
    }
    return st == ITER_END;
}

static bool TlsFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve, *s;
    size_t kn, n;
    IterStep st;
    while ((st = EmbargoJsonIterOpen(it, &k, &kn, &v)) == ITER_ITEM) {
        if (KEY_IS(k, kn, "subjectaltname")) { /* Suricata 8 */
            if (!AddStrArray(r, it, v, EMB_FIELD_TLS_CERT_NAME, 2))
                return false;
            continue;
        }
        if (!EmbargoJsonIterValue(it, &ve))
            return false;
        if (KEY_IS(k, kn, "sni"))
            (void)AddStr(r, EMB_FIELD_TLS_SNI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "subject")) {
            if (AddStr(r, EMB_FIELD_TLS_CERT_SUBJECT, v, ve, &s, &n))
                AddCn(r, s, n);
        } else if (KEY_IS(k, kn, "issuerdn"))
            (void)AddStr(r, EMB_FIELD_TLS_CERT_ISSUER, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "ja4"))
            (void)AddStr(r, EMB_FIELD_JA4, v, ve, NULL, NULL);
    }
    return st == ITER_END;
}

static bool HttpFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    IterStep st;
    while ((st = EmbargoJsonIterNext(it, &k, &kn, &v, &ve)) == ITER_ITEM) {
        if (KEY_IS(k, kn, "hostname"))
            (void)AddStr(r, EMB_FIELD_HTTP_HOST, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "url"))
            (void)AddStr(r, EMB_FIELD_HTTP_URI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "http_user_agent"))
            (void)AddStr(r, EMB_FIELD_HTTP_USER_AGENT, v, ve, NULL, NULL);
    }
    return st == ITER_END;
}

static bool QuicFacts(EmbargoRecord *r, Iter *it) {
    const char *k, *v, *ve;
    size_t kn;
    IterStep st;
    while ((st = EmbargoJsonIterNext(it, &k, &kn, &v, &ve)) == ITER_ITEM) {
        if (KEY_IS(k, kn, "sni"))
            (void)AddStr(r, EMB_FIELD_QUIC_SNI, v, ve, NULL, NULL);
        else if (KEY_IS(k, kn, "ja4"))
            (void)AddStr(r, EMB_FIELD_JA4, v, ve, NULL, NULL);
    }
    return st == ITER_END;
}

/* The facts of the protocol object of a record of type r->type. */
static bool AppFacts(EmbargoRecord *r, Iter *o) {
    switch (r->type) {
    case EMBARGO_REC_DNS: return DnsFacts(r, o);
    case EMBARGO_REC_TLS: return TlsFacts(r, o);
    case EMBARGO_REC_HTTP: return HttpFacts(r, o);
    case EMBARGO_REC_QUIC: return QuicFacts(r, o);
    case EMBARGO_REC_FLOW:
    case EMBARGO_REC_OTHER: break;
    }
    return false;
}

/* ---- endpoints ------------------------------------------------------------- */

/* inet_pton(AF_INET) on s[0..n), by glibc's rules (four decimal parts of at
 * most 255, no leading zero, nothing else), without the copy and the call:
 * every record has two addresses. */
static bool Ipv4(const char *s, size_t n, uint8_t out[4]) {
    const char *e = s + n;
    uint8_t tmp[4];
    for (int i = 0; i < 4; i++) {
        if (i > 0 && (s >= e || *s++ != '.'))
            return false;
        if (s >= e || *s < '0' || *s > '9')
            return false;
        unsigned v = (unsigned)(*s++ - '0');
        if (v == 0 && s < e && *s >= '0' && *s <= '9')
            return false; /* a leading zero */
        while (s < e && *s >= '0' && *s <= '9')
            if ((v = v * 10 + (unsigned)(*s++ - '0')) > 255)
                return false;
        tmp[i] = (uint8_t)v;
    }
    if (s != e)
        return false;
    memcpy(out, tmp, 4);
    return true;
}

static int ParseAddr(const EmbargoRecord *r, EmbargoSpan sp, uint8_t out[16]) {
    const char *s;
    size_t n;
    char tmp[64];
    memset(out, 0, 16);
    /* an address has no escapes: a string with one is none, as both parsers
     * below reject a backslash */
    if (sp.len == 0 || !StrRaw(SpanPtr(r, sp), SpanPtr(r, sp) + sp.len, &s, &n) || n >= sizeof(tmp))
        return 0;
    if (Ipv4(s, n, out))
        return 4;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
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

/* The event type of each record type, which is also its protocol object's key. */
static const char *const type_names[] = {
    [EMBARGO_REC_DNS] = "dns",   [EMBARGO_REC_TLS] = "tls",   [EMBARGO_REC_HTTP] = "http",
    [EMBARGO_REC_QUIC] = "quic", [EMBARGO_REC_FLOW] = "flow",
};

static EmbargoRecordType TypeOf(const char *v, const char *vend) {
    for (int t = EMBARGO_REC_DNS; t <= EMBARGO_REC_FLOW; t++)
        if (StrIs(v, vend, type_names[t]))
            return (EmbargoRecordType)t;
    return EMBARGO_REC_OTHER;
}

bool EmbargoRecordCheck(EmbargoRecord *r) {
    if (r == NULL || r->buf == NULL)
        return false;
    if (!r->unchecked)
        return true;
    Cur c = {r->buf, r->buf + r->len};
    Ws(&c);
    if (c.p >= c.end || *c.p != '{' || !EmbargoJsonSkipValue(&c, 0))
        return false;
    Ws(&c);
    if (c.p != c.end)
        return false;
    r->unchecked = false;
    return true;
}

void EmbargoRecordClear(EmbargoRecord *r) {
    if (r == NULL)
        return;
    /* everything but fact[] and the scratch bytes, which are only read up to
     * facts.nfacts and scratch_used: this runs twice per record */
    memset(r, 0, offsetof(EmbargoRecord, fact));
    r->scratch_used = 0;
    r->src_port = r->dest_port = -1;
    r->facts.facts = r->fact;
}

EmbargoRecordType EmbargoRecordPeekType(const char *buf, size_t len) {
    Iter it;
    const char *k, *v, *ve;
    size_t kn;
    if (buf == NULL || !EmbargoJsonIterBegin(&it, buf, buf + len, 0) || !it.obj)
        return EMBARGO_REC_OTHER;
    while (EmbargoJsonIterNext(&it, &k, &kn, &v, &ve) == ITER_ITEM)
        if (KEY_IS(k, kn, "event_type"))
            return TypeOf(v, ve);
    return EMBARGO_REC_OTHER;
}

/* Whether `k` names the protocol object of a record of type t ("dns" ...). */
static bool IsAppKey(EmbargoRecordType t, const char *k, size_t kn) {
    return t >= EMBARGO_REC_DNS && t <= EMBARGO_REC_QUIC && kn == strlen(type_names[t]) &&
           memcmp(k, type_names[t], kn) == 0;
}

/* Where a record's protocol objects are: the first of each name counts. */
typedef const char *AppSpans[EMBARGO_REC_FLOW + 1][2];

/* A top-level member other than event_type: the header members the alert
 * copies and the endpoints are taken from, each the first of its name. */
static void Member(EmbargoRecord *r, AppSpans apps, const char *k, size_t kn, const char *v,
                   const char *ve) {
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

/* The members of the whole record again, as checked text; event_type was read.
 * Those already seen are seen again to no effect: each header member is the
 * first of its name, and direction the last, either way. */
static bool MembersAgain(EmbargoRecord *r, AppSpans apps) {
    Iter it;
    const char *k, *v, *ve;
    size_t kn;
    IterStep st;
    if (!EmbargoJsonIterBeginChecked(&it, r->buf, r->buf + r->len, 0))
        return false;
    while ((st = EmbargoJsonIterNext(&it, &k, &kn, &v, &ve)) == ITER_ITEM)
        if (!KEY_IS(k, kn, "event_type"))
            Member(r, apps, k, kn, v, ve);
    return st == ITER_END;
}

/* Top-level members listed at once; a record with more is read again. */
#define MAX_MEMBERS 64

void EmbargoPortSetFill(EmbargoPortSet *ps, const emb_rules_t *rules) {
    for (unsigned port = 0; port < 65536; port++)
        for (int i = 0; i < 2; i++) {
            uint8_t proto = i == 0 ? 6 : 17;
            if (emb_rules_port_may_hold(rules, proto, (uint16_t)port))
                ps->bits[i][port / 8] |= (uint8_t)(1u << (port % 8));
            if (emb_rules_port_alone_may_hold(rules, proto, (uint16_t)port))
                ps->alone[i][port / 8] |= (uint8_t)(1u << (port % 8));
        }
    emb_rules_address_first_bytes(rules, ps->first[0], ps->first[1]);
}

/* Whether the address `sp` (a JSON string: "192.0.2.1", "2001:db8::1")
 * begins with a byte some rule's addresses cover; true when it cannot be read
 * so (an escape, a form Suricata does not write). */
static bool AddrMayHold(const EmbargoRecord *r, EmbargoSpan sp, const EmbargoPortSet *ports) {
    if (sp.len < 3)
        return true;
    const char *s = SpanPtr(r, sp) + 1, *e = SpanPtr(r, sp) + sp.len - 1;
    bool v6 = memchr(s, ':', (size_t)(e - s)) != NULL;
    unsigned v = 0, nd = 0;
    if (!v6) {
        for (; s < e && *s >= '0' && *s <= '9' && nd < 3; s++, nd++)
            v = v * 10 + (unsigned)(*s - '0');
        if (nd == 0 || s >= e || *s != '.' || v > 255)
            return true;
    } else {
        /* the first group: its high byte is the first byte ("::1": none, 0) */
        for (; s < e && nd < 4 && isxdigit((unsigned char)*s); s++, nd++)
            v = v << 4 | (unsigned)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
        if (s >= e || *s != ':')
            return true;
        v >>= 8;
    }
    return (ports->first[v6][v >> 6] >> (v & 63)) & 1;
}

/* Whether a flow record, read up to here, can be left: its protocol and both
 * ports are known (each the first of its name that is one), and neither port
 * is one an address or port rule can hold on as the server's, or the rules
 * that can hold there need addresses that neither of the record's begins
 * like, so no rule holds whichever way a later "direction" turns the record. */
static bool NoRuleHolds(const EmbargoRecord *r, const EmbargoPortSet *ports) {
    if (r->src_port < 0 || r->dest_port < 0 || r->proto.len == 0)
        return false;
    const char *pp = SpanPtr(r, r->proto), *ppe = pp + r->proto.len;
    int i = StrIs(pp, ppe, "TCP") ? 0 : StrIs(pp, ppe, "UDP") ? 1 : -1;
    if (i < 0)
        return false; /* no port condition holds, but an address one might: read on */
    uint16_t sp = (uint16_t)r->src_port, dp = (uint16_t)r->dest_port;
    if (!(ports->bits[i][sp / 8] & (1u << (sp % 8))) &&
        !(ports->bits[i][dp / 8] & (1u << (dp % 8))))
        return true;
    if ((ports->alone[i][sp / 8] & (1u << (sp % 8))) ||
        (ports->alone[i][dp / 8] & (1u << (dp % 8))))
        return false;
    return !AddrMayHold(r, r->src_ip, ports) && !AddrMayHold(r, r->dest_ip, ports);
}

EmbargoParseResult EmbargoRecordParseTypes(EmbargoRecord *r, const char *buf, size_t len,
                                           size_t max_len, unsigned types) {
    return EmbargoRecordParseFlows(r, buf, len, max_len, types, NULL);
}

EmbargoParseResult EmbargoRecordParseFlows(EmbargoRecord *r, const char *buf, size_t len,
                                           size_t max_len, unsigned types,
                                           const EmbargoPortSet *ports) {
    EmbargoRecordClear(r);
    if (buf == NULL)
        return EMBARGO_PARSE_INVALID;
    r->buf = buf;
    r->len = len;
    Iter it;
    const char *k, *v, *ve;
    size_t kn;
    AppSpans apps = {{NULL, NULL}};
    bool header_only = false;
    if (!EmbargoJsonIterBegin(&it, buf, buf + len, 0) || !it.obj)
        goto invalid;
    /* EMBARGO_REC_UNCHECKED: stepped over by quotes and brackets from the start */
    it.checked = r->unchecked = (types & EMBARGO_REC_UNCHECKED) != 0;
    bool facts_read = false;
    for (;;) {
        IterStep st = EmbargoJsonIterOpen(&it, &k, &kn, &v);
        if (st == ITER_END)
            break;
        if (st == ITER_BAD)
            goto invalid;
        if (r->unchecked && !facts_read && *v == '{' && IsAppKey(r->type, k, kn) &&
            apps[r->type][0] == NULL) {
            /* read where it stands, once: its facts, and its extent */
            Iter o;
            if (!EmbargoJsonIterBeginChecked(&o, v, it.c.end, 1) || !AppFacts(r, &o) ||
                !EmbargoJsonIterPast(&it, o.c.p))
                goto invalid;
            SetApp(apps[r->type], v, o.c.p);
            facts_read = true;
            continue;
        }
        if (!EmbargoJsonIterValue(&it, &ve))
            goto invalid;
        if (!KEY_IS(k, kn, "event_type")) {
            Member(r, apps, k, kn, v, ve);
            if (header_only && ports != NULL && r->src_port >= 0 && r->dest_port >= 0 &&
                r->proto.len > 0) {
                if (NoRuleHolds(r, ports))
                    goto skip;
                ports = NULL; /* known now: a rule may hold, read on */
            }
            continue;
        }
        if (r->type != EMBARGO_REC_OTHER)
            continue; /* the first one counts (only seen here in header-only mode) */
        r->type = TypeOf(v, ve);
        if (r->type == EMBARGO_REC_OTHER || !(types & EMBARGO_REC_MASK(r->type)))
            goto skip;
        if (len > max_len || len > UINT32_MAX) {
            EmbargoRecordClear(r);
            return EMBARGO_PARSE_TOOBIG;
        }
        if (r->type == EMBARGO_REC_FLOW && (types & EMBARGO_REC_FLOW_HEADER)) {
            /* Only the endpoints are wanted, to see whether any rule can
             * hold: the rest is stepped over, not checked (the caller
             * checks the record whole before it uses it for an alert). */
            header_only = true;
            it.checked = r->unchecked = true;
            if (ports != NULL && NoRuleHolds(r, ports))
                goto skip;
            continue;
        }
        if (r->unchecked)
            continue; /* ours, read on member by member; checked when it alerts */
        /* Ours: the rest is checked whole in one pass, which lists its
         * members (Suricata writes event_type third: the members before it
         * were checked one by one). */
        JsonMember m[MAX_MEMBERS];
        size_t n;
        const char *after;
        if (!EmbargoJsonCheckRest(&it, m, MAX_MEMBERS, &n, &after))
            goto invalid;
        if (n > MAX_MEMBERS) {
            if (!MembersAgain(r, apps))
                goto invalid;
        } else {
            for (size_t i = 0; i < n; i++)
                if (!KEY_IS(m[i].key, m[i].klen, "event_type"))
                    Member(r, apps, m[i].key, m[i].klen, m[i].v, m[i].vend);
        }
        it.c.p = after;
        break;
    }
    /* nothing but whitespace after the object */
    Ws(&it.c);
    if (it.c.p != it.c.end)
        goto invalid;
    if (r->type == EMBARGO_REC_OTHER)
        goto skip; /* no event_type */

    Endpoints(r);
    if (header_only)
        return EMBARGO_PARSE_HEADER;
    v = apps[r->type][0];
    ve = apps[r->type][1];
    if (v != NULL && *v == '{') {
        r->app = SpanOf(r, v, ve);
        if (!facts_read && r->type != EMBARGO_REC_FLOW) {
            /* an app object before event_type: read now (checked text reads
             * to its end; unchecked text may not) */
            Iter o;
            bool read = EmbargoJsonIterBeginChecked(&o, v, ve, 1) && AppFacts(r, &o);
            if (!read && r->unchecked)
                goto invalid;
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
