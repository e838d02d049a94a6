/*
 * Unit tests for quic.c: emb__quic_client_keys and emb__quic_initial.
 *
 * Covered: the Initial keys of RFC 9001 and RFC 9369 appendix A.1; the
 * client Initials of appendix A.2 of both, opened to their CRYPTO frame and
 * packet number; a local sealer (checked to rebuild both A.2 packets byte
 * for byte) that makes packets with other frames: PADDING, PING, ACK with
 * ranges and ECN counts, several CRYPTO frames, a frame that ends the walk,
 * too many CRYPTO frames, frames running past the payload, short packet
 * number encodings, reserved bits. Negative cases: other versions and packet
 * types, short headers, a cut at every length, every single-bit flip of the
 * A.2 packet, over-long connection IDs, a Length too short to sample, the
 * server Initials of appendix A.3, a too-small output buffer, and random
 * bytes behind a valid-looking header. Also: the per-context key cache
 * follows DCID and version.
 *
 * Test vectors are copied from RFC 9001 appendix A and RFC 9369 appendix A.
 */
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/*
 * RFC 9001 appendix A.2: the client Initial, 1200 bytes protected. Header
 * c0 | version 00000001 | DCID len 8 8394c8f03e515708 | SCID len 0 |
 * token len 0 | Length 449e (1182) | protected packet number 7b9aec34 (2).
 */
