/*
 * QUIC client Initial packets, versions 1 (RFC 9000, RFC 9001) and 2
 * (RFC 9369): parse the long header, derive the client's Initial keys from
 * the Destination Connection ID, remove header protection, decrypt the
 * payload with AES-128-GCM and collect its CRYPTO frames (the start of the
 * TLS ClientHello).
 *
 * The design choice a reader must know: Initial keys are public, derived
 * from the packet itself, so a client Initial can be opened without any
 * state. A server Initial cannot: its keys come from the client's original
 * DCID, which the server's packet does not carry, so given one it fails
 * authentication like a forged packet would. Callers pass only the
 * client-to-server direction.
 *
 * The OpenSSL objects (SHA-256, AES-ECB, AES-GCM) are created once in an
 * emb_quic_ctx_t, one per worker thread; each packet only re-keys them.
 * Nothing here allocates; OpenSSL 3.0 does inside each SHA-256 of a key
 * derivation, so a packet with a new DCID costs a few small allocations
 * (see emb__quic_ctx_new's comment).
 */
#include "protocols/protocols.h"

#include "common/buf.h"

#include <openssl/evp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LONG_HEADER 0x80
#define V1_TYPE_INITIAL 0 /* RFC 9000 section 17.2.2 */
#define V2_TYPE_INITIAL 1 /* RFC 9369 section 3.2 */
#define HP_SAMPLE_LEN 16
#define PN_MAX_LEN 4
#define TAG_LEN 16
#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

#define FRAME_PADDING 0x00
#define FRAME_PING 0x01
#define FRAME_ACK 0x02
#define FRAME_ACK_ECN 0x03
#define FRAME_CRYPTO 0x06

struct emb_quic_ctx {
    EVP_MD *sha256;
    EVP_MD_CTX *md; /* HMAC-SHA256 is built on it, see hmac() */
    EVP_CIPHER *ecb_cipher, *gcm_cipher;
    EVP_CIPHER_CTX *ecb; /* header protection */
    EVP_CIPHER_CTX *gcm; /* payload */
    /* The keys of the last DCID seen: a client's Initials (a ClientHello in
     * two packets, retransmissions) share their DCID. */
    bool have_last;
    uint32_t last_version;
    uint8_t last_dcid[EMB_QUIC_CID_MAX];
    size_t last_dcid_len;
    emb_quic_keys_t last_keys;
};

/* RFC 9001 section 5.2; RFC 9369 section 3.3.1. */
static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

/*
 * The cipher contexts re-key in place without allocating. A digest does
 * not: OpenSSL 3.0 frees and re-creates a digest's state on every
 * EVP_DigestInit, so each new DCID costs 10 small allocations inside
 * libcrypto (5 HMACs of 2 digests; OpenSSL's own HMAC costs 25). Packets
 * that repeat the last DCID reuse its keys and allocate nothing.
 */
emb_quic_ctx_t *emb__quic_ctx_new(void) {
    emb_quic_ctx_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->md = EVP_MD_CTX_new();
    if (!c->sha256 || !c->md)
        goto fail;
    c->ecb_cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    c->gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    c->ecb = EVP_CIPHER_CTX_new();
    c->gcm = EVP_CIPHER_CTX_new();
    if (!c->ecb_cipher || !c->gcm_cipher || !c->ecb || !c->gcm)
        goto fail;
    /* Bind the ciphers now, so that per packet only the key changes. */
    if (!EVP_EncryptInit_ex(c->ecb, c->ecb_cipher, NULL, NULL, NULL) ||
        !EVP_CIPHER_CTX_set_padding(c->ecb, 0) ||
        !EVP_DecryptInit_ex(c->gcm, c->gcm_cipher, NULL, NULL, NULL))
        goto fail;
    return c;
fail:
    emb__quic_ctx_free(c);
    return NULL;
}

void emb__quic_ctx_free(emb_quic_ctx_t *c) {
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->gcm);
    EVP_CIPHER_CTX_free(c->ecb);
    EVP_CIPHER_free(c->gcm_cipher);
    EVP_CIPHER_free(c->ecb_cipher);
    EVP_MD_CTX_free(c->md);
    EVP_MD_free(c->sha256);
    free(c);
}

