/*
 * Unit tests for tls.c: emb__tls_client_hello_sni (a ClientHello in
 * a TLS record) and emb__tls_client_hello (a ClientHello body, with JA4).
 *
 * Covered for emb__tls_client_hello_sni: a ClientHello with several
 * extensions before server_name; no server_name, no extensions at all;
 * records that are not a handshake, and handshakes that are not a
 * ClientHello; a cut at every length (TRUNCATED until the server_name
 * extension is whole, OK after); lengths that overrun the structure around
 * them (INVALID when nothing was cut); and a ClientHello that goes on in a
 * second record.
 *
 * Covered for emb__tls_client_hello: JA4 of two real ClientHellos whose JA4
 * FoxIO publishes (Chrome with GREASE, TLS 1.3; a TLS 1.2 client without
 * supported_versions), "q" for QUIC, every ALPN example of the JA4 spec,
 * GREASE left out of counts and hashes, a cut at every length, INVALID
 * structures, and random byte changes (run under ASan).
 */
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A TLS 1.3 ClientHello for example.com, 135 bytes. Offsets from the start:
 *
 *   0  record: type 22 handshake, version 3.1, length 130
 *   5  handshake: type 1 ClientHello, length 126
 *   9  client_version 3.3
 *  11  random, 32 bytes
 *  43  session_id: length 32, 32 bytes
 *  76  cipher_suites: length 4: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384
 *  82  compression_methods: length 1: null
 *  84  extensions: length 49
 *  86    supported_groups (10): length 4: list of 2: x25519
 *  94    ec_point_formats (11): length 2: list of 1: uncompressed
 * 100    signature_algorithms (13): length 4: list of 2: ecdsa_secp256r1_sha256
 * 108    server_name (0): length 16
 * 112      server_name_list length 14
 * 114      name_type 0 host_name, length 11
 * 117      "example.com"
 * 128    supported_versions (43): length 3: list of 2: TLS 1.3
 * 135  end
 */
/* clang-format off */
static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x82, /* record: handshake, 3.1, length 130 */
    0x01, 0x00, 0x00, 0x7e,       /* ClientHello, length 126 */
    0x03, 0x03,                   /* client_version 3.3 */
    /* random: 00 01 02 ... 1f */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, /* session_id length 32, then 32 bytes of 0xaa */
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0x00, 0x04, 0x13, 0x01, 0x13, 0x02, /* cipher_suites: 0x1301, 0x1302 */
    0x01, 0x00,                         /* compression_methods: null */
    0x00, 0x31,                         /* extensions length 49 */
    0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d, /* supported_groups: x25519 */
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* ec_point_formats: uncompressed */
    0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* signature_algorithms: 0x0403 */
    0x00, 0x00, 0x00, 0x10,                         /* server_name, length 16 */
    0x00, 0x0e,                                     /* server_name_list length 14 */
    0x00, 0x00, 0x0b,                               /* host_name, length 11 */
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
    0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04 /* supported_versions: TLS 1.3 */
};
/* clang-format on */
#define CH_LEN sizeof(client_hello)
#define OFF_HS_TYPE 5
#define OFF_EXT_TOTAL 84
#define OFF_SIGALGS_LEN 102
#define OFF_SNI_TYPE 108
#define OFF_SNI_LIST_LEN 112
#define OFF_SNI_NAME_LEN 115
#define OFF_SNI_NAME 117
#define OFF_SNI_END 128

/* A copy of client_hello to change one field in. */
static uint8_t *copy_hello(void) {
    uint8_t *b = malloc(CH_LEN);
    cr_assert_not_null(b);
    memcpy(b, client_hello, CH_LEN);
    return b;
}

/* Runs the parser on the first `len` bytes of p, copied into a buffer of
 * exactly that size; *sni_off is the SNI's offset when OK. */
static emb_x_result_t sni_of(const uint8_t *p, size_t len, size_t *sni_off, size_t *sni_len) {
    uint8_t *b = malloc(len + 1);
    cr_assert_not_null(b);
    memcpy(b, p, len);
    const uint8_t *sni = NULL;
    *sni_len = 0;
    emb_x_result_t r = emb__tls_client_hello_sni(b, len, &sni, sni_len);
    /* The offset, taken before the buffer goes: a slice before b wraps to a
     * huge offset and fails the check as one past the end does. */
    size_t off = r == EMB_X_OK ? (size_t)((uintptr_t)sni - (uintptr_t)b) : 0;
    free(b);
    if (r == EMB_X_OK) {
        cr_assert(off <= len && *sni_len <= len - off, "SNI slice outside the buffer");
        *sni_off = off;
    }
    return r;
}