static const char V1_CLIENT_INITIAL[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/*
 * RFC 9001 appendix A.2 (and RFC 9369 appendix A.2, the same bytes): the
 * unprotected CRYPTO frame. 06 CRYPTO | offset 00 | length 40f1 (241) |
 * ClientHello 01 0000ed ... with server_name "example.com" (6578616d706c65
 * 2e636f6d), ALPN "alpn", key_share x25519, QUIC transport parameters.
 */
static const char V1_CRYPTO_FRAME[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

/*
 * RFC 9369 appendix A.2: the same Initial in QUIC version 2. Header
 * d7 | version 6b3343cf | DCID len 8 8394c8f03e515708 | SCID len 0 |
 * token len 0 | Length 449e (1182) | protected packet number a0c95e82 (2).
 */
static const char V2_CLIENT_INITIAL[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

/*
 * RFC 9001 appendix A.3: the server's Initial, 135 bytes. cf | 00000001 |
 * DCID len 0 | SCID len 8 f067a5502a4262b5 | token len 0 | Length 4075 (117).
 * Its keys come from the client's DCID, which it does not carry.
 */
static const char V1_SERVER_INITIAL[] =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

/* RFC 9369 appendix A.3: the same server Initial in version 2 (dc | 6b3343cf ...). */
static const char V2_SERVER_INITIAL[] =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

/* The client's DCID of both appendices. */
static const uint8_t DCID[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

/* ---- helpers --------------------------------------------------------------- */

/* Decodes hex (whitespace ignored) into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            cr_assert_lt(n, cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static bool contains(const uint8_t *h, size_t hn, const char *needle) {
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return true;
    return false;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want_hex) {
    uint8_t want[64];
    size_t wn = unhex(want_hex, want, sizeof(want));
    cr_assert_eq(wn, n);
    cr_assert_arr_eq(got, want, n);
}

static emb_quic_ctx_t *ctx;
static uint8_t plain[2048];

static void setup(void) {
    ctx = emb__quic_ctx_new();
    cr_assert_not_null(ctx);
}
static void teardown(void) {
    emb__quic_ctx_free(ctx);
}

TestSuite(quic, .init = setup, .fini = teardown);

/* What a sealed packet is made of; the sealer fills in Length. */
typedef struct {
    uint32_t version;
    const uint8_t *dcid, *scid, *token;
    size_t dcid_len, scid_len, token_len;
    uint64_t pn;
    size_t pn_len;    /* 1..4 */
    uint8_t reserved; /* the two reserved bits, 0 in a valid packet */
    const uint8_t *frames;
    size_t frames_len;
} seal_t;

/*
 * Protects a client Initial the way a sender does (RFC 9001 section 5):
 * AES-128-GCM over the frames with the header as associated data, then
 * header protection from the sample. Returns the packet's length in `out`.
 */
static size_t seal(const seal_t *s, uint8_t *out, size_t cap) {
    emb_quic_keys_t k;
    cr_assert(emb__quic_client_keys(ctx, s->version, s->dcid, s->dcid_len, &k));
    uint8_t type = s->version == EMB_QUIC_V2 ? 1 : 0;
    size_t n = 0, length = s->pn_len + s->frames_len + 16;
    cr_assert_lt(length, 0x4000);
    cr_assert_lt(s->token_len, 64);
    cr_assert_lt(40 + s->token_len + length, cap);
    out[n++] = (uint8_t)(0xc0 | type << 4 | s->reserved << 2 | (s->pn_len - 1));
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(s->version >> (8 * i));
    out[n++] = (uint8_t)s->dcid_len;
    memcpy(out + n, s->dcid, s->dcid_len);
    n += s->dcid_len;
    out[n++] = (uint8_t)s->scid_len;
    if (s->scid_len)
        memcpy(out + n, s->scid, s->scid_len);
    n += s->scid_len;
    out[n++] = (uint8_t)s->token_len; /* one-byte varint */
    if (s->token_len)
        memcpy(out + n, s->token, s->token_len);
    n += s->token_len;
    out[n++] = (uint8_t)(0x40 | length >> 8); /* two-byte varint */
    out[n++] = (uint8_t)length;
    size_t pn_off = n;
    for (size_t i = 0; i < s->pn_len; i++)
        out[n++] = (uint8_t)(s->pn >> (8 * (s->pn_len - 1 - i)));

    uint8_t nonce[12];
    memcpy(nonce, k.iv, 12);
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(s->pn >> (8 * i));
    EVP_CIPHER_CTX *g = EVP_CIPHER_CTX_new();
    int m = 0;
    cr_assert(EVP_EncryptInit_ex(g, EVP_aes_128_gcm(), NULL, k.key, nonce));
    cr_assert(EVP_EncryptUpdate(g, NULL, &m, out, (int)n));
    cr_assert(EVP_EncryptUpdate(g, out + n, &m, s->frames, (int)s->frames_len));
    n += (size_t)m;
    cr_assert(EVP_EncryptFinal_ex(g, out + n, &m));
    n += (size_t)m;
    cr_assert(EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_GET_TAG, 16, out + n));
    n += 16;
    EVP_CIPHER_CTX_free(g);

    uint8_t mask[16];
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
    cr_assert(EVP_EncryptInit_ex(e, EVP_aes_128_ecb(), NULL, k.hp, NULL));
    cr_assert(EVP_EncryptUpdate(e, mask, &m, out + pn_off + 4, 16));
    EVP_CIPHER_CTX_free(e);
    out[0] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < s->pn_len; i++)
        out[pn_off + i] ^= mask[1 + i];
    return n;
}

/* A sealed v1 client Initial with the RFC's DCID and pn 2 in 4 bytes. */
static size_t seal_frames(const uint8_t *frames, size_t frames_len, uint8_t *out, size_t cap) {
    seal_t s = {.version = EMB_QUIC_V1,
                .dcid = DCID,
                .dcid_len = sizeof(DCID),
                .pn = 2,
                .pn_len = 4,
                .frames = frames,
                .frames_len = frames_len};
    return seal(&s, out, cap);
}

/* ---- keys (appendix A.1) --------------------------------------------------- */

Test(quic, keys_v1) {
    emb_quic_keys_t k;
    cr_assert(emb__quic_client_keys(ctx, EMB_QUIC_V1, DCID, sizeof(DCID), &k));
    assert_hex(k.secret, 32, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
    assert_hex(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d");
    assert_hex(k.iv, 12, "fa044b2f42a3fd3b46fb255c");
    assert_hex(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2");
}

Test(quic, keys_v2) {
    emb_quic_keys_t k;
    cr_assert(emb__quic_client_keys(ctx, EMB_QUIC_V2, DCID, sizeof(DCID), &k));
    assert_hex(k.secret, 32, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
    assert_hex(k.key, 16, "8b1a0bc121284290a29e0971b5cd045d");
    assert_hex(k.iv, 12, "91f73e2351d8fa91660e909f");
    assert_hex(k.hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9");
}

Test(quic, keys_other_version) {
    emb_quic_keys_t k;
    cr_assert_not(emb__quic_client_keys(ctx, 0xff00001d, DCID, sizeof(DCID), &k));
}

/* ---- the client Initials of appendix A.2 ------------------------------------ */

static void check_rfc_initial(const char *hex, uint32_t version) {
    uint8_t pkt[1200], crypto[245];
    cr_assert_eq(unhex(hex, pkt, sizeof(pkt)), 1200);
    cr_assert_eq(unhex(V1_CRYPTO_FRAME, crypto, sizeof(crypto)), 245);
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_OK);
    cr_assert_eq(q.version, version);
    cr_assert_eq(q.dcid_len, 8);
    cr_assert_arr_eq(q.dcid, DCID, 8);
    cr_assert_eq(q.dcid, pkt + 6, "the DCID is a slice into the packet");
    cr_assert_eq(q.scid_len, 0);
    cr_assert_eq(q.token_len, 0);
    cr_assert_eq(q.pn, 2);
    cr_assert_eq(q.packet_len, 1200);
    cr_assert_not(q.undecryptable);
    cr_assert_eq(q.crypto_count, 1);
    cr_assert_not(q.crypto_more);
    cr_assert_eq(q.crypto[0].offset, 0);
    cr_assert_eq(q.crypto[0].len, 241);
    cr_assert_eq(q.crypto[0].data, plain + 4, "CRYPTO data is a slice into plain");
    cr_assert_eq(q.crypto[0].data[0], 0x01, "handshake type ClientHello");
    cr_assert_arr_eq(q.crypto[0].data, crypto + 4, 241);
    cr_assert(contains(q.crypto[0].data, q.crypto[0].len, "example.com"));
}

Test(quic, rfc9001_client_initial) {
    check_rfc_initial(V1_CLIENT_INITIAL, EMB_QUIC_V1);
}
Test(quic, rfc9369_client_initial) {
    check_rfc_initial(V2_CLIENT_INITIAL, EMB_QUIC_V2);
}

/* The sealer rebuilds both A.2 packets exactly, so the packets it makes
 * below are what a real client would send. */
Test(quic, sealer_matches_rfc) {
    uint8_t frames[1162] = {0}, want[1200], got[1400];
    cr_assert_eq(unhex(V1_CRYPTO_FRAME, frames, sizeof(frames)), 245); /* rest: PADDING */
    for (int v = 0; v < 2; v++) {
        seal_t s = {.version = v ? EMB_QUIC_V2 : EMB_QUIC_V1,
                    .dcid = DCID,
                    .dcid_len = sizeof(DCID),
                    .pn = 2,
                    .pn_len = 4,
                    .frames = frames,
                    .frames_len = sizeof(frames)};
        cr_assert_eq(seal(&s, got, sizeof(got)), 1200);
        unhex(v ? V2_CLIENT_INITIAL : V1_CLIENT_INITIAL, want, sizeof(want));
        cr_assert_arr_eq(got, want, 1200);
    }
}

/* ---- frames ------------------------------------------------------------------ */

Test(quic, frames_skipped_and_collected) {
    /* clang-format off */
    static const uint8_t frames[] = {
        0x00, 0x00,                   /* PADDING x2 */
        0x01,                         /* PING */
        0x02, 0x0a, 0x00, 0x02, 0x01, /* ACK largest 10, delay 0, 2 ranges, first 1 */
        0x01, 0x02, 0x00, 0x01,       /*   gap 1 len 2, gap 0 len 1 */
        0x03, 0x05, 0x40, 0x10, 0x00, 0x00, /* ACK_ECN largest 5, delay 16, 0 ranges, first 0 */
        0x01, 0x02, 0x03,             /*   ECT0 1, ECT1 2, CE 3 */
        0x06, 0x41, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', /* CRYPTO offset 256: "hello" */
        0x00,                         /* PADDING */
        0x06, 0x00, 0x02, 'a', 'b',   /* CRYPTO offset 0: "ab" */
        0x08, 0x00, 0x01, 'x',        /* STREAM: not allowed in an Initial, ends the walk */
        0x06, 0x00, 0x01, 'z',        /* CRYPTO after it: not collected */
    };
    /* clang-format on */
    uint8_t pkt[256];
    size_t n = seal_frames(frames, sizeof(frames), pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_OK);
    cr_assert_eq(q.crypto_count, 2);
    cr_assert_eq(q.crypto[0].offset, 256);
    cr_assert_eq(q.crypto[0].len, 5);
    cr_assert_arr_eq(q.crypto[0].data, "hello", 5);
    cr_assert_eq(q.crypto[1].offset, 0);
    cr_assert_eq(q.crypto[1].len, 2);
    cr_assert_arr_eq(q.crypto[1].data, "ab", 2);
}

Test(quic, connection_close_ends_walk) {
    /* CONNECTION_CLOSE (0x1c) first, then a CRYPTO frame that is not read. */
    static const uint8_t frames[] = {0x1c, 0x0a, 0x00, 0x00, 0x06, 0x00, 0x01, 'z', 0, 0, 0, 0};
    uint8_t pkt[256];
    size_t n = seal_frames(frames, sizeof(frames), pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_OK);
    cr_assert_eq(q.crypto_count, 0);
}

Test(quic, too_many_crypto_frames) {
    uint8_t frames[20 * 4], pkt[256];
    for (size_t i = 0; i < 20; i++) { /* CRYPTO offset i, length 1, byte i */
        frames[4 * i] = 0x06;
        frames[4 * i + 1] = (uint8_t)i;
        frames[4 * i + 2] = 0x01;
        frames[4 * i + 3] = (uint8_t)i;
    }
    size_t n = seal_frames(frames, sizeof(frames), pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_OK);
    cr_assert_eq(q.crypto_count, EMB_QUIC_MAX_CRYPTO);
    cr_assert(q.crypto_more);
    cr_assert_eq(q.crypto[15].offset, 15);
    cr_assert_eq(q.crypto[15].data[0], 15);
}

Test(quic, frames_overrunning_the_payload) {
    /* Each is padded so the packet is long enough to sample. */
    static const uint8_t crypto_long[] = {0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x10, 'a'};
    static const uint8_t crypto_cut_varint[] = {0x00, 0x00, 0x00, 0x00, 0x06, 0x80, 0x00};
    static const uint8_t ack_cut[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x05, 0x00, 0x01};
    static const uint8_t ecn_cut[] = {0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x01};
    /* offset + length past 2^62 - 1: 0xff.. offset, length 1 */
    static const uint8_t crypto_past_max[] = {0x06, 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xff, 0xff, 0xff, 0x01, 'a'};
    const struct {
        const uint8_t *f;
        size_t n;
    } cases[] = {{crypto_long, sizeof(crypto_long)},
                 {crypto_cut_varint, sizeof(crypto_cut_varint)},
                 {ack_cut, sizeof(ack_cut)},
                 {ecn_cut, sizeof(ecn_cut)},
                 {crypto_past_max, sizeof(crypto_past_max)}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t pkt[256];
        size_t n = seal_frames(cases[i].f, cases[i].n, pkt, sizeof(pkt));
        emb_quic_initial_t q;
        cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_INVALID,
                     "case %zu", i);
        cr_assert_not(q.undecryptable, "case %zu", i);
    }
}

Test(quic, empty_payload_is_invalid) {
    /* pn 4 bytes + 16-byte tag = Length 20: samplable, but holds no frame. */
    uint8_t pkt[128];
    size_t n = seal_frames(NULL, 0, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert_not(q.undecryptable);
}

Test(quic, short_packet_numbers_and_ids) {
    static const uint8_t frames[] = {0x06, 0x00, 0x03, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t scid[] = {1, 2, 3, 4, 5};
    static const uint8_t token[] = {'t', 'o', 'k', 'e', 'n'};
    static const uint8_t dcid20[20] = {9, 9, 9};
    for (size_t pn_len = 1; pn_len <= 4; pn_len++) {
        for (int v = 0; v < 2; v++) {
            seal_t s = {.version = v ? EMB_QUIC_V2 : EMB_QUIC_V1,
                        .dcid = dcid20,
                        .dcid_len = sizeof(dcid20),
                        .scid = scid,
                        .scid_len = sizeof(scid),
                        .token = token,
                        .token_len = sizeof(token),
                        .pn = 0x12345678 & ((UINT64_C(1) << (8 * pn_len)) - 1),
                        .pn_len = pn_len,
                        .frames = frames,
                        .frames_len = sizeof(frames)};
            uint8_t pkt[256];
            size_t n = seal(&s, pkt, sizeof(pkt));
            emb_quic_initial_t q;
            cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_OK);
            cr_assert_eq(q.pn, s.pn, "pn_len %zu", pn_len);
            cr_assert_eq(q.dcid_len, 20);
            cr_assert_eq(q.scid_len, 5);
            cr_assert_arr_eq(q.scid, scid, 5);
            cr_assert_eq(q.token_len, 5);
            cr_assert_arr_eq(q.token, "token", 5);
            cr_assert_eq(q.crypto_count, 1);
            cr_assert_arr_eq(q.crypto[0].data, "abc", 3);
        }
    }
}

Test(quic, reserved_bits_are_invalid) {
    static const uint8_t frames[] = {0x06, 0x00, 0x01, 'a', 0, 0, 0, 0};
    seal_t s = {.version = EMB_QUIC_V1,
                .dcid = DCID,
                .dcid_len = sizeof(DCID),
                .pn = 1,
                .pn_len = 2,
                .reserved = 2,
                .frames = frames,
                .frames_len = sizeof(frames)};
    uint8_t pkt[256];
    size_t n = seal(&s, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, n, &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert_not(q.undecryptable);
}

/* ---- not a client Initial ------------------------------------------------------ */

Test(quic, other_versions_and_types_are_none) {
    uint8_t pkt[1200];
    emb_quic_initial_t q;
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    static const uint32_t versions[] = {0, 0xff00001d /* draft-29 */, 0x1a2a3a4a /* grease */, 2};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        uint8_t copy[1200];
        memcpy(copy, pkt, sizeof(copy));
        for (int b = 0; b < 4; b++)
            copy[1 + b] = (uint8_t)(versions[i] >> (8 * (3 - b)));
        cr_assert_eq(emb__quic_initial(ctx, copy, sizeof(copy), &q, plain, sizeof(plain)),
                     EMB_X_NONE, "version %08x", versions[i]);
    }
    /* v1 0-RTT (1), Handshake (2), Retry (3) */
    for (uint8_t t = 1; t < 4; t++) {
        uint8_t copy[1200];
        memcpy(copy, pkt, sizeof(copy));
        copy[0] = (uint8_t)((copy[0] & 0xcf) | t << 4);
        cr_assert_eq(emb__quic_initial(ctx, copy, sizeof(copy), &q, plain, sizeof(plain)),
                     EMB_X_NONE);
    }
    /* v2 types other than Initial (01): Retry 00, 0-RTT 10, Handshake 11 */
    unhex(V2_CLIENT_INITIAL, pkt, sizeof(pkt));
    for (uint8_t t = 0; t < 4; t++) {
        if (t == 1)
            continue;
        uint8_t copy[1200];
        memcpy(copy, pkt, sizeof(copy));
        copy[0] = (uint8_t)((copy[0] & 0xcf) | t << 4);
        cr_assert_eq(emb__quic_initial(ctx, copy, sizeof(copy), &q, plain, sizeof(plain)),
                     EMB_X_NONE);
    }
}

Test(quic, short_header_and_empty_are_none) {
    /* 0x40: short header (form bit clear), fixed bit set, then a DCID... */
    uint8_t pkt[1200];
    emb_quic_initial_t q;
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    pkt[0] = 0x40;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_NONE);
    cr_assert_eq(emb__quic_initial(ctx, pkt, 0, &q, plain, sizeof(plain)), EMB_X_NONE);
    cr_assert_eq(emb__quic_initial(ctx, NULL, 0, &q, plain, sizeof(plain)), EMB_X_NONE);
}

Test(quic, server_initials_are_undecryptable) {
    const char *hex[] = {V1_SERVER_INITIAL, V2_SERVER_INITIAL};
    for (int i = 0; i < 2; i++) {
        uint8_t pkt[135];
        cr_assert_eq(unhex(hex[i], pkt, sizeof(pkt)), 135);
        emb_quic_initial_t q;
        cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)),
                     EMB_X_INVALID);
        cr_assert(q.undecryptable);
        cr_assert_eq(q.dcid_len, 0);
        cr_assert_eq(q.scid_len, 8);
    }
}

/* ---- damaged packets ------------------------------------------------------------ */

Test(quic, cut_at_every_length) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, 0, &q, plain, sizeof(plain)), EMB_X_NONE);
    for (size_t cut = 1; cut < sizeof(pkt); cut++) {
        /* A fresh copy of exactly `cut` bytes, so ASan sees any over-read. */
        uint8_t *c = malloc(cut);
        memcpy(c, pkt, cut);
        cr_assert_eq(emb__quic_initial(ctx, c, cut, &q, plain, sizeof(plain)), EMB_X_TRUNCATED,
                     "cut %zu", cut);
        free(c);
    }
    /* The same with a SCID and a token, so every header field gets cut. */
    static const uint8_t frames[] = {0x06, 0x00, 0x01, 'a', 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t scid[] = {1, 2, 3};
    static const uint8_t token[] = {4, 5, 6, 7};
    seal_t s = {.version = EMB_QUIC_V2,
                .dcid = DCID,
                .dcid_len = sizeof(DCID),
                .scid = scid,
                .scid_len = sizeof(scid),
                .token = token,
                .token_len = sizeof(token),
                .pn = 7,
                .pn_len = 1,
                .frames = frames,
                .frames_len = sizeof(frames)};
    uint8_t full[256];
    size_t n = seal(&s, full, sizeof(full));
    cr_assert_eq(emb__quic_initial(ctx, full, n, &q, plain, sizeof(plain)), EMB_X_OK);
    for (size_t cut = 1; cut < n; cut++) {
        uint8_t *c = malloc(cut);
        memcpy(c, full, cut);
        cr_assert_eq(emb__quic_initial(ctx, c, cut, &q, plain, sizeof(plain)), EMB_X_TRUNCATED,
                     "cut %zu", cut);
        free(c);
    }
}