/* out = SHA-256(a || b). */
static bool sha256_2(emb_quic_ctx_t *c, const uint8_t *a, size_t a_len, const uint8_t *b,
                     size_t b_len, uint8_t out[32]) {
    unsigned int n = 0;
    return EVP_DigestInit_ex(c->md, c->sha256, NULL) && EVP_DigestUpdate(c->md, a, a_len) &&
           EVP_DigestUpdate(c->md, b, b_len) && EVP_DigestFinal_ex(c->md, out, &n) && n == 32;
}

/* out = HMAC-SHA256(key, msg) (RFC 2104), for keys of at most one block. */
static bool hmac(emb_quic_ctx_t *c, const uint8_t *key, size_t key_len, const uint8_t *msg,
                 size_t msg_len, uint8_t out[32]) {
    uint8_t pad[64], inner[32];
    if (key_len > sizeof(pad))
        return false;
    memset(pad, 0, sizeof(pad));
    memcpy(pad, key, key_len);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] ^= 0x36;
    if (!sha256_2(c, pad, sizeof(pad), msg, msg_len, inner))
        return false;
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] ^= 0x36 ^ 0x5c;
    return sha256_2(c, pad, sizeof(pad), inner, sizeof(inner), out);
}

/*
 * HKDF-Expand-Label(secret, label, "", out_len) of TLS 1.3 (RFC 8446
 * section 7.1) with SHA-256. Every output here is at most one hash long, so
 * HKDF-Expand (RFC 5869) is the single block T(1) = HMAC(secret, info||0x01).
 */
static bool expand_label(emb_quic_ctx_t *c, const uint8_t secret[32], const char *label,
                         uint8_t *out, size_t out_len) {
    uint8_t info[2 + 1 + 6 + 32 + 1 + 1];
    size_t label_len = strlen(label), n = 0;
    if (out_len > 32 || label_len > 32)
        return false;
    info[n++] = 0;
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + label_len);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0;    /* empty context */
    info[n++] = 0x01; /* HKDF-Expand's block counter */
    uint8_t t[32];
    if (!hmac(c, secret, 32, info, n, t))
        return false;
    memcpy(out, t, out_len);
    return true;
}

bool emb__quic_client_keys(emb_quic_ctx_t *c, uint32_t version, const uint8_t *dcid,
                           size_t dcid_len, emb_quic_keys_t *keys) {
    const uint8_t *salt;
    const char *l_key, *l_iv, *l_hp;
    if (version == EMB_QUIC_V1) {
        salt = salt_v1;
        l_key = "quic key", l_iv = "quic iv", l_hp = "quic hp";
    } else if (version == EMB_QUIC_V2) {
        salt = salt_v2;
        l_key = "quicv2 key", l_iv = "quicv2 iv", l_hp = "quicv2 hp";
    } else {
        return false;
    }
    uint8_t initial_secret[32];
    /* HKDF-Extract(salt, IKM) = HMAC(salt, IKM); the DCID may be empty. */
    return hmac(c, salt, sizeof(salt_v1), dcid, dcid_len, initial_secret) &&
           expand_label(c, initial_secret, "client in", keys->secret, 32) &&
           expand_label(c, keys->secret, l_key, keys->key, sizeof(keys->key)) &&
           expand_label(c, keys->secret, l_iv, keys->iv, sizeof(keys->iv)) &&
           expand_label(c, keys->secret, l_hp, keys->hp, sizeof(keys->hp));
}

/* A variable-length integer (RFC 9000 section 16) at *off, which moves past it. */
static bool rd_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v) {
    uint8_t b;
    if (!emb_rd_u8(p, len, *off, &b))
        return false;
    size_t n = (size_t)1 << (b >> 6);
    if (!emb_have(len, *off, n))
        return false;
    uint64_t x = b & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = x << 8 | p[*off + i];
    *off += n;
    *v = x;
    return true;
}

/* Reads a varint that must lie wholly inside the decrypted payload. */
#define NEED_VARINT(v)                                                                             \
    do {                                                                                           \
        if (!rd_varint(pl, pl_len, &off, &(v)))                                                    \
            return EMB_X_INVALID;                                                                  \
    } while (0)

/*
 * Walks the decrypted frames (RFC 9000 section 19) of an Initial. The payload
 * is whole (it authenticated), so a frame that runs past it is invalid, not
 * truncated.
 */
