/*
 * X.509 certificate decoding (RFC 5280 section 4.1), far enough to render
 * the subject and issuer names and to find the subject's commonName and the
 * subjectAltName dNSNames. It walks the DER with its own small reader: one
 * tag byte (the high-tag-number form is refused), a definite length in short
 * or long form (at most 4 length bytes; the indefinite form is BER and is
 * refused), every element checked to lie inside the one around it, and at
 * most DER_MAX_DEPTH levels of nesting. The certificate is complete when it
 * gets here, so anything that does not fit is "invalid".
 *
 * Names are rendered the way Suricata's tls.subject and tls.issuerdn show
 * them (Suricata's rust/src/x509/mod.rs calls x509-parser's X509Name
 * Display, x509name_to_string in its src/x509.rs): "ABBREV=value" for each
 * attribute, " + " between the attributes of one RDN, ", " between RDNs; the
 * abbreviation is CN, C, L, ST, O, OU, DC or Email, else the OID registry's
 * short name, else "OID(1.2.3)"; a value of a string type is its text, any
 * other value its content bytes in upper-case hex.
 */
#include "protocols/protocols.h"

#include "common/buf.h"

#include <string.h>

#define DER_MAX_DEPTH 8

#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_UTF8_STRING 0x0c
#define TAG_UNIVERSAL_STRING 0x1c
#define TAG_BMP_STRING 0x1e
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CTX0_CONS 0xa0 /* [0] EXPLICIT: tbsCertificate version */
#define TAG_CTX3_CONS 0xa3 /* [3] EXPLICIT: tbsCertificate extensions */
#define TAG_CTX2_PRIM 0x82 /* [2] IMPLICIT IA5String: GeneralName dNSName */

/* A position inside one constructed element: [off, end) of p is left. */
typedef struct {
    const uint8_t *p;
    size_t off, end;
    unsigned depth;
} der_cur_t;

/* One element: its tag and where its contents lie in p. */
typedef struct {
    uint8_t tag;
    size_t off, len;
} der_tlv_t;

/* Reads the element at the cursor and moves past it. False, reading
 * nothing, when it is malformed or does not fit in the enclosing element. */
static bool der_next(der_cur_t *c, der_tlv_t *t) {
    uint8_t tag, b;
    size_t o = c->off, n;
    if (!emb_rd_u8(c->p, c->end, o, &tag) || (tag & 0x1f) == 0x1f)
        return false;
    if (!emb_rd_u8(c->p, c->end, o + 1, &b))
        return false;
    o += 2;
    if (b < 0x80) {
        n = b;
    } else {
        size_t k = b & 0x7f;
        if (k == 0 || k > 4) /* 0x80 is the indefinite form */
            return false;
        n = 0;
        for (size_t i = 0; i < k; i++) {
            uint8_t x;
            if (!emb_rd_u8(c->p, c->end, o + i, &x))
                return false;
            n = n << 8 | x;
        }
        o += k;
    }
    if (!emb_have(c->end, o, n))
        return false;
    t->tag = tag;
    t->off = o;
    t->len = n;
    c->off = o + n;
    return true;
}

static bool der_expect(der_cur_t *c, uint8_t tag, der_tlv_t *t) {
    return der_next(c, t) && t->tag == tag;
}

/* A cursor over the contents of t, one level deeper than c. */
static bool der_enter(const der_cur_t *c, const der_tlv_t *t, der_cur_t *in) {
    if (c->depth >= DER_MAX_DEPTH)
        return false;
    in->p = c->p;
    in->off = t->off;
    in->end = t->off + t->len;
    in->depth = c->depth + 1;
    return true;
}

static bool der_done(const der_cur_t *c) {
    return c->off >= c->end;
}

static bool der_peek(const der_cur_t *c, uint8_t *tag) {
    return emb_rd_u8(c->p, c->end, c->off, tag);
}

/* ---- rendering into a fixed buffer ----------------------------------------- */

typedef struct {
    char *buf;
    size_t cap, len; /* cap includes the NUL */
    bool cut;
} dn_out_t;

/* Appends n bytes; what does not fit is dropped, backing off to the start of
 * a UTF-8 character (at most 3 bytes) so no partial character is left. */