Test(quic, flipped_ciphertext_byte_is_invalid) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    pkt[100] ^= 0x01; /* in the encrypted CRYPTO frame */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert(q.undecryptable);
    pkt[100] ^= 0x01;
    pkt[1199] ^= 0x80; /* in the tag */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert(q.undecryptable);
}

/* No single-bit change of the A.2 packet may still open: header bits are
 * authenticated (or change the keys), payload bits break the tag. */
Test(quic, every_bit_flip_fails) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    for (size_t i = 0; i < sizeof(pkt); i++) {
        for (int b = 0; b < 8; b++) {
            pkt[i] ^= (uint8_t)(1 << b);
            emb_x_result_t r = emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain));
            cr_assert_neq(r, EMB_X_OK, "byte %zu bit %d", i, b);
            pkt[i] ^= (uint8_t)(1 << b);
        }
    }
}

Test(quic, connection_id_over_20_is_invalid) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    pkt[5] = 21; /* DCID length */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert_eq(emb__quic_initial(ctx, pkt, 6, &q, plain, sizeof(plain)), EMB_X_INVALID,
                 "the length byte alone is enough to tell");
    pkt[5] = 0xff;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    pkt[5] = 8;
    pkt[14] = 21; /* SCID length */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
}

Test(quic, length_too_short_to_sample) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    pkt[16] = 0x40; /* Length 449e -> 4013 (19): 4 + 16 bytes are needed */
    pkt[17] = 0x13;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    pkt[17] = 0x14; /* 20: samplable, so now the tag decides */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_INVALID);
    cr_assert(q.undecryptable);
    pkt[16] = 0x48; /* Length 4800 (2048): more than the datagram holds */
    pkt[17] = 0x00;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)),
                 EMB_X_TRUNCATED);
    pkt[16] = 0xff; /* an 8-byte varint, Length ~2^62 */
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)),
                 EMB_X_TRUNCATED);
}

