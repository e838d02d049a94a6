/*
 * What devices say about themselves: the small parsers behind the device
 * keys. Each reads untrusted bytes, bounds every length against what is
 * there, and returns slices into the input (or text rendered into the
 * caller's struct); nothing is allocated.
 *
 *   SNMP     RFC 3416 section 3 (PDUs), RFC 1157 section 4 (v1 message), BER
 *            as X.690 section 8: sysDescr.0 and sysObjectID.0 of a Response.
 *   DHCP     RFC 2131 section 2 (the BOOTP header), RFC 2132 (options 12,
 *            50, 53, 60): a client's own host name and vendor class.
 *   DHIP     Dahua's discovery datagram on UDP 37810: a 32-byte header whose
 *            bytes 4-7 are "DHIP", then a JSON body (docs/rules.md, "Devices",
 *            names the sources of the layout).
 *   XML and JSON: element text and string values found by name, enough for
 *            WS-Discovery, ONVIF, Hikvision SADP and TR-069 bodies; no
 *            document is built and nothing is unescaped.
 */
#include "protocols/protocols.h"

#include <stdio.h>
#include <string.h>

/* ---- text ------------------------------------------------------------------ */

static bool is_name_char(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static const uint8_t *find(const uint8_t *p, size_t len, const char *s, size_t n) {
    if (n == 0 || len < n)
        return NULL;
    const uint8_t *end = p + len - n + 1;
    for (const uint8_t *q = p; q < end; q++) {
        q = memchr(q, s[0], (size_t)(end - q));
        if (q == NULL)
            return NULL;
        if (memcmp(q, s, n) == 0)
            return q;
    }
    return NULL;
}

static void trim(const uint8_t **v, size_t *n) {
    while (*n > 0 && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\r' ||
                      (*v)[*n - 1] == '\n'))
        (*n)--;
}

/*
 * Finds the start tag of element `name` at or after `from`: "<name" or
 * "<prefix:name", followed by '>', '/', or white space. Returns the offset
 * just past the tag's '>' in *content, and true.
 */
static bool xml_open(const uint8_t *p, size_t len, size_t from, const char *name, size_t *content,
                     size_t *tag) {
    size_t n = strlen(name);
    while (from < len) {
        const uint8_t *q = find(p + from, len - from, name, n);
        if (q == NULL)
            return false;
        size_t at = (size_t)(q - p);
        from = at + 1;
        size_t after = at + n;
        if (after >= len || !(p[after] == '>' || p[after] == ' ' || p[after] == '/' ||
                              p[after] == '\t' || p[after] == '\r' || p[after] == '\n'))
            continue;
        /* Back over an optional "prefix:" to the '<'. */
        size_t b = at;
        if (b > 0 && p[b - 1] == ':') {
            b--;
            while (b > 0 && is_name_char(p[b - 1]))
                b--;
        }
        if (b == 0 || p[b - 1] != '<')
            continue;
        const uint8_t *gt = memchr(p + after, '>', len - after);
        if (gt == NULL)
            return false;
        if (gt[-1] == '/')
            continue; /* an empty element: no text */
        *tag = b - 1;
        *content = (size_t)(gt - p) + 1;
        return true;
    }
    return false;
}

bool emb__xml_has(const uint8_t *p, size_t len, const char *name) {
    size_t c, t;
    return xml_open(p, len, 0, name, &c, &t);
}

bool emb__xml_first_child(const uint8_t *p, size_t len, const char *parent, const char *child,
                          size_t *at) {
    size_t c, t;
    if (!xml_open(p, len, 0, parent, &c, &t))
        return false;
    while (c < len && (p[c] == ' ' || p[c] == '\t' || p[c] == '\r' || p[c] == '\n'))
        c++;
    if (c >= len || p[c] != '<')
        return false;
    size_t s = c + 1, e = s;
    while (e < len && is_name_char(p[e]))
        e++;
    if (e < len && p[e] == ':') { /* a prefix: the local name follows */
        s = ++e;
        while (e < len && is_name_char(p[e]))
            e++;
    }
    size_t n = strlen(child);
    if (e - s != n || memcmp(p + s, child, n) != 0)
        return false;
    *at = c;
    return true;
}

bool emb__xml_text(const uint8_t *p, size_t len, const char *name, const uint8_t **v,
                   size_t *vlen) {
    size_t c, t;
    if (!xml_open(p, len, 0, name, &c, &t))
        return false;
    const uint8_t *lt = memchr(p + c, '<', len - c);
    if (lt == NULL)
        return false; /* cut before the end tag */
    *v = p + c;
    *vlen = (size_t)(lt - (p + c));
    trim(v, vlen);
    return *vlen > 0;
}