Test(tls, client_hello_sni_after_other_extensions) {
    const uint8_t *sni = NULL;
    size_t sni_len = 0;
    cr_assert_eq(emb__tls_client_hello_sni(client_hello, CH_LEN, &sni, &sni_len), EMB_X_OK);
    cr_assert_eq(sni, client_hello + OFF_SNI_NAME);
    cr_assert_eq(sni_len, 11);
    cr_assert_arr_eq(sni, "example.com", 11);
}

Test(tls, no_server_name_extension) {
    /* client_hello with the server_name extension's type changed to 21 (padding) */
    uint8_t *b = copy_hello();
    b[OFF_SNI_TYPE + 1] = 0x15;
    const uint8_t *sni = NULL;
    size_t sni_len = 0;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_NONE);
    cr_assert_null(sni);
    free(b);
}

Test(tls, no_extensions_at_all) {
    /* client_hello ending after compression_methods: handshake length 75,
     * record length 79, 84 bytes in all */
    uint8_t *b = copy_hello();
    b[3] = 0x00;
    b[4] = 79;
    b[6] = 0x00;
    b[7] = 0x00;
    b[8] = 75;
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(b, OFF_EXT_TOTAL, &sni, &sni_len), EMB_X_NONE);
    free(b);
}

Test(tls, server_name_with_empty_host_name) {
    /* A minimal ClientHello whose only extension is a server_name holding one
     * host_name of length 0. */
    /* clang-format off */
    static const uint8_t empty_sni[] = {
        0x16, 0x03, 0x01, 0x00, 0x38, /* record: handshake, length 56 */
        0x01, 0x00, 0x00, 0x34,       /* ClientHello, length 52 */
        0x03, 0x03,                   /* client_version 3.3 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* random: 32 zero bytes */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00,                                     /* session_id: empty */
        0x00, 0x02, 0x13, 0x01,                   /* cipher_suites: 0x1301 */
        0x01, 0x00,                               /* compression_methods: null */
        0x00, 0x09,                               /* extensions length 9 */
        0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00 /* server_name: "" */
    };
    /* clang-format on */
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(empty_sni, sizeof(empty_sni), &sni, &sni_len),
                 EMB_X_NONE);
    /* the same with host_name "a": found */
    uint8_t b[sizeof(empty_sni) + 1];
    memcpy(b, empty_sni, sizeof(empty_sni));
    b[4] += 1;                      /* record length 57 */
    b[8] += 1;                      /* handshake length 53 */
    b[sizeof(empty_sni) - 10] += 1; /* extensions length 10 */
    b[sizeof(empty_sni) - 6] += 1;  /* server_name length 6 */
    b[sizeof(empty_sni) - 4] += 1;  /* list length 4 */
    b[sizeof(empty_sni) - 1] = 1;   /* name length 1 */
    b[sizeof(empty_sni)] = 'a';
    cr_assert_eq(emb__tls_client_hello_sni(b, sizeof(b), &sni, &sni_len), EMB_X_OK);
    cr_assert_eq(sni_len, 1);
    cr_assert_eq(sni[0], 'a');
}

Test(tls, not_a_handshake_record) {
    /* TLS application data: type 23, version 3.3, length 5, 5 bytes */
    static const uint8_t app_data[] = {0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5};
    /* TLS alert: type 21, version 3.3, length 2: fatal, handshake_failure */
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    /* plain text: "GET / HTTP/1.1\r\n" */
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(app_data, sizeof(app_data), &sni, &sni_len), EMB_X_NONE);
    cr_assert_eq(emb__tls_client_hello_sni(alert, sizeof(alert), &sni, &sni_len), EMB_X_NONE);
    cr_assert_eq(emb__tls_client_hello_sni(http, sizeof(http) - 1, &sni, &sni_len), EMB_X_NONE);
    /* client_hello with record type 23: NONE even though a ClientHello follows */
    uint8_t *b = copy_hello();
    b[0] = 0x17;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_NONE);
    free(b);
}

Test(tls, record_version_not_3_is_none) {
    /* client_hello with record version 2.0 */
    uint8_t *b = copy_hello();
    b[1] = 0x02;
    b[2] = 0x00;
    const uint8_t *sni;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_NONE);
    /* known not to be TLS from three bytes on: 16 02 00 */
    cr_assert_eq(emb__tls_client_hello_sni(b, 3, &sni, &sni_len), EMB_X_NONE);
    free(b);
}