static void out_put(dn_out_t *o, const void *s, size_t n) {
    const uint8_t *b = s;
    if (o->cut)
        return;
    size_t room = o->cap - 1 - o->len;
    if (n > room) {
        size_t k = room;
        for (int i = 0; i < 3 && k > 0 && (b[k] & 0xc0) == 0x80; i++)
            k--;
        n = k;
        o->cut = true;
    }
    memcpy(o->buf + o->len, b, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_str(dn_out_t *o, const char *s) {
    out_put(o, s, strlen(s));
}

static void out_u64(dn_out_t *o, uint64_t v) {
    char d[20];
    size_t n = sizeof(d);
    do {
        d[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_put(o, d + n, sizeof(d) - n);
}

static void out_hex_upper(dn_out_t *o, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n && !o->cut; i++) {
        char two[2] = {hx[p[i] >> 4], hx[p[i] & 0xf]};
        out_put(o, two, 2);
    }
}

/* Writes code point cp as UTF-8. */
static void out_utf8(dn_out_t *o, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    out_put(o, u, n);
}

/* ---- names ----------------------------------------------------------------- */

/* Attribute types by their encoded OID (the contents of the OID element):
 * x509-parser's abbreviations first, then oid-registry's short names. */
static const struct {
    uint8_t len;
    uint8_t oid[11];
    const char *name;
} attr_names[] = {
    {3, {0x55, 0x04, 0x03}, "CN"},
    {3, {0x55, 0x04, 0x06}, "C"},
    {3, {0x55, 0x04, 0x07}, "L"},
    {3, {0x55, 0x04, 0x08}, "ST"},
    {3, {0x55, 0x04, 0x0a}, "O"},
    {3, {0x55, 0x04, 0x0b}, "OU"},
    {10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, "DC"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, "Email"},
    {3, {0x55, 0x04, 0x00}, "objectClass"},
    {3, {0x55, 0x04, 0x01}, "aliasedEntryName"},
    {3, {0x55, 0x04, 0x02}, "knowledgeInformation"},
    {3, {0x55, 0x04, 0x04}, "surname"},
    {3, {0x55, 0x04, 0x05}, "serialNumber"},
    {3, {0x55, 0x04, 0x09}, "streetAddress"},
    {3, {0x55, 0x04, 0x0c}, "title"},
    {3, {0x55, 0x04, 0x0d}, "description"},
    {3, {0x55, 0x04, 0x0e}, "searchGuide"},
    {3, {0x55, 0x04, 0x0f}, "businessCategory"},
    {3, {0x55, 0x04, 0x10}, "postalAddress"},
    {3, {0x55, 0x04, 0x11}, "postalCode"},
    {3, {0x55, 0x04, 0x29}, "name"},
    {3, {0x55, 0x04, 0x2a}, "givenName"},
    {3, {0x55, 0x04, 0x2b}, "initials"},
    {3, {0x55, 0x04, 0x2c}, "generationQualifier"},
    {3, {0x55, 0x04, 0x2d}, "uniqueIdentifier"},
    {3, {0x55, 0x04, 0x2e}, "dnQualifier"},
    {10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, "uid"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02}, "unstructuredName"},
    {11,
     {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01},
     "msJurisdictionLocality"},
    {11,
     {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02},
     "msJurisdictionStateOrProvince"},
    {11,
     {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03},
     "msJurisdictionCountry"},
};

static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 subjectAltName */

static bool oid_is(const uint8_t *p, const der_tlv_t *t, const uint8_t *oid, size_t n) {
    return t->len == n && memcmp(p + t->off, oid, n) == 0;
}

/* Writes an OID in dotted form (X.690 section 8.19). False when it is
 * malformed: empty, ending inside a subidentifier, or one over 64 bits. */
static bool out_oid_dotted(dn_out_t *o, const uint8_t *p, size_t n) {
    uint64_t v = 0;
    unsigned bits = 0;
    bool first = true;
    if (n == 0 || (p[n - 1] & 0x80))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (bits == 0 && p[i] == 0x80)
            return false; /* a subidentifier with a leading zero group */
        if (bits + 7 > 63)
            return false;
        v = v << 7 | (p[i] & 0x7f);
        bits += 7;
        if (p[i] & 0x80)
            continue;
        if (first) {
            /* The first subidentifier holds two arcs: 40 * X + Y. */
            uint64_t x = v < 40 ? 0 : v < 80 ? 1 : 2;
            out_u64(o, x);
            out_str(o, ".");
            out_u64(o, v - 40 * x);
            first = false;
        } else {
            out_str(o, ".");
            out_u64(o, v);
        }
        v = 0;
        bits = 0;
    }
    return true;
}

/* Writes an attribute value as x509-parser's attribute_value_to_string
 * does: text for the string types, else the contents in upper-case hex.
 * BMPString (UCS-2) and UniversalString (UCS-4) are converted to UTF-8; the
 * other string types are copied as they are. */
static void out_value(dn_out_t *o, const uint8_t *p, const der_tlv_t *t) {
    const uint8_t *v = p + t->off;
    switch (t->tag) {
    case 0x12: /* NumericString */
    case 0x13: /* PrintableString */
    case 0x14: /* TeletexString */
    case 0x15: /* VideotexString */
    case 0x16: /* IA5String */
    case 0x19: /* GraphicString */
    case 0x1a: /* VisibleString */
    case 0x1b: /* GeneralString */
    case TAG_UTF8_STRING: out_put(o, v, t->len); return;
    case TAG_BMP_STRING:
        if (t->len % 2 == 0) {
            bool ok = true;
            for (size_t i = 0; i < t->len; i += 2)
                if (v[i] >= 0xd8 && v[i] <= 0xdf)
                    ok = false; /* surrogates: not UCS-2 */
            if (ok) {
                for (size_t i = 0; i < t->len; i += 2)
                    out_utf8(o, (uint32_t)v[i] << 8 | v[i + 1]);
                return;
            }
        }
        break;
    case TAG_UNIVERSAL_STRING:
        if (t->len % 4 == 0) {
            bool ok = true;
            for (size_t i = 0; i < t->len; i += 4) {
                uint32_t cp = (uint32_t)v[i] << 24 | (uint32_t)v[i + 1] << 16 |
                              (uint32_t)v[i + 2] << 8 | v[i + 3];
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                    ok = false;
            }
            if (ok) {
                for (size_t i = 0; i < t->len; i += 4)
                    out_utf8(o, (uint32_t)v[i] << 24 | (uint32_t)v[i + 1] << 16 |
                                    (uint32_t)v[i + 2] << 8 | v[i + 3]);
                return;
            }
        }
        break;
    default: break;
    }
    out_hex_upper(o, v, t->len);
}

/* Renders the Name whose SEQUENCE is `name` (RFC 5280 section 4.1.2.4:
 * RDNSequence of SETs of AttributeTypeAndValue) into o. When cn is given,
 * the first commonName value's contents are recorded there. */
static bool render_name(const der_cur_t *parent, const der_tlv_t *name, dn_out_t *o,
                        const uint8_t **cn, size_t *cn_len) {
    der_cur_t rdns, atvs, atv;
    der_tlv_t rdn, seq, type, value;
    bool first_rdn = true;

    if (!der_enter(parent, name, &rdns))
        return false;
    while (!der_done(&rdns)) {
        if (!der_expect(&rdns, TAG_SET, &rdn) || !der_enter(&rdns, &rdn, &atvs))
            return false;
        if (!first_rdn)
            out_str(o, ", ");
        first_rdn = false;
        bool first_atv = true;
        while (!der_done(&atvs)) {
            if (!der_expect(&atvs, TAG_SEQUENCE, &seq) || !der_enter(&atvs, &seq, &atv) ||
                !der_expect(&atv, TAG_OID, &type) || !der_next(&atv, &value) || !der_done(&atv))
                return false;
            if (!first_atv)
                out_str(o, " + ");
            first_atv = false;
            const char *abbrev = NULL;
            for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
                if (oid_is(atv.p, &type, attr_names[i].oid, attr_names[i].len)) {
                    abbrev = attr_names[i].name;
                    break;
                }
            }
            if (abbrev) {
                out_str(o, abbrev);
            } else {
                out_str(o, "OID(");
                if (!out_oid_dotted(o, atv.p + type.off, type.len))
                    return false;
                out_str(o, ")");
            }
            out_str(o, "=");
            out_value(o, atv.p, &value);
            if (cn && *cn == NULL && oid_is(atv.p, &type, oid_cn, sizeof(oid_cn))) {
                *cn = atv.p + value.off;
                *cn_len = value.len;
            }
        }
    }
    return true;
}