bool emb__json_str(const uint8_t *p, size_t len, const char *key, const uint8_t **v, size_t *vlen) {
    char quoted[64];
    int n = snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    if (n <= 0 || (size_t)n >= sizeof(quoted))
        return false;
    size_t from = 0;
    while (from < len) {
        const uint8_t *q = find(p + from, len - from, quoted, (size_t)n);
        if (q == NULL)
            return false;
        size_t i = (size_t)(q - p) + (size_t)n;
        from = i;
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        if (i >= len || p[i] != ':')
            continue; /* the name as a value, not a key */
        i++;
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        if (i >= len || p[i] != '"')
            continue;
        size_t s = ++i;
        while (i < len && p[i] != '"') {
            if (p[i] == '\\')
                i++;
            i++;
        }
        if (i >= len)
            return false;
        *v = p + s;
        *vlen = i - s;
        return *vlen > 0;
    }
    return false;
}

/* ---- BER (SNMP) --------------------------------------------------------- */

/* One TLV at *off: its tag, and its value as [*val, *val + *vlen). */
static bool ber_tlv(const uint8_t *p, size_t len, size_t *off, uint8_t *tag, size_t *val,
                    size_t *vlen) {
    size_t i = *off;
    if (i + 2 > len)
        return false;
    *tag = p[i++];
    if ((*tag & 0x1F) == 0x1F)
        return false; /* multi-byte tags: not in SNMP */
    size_t n = p[i++];
    if (n & 0x80) {
        size_t k = n & 0x7F;
        if (k == 0 || k > 3 || i + k > len)
            return false; /* indefinite or huge lengths: not in SNMP */
        n = 0;
        while (k--)
            n = n << 8 | p[i++];
    }
    if (n > len - i)
        return false;
    *val = i;
    *vlen = n;
    *off = i + n;
    return true;
}

static bool ber_int(const uint8_t *p, size_t len, size_t *off, long *out) {
    uint8_t tag;
    size_t v, n;
    if (!ber_tlv(p, len, off, &tag, &v, &n) || tag != 0x02 || n == 0 || n > 4)
        return false;
    long x = (p[v] & 0x80) ? -1 : 0;
    for (size_t i = 0; i < n; i++)
        x = (long)((unsigned long)x << 8 | p[v + i]);
    *out = x;
    return true;
}

/* Appends '.' (unless first) and x in decimal at out[*k]; false if it does not fit. By hand:
 * snprintf cost ~700 instructions an arc, and a walk of a response's bindings formats many. */
static bool put_arc(char *out, size_t cap, size_t *k, unsigned long x, bool first) {
    char d[24];
    size_t n = 0;
    do
        d[n++] = (char)('0' + x % 10);
    while ((x /= 10) != 0);
    if (!first)
        d[n++] = '.';
    if (n >= cap - *k)
        return false; /* room for the NUL too, as snprintf would need */
    while (n > 0)
        out[(*k)++] = d[--n];
    out[*k] = '\0';
    return true;
}

/* An OBJECT IDENTIFIER's value as dotted text; false if it does not fit. */
static bool oid_text(const uint8_t *v, size_t n, char *out, size_t cap, size_t *out_len) {
    size_t k = 0;
    unsigned long arc = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (arc > (1UL << 25))
            return false;
        arc = arc << 7 | (v[i] & 0x7F);
        if (v[i] & 0x80)
            continue;
        if (first) {
            unsigned long a = arc < 80 ? arc / 40 : 2, b = arc - a * 40;
            if (!put_arc(out, cap, &k, a, true) || !put_arc(out, cap, &k, b, false))
                return false;
            first = false;
        } else if (!put_arc(out, cap, &k, arc, false)) {
            return false;
        }
        arc = 0;
    }
    if (first || (n > 0 && (v[n - 1] & 0x80)))
        return false;
    *out_len = k;
    return true;
}

static const uint8_t OID_SYSDESCR[] = {0x2B, 6, 1, 2, 1, 1, 1, 0};    /* 1.3.6.1.2.1.1.1.0 */
static const uint8_t OID_SYSOBJECTID[] = {0x2B, 6, 1, 2, 1, 1, 2, 0}; /* 1.3.6.1.2.1.1.2.0 */