Test(tls, handshake_shorter_than_its_fixed_fields_invalid) {
    /* a whole record: handshake type 1, length 10, ends inside the random */
    static const uint8_t rec[] = {0x16, 0x03, 0x01, 0x00, 0x0e, /* record, length 14 */
                                  0x01, 0x00, 0x00, 0x0a,       /* ClientHello, length 10 */
                                  0x03, 0x03, 1,    2,    3,    4, 5, 6, 7, 8, 9, 10, 11, 12};
    const uint8_t *sni;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(rec, sizeof(rec), &sni, &sni_len), EMB_X_INVALID);
}

Test(tls, server_hello_is_none) {
    /* client_hello with handshake type 2 ServerHello; likewise 11 Certificate */
    uint8_t *b = copy_hello();
    b[OFF_HS_TYPE] = 0x02;
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_NONE);
    b[OFF_HS_TYPE] = 0x0b;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_NONE);
    free(b);
}

Test(tls, cut_at_every_length) {
    for (size_t len = 0; len <= CH_LEN; len++) {
        size_t off = 0, sni_len = 0;
        emb_x_result_t r = sni_of(client_hello, len, &off, &sni_len);
        if (len == 0) {
            cr_assert(r == EMB_X_NONE || r == EMB_X_TRUNCATED, "len 0: %d", r);
        } else if (len < OFF_SNI_END) {
            cr_assert_eq(r, EMB_X_TRUNCATED, "len %zu: %d", len, r);
        } else {
            cr_assert_eq(r, EMB_X_OK, "len %zu: %d", len, r);
            cr_assert_eq(off, OFF_SNI_NAME);
            cr_assert_eq(sni_len, 11);
        }
    }
}

Test(tls, cut_at_every_length_without_sni) {
    /* client_hello without server_name (type changed to 21): TRUNCATED until
     * the last extension is whole, NONE then */
    uint8_t *b = copy_hello();
    b[OFF_SNI_TYPE + 1] = 0x15;
    for (size_t len = 1; len <= CH_LEN; len++) {
        size_t off, sni_len;
        emb_x_result_t r = sni_of(b, len, &off, &sni_len);
        cr_assert_eq(r, len < CH_LEN ? EMB_X_TRUNCATED : EMB_X_NONE, "len %zu: %d", len, r);
    }
    free(b);
}

Test(tls, sni_list_length_larger_than_extension) {
    /* client_hello with server_name_list length 15 in an extension of 16:
     * 2 + 15 > 16 */
    uint8_t *b = copy_hello();
    b[OFF_SNI_LIST_LEN + 1] = 15;
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_INVALID);
    free(b);
}

Test(tls, host_name_length_beyond_extension) {
    /* client_hello with host_name length 12 where 11 bytes are left in the extension */
    uint8_t *b = copy_hello();
    b[OFF_SNI_NAME_LEN + 1] = 12;
    const uint8_t *sni = NULL;
    size_t sni_len;
    cr_assert_eq(emb__tls_client_hello_sni(b, CH_LEN, &sni, &sni_len), EMB_X_INVALID);
    free(b);
}

Test(tls, extension_length_beyond_extensions_block) {
    /* client_hello with signature_algorithms' length 0x0040: 64 bytes, where
     * the extensions block ends 31 bytes later */
    uint8_t *b = copy_hello();
    b[OFF_SIGALGS_LEN] = 0x00;
    b[OFF_SIGALGS_LEN + 1] = 0x40;
    size_t off, sni_len;
    cr_assert_eq(sni_of(b, CH_LEN, &off, &sni_len), EMB_X_INVALID);
    /* cut short, the same bytes could be a longer extension whose end was not
     * captured: TRUNCATED */
    cr_assert_eq(sni_of(b, OFF_SNI_TYPE, &off, &sni_len), EMB_X_TRUNCATED);
    free(b);
}

Test(tls, extensions_total_beyond_client_hello) {
    /* client_hello with extensions length 0x0100 (256), past the end of the
     * handshake message (49 bytes are there): INVALID when nothing was cut */
    uint8_t *b = copy_hello();
    b[OFF_EXT_TOTAL] = 0x01;
    b[OFF_EXT_TOTAL + 1] = 0x00;
    size_t off, sni_len;
    cr_assert_eq(sni_of(b, CH_LEN, &off, &sni_len), EMB_X_INVALID);
    free(b);
}