/* ---- extensions ------------------------------------------------------------ */

/* subjectAltName (RFC 5280 section 4.2.1.6): the OCTET STRING `octets`
 * holds GeneralNames, a SEQUENCE of GeneralName; dNSName is [2] IA5String. */
static bool read_san(const der_cur_t *c, const der_tlv_t *octets, emb_tls_cert_t *out) {
    der_cur_t in, names;
    der_tlv_t seq, gn;
    if (!der_enter(c, octets, &in) || !der_expect(&in, TAG_SEQUENCE, &seq) || !der_done(&in) ||
        !der_enter(&in, &seq, &names))
        return false;
    while (!der_done(&names)) {
        if (!der_next(&names, &gn))
            return false;
        if (gn.tag != TAG_CTX2_PRIM)
            continue;
        if (out->san_n == EMB_TLS_SAN_MAX) {
            out->san_more = true;
            continue;
        }
        out->san[out->san_n] = names.p + gn.off;
        out->san_len[out->san_n] = gn.len;
        out->san_n++;
    }
    return true;
}

/* Extensions (RFC 5280 section 4.1): [3] EXPLICIT SEQUENCE OF Extension,
 * each a SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }. */
static bool read_extensions(const der_cur_t *c, const der_tlv_t *ctx3, emb_tls_cert_t *out) {
    der_cur_t wrap, list, ext;
    der_tlv_t seq, e, id, t;
    bool san_seen = false;
    if (!der_enter(c, ctx3, &wrap) || !der_expect(&wrap, TAG_SEQUENCE, &seq) || !der_done(&wrap) ||
        !der_enter(&wrap, &seq, &list))
        return false;
    while (!der_done(&list)) {
        if (!der_expect(&list, TAG_SEQUENCE, &e) || !der_enter(&list, &e, &ext) ||
            !der_expect(&ext, TAG_OID, &id) || !der_next(&ext, &t))
            return false;
        if (t.tag == TAG_BOOLEAN && !der_next(&ext, &t))
            return false;
        if (t.tag != TAG_OCTET_STRING || !der_done(&ext))
            return false;
        /* RFC 5280 4.2: an extension appears at most once; the first counts. */
        if (!san_seen && oid_is(ext.p, &id, oid_san, sizeof(oid_san))) {
            san_seen = true;
            if (!read_san(&ext, &t, out))
                return false;
        }
    }
    return true;
}

