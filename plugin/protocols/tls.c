/*
 * TLS handshake parsing: the server_name of a ClientHello inside a TLS
 * record (RFC 8446 section 4.1.2, RFC 6066 section 3); a whole ClientHello
 * body with its JA4 fingerprint; and the Certificate message, whose leaf
 * certificate x509.c decodes. Each length is checked against both the
 * enclosing structure and the bytes captured; a message cut off is
 * "truncated", not "invalid", since a later segment may hold the rest.
 *
 * JA4 needs the cipher and extension lists sorted, so they are copied into
 * fixed arrays on the stack (EMB_TLS_JA4_LIST_MAX entries) and hashed with
 * libcrypto's streaming SHA-256; nothing is allocated.
 */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but, unlike the EVP
 * interface, neither allocate nor look anything up per call. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "protocols/protocols.h"

#include "common/buf.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0

emb_x_result_t emb__tls_client_hello_sni(const uint8_t *p, size_t len, const uint8_t **sni,
                                         size_t *sni_len) {
    uint8_t type, major, hs_type;
    uint16_t rec_len;
    uint32_t hs_len;

    /* Record header: type(1) version(2) length(2); handshake: type(1) length(3). */
    if (!emb_rd_u8(p, len, 0, &type) || type != TLS_HANDSHAKE)
        return EMB_X_NONE;
    if (emb_rd_u8(p, len, 1, &major) && major != 3)
        return EMB_X_NONE;
    if (!emb_rd_be16(p, len, 3, &rec_len) || !emb_rd_u8(p, len, 5, &hs_type))
        return EMB_X_TRUNCATED;
    if (hs_type != TLS_CLIENT_HELLO)
        return EMB_X_NONE;
    if (!emb_rd_be24(p, len, 6, &hs_len))
        return EMB_X_TRUNCATED;

    /* The body as far as this record and this buffer hold it (a ClientHello
     * that goes on in a further record is read as far as this one holds it);
     * the one body parser does the rest. */
    size_t end = 9 + (size_t)hs_len;
    bool cut = false;
    if (end > 5 + (size_t)rec_len) {
        end = 5 + (size_t)rec_len;
        cut = true;
    }
    if (end > len) {
        end = len;
        cut = true;
    }
    if (end < 9)
        return EMB_X_TRUNCATED;
    emb_tls_hello_t h;
    emb_x_result_t x = emb__tls_client_hello(p + 9, end - 9, false, &h);
    /* A whole body that runs out contradicts its own lengths, name or not. */
    if (!cut && x == EMB_X_TRUNCATED)
        return EMB_X_INVALID;
    if (h.sni != NULL) {
        *sni = h.sni;
        *sni_len = h.sni_len;
        return EMB_X_OK;
    }
    if (x == EMB_X_INVALID)
        return x;
    return cut ? EMB_X_TRUNCATED : EMB_X_NONE; /* more bytes may still bring a name */
}

/* ---- ClientHello body and JA4 -------------------------------------------- */

#define EXT_ALPN 0x0010
#define EXT_SIGNATURE_ALGORITHMS 0x000d
#define EXT_SUPPORTED_VERSIONS 0x002b
/* encrypted_client_hello (draft-ietf-tls-esni, the code point browsers send) */
#define EXT_ECH 0xfe0d