Test(tls, session_id_beyond_client_hello) {
    /* client_hello with session_id length 255: runs past the handshake end */
    uint8_t *b = copy_hello();
    b[43] = 0xff;
    size_t off, sni_len;
    cr_assert_eq(sni_of(b, CH_LEN, &off, &sni_len), EMB_X_INVALID);
    free(b);
}

/* client_hello split into two records: the first record holds the first
 * `first` bytes of the handshake message, a second record (type 22, 3.3)
 * the rest. Returns a malloc'd buffer of CH_LEN + 5 bytes. */
static uint8_t *split_records(size_t first) {
    size_t hs_total = CH_LEN - 5, rest = hs_total - first;
    uint8_t *b = malloc(CH_LEN + 5);
    cr_assert_not_null(b);
    memcpy(b, client_hello, 5 + first);
    b[3] = (uint8_t)(first >> 8);
    b[4] = (uint8_t)first;
    uint8_t *r2 = b + 5 + first;
    r2[0] = 0x16; /* record 2: handshake, 3.3, length `rest` */
    r2[1] = 0x03;
    r2[2] = 0x03;
    r2[3] = (uint8_t)(rest >> 8);
    r2[4] = (uint8_t)rest;
    memcpy(r2 + 5, client_hello + 5 + first, rest);
    return b;
}

Test(tls, client_hello_in_two_records_sni_in_second) {
    /* the first record ends at offset 105, inside signature_algorithms */
    uint8_t *b = split_records(100);
    size_t off, sni_len;
    cr_assert_eq(sni_of(b, CH_LEN + 5, &off, &sni_len), EMB_X_TRUNCATED);
    free(b);
    /* the first record ends at 110, inside the server_name extension's header */
    b = split_records(OFF_SNI_TYPE + 2 - 5);
    cr_assert_eq(sni_of(b, CH_LEN + 5, &off, &sni_len), EMB_X_TRUNCATED);
    free(b);
    /* the first record ends one byte before the end of the name */
    b = split_records(OFF_SNI_END - 1 - 5);
    cr_assert_eq(sni_of(b, CH_LEN + 5, &off, &sni_len), EMB_X_TRUNCATED);
    free(b);
}

Test(tls, client_hello_in_two_records_sni_in_first) {
    /* the first record ends right after the server_name extension */
    uint8_t *b = split_records(OFF_SNI_END - 5);
    size_t off = 0, sni_len = 0;
    cr_assert_eq(sni_of(b, CH_LEN + 5, &off, &sni_len), EMB_X_OK);
    cr_assert_eq(off, OFF_SNI_NAME);
    cr_assert_eq(sni_len, 11);
    free(b);
}

/* ---- emb__tls_client_hello: a ClientHello body and its JA4 --------------- */

/*
 * The ClientHello body (after the 4-byte handshake header) of Chrome to
 * clientservices.googleapis.com, stream 0 of pcap/tls-sni.pcapng in
 * github.com/FoxIO-LLC/ja4 (commit 0e54bc83), whose JA4 that repository
 * publishes in rust/ja4/src/snapshots/ja4__insta@tls-sni.pcapng.snap:
 * t13d1516h2_8daaf6152771_e5627efa2ab1, the example of the JA4 spec. 508 bytes:
 *
 *   0  client_version 3.3, random
 *  34  session_id: 32 bytes
 *  67  cipher_suites: 32 bytes, 16 suites: GREASE 0xaaaa, then 1301 1302 1303
 *      c02b c02f c02c c030 cca9 cca8 c013 c014 009c 009d 002f 0035
 * 101  compression_methods: null
 * 103  extensions: 403 bytes, 19: GREASE 0x9a9a, 0000 server_name
 *      "clientservices.googleapis.com" (name at 256), ff01, 0033 key_share,
 *      002d, 0005, 4469 ALPS, 000d signature_algorithms (0403 0804 0401 0503
 *      0805 0501 0806 0601), 0010 ALPN "h2" "http/1.1" (first name at 214),
 *      0023, 001b, 002b supported_versions (GREASE 0x0a0a, 0304, 0303), 0012,
 *      000a, 0017, 000b, GREASE 0x6a6a, 0015 padding (zeros)
 */