/* ---- the certificate ------------------------------------------------------- */

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue }; TBSCertificate ::= SEQUENCE { [0] version OPTIONAL,
 * serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo,
 * [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions (all OPTIONAL) }. */
emb_x_result_t emb__x509_decode(const uint8_t *der, size_t len, emb_tls_cert_t *out) {
    der_cur_t top = {der, 0, len, 0}, cert, tbs;
    der_tlv_t t, tbs_tlv, issuer, subject;
    uint8_t tag;

    memset(out, 0, sizeof(*out));
    out->leaf = der;
    out->leaf_len = len;
    out->subject[0] = out->issuer[0] = '\0';

    if (!der_expect(&top, TAG_SEQUENCE, &t) || !der_done(&top) || !der_enter(&top, &t, &cert))
        return EMB_X_INVALID;
    if (!der_expect(&cert, TAG_SEQUENCE, &tbs_tlv) || !der_expect(&cert, TAG_SEQUENCE, &t) ||
        !der_expect(&cert, TAG_BIT_STRING, &t) || !der_done(&cert))
        return EMB_X_INVALID;
    if (!der_enter(&cert, &tbs_tlv, &tbs))
        return EMB_X_INVALID;
    if (der_peek(&tbs, &tag) && tag == TAG_CTX0_CONS && !der_next(&tbs, &t))
        return EMB_X_INVALID;
    if (!der_expect(&tbs, TAG_INTEGER, &t) || !der_expect(&tbs, TAG_SEQUENCE, &t) ||
        !der_expect(&tbs, TAG_SEQUENCE, &issuer) || !der_expect(&tbs, TAG_SEQUENCE, &t) ||
        !der_expect(&tbs, TAG_SEQUENCE, &subject) || !der_expect(&tbs, TAG_SEQUENCE, &t))
        return EMB_X_INVALID;

    /* On failure the names keep what was rendered, with their lengths. */
    dn_out_t o = {out->issuer, sizeof(out->issuer), 0, false};
    bool ok = render_name(&tbs, &issuer, &o, NULL, NULL);
    out->issuer_len = o.len;
    out->issuer_cut = o.cut;
    if (!ok)
        return EMB_X_INVALID;
    o = (dn_out_t){out->subject, sizeof(out->subject), 0, false};
    ok = render_name(&tbs, &subject, &o, &out->cn, &out->cn_len);
    out->subject_len = o.len;
    out->subject_cut = o.cut;
    if (!ok)
        return EMB_X_INVALID;

    while (!der_done(&tbs)) {
        if (!der_next(&tbs, &t))
            return EMB_X_INVALID;
        if (t.tag == TAG_CTX3_CONS && !read_extensions(&tbs, &t, out))
            return EMB_X_INVALID;
    }
    return EMB_X_OK;
}