/* ---- around the packet ------------------------------------------------------------ */

Test(quic, coalesced_packets_are_left) {
    uint8_t pkt[1300];
    unhex(V1_CLIENT_INITIAL, pkt, 1200);
    memset(pkt + 1200, 0xe5, 100); /* what a second, coalesced packet would be */
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, sizeof(plain)), EMB_X_OK);
    cr_assert_eq(q.packet_len, 1200);
    cr_assert_eq(q.crypto_count, 1);
}

Test(quic, plain_buffer_too_small) {
    uint8_t pkt[1200];
    unhex(V1_CLIENT_INITIAL, pkt, sizeof(pkt));
    emb_quic_initial_t q;
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, 1161), EMB_X_NONE);
    cr_assert_eq(emb__quic_initial(ctx, pkt, sizeof(pkt), &q, plain, 1162), EMB_X_OK);
}

/* Random bytes behind a valid v1 Initial prefix: any result, never a crash
 * (run under ASan in the sanitizer build). */
Test(quic, random_bodies) {
    uint32_t seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + (size_t)(iter % 300);
        uint8_t *b = malloc(n);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = (uint8_t)(seed >> 16);
        }
        static const uint8_t prefix[] = {0xc0, 0x00, 0x00, 0x00, 0x01};
        memcpy(b, prefix, n < 5 ? n : 5);
        if (n > 5)
            b[5] &= 0x1f; /* DCID length 0..31: mostly valid */
        emb_quic_initial_t q;
        emb_x_result_t r = emb__quic_initial(ctx, b, n, &q, plain, sizeof(plain));
        cr_assert(r == EMB_X_NONE || r == EMB_X_TRUNCATED || r == EMB_X_INVALID);
        free(b);
    }
}