static emb_x_result_t parse_frames(const uint8_t *pl, size_t pl_len, emb_quic_initial_t *out) {
    size_t off = 0;
    if (pl_len == 0)
        return EMB_X_INVALID; /* RFC 9000 section 12.4: a packet holds at least one frame */
    while (off < pl_len) {
        /* All the types handled here are below 0x40, so they are one byte
         * long; anything else (including longer encodings) ends the walk. */
        uint8_t type = pl[off];
        uint64_t v, count;
        switch (type) {
        case FRAME_PADDING:
        case FRAME_PING: off++; break;
        case FRAME_ACK:
        case FRAME_ACK_ECN:
            off++;
            NEED_VARINT(v);     /* Largest Acknowledged */
            NEED_VARINT(v);     /* ACK Delay */
            NEED_VARINT(count); /* ACK Range Count */
            NEED_VARINT(v);     /* First ACK Range */
            /* Each range takes at least two bytes, so `count` cannot make
             * this loop outrun the payload. */
            for (uint64_t i = 0; i < count; i++) {
                NEED_VARINT(v); /* Gap */
                NEED_VARINT(v); /* ACK Range Length */
            }
            if (type == FRAME_ACK_ECN) {
                NEED_VARINT(v); /* ECT0 */
                NEED_VARINT(v); /* ECT1 */
                NEED_VARINT(v); /* ECN-CE */
            }
            break;
        case FRAME_CRYPTO: {
            uint64_t c_off, c_len;
            off++;
            NEED_VARINT(c_off);
            NEED_VARINT(c_len);
            if (c_len > VARINT_MAX - c_off || !emb_have(pl_len, off, (size_t)c_len))
                return EMB_X_INVALID;
            if (out->crypto_count == EMB_QUIC_MAX_CRYPTO) {
                out->crypto_more = true;
                return EMB_X_OK;
            }
            emb_quic_crypto_t *cf = &out->crypto[out->crypto_count++];
            cf->offset = c_off;
            cf->data = pl + off;
            cf->len = (size_t)c_len;
            off += (size_t)c_len;
            break;
        }
        default: return EMB_X_OK; /* CONNECTION_CLOSE, or not allowed here */
        }
    }
    return EMB_X_OK;
}

#undef NEED_VARINT