/* GREASE values (RFC 8701 section 2): 0x0a0a, 0x1a1a, ... 0xfafa. */
static bool is_grease(uint16_t v) {
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* What the extensions walk keeps for JA4 besides the output fields. */
typedef struct {
    uint16_t ext[EMB_TLS_JA4_LIST_MAX]; /* sorted list: no GREASE, no SNI or ALPN */
    size_t ext_n;
    bool too_many;
    const uint8_t *sigalgs; /* the signature_algorithms list, 2 bytes each */
    size_t sigalgs_len;
} ja4_lists_t;

/* server_name (RFC 6066 section 3): ServerNameList length(2), then entries
 * of type(1) length(2) name. Records the first non-empty host_name. */
static emb_x_result_t ext_server_name(const uint8_t *p, size_t off, size_t elen,
                                      emb_tls_hello_t *out) {
    out->has_sni = true;
    if (elen == 0)
        return EMB_X_OK;
    size_t end = off + elen;
    uint16_t list_len;
    if (!emb_rd_be16(p, end, off, &list_len) || (size_t)list_len + 2 > elen)
        return EMB_X_INVALID;
    size_t q = off + 2, lend = q + list_len;
    while (q < lend) {
        uint8_t ntype;
        uint16_t nlen;
        if (!emb_rd_u8(p, lend, q, &ntype) || !emb_rd_be16(p, lend, q + 1, &nlen) ||
            !emb_have(lend, q + 3, nlen))
            return EMB_X_INVALID;
        if (ntype == 0 && nlen > 0 && out->sni == NULL) {
            out->sni = p + q + 3;
            out->sni_len = nlen;
        }
        q += 3 + (size_t)nlen;
    }
    return EMB_X_OK;
}

/* ALPN (RFC 7301 section 3.1): ProtocolNameList length(2), then names of
 * length(1). Only the first name matters to JA4; it must not be empty. */
static emb_x_result_t ext_alpn(const uint8_t *p, size_t off, size_t elen, emb_tls_hello_t *out) {
    size_t end = off + elen;
    uint16_t list_len;
    uint8_t nlen;
    out->has_alpn = true;
    if (!emb_rd_be16(p, end, off, &list_len) || (size_t)list_len + 2 != elen)
        return EMB_X_INVALID;
    if (list_len == 0)
        return EMB_X_OK;
    if (!emb_rd_u8(p, end, off + 2, &nlen) || !emb_have(end, off + 3, nlen))
        return EMB_X_INVALID;
    if (out->alpn == NULL) {
        out->alpn = p + off + 3;
        out->alpn_len = nlen;
    }
    return EMB_X_OK;
}

/* supported_versions in a ClientHello (RFC 8446 section 4.2.1): length(1),
 * then versions of 2 bytes. Keeps the highest that is not GREASE. */
static emb_x_result_t ext_supported_versions(const uint8_t *p, size_t off, size_t elen,
                                             emb_tls_hello_t *out) {
    size_t end = off + elen;
    uint8_t list_len;
    if (!emb_rd_u8(p, end, off, &list_len) || (size_t)list_len + 1 != elen || list_len % 2)
        return EMB_X_INVALID;
    for (size_t q = off + 1; q < end; q += 2) {
        uint16_t v;
        if (!emb_rd_be16(p, end, q, &v))
            return EMB_X_INVALID;
        if (!is_grease(v) && v > out->max_version)
            out->max_version = v;
    }
    return EMB_X_OK;
}

/* signature_algorithms (RFC 8446 section 4.2.3): length(2), then schemes of
 * 2 bytes. JA4 hashes them in the order sent, so a slice is enough. */
static emb_x_result_t ext_sigalgs(const uint8_t *p, size_t off, size_t elen, emb_tls_hello_t *out,
                                  ja4_lists_t *l) {
    uint16_t list_len;
    if (!emb_rd_be16(p, off + elen, off, &list_len) || (size_t)list_len + 2 != elen || list_len % 2)
        return EMB_X_INVALID;
    if (l->sigalgs != NULL)
        return EMB_X_OK; /* a repeated extension: the first one counts */
    l->sigalgs = p + off + 2;
    l->sigalgs_len = list_len;
    for (size_t q = 0; q < list_len; q += 2) {
        uint16_t v = (uint16_t)(l->sigalgs[q] << 8 | l->sigalgs[q + 1]);
        if (!is_grease(v))
            out->sigalgs_n++;
    }
    return EMB_X_OK;
}

static int cmp_u16(const void *a, const void *b) {
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static const char hexdig[] = "0123456789abcdef";

/* Feeds "xxxx" (4 lower-case hex digits) to the hash, with a comma before it
 * unless it is the first of its list. */
static void sha_hex16(SHA256_CTX *c, uint16_t v, bool first) {
    char s[5];
    size_t n = 0;
    if (!first)
        s[n++] = ',';
    s[n++] = hexdig[v >> 12];
    s[n++] = hexdig[(v >> 8) & 0xf];
    s[n++] = hexdig[(v >> 4) & 0xf];
    s[n++] = hexdig[v & 0xf];
    SHA256_Update(c, s, n);
}

/* Writes the first 12 hex digits of the finished hash to dst; "000000000000"
 * when nothing was hashed (JA4.md: "Cipher hash", "Extension hash"). */
static void sha_finish12(SHA256_CTX *c, bool empty, char *dst) {
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, c);
    for (size_t i = 0; i < 6; i++) {
        dst[2 * i] = empty ? '0' : hexdig[md[i] >> 4];
        dst[2 * i + 1] = empty ? '0' : hexdig[md[i] & 0xf];
    }
}

/* JA4.md "TLS and DTLS Version": two characters, "00" when unknown. */
static const char *ja4_version(uint16_t v) {
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
    }
}