/* clang-format off */
static const uint8_t chrome_hello[508] = {
    0x03, 0x03, 0x0f, 0x9e, 0x38, 0xac, 0xb9, 0xa5, 0x4a, 0x7c, 0x6e, 0x00, 0xe2, 0x9a, 0x70, 0xac,
    0x2f, 0xee, 0xe1, 0x80, 0xff, 0x76, 0xd7, 0xf2, 0x5d, 0xca, 0x84, 0x93, 0x2a, 0x66, 0xa4, 0x2d,
    0x1e, 0x5a, 0x20, 0xbc, 0x58, 0xb9, 0x2f, 0x86, 0x5e, 0x6b, 0x9a, 0xa4, 0xa6, 0x37, 0x1c, 0xad,
    0xcb, 0x0a, 0xfe, 0x1d, 0xa1, 0xc0, 0xf7, 0x05, 0x20, 0x9a, 0x11, 0xd5, 0x23, 0x57, 0xf5, 0x6d,
    0x5d, 0xd9, 0x62, 0x00, 0x20, 0xaa, 0xaa, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0,
    0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00,
    0x9d, 0x00, 0x2f, 0x00, 0x35, 0x01, 0x00, 0x01, 0x93, 0x9a, 0x9a, 0x00, 0x00, 0xff, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x33, 0x00, 0x2b, 0x00, 0x29, 0x0a, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x1d, 0x00,
    0x20, 0xcf, 0x55, 0xaf, 0x26, 0x03, 0xe9, 0x2f, 0x59, 0xeb, 0x32, 0x17, 0x79, 0x70, 0x6a, 0x18,
    0xfa, 0x6b, 0x96, 0xb1, 0x6c, 0x16, 0x40, 0x4c, 0x22, 0x64, 0xed, 0x68, 0x7a, 0x59, 0x40, 0x18,
    0x78, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x44, 0x69, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32, 0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04,
    0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01, 0x00,
    0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e,
    0x31, 0x00, 0x23, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x03, 0x02, 0x00, 0x02, 0x00, 0x2b, 0x00, 0x07,
    0x06, 0x0a, 0x0a, 0x03, 0x04, 0x03, 0x03, 0x00, 0x00, 0x00, 0x22, 0x00, 0x20, 0x00, 0x00, 0x1d,
    0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x73, 0x2e, 0x67,
    0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x61, 0x70, 0x69, 0x73, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x12, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x0a, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00,
    0x17, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x6a, 0x6a, 0x00, 0x01, 0x00, 0x00, 0x15,
    0x00, 0xba, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* clang-format on */
#define CHROME_SNI_OFF 256
#define CHROME_ALPN_OFF 214
#define CHROME_AFTER_COMPRESSION 103
#define CHROME_JA4 "t13d1516h2_8daaf6152771_e5627efa2ab1"

/*
 * The ClientHello body of a TLS 1.2 client to www.cloudflare.com, the first
 * of pcap/tls-alpn-h2.pcap in github.com/FoxIO-LLC/ja4 (commit 0e54bc83);
 * published JA4 (rust/ja4/src/snapshots/ja4__insta@tls-alpn-h2.pcap.snap):
 * t12d4605h2_85626a9a5f7f_aaf95bb78ec9. 228 bytes: client_version 3.3,
 * random, empty session_id, 46 cipher suites (c030 c02c c028 ... 00ff), null
 * compression, 5 extensions: server_name "www.cloudflare.com", ec_point_formats,
 * supported_groups, signature_algorithms (13, among them 0xefef 0xeeee 0xeded,
 * which are not GREASE), ALPN "h2" "http/1.1". No supported_versions.
 */
/* clang-format off */
static const uint8_t cloudflare_hello[228] = {
    0x03, 0x03, 0x85, 0x82, 0x26, 0xc0, 0x4f, 0xba, 0xed, 0xde, 0xf4, 0x24, 0x60, 0x93, 0xb4, 0xcf,
    0xda, 0xb3, 0x8f, 0x9d, 0xcf, 0xef, 0x14, 0x53, 0x60, 0xe4, 0x17, 0x68, 0x65, 0x75, 0xca, 0xc4,
    0x9c, 0x70, 0x00, 0x00, 0x5c, 0xc0, 0x30, 0xc0, 0x2c, 0xc0, 0x28, 0xc0, 0x24, 0xc0, 0x14, 0xc0,
    0x0a, 0x00, 0x9f, 0x00, 0x6b, 0x00, 0x39, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xff, 0x85, 0x00,
    0xc4, 0x00, 0x88, 0x00, 0x81, 0x00, 0x9d, 0x00, 0x3d, 0x00, 0x35, 0x00, 0xc0, 0x00, 0x84, 0xc0,
    0x2f, 0xc0, 0x2b, 0xc0, 0x27, 0xc0, 0x23, 0xc0, 0x13, 0xc0, 0x09, 0x00, 0x9e, 0x00, 0x67, 0x00,
    0x33, 0x00, 0xbe, 0x00, 0x45, 0x00, 0x9c, 0x00, 0x3c, 0x00, 0x2f, 0x00, 0xba, 0x00, 0x41, 0xc0,
    0x11, 0xc0, 0x07, 0x00, 0x05, 0x00, 0x04, 0xc0, 0x12, 0xc0, 0x08, 0x00, 0x16, 0x00, 0x0a, 0x00,
    0xff, 0x01, 0x00, 0x00, 0x5f, 0x00, 0x00, 0x00, 0x17, 0x00, 0x15, 0x00, 0x00, 0x12, 0x77, 0x77,
    0x77, 0x2e, 0x63, 0x6c, 0x6f, 0x75, 0x64, 0x66, 0x6c, 0x61, 0x72, 0x65, 0x2e, 0x63, 0x6f, 0x6d,
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17,
    0x00, 0x18, 0x00, 0x0d, 0x00, 0x1c, 0x00, 0x1a, 0x06, 0x01, 0x06, 0x03, 0xef, 0xef, 0x05, 0x01,
    0x05, 0x03, 0x04, 0x01, 0x04, 0x03, 0xee, 0xee, 0xed, 0xed, 0x03, 0x01, 0x03, 0x03, 0x02, 0x01,
    0x02, 0x03, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70,
    0x2f, 0x31, 0x2e, 0x31,
};
/* clang-format on */
#define CLOUDFLARE_JA4 "t12d4605h2_85626a9a5f7f_aaf95bb78ec9"

/* Runs emb__tls_client_hello on a copy of p[0, len) in a buffer of exactly
 * len bytes, so ASan sees any read past the end; checks that every slice lies
 * inside it. */
static emb_x_result_t hello_of(const uint8_t *p, size_t len, bool quic, emb_tls_hello_t *h) {
    uint8_t *b = malloc(len ? len : 1);
    cr_assert_not_null(b);
    memcpy(b, p, len);
    emb_x_result_t r = emb__tls_client_hello(b, len, quic, h);
    if (h->sni)
        cr_assert(h->sni >= b && h->sni + h->sni_len <= b + len, "SNI outside the buffer");
    if (h->alpn)
        cr_assert(h->alpn >= b && h->alpn + h->alpn_len <= b + len, "ALPN outside the buffer");
    cr_assert(memchr(h->ja4, '\0', sizeof(h->ja4)) != NULL, "ja4 not terminated");
    /* the slices point into b, about to be freed: keep offsets instead */
    if (h->sni)
        h->sni = p + (h->sni - b);
    if (h->alpn)
        h->alpn = p + (h->alpn - b);
    free(b);
    return r;
}

Test(tls_hello, chrome_ja4_and_fields) {
    emb_tls_hello_t h;
    cr_assert_eq(hello_of(chrome_hello, sizeof(chrome_hello), false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, CHROME_JA4);
    cr_assert_eq(h.sni, chrome_hello + CHROME_SNI_OFF);
    cr_assert_eq(h.sni_len, 29);
    cr_assert_arr_eq(h.sni, "clientservices.googleapis.com", 29);
    cr_assert_eq(h.alpn, chrome_hello + CHROME_ALPN_OFF);
    cr_assert_eq(h.alpn_len, 2);
    cr_assert_eq(h.legacy_version, 0x0303);
    cr_assert_eq(h.max_version, 0x0304);
    cr_assert(h.has_sni && h.has_alpn);
    cr_assert_eq(h.ciphers_n, 15);    /* 16 less GREASE */
    cr_assert_eq(h.extensions_n, 16); /* 18 less two GREASE */
    cr_assert_eq(h.sigalgs_n, 8);
}

Test(tls_hello, quic_prefix) {
    emb_tls_hello_t h;
    cr_assert_eq(emb__tls_client_hello(chrome_hello, sizeof(chrome_hello), true, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

Test(tls_hello, tls12_without_supported_versions) {
    emb_tls_hello_t h;
    cr_assert_eq(hello_of(cloudflare_hello, sizeof(cloudflare_hello), false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, CLOUDFLARE_JA4);
    cr_assert_eq(h.max_version, 0);
    cr_assert_eq(h.ciphers_n, 46);
    cr_assert_eq(h.extensions_n, 5);
    cr_assert_eq(h.sigalgs_n, 13);
    cr_assert_arr_eq(h.sni, "www.cloudflare.com", 18);
}

Test(tls_hello, record_example_ja4) {
    /* the record test vector above, as a body: client_hello from offset 9.
     * Expected value worked out independently from the spec with Python:
     * "t13d0205" "00" _ sha256("1301,1302")[:12]
     * _ sha256("000a,000b,000d,002b_0403")[:12] */
    emb_tls_hello_t h;
    cr_assert_eq(emb__tls_client_hello(client_hello + 9, CH_LEN - 9, false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, "t13d020500_62ed6f6ca7ad_5e519ef2b8a0");
    cr_assert_eq(h.sni, client_hello + OFF_SNI_NAME);
}

Test(tls_hello, non_alphanumeric_alpn_uses_hex) {
    /* chrome_hello with the first ALPN name "h2" changed to 0xba 0xff, as in
     * FoxIO's pcap/tls-non-ascii-alpn.pcapng. The JA4 spec (JA4.md, "ALPN
     * Extension Value") now prints the first and last hex digit: "bf". (That
     * repository's own tools still print "99" for this capture, an older rule.) */
    uint8_t b[sizeof(chrome_hello)];
    memcpy(b, chrome_hello, sizeof(b));
    b[CHROME_ALPN_OFF] = 0xba;
    b[CHROME_ALPN_OFF + 1] = 0xff;
    emb_tls_hello_t h;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(b), false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, "t13d1516bf_8daaf6152771_e5627efa2ab1");
}

/* A minimal ClientHello body whose only extension is ALPN with one name
 * `name` (n bytes); returns its length. */
static size_t hello_with_alpn(uint8_t *b, const uint8_t *name, size_t n) {
    size_t off = 0;
    b[off++] = 0x03; /* client_version 3.3 */
    b[off++] = 0x03;
    memset(b + off, 0, 32); /* random */
    off += 32;
    b[off++] = 0x00; /* session_id: empty */
    b[off++] = 0x00; /* cipher_suites: 0x1301 */
    b[off++] = 0x02;
    b[off++] = 0x13;
    b[off++] = 0x01;
    b[off++] = 0x01; /* compression: null */
    b[off++] = 0x00;
    b[off++] = 0x00; /* extensions length */
    b[off++] = (uint8_t)(4 + 3 + n);
    b[off++] = 0x00; /* ALPN, length 3 + n */
    b[off++] = 0x10;
    b[off++] = 0x00;
    b[off++] = (uint8_t)(3 + n);
    b[off++] = 0x00; /* list length 1 + n */
    b[off++] = (uint8_t)(1 + n);
    b[off++] = (uint8_t)n;
    memcpy(b + off, name, n);
    return off + n;
}

Test(tls_hello, alpn_examples_of_the_spec) {
    /* JA4.md "ALPN Extension Value": each name and its two characters */
    static const struct {
        const char *name; /* bytes, n of them */
        size_t n;
        const char *want;
    } ex[] = {
        {"h2", 2, "h2"},
        {"http/1.1", 8, "h1"},
        {"a", 1, "aa"},
        {"\xab", 1, "ab"},
        {"\x20", 1, "20"},
        {"\xab\xcd", 2, "ad"},
        {"\x20\x61", 2, "21"},
        {"\x30\xab", 2, "3b"},
        {"\x61\x20", 2, "60"},
        {"\x30\x31\xab\xcd", 4, "3d"},
        {"\x30\xab\xcd\x31", 4, "01"},
        {"", 0, "00"},
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        uint8_t b[128];
        size_t n = hello_with_alpn(b, (const uint8_t *)ex[i].name, ex[i].n);
        emb_tls_hello_t h;
        cr_assert_eq(emb__tls_client_hello(b, n, false, &h), EMB_X_OK, "example %zu", i);
        /* t12i0101 then the two ALPN characters */
        cr_assert_arr_eq(h.ja4, "t12i0101", 8, "example %zu: %s", i, h.ja4);
        cr_assert_arr_eq(h.ja4 + 8, ex[i].want, 2, "example %zu: %s", i, h.ja4);
    }
}

Test(tls_hello, grease_is_left_out) {
    /* chrome_hello with its GREASE cipher 0xaaaa changed to another GREASE
     * value, 0x1a1a: the same JA4 */
    uint8_t b[sizeof(chrome_hello)];
    memcpy(b, chrome_hello, sizeof(b));
    cr_assert(b[69] == 0xaa && b[70] == 0xaa);
    b[69] = b[70] = 0x1a;
    emb_tls_hello_t h;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(b), false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, CHROME_JA4);
    /* 0xaaab is no GREASE value: 16 ciphers, another hash */
    b[69] = 0xaa;
    b[70] = 0xab;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(b), false, &h), EMB_X_OK);
    cr_assert_eq(h.ciphers_n, 16);
    cr_assert_arr_eq(h.ja4, "t13d1616h2_", 11);
    cr_assert_arr_neq(h.ja4 + 11, "8daaf6152771", 12);
    /* the first extension, GREASE 0x9a9a, as 0xfafa: the same JA4 */
    memcpy(b, chrome_hello, sizeof(b));
    cr_assert(b[105] == 0x9a && b[106] == 0x9a);
    b[105] = b[106] = 0xfa;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(b), false, &h), EMB_X_OK);
    cr_assert_str_eq(h.ja4, CHROME_JA4);
}

Test(tls_hello, cut_at_every_length) {
    for (size_t len = 0; len <= sizeof(chrome_hello); len++) {
        emb_tls_hello_t h;
        emb_x_result_t r = hello_of(chrome_hello, len, false, &h);
        if (len == sizeof(chrome_hello)) {
            cr_assert_eq(r, EMB_X_OK);
        } else if (len == CHROME_AFTER_COMPRESSION) {
            /* ends where a ClientHello without extensions may end */
            cr_assert_eq(r, EMB_X_OK, "len %zu: %d", len, r);
            cr_assert_arr_eq(h.ja4, "t12i1500", 8);
        } else {
            cr_assert_eq(r, EMB_X_TRUNCATED, "len %zu: %d", len, r);
            cr_assert_str_eq(h.ja4, "");
            /* extensions that arrived whole are read */
            if (len >= CHROME_SNI_OFF + 29)
                cr_assert_eq(h.sni, chrome_hello + CHROME_SNI_OFF, "len %zu", len);
        }
    }
}

Test(tls_hello, invalid_structures) {
    uint8_t b[sizeof(chrome_hello) + 1];
    emb_tls_hello_t h;
    /* a byte after the extensions block */
    memcpy(b, chrome_hello, sizeof(chrome_hello));
    b[sizeof(chrome_hello)] = 0;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(b), false, &h), EMB_X_INVALID);
    /* session_id length 33 */
    memcpy(b, chrome_hello, sizeof(chrome_hello));
    b[34] = 33;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(chrome_hello), false, &h), EMB_X_INVALID);
    /* cipher_suites length odd: 31 */
    memcpy(b, chrome_hello, sizeof(chrome_hello));
    b[68] = 31;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(chrome_hello), false, &h), EMB_X_INVALID);
    /* the first extension (GREASE, length 0) claims 0x0200 bytes, more than
     * the block holds */
    memcpy(b, chrome_hello, sizeof(chrome_hello));
    b[107] = 0x02;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(chrome_hello), false, &h), EMB_X_INVALID);
    /* ALPN's list length one short of the extension (0x0d for 0x0e) */
    memcpy(b, chrome_hello, sizeof(chrome_hello));
    cr_assert_eq(b[CHROME_ALPN_OFF - 2], 0x0c);
    b[CHROME_ALPN_OFF - 2] = 0x0b;
    cr_assert_eq(emb__tls_client_hello(b, sizeof(chrome_hello), false, &h), EMB_X_INVALID);
}

Test(tls_hello, random_changes_never_read_outside) {
    /* 20000 copies of chrome_hello, each with 1 to 4 bytes set at random
     * (fixed seed); any result is fine as long as nothing is read past the
     * buffer (ASan) and the slices stay inside it */
    uint8_t b[sizeof(chrome_hello)];
    srand(4200);
    for (int i = 0; i < 20000; i++) {
        memcpy(b, chrome_hello, sizeof(b));
        int k = 1 + rand() % 4;
        for (int j = 0; j < k; j++)
            b[(size_t)rand() % sizeof(b)] = (uint8_t)rand();
        size_t len = (i % 3) ? sizeof(b) : (size_t)rand() % (sizeof(b) + 1);
        emb_tls_hello_t h;
        emb_x_result_t r = hello_of(b, len, i % 2, &h);
        cr_assert(r == EMB_X_OK || r == EMB_X_TRUNCATED || r == EMB_X_INVALID);
        if (r == EMB_X_OK)
            cr_assert_eq(strlen(h.ja4), 36, "%s", h.ja4);
    }
}