emb_x_result_t emb__quic_initial(emb_quic_ctx_t *c, const uint8_t *p, size_t len,
                                 emb_quic_initial_t *out, uint8_t *plain, size_t plain_cap) {
    uint8_t b0, type;
    uint32_t version;
    uint64_t tok_len, length;
    size_t off;

    memset(out, 0, sizeof(*out));
    /* Long header, RFC 9000 section 17.2. The fixed bit (0x40) is not
     * checked: RFC 9287 lets a client that remembers the server's
     * grease_quic_bit clear it even in an Initial. */
    if (!emb_rd_u8(p, len, 0, &b0) || !(b0 & LONG_HEADER))
        return EMB_X_NONE;
    if (!emb_rd_be32(p, len, 1, &version))
        return EMB_X_TRUNCATED;
    type = (b0 >> 4) & 3;
    if (version == EMB_QUIC_V1) {
        if (type != V1_TYPE_INITIAL)
            return EMB_X_NONE;
    } else if (version == EMB_QUIC_V2) {
        if (type != V2_TYPE_INITIAL)
            return EMB_X_NONE;
    } else {
        return EMB_X_NONE; /* another version, or Version Negotiation (0) */
    }
    out->version = version;

    uint8_t dcid_len, scid_len;
    if (!emb_rd_u8(p, len, 5, &dcid_len))
        return EMB_X_TRUNCATED;
    if (dcid_len > EMB_QUIC_CID_MAX)
        return EMB_X_INVALID;
    if (!emb_have(len, 6, dcid_len))
        return EMB_X_TRUNCATED;
    out->dcid = p + 6;
    out->dcid_len = dcid_len;
    off = 6 + (size_t)dcid_len;
    if (!emb_rd_u8(p, len, off, &scid_len))
        return EMB_X_TRUNCATED;
    if (scid_len > EMB_QUIC_CID_MAX)
        return EMB_X_INVALID;
    if (!emb_have(len, off + 1, scid_len))
        return EMB_X_TRUNCATED;
    out->scid = p + off + 1;
    out->scid_len = scid_len;
    off += 1 + (size_t)scid_len;

    if (!rd_varint(p, len, &off, &tok_len))
        return EMB_X_TRUNCATED;
    if (tok_len > len || !emb_have(len, off, (size_t)tok_len))
        return EMB_X_TRUNCATED;
    out->token = p + off;
    out->token_len = (size_t)tok_len;
    off += (size_t)tok_len;
    if (!rd_varint(p, len, &off, &length))
        return EMB_X_TRUNCATED;

    /* Length covers the packet number and the payload. Header protection
     * samples 16 bytes from 4 past the packet number's start (RFC 9001
     * section 5.4.2), so a shorter packet cannot be opened by anyone. */
    const size_t pn_off = off;
    if (length < PN_MAX_LEN + HP_SAMPLE_LEN)
        return EMB_X_INVALID;
    if (length > len || !emb_have(len, pn_off, (size_t)length))
        return EMB_X_TRUNCATED;
    const size_t end = pn_off + (size_t)length;
    if (end > INT_MAX)
        return EMB_X_NONE; /* no UDP payload is this long; OpenSSL takes int lengths */
    out->packet_len = end;

    if (!c->have_last || c->last_version != version || c->last_dcid_len != dcid_len ||
        memcmp(c->last_dcid, out->dcid, dcid_len) != 0) {
        c->have_last = false;
        if (!emb__quic_client_keys(c, version, out->dcid, dcid_len, &c->last_keys))
            return EMB_X_NONE; /* libcrypto failed: nothing we can say about the packet */
        c->have_last = true;
        c->last_version = version;
        memcpy(c->last_dcid, out->dcid, dcid_len);
        c->last_dcid_len = dcid_len;
    }
    const emb_quic_keys_t *k = &c->last_keys;

    /* Header protection, RFC 9001 section 5.4: mask = AES-ECB(hp, sample). */
    uint8_t mask[16];
    int n = 0;
    if (!EVP_EncryptInit_ex(c->ecb, NULL, NULL, k->hp, NULL) ||
        !EVP_EncryptUpdate(c->ecb, mask, &n, p + pn_off + PN_MAX_LEN, HP_SAMPLE_LEN) || n != 16)
        return EMB_X_NONE;
    const uint8_t b0_plain = b0 ^ (mask[0] & 0x0f);
    const size_t pn_len = (size_t)(b0_plain & 3) + 1;
    uint8_t pn_bytes[PN_MAX_LEN];
    uint64_t pn = 0;
    for (size_t i = 0; i < pn_len; i++) {
        pn_bytes[i] = p[pn_off + i] ^ mask[1 + i];
        pn = pn << 8 | pn_bytes[i];
    }

    const size_t ct_off = pn_off + pn_len;
    const size_t ct_len = end - ct_off - TAG_LEN; /* length >= 20 > pn_len + 16 */
    if (ct_len > plain_cap)
        return EMB_X_NONE; /* bigger than the caller chose to decrypt */

    /* AEAD, RFC 9001 section 5.3: nonce = iv XOR packet number (left-padded),
     * associated data = the header with protection removed. */
    uint8_t nonce[12], tag[TAG_LEN];
    memcpy(nonce, k->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    memcpy(tag, p + end - TAG_LEN, TAG_LEN);
    int m = 0;
    if (!EVP_DecryptInit_ex(c->gcm, NULL, NULL, k->key, nonce) ||
        !EVP_DecryptUpdate(c->gcm, NULL, &m, &b0_plain, 1) ||
        !EVP_DecryptUpdate(c->gcm, NULL, &m, p + 1, (int)(pn_off - 1)) ||
        !EVP_DecryptUpdate(c->gcm, NULL, &m, pn_bytes, (int)pn_len))
        return EMB_X_NONE;
    if (!EVP_DecryptUpdate(c->gcm, plain, &m, p + ct_off, (int)ct_len) || (size_t)m > ct_len)
        return EMB_X_NONE;
    int fin = 0;
    if (!EVP_CIPHER_CTX_ctrl(c->gcm, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) ||
        EVP_DecryptFinal_ex(c->gcm, plain + m, &fin) <= 0) {
        out->undecryptable = true;
        return EMB_X_INVALID;
    }

    /* With no packet received before it, the truncated packet number is the
     * packet number (RFC 9000 appendix A.3 with largest_pn = -1 gives the
     * candidate itself for every encoding length). */
    out->pn = pn;
    /* The reserved bits count only once the packet authenticated
     * (RFC 9000 section 17.2). */
    if (b0_plain & 0x0c)
        return EMB_X_INVALID;
    return parse_frames(plain, ct_len, out);
}
