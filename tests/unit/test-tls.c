/*
 * Unit tests for extract-tls.c: emb__tls_client_hello_sni.
 *
 * Covered: a ClientHello with several extensions before server_name; no
 * server_name, no extensions at all; records that are not a handshake, and
 * handshakes that are not a ClientHello; a cut at every length (TRUNCATED
 * until the server_name extension is whole, OK after); lengths that overrun
 * the structure around them (INVALID when nothing was cut); and a
 * ClientHello that goes on in a second record.
 */
#include "extract.h"

#include <criterion/criterion.h>
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
    if (r == EMB_X_OK) {
        cr_assert(sni >= b && sni + *sni_len <= b + len, "SNI slice outside the buffer");
        *sni_off = (size_t)(sni - b);
    }
    free(b);
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