emb_x_result_t emb__snmp_parse(const uint8_t *p, size_t len, emb_snmp_t *out) {
    memset(out, 0, sizeof(*out));
    size_t off = 0, v, n;
    uint8_t tag;
    if (len < 2 || p[0] != 0x30)
        return EMB_X_NONE;
    if (!ber_tlv(p, len, &off, &tag, &v, &n))
        return EMB_X_TRUNCATED;
    size_t end = v + n;
    off = v;
    long version;
    if (!ber_int(p, end, &off, &version) || version < 0 || version > 1)
        return EMB_X_NONE; /* v3 (3) carries no community and is usually encrypted */
    out->version = (uint8_t)(version + 1);
    if (!ber_tlv(p, end, &off, &tag, &v, &n) || tag != 0x04)
        return EMB_X_NONE;
    out->community = p + v;
    out->community_len = n;
    if (!ber_tlv(p, end, &off, &tag, &v, &n) || (tag & 0xE0) != 0xA0)
        return EMB_X_INVALID;
    out->pdu = tag;
    if (tag == 0xA4)
        return EMB_X_OK; /* a v1 Trap: another layout, nothing we read */
    size_t pend = v + n;
    off = v;
    long rid, es, ei;
    if (!ber_int(p, pend, &off, &rid) || !ber_int(p, pend, &off, &es) ||
        !ber_int(p, pend, &off, &ei))
        return EMB_X_INVALID;
    out->request_id = rid;
    if (!ber_tlv(p, pend, &off, &tag, &v, &n) || tag != 0x30)
        return EMB_X_INVALID;
    size_t lend = v + n;
    off = v;
    while (off < lend) {
        size_t bv, bn, ov, on, vv, vn, tl;
        uint8_t otag, vtag;
        /* A binding that does not parse ends the walk; what came before stands. */
        if (!ber_tlv(p, lend, &off, &tag, &bv, &bn) || tag != 0x30)
            return out->nvars > 0 ? EMB_X_OK : EMB_X_INVALID;
        size_t b = bv;
        if (!ber_tlv(p, bv + bn, &b, &otag, &ov, &on) || otag != 0x06 ||
            !ber_tlv(p, bv + bn, &b, &vtag, &vv, &vn))
            return out->nvars > 0 ? EMB_X_OK : EMB_X_INVALID;
        out->nvars++;
        if (out->nshown < EMB_SNMP_SHOW_VARS &&
            oid_text(p + ov, on, out->vars[out->nshown], sizeof(out->vars[0]), &tl))
            out->nshown++;
        if (on == sizeof(OID_SYSDESCR) && memcmp(p + ov, OID_SYSDESCR, on) == 0 && vtag == 0x04) {
            out->sysdescr = p + vv;
            out->sysdescr_len = vn;
        } else if (on == sizeof(OID_SYSOBJECTID) && memcmp(p + ov, OID_SYSOBJECTID, on) == 0 &&
                   vtag == 0x06 &&
                   !oid_text(p + vv, vn, out->sysobjectid, sizeof(out->sysobjectid),
                             &out->sysobjectid_len)) {
            out->sysobjectid_len = 0;
        }
    }
    return EMB_X_OK;
}

const char *emb__snmp_pdu_name(uint8_t pdu) {
    static const char *const names[] = {"get_request",    "get_next_request", "response",
                                        "set_request",    "trap_v1",          "get_bulk_request",
                                        "inform_request", "trap_v2",          "report"};
    return pdu >= 0xA0 && pdu <= 0xA8 ? names[pdu - 0xA0] : "unknown";
}

/* ---- DHCP --------------------------------------------------------------- */

#define BOOTP_FIXED 236
static const uint8_t DHCP_MAGIC[4] = {99, 130, 83, 99};

emb_x_result_t emb__dhcp_parse(const uint8_t *p, size_t len, emb_dhcp_t *out) {
    memset(out, 0, sizeof(*out));
    if (len < BOOTP_FIXED + 4)
        return len > 0 && (p[0] == 1 || p[0] == 2) ? EMB_X_TRUNCATED : EMB_X_NONE;
    if ((p[0] != 1 && p[0] != 2) || p[1] != 1 || p[2] != 6 ||
        memcmp(p + BOOTP_FIXED, DHCP_MAGIC, 4) != 0)
        return EMB_X_NONE; /* not BOOTREQUEST/REPLY over Ethernet with DHCP's cookie */
    out->op = p[0];
    out->xid = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    memcpy(out->ciaddr, p + 12, 4);
    memcpy(out->yiaddr, p + 16, 4);
    memcpy(out->chaddr, p + 28, 6);
    size_t i = BOOTP_FIXED + 4;
    while (i < len) {
        uint8_t code = p[i++];
        if (code == 0)
            continue;
        if (code == 255)
            return EMB_X_OK;
        if (i >= len)
            return EMB_X_TRUNCATED;
        size_t n = p[i++];
        if (n > len - i)
            return EMB_X_TRUNCATED;
        const uint8_t *d = p + i;
        switch (code) {
        case 12:
            if (out->hostname == NULL && n > 0) {
                out->hostname = d;
                out->hostname_len = n;
            }
            break;
        case 60:
            if (out->vendor_class == NULL && n > 0) {
                out->vendor_class = d;
                out->vendor_class_len = n;
            }
            break;
        case 50:
            if (n == 4) {
                memcpy(out->requested, d, 4);
                out->has_requested = true;
            }
            break;
        case 53:
            if (n == 1)
                out->msg_type = d[0];
            break;
        default: break;
        }
        i += n;
    }
    return EMB_X_OK; /* no end option: what was read stands */
}

const char *emb__dhcp_type_name(uint8_t t) {
    static const char *const names[] = {"unknown", "discover", "offer",   "request", "decline",
                                        "ack",     "nak",      "release", "inform"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* ---- DHIP --------------------------------------------------------------- */

#define DHIP_HEADER 32

emb_x_result_t emb__dhip_body(const uint8_t *p, size_t len, const uint8_t **body,
                              size_t *body_len) {
    if (len < 8 || memcmp(p + 4, "DHIP", 4) != 0)
        return EMB_X_NONE;
    if (len <= DHIP_HEADER)
        return EMB_X_TRUNCATED;
    *body = p + DHIP_HEADER;
    *body_len = len - DHIP_HEADER;
    return (*body)[0] == '{' ? EMB_X_OK : EMB_X_INVALID;
}
