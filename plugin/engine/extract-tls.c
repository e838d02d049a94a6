/*
 * TLS ClientHello parsing, far enough to find the server_name extension
 * (RFC 8446 section 4.1.2, RFC 6066 section 3). Each length is checked
 * against both the enclosing structure and the bytes captured; a ClientHello
 * cut off before the SNI is "truncated", not "invalid", since a later
 * segment may hold the rest.
 */
#include "extract.h"

#include "util-buf.h"

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0

emb_x_result_t emb__tls_client_hello_sni(const uint8_t *p, size_t len, const uint8_t **sni,
                                         size_t *sni_len) {
    uint8_t type, major, hs_type;
    uint16_t rec_len;
    uint32_t hs_len;

    /* Record header: type(1) version(2) length(2). */
    if (!emb_rd_u8(p, len, 0, &type) || type != TLS_HANDSHAKE)
        return EMB_X_NONE;
    if (emb_rd_u8(p, len, 1, &major) && major != 3)
        return EMB_X_NONE;
    if (!emb_rd_be16(p, len, 3, &rec_len))
        return EMB_X_TRUNCATED;
    if (!emb_rd_u8(p, len, 5, &hs_type))
        return EMB_X_TRUNCATED;
    if (hs_type != TLS_CLIENT_HELLO)
        return EMB_X_NONE;
    if (!emb_rd_be24(p, len, 6, &hs_len))
        return EMB_X_TRUNCATED;

    /* The ClientHello body: [9, end). A ClientHello that goes on in a further
     * record is read as far as this record holds it (reassembly comes later). */
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
    size_t off = 9 + 2 + 32; /* client_version, random */
    uint8_t sid_len, comp_len;
    uint16_t cs_len, ext_total;
    if (!emb_rd_u8(p, end, off, &sid_len))
        return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
    off += 1 + sid_len;
    if (!emb_rd_be16(p, end, off, &cs_len))
        return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
    off += 2 + cs_len;
    if (!emb_rd_u8(p, end, off, &comp_len))
        return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
    off += 1 + comp_len;
    if (off == end && !cut)
        return EMB_X_NONE; /* no extensions at all */
    if (!emb_rd_be16(p, end, off, &ext_total))
        return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
    off += 2;
    size_t ext_end = off + ext_total;
    if (ext_end > end) {
        if (!cut)
            return EMB_X_INVALID;
        ext_end = end;
    }

    while (off < ext_end) {
        uint16_t etype, elen;
        if (!emb_rd_be16(p, ext_end, off, &etype) || !emb_rd_be16(p, ext_end, off + 2, &elen))
            return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
        off += 4;
        if (!emb_have(ext_end, off, elen))
            return cut ? EMB_X_TRUNCATED : EMB_X_INVALID;
        if (etype == EXT_SERVER_NAME) {
            /* ServerNameList: length(2), then entries of type(1) length(2) name. */
            uint16_t list_len;
            if (!emb_rd_be16(p, off + elen, off, &list_len) || (size_t)list_len + 2 > elen)
                return EMB_X_INVALID;
            size_t lend = off + 2 + list_len, q = off + 2;
            while (q < lend) {
                uint8_t ntype;
                uint16_t nlen;
                if (!emb_rd_u8(p, lend, q, &ntype) || !emb_rd_be16(p, lend, q + 1, &nlen) ||
                    !emb_have(lend, q + 3, nlen))
                    return EMB_X_INVALID;
                if (ntype == 0 && nlen > 0) {
                    *sni = p + q + 3;
                    *sni_len = nlen;
                    return EMB_X_OK;
                }
                q += 3 + (size_t)nlen;
            }
            return EMB_X_NONE;
        }
        off += elen;
    }
    return cut ? EMB_X_TRUNCATED : EMB_X_NONE;
}