/* ---- the key cache ------------------------------------------------------------------ */

Test(quic, key_cache_follows_dcid_and_version) {
    static const uint8_t frames[] = {0x06, 0x00, 0x01, 'a', 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t other_dcid[] = {1, 2, 3, 4, 5, 6, 7, 8};
    seal_t s = {.version = EMB_QUIC_V1,
                .dcid = other_dcid,
                .dcid_len = sizeof(other_dcid),
                .pn = 0,
                .pn_len = 1,
                .frames = frames,
                .frames_len = sizeof(frames)};
    uint8_t v1[1200], v2[1200], other[256];
    unhex(V1_CLIENT_INITIAL, v1, sizeof(v1));
    unhex(V2_CLIENT_INITIAL, v2, sizeof(v2));
    size_t other_len = seal(&s, other, sizeof(other));
    emb_quic_initial_t q;
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(emb__quic_initial(ctx, v1, sizeof(v1), &q, plain, sizeof(plain)), EMB_X_OK);
        cr_assert_eq(emb__quic_initial(ctx, v1, sizeof(v1), &q, plain, sizeof(plain)), EMB_X_OK);
        cr_assert_eq(emb__quic_initial(ctx, v2, sizeof(v2), &q, plain, sizeof(plain)), EMB_X_OK);
        cr_assert_eq(emb__quic_initial(ctx, other, other_len, &q, plain, sizeof(plain)), EMB_X_OK);
        cr_assert_arr_eq(q.crypto[0].data, "a", 1);
    }
}
