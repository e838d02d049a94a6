/*
 * libFuzzer target: QUIC client Initials. Random bytes never pass the AEAD
 * check, so the first byte picks the form:
 *   even: the rest is a UDP payload, given to emb__quic_initial as is (the
 *         long header parser and the header protection removal);
 *   odd:  the rest is the plaintext frames of an Initial, which this target
 *         seals (RFC 9001 section 5, as a client does) with a fixed DCID so
 *         the frame parser and the CRYPTO reassembly behind it are reached;
 *         the gathered CRYPTO bytes are then parsed as a ClientHello body.
 */
#include "protocols/protocols.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static emb_quic_ctx_t *ctx;
static uint8_t plain[65536];
static uint8_t pkt[65536 + 128];

/* "\x83\x94\xc8\xf0\x3e\x51\x57\x08": the DCID of RFC 9001 appendix A. */
static const uint8_t DCID[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

/* Seals `frames` as a v1 (or v2) client Initial with packet number 2 in 4 bytes. */
static size_t seal(uint32_t version, const uint8_t *frames, size_t frames_len, uint8_t *out) {
    emb_quic_keys_t k;
    if (!emb__quic_client_keys(ctx, version, DCID, sizeof(DCID), &k))
        abort();
    uint8_t type = version == EMB_QUIC_V2 ? 1 : 0;
    size_t n = 0, length = 4 + frames_len + 16;
    out[n++] = (uint8_t)(0xc0 | type << 4 | 3);
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(version >> (8 * i));
    out[n++] = sizeof(DCID);
    memcpy(out + n, DCID, sizeof(DCID));
    n += sizeof(DCID);
    out[n++] = 0;                              /* no SCID */
    out[n++] = 0;                              /* no token */
    out[n++] = (uint8_t)(0x80 | length >> 24); /* four-byte varint */
    out[n++] = (uint8_t)(length >> 16);
    out[n++] = (uint8_t)(length >> 8);
    out[n++] = (uint8_t)length;
    size_t pn_off = n;
    const uint64_t pn = 2;
    for (size_t i = 0; i < 4; i++)
        out[n++] = (uint8_t)(pn >> (8 * (3 - i)));

    uint8_t nonce[12];
    memcpy(nonce, k.iv, 12);
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *g = EVP_CIPHER_CTX_new();
    int m = 0;
    if (!g || !EVP_EncryptInit_ex(g, EVP_aes_128_gcm(), NULL, k.key, nonce) ||
        !EVP_EncryptUpdate(g, NULL, &m, out, (int)n) ||
        (frames_len && !EVP_EncryptUpdate(g, out + n, &m, frames, (int)frames_len)))
        abort();
    n += frames_len ? (size_t)m : 0;
    if (!EVP_EncryptFinal_ex(g, out + n, &m))
        abort();
    n += (size_t)m;
    if (!EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_GET_TAG, 16, out + n))
        abort();
    n += 16;
    EVP_CIPHER_CTX_free(g);

    uint8_t mask[16];
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
    if (!e || !EVP_EncryptInit_ex(e, EVP_aes_128_ecb(), NULL, k.hp, NULL) ||
        !EVP_EncryptUpdate(e, mask, &m, out + pn_off + 4, 16))
        abort();
    EVP_CIPHER_CTX_free(e);
    out[0] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < 4; i++)
        out[pn_off + i] ^= mask[1 + i];
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (ctx == NULL && (ctx = emb__quic_ctx_new()) == NULL)
        abort();
    if (size < 1 || size > 65536)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    if (mode & 1) {
        /* The header protection sample needs 16 bytes after the packet number. */
        if (len < 16)
            return 0;
        len = seal((mode & 2) ? EMB_QUIC_V2 : EMB_QUIC_V1, p, len, pkt);
        p = pkt;
    }
    emb_quic_initial_t ini;
    emb_x_result_t r = emb__quic_initial(ctx, p, len, &ini, plain, sizeof(plain));
    if (mode & 1 && r != EMB_X_OK && r != EMB_X_INVALID)
        abort(); /* a packet this target sealed itself must open */
    if (r != EMB_X_OK)
        return 0;
    /* Put the frames that start at offset 0 back in order, as the engine does,
     * and parse the CRYPTO stream's handshake body as a ClientHello. */
    static uint8_t stream[4096];
    size_t have = 0;
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < ini.crypto_count; i++) {
            const emb_quic_crypto_t *c = &ini.crypto[i];
            if (c->offset <= have && c->offset + c->len > have) {
                size_t skip = have - (size_t)c->offset;
                size_t n = c->len - skip;
                if (n > sizeof(stream) - have)
                    n = sizeof(stream) - have;
                memcpy(stream + have, c->data + skip, n);
                have += n;
                progress = n > 0 && have < sizeof(stream);
            }
        }
    }
    if (have >= 4 && stream[0] == 1) {
        size_t body = (size_t)stream[1] << 16 | (size_t)stream[2] << 8 | stream[3];
        emb_tls_hello_t h;
        (void)emb__tls_client_hello(stream + 4, body < have - 4 ? body : have - 4, true, &h);
    }
    return 0;
}