static bool is_alnum_ascii(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Builds the fingerprint (JA4.md "JA4 Algorithm"):
 *   ja4_a = proto, version, d/i, 2-digit cipher count, 2-digit extension
 *           count (both capped at 99), ALPN first and last character
 *   ja4_b = sha256 of the sorted cipher list, first 12 hex digits
 *   ja4_c = sha256 of "<sorted extensions without 0000 and 0010>_<signature
 *           algorithms in order>" (no "_" when there are none), 12 digits */
static void ja4_build(const uint8_t *ciphers, size_t ciphers_len, bool quic, emb_tls_hello_t *out,
                      ja4_lists_t *l) {
    uint16_t cs[EMB_TLS_JA4_LIST_MAX];
    size_t cs_n = 0;
    for (size_t q = 0; q + 1 < ciphers_len; q += 2) {
        uint16_t v = (uint16_t)(ciphers[q] << 8 | ciphers[q + 1]);
        if (is_grease(v))
            continue;
        if (cs_n == EMB_TLS_JA4_LIST_MAX)
            return; /* ja4 stays "" */
        cs[cs_n++] = v;
    }
    if (l->too_many)
        return;
    qsort(cs, cs_n, sizeof(cs[0]), cmp_u16);
    qsort(l->ext, l->ext_n, sizeof(l->ext[0]), cmp_u16);

    char *j = out->ja4;
    uint16_t ver = out->max_version ? out->max_version : out->legacy_version;
    size_t nc = out->ciphers_n > 99 ? 99 : out->ciphers_n;
    size_t ne = out->extensions_n > 99 ? 99 : out->extensions_n;
    j[0] = quic ? 'q' : 't';
    memcpy(j + 1, ja4_version(ver), 2);
    j[3] = out->has_sni ? 'd' : 'i';
    j[4] = (char)('0' + nc / 10);
    j[5] = (char)('0' + nc % 10);
    j[6] = (char)('0' + ne / 10);
    j[7] = (char)('0' + ne % 10);
    /* JA4.md "ALPN Extension Value": "00" when absent or empty; the first and
     * last byte when both are ASCII alphanumerics (one byte counts as both);
     * otherwise the first and last digit of the value in hex. */
    if (out->alpn == NULL || out->alpn_len == 0) {
        j[8] = j[9] = '0';
    } else {
        uint8_t first = out->alpn[0], last = out->alpn[out->alpn_len - 1];
        if (is_alnum_ascii(first) && is_alnum_ascii(last)) {
            j[8] = (char)first;
            j[9] = (char)last;
        } else {
            j[8] = hexdig[first >> 4];
            j[9] = hexdig[last & 0xf];
        }
    }
    j[10] = '_';

    SHA256_CTX c;
    SHA256_Init(&c);
    for (size_t i = 0; i < cs_n; i++)
        sha_hex16(&c, cs[i], i == 0);
    sha_finish12(&c, cs_n == 0, j + 11);
    j[23] = '_';

    SHA256_Init(&c);
    for (size_t i = 0; i < l->ext_n; i++)
        sha_hex16(&c, l->ext[i], i == 0);
    bool first_sig = true;
    for (size_t q = 0; q + 1 < l->sigalgs_len; q += 2) {
        uint16_t v = (uint16_t)(l->sigalgs[q] << 8 | l->sigalgs[q + 1]);
        if (is_grease(v))
            continue;
        if (first_sig)
            SHA256_Update(&c, "_", 1);
        sha_hex16(&c, v, first_sig);
        first_sig = false;
    }
    sha_finish12(&c, l->ext_n == 0 && first_sig, j + 24);
    j[36] = '\0';
}

emb_x_result_t emb__tls_client_hello(const uint8_t *body, size_t len, bool quic,
                                     emb_tls_hello_t *out) {
    ja4_lists_t l;
    uint8_t sid_len, comp_len;
    uint16_t cs_len, ext_total;
    emb_x_result_t r;

    memset(out, 0, sizeof(*out));
    l.ext_n = 0;
    l.too_many = false;
    l.sigalgs = NULL;
    l.sigalgs_len = 0;

    if (!emb_rd_be16(body, len, 0, &out->legacy_version))
        return EMB_X_TRUNCATED;
    size_t off = 2 + 32; /* client_version, random */
    if (!emb_rd_u8(body, len, off, &sid_len))
        return EMB_X_TRUNCATED;
    if (sid_len > 32)
        return EMB_X_INVALID; /* legacy_session_id<0..32> */
    off += 1 + (size_t)sid_len;
    if (!emb_rd_be16(body, len, off, &cs_len))
        return EMB_X_TRUNCATED;
    if (cs_len % 2)
        return EMB_X_INVALID;
    off += 2;
    if (!emb_have(len, off, cs_len))
        return EMB_X_TRUNCATED;
    const uint8_t *ciphers = body + off;
    for (size_t q = 0; q < cs_len; q += 2)
        if (!is_grease((uint16_t)(ciphers[q] << 8 | ciphers[q + 1])))
            out->ciphers_n++;
    off += cs_len;
    if (!emb_rd_u8(body, len, off, &comp_len))
        return EMB_X_TRUNCATED;
    off += 1;
    if (!emb_have(len, off, comp_len))
        return EMB_X_TRUNCATED;
    off += comp_len;

    /* Extensions may be absent altogether (RFC 5246 section 7.4.1.2). When
     * the block is cut short, those that are whole are still read, so the
     * SNI of a partial ClientHello can be had. */
    size_t ext_end = off;
    bool cut = false;
    if (off < len) {
        if (!emb_rd_be16(body, len, off, &ext_total))
            return EMB_X_TRUNCATED;
        off += 2;
        ext_end = off + ext_total;
        if (ext_end > len) {
            ext_end = len;
            cut = true;
        } else if (ext_end < len) {
            return EMB_X_INVALID; /* bytes after the extensions */
        }
    }
    while (off < ext_end) {
        uint16_t etype, elen;
        if (!emb_rd_be16(body, ext_end, off, &etype) || !emb_rd_be16(body, ext_end, off + 2, &elen))
            return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
        off += 4;
        if (!emb_have(ext_end, off, elen))
            return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
        if (!is_grease(etype)) {
            out->extensions_n++;
            if (etype != EXT_SERVER_NAME && etype != EXT_ALPN) {
                if (l.ext_n < EMB_TLS_JA4_LIST_MAX)
                    l.ext[l.ext_n++] = etype;
                else
                    l.too_many = true;
            }
        }
        switch (etype) {
        case EXT_SERVER_NAME: r = ext_server_name(body, off, elen, out); break;
        case EXT_ALPN: r = ext_alpn(body, off, elen, out); break;
        case EXT_SUPPORTED_VERSIONS: r = ext_supported_versions(body, off, elen, out); break;
        case EXT_SIGNATURE_ALGORITHMS: r = ext_sigalgs(body, off, elen, out, &l); break;
        case EXT_ECH:
            out->has_ech = true;
            r = EMB_X_OK;
            break;
        default: r = EMB_X_OK;
        }
        if (r != EMB_X_OK)
            return r;
        off += elen;
    }
    if (cut)
        return EMB_X_TRUNCATED;
    ja4_build(ciphers, cs_len, quic, out, &l);
    return EMB_X_OK;
}

/* ---- Certificate ---------------------------------------------------------- */

emb_x_result_t emb__tls_certificate(const uint8_t *body, size_t len, emb_tls_cert_t *out) {
    uint32_t list_len, cert_len;

    memset(out, 0, sizeof(*out));
    if (!emb_rd_be24(body, len, 0, &list_len))
        return EMB_X_TRUNCATED;
    if (list_len == 0)
        return len == 3 ? EMB_X_NONE : EMB_X_INVALID;
    if ((size_t)list_len + 3 < len)
        return EMB_X_INVALID; /* bytes after the list */
    /* The leaf is enough: the rest of the chain may still be on its way. */
    if (!emb_rd_be24(body, len, 3, &cert_len))
        return EMB_X_TRUNCATED;
    if ((size_t)cert_len + 3 > list_len)
        return EMB_X_INVALID;
    if (!emb_have(len, 6, cert_len))
        return EMB_X_TRUNCATED;
    return emb__x509_decode(body + 6, cert_len, out);
}
