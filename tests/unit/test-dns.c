/*
 * Unit tests for dns.c: emb__dns_parse (header and questions),
 * emb__dns_name (labels, compression, escaping), emb__dns_answer_addrs and
 * emb__dns_rrtype_name.
 *
 * Covered: a plain query; a compressed second question; pointers forwards,
 * to themselves, in loops and in backward chains; the 255-octet limit on
 * wire names; bytes rendered as \DDD; the root; messages and names cut
 * short; unassigned opcodes; more questions announced than present; an
 * output buffer too small.
 */
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <string.h>

/* Query id 0xabcd, RD, one question: www.example.com A IN. */
/* clang-format off */
static const uint8_t query_www[] = {
    0xab, 0xcd, 0x01, 0x00, /* id 0xabcd, flags: QR=0 opcode 0 RD=1 */
    0x00, 0x01, 0x00, 0x00, /* qdcount 1, ancount 0 */
    0x00, 0x00, 0x00, 0x00, /* nscount 0, arcount 0 */
    /* offset 12: 3 "www" 7 "example" 3 "com" 0 */
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
    0x00, 0x01, 0x00, 0x01 /* qtype 1 A, qclass 1 IN */
};
/* clang-format on */

/* Response id 0x1234 with two questions, the second compressed:
 * www.example.com A, then mail.example.com MX as 4 "mail" + pointer to 16. */
/* clang-format off */
static const uint8_t response_two_questions[] = {
    0x12, 0x34, 0x81, 0x80, /* id 0x1234, flags: QR=1 opcode 0 RD=1 RA=1 */
    0x00, 0x02, 0x00, 0x00, /* qdcount 2, ancount 0 */
    0x00, 0x00, 0x00, 0x00,
    /* offset 12: 3 "www", offset 16: 7 "example", offset 24: 3 "com", 0 */
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
    0x00, 0x01, 0x00, 0x01,                 /* A IN */
    0x04, 'm', 'a', 'i', 'l', 0xc0, 0x10,   /* offset 33: 4 "mail", pointer to 16 */
    0x00, 0x0f, 0x00, 0x01                  /* MX IN */
};
/* clang-format on */

/* A 12-byte header (id 0, one question) for tests that append their own name. */
static const uint8_t hdr_one_q[12] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/* Decodes the name at `off` of msg, expecting `want` (a result) and, when OK,
 * `text` and the offset after the name. */
static void expect_name(const uint8_t *msg, size_t len, size_t off, emb_x_result_t want,
                        const char *text, size_t next_off) {
    char out[EMB_DNS_NAME_MAX];
    size_t out_len = 0, o = off;
    emb_x_result_t r = emb__dns_name(msg, len, &o, out, sizeof(out), &out_len);
    cr_assert_eq(r, want, "name at %zu: result %d, want %d", off, r, want);
    if (want == EMB_X_OK) {
        cr_assert_str_eq(out, text);
        cr_assert_eq(out_len, strlen(text));
        cr_assert_eq(o, next_off, "offset after the name: %zu, want %zu", o, next_off);
    }
}

/* ---- header and questions ------------------------------------------------ */

Test(dns, simple_query) {
    emb_dns_header_t h;
    emb_dns_question_t q[EMB_DNS_MAX_QUESTIONS];
    size_t nq = 99;
    cr_assert_eq(emb__dns_parse(query_www, sizeof(query_www), &h, q, EMB_DNS_MAX_QUESTIONS, &nq),
                 EMB_X_OK);
    cr_assert_eq(h.id, 0xabcd);
    cr_assert_not(h.qr);
    cr_assert_eq(h.opcode, 0);
    cr_assert(h.rd);
    cr_assert_eq(h.qdcount, 1);
    cr_assert_eq(h.ancount, 0);
    cr_assert_eq(nq, 1);
    cr_assert_str_eq(q[0].name, "www.example.com");
    cr_assert_eq(q[0].name_len, 15);
    cr_assert_eq(q[0].qtype, 1);
}

Test(dns, header_flags_and_opcode) {
    /* query_www with flags 0x2800: QR=0, opcode 5 (UPDATE), RD=0 */
    uint8_t msg[sizeof(query_www)];
    memcpy(msg, query_www, sizeof(msg));
    msg[2] = 0x28;
    msg[3] = 0x00;
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq;
    cr_assert_eq(emb__dns_parse(msg, sizeof(msg), &h, q, 1, &nq), EMB_X_OK);
    cr_assert_eq(h.opcode, 5);
    cr_assert_not(h.rd);
    cr_assert_not(h.qr);
}

Test(dns, compressed_second_question) {
    emb_dns_header_t h;
    emb_dns_question_t q[EMB_DNS_MAX_QUESTIONS];
    size_t nq;
    cr_assert_eq(emb__dns_parse(response_two_questions, sizeof(response_two_questions), &h, q,
                                EMB_DNS_MAX_QUESTIONS, &nq),
                 EMB_X_OK);
    cr_assert_eq(h.id, 0x1234);
    cr_assert(h.qr);
    cr_assert(h.rd);
    cr_assert_eq(h.qdcount, 2);
    cr_assert_eq(nq, 2);
    cr_assert_str_eq(q[0].name, "www.example.com");
    cr_assert_eq(q[0].qtype, 1);
    cr_assert_str_eq(q[1].name, "mail.example.com");
    cr_assert_eq(q[1].name_len, 16);
    cr_assert_eq(q[1].qtype, 15);
}

Test(dns, max_limits_questions) {
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq;
    cr_assert_eq(
        emb__dns_parse(response_two_questions, sizeof(response_two_questions), &h, q, 1, &nq),
        EMB_X_OK);
    cr_assert_eq(nq, 1);
    cr_assert_str_eq(q[0].name, "www.example.com");
}

Test(dns, qdcount_larger_than_present) {
    /* query_www announcing 3 questions; only one is there */
    uint8_t msg[sizeof(query_www)];
    memcpy(msg, query_www, sizeof(msg));
    msg[5] = 3;
    emb_dns_header_t h;
    emb_dns_question_t q[EMB_DNS_MAX_QUESTIONS];
    size_t nq;
    cr_assert_eq(emb__dns_parse(msg, sizeof(msg), &h, q, EMB_DNS_MAX_QUESTIONS, &nq), EMB_X_OK);
    cr_assert_eq(h.qdcount, 3);
    cr_assert_eq(nq, 1);
    cr_assert_str_eq(q[0].name, "www.example.com");
}

Test(dns, qdcount_one_none_present_truncated) {
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq = 99;
    cr_assert_eq(emb__dns_parse(hdr_one_q, sizeof(hdr_one_q), &h, q, 1, &nq), EMB_X_TRUNCATED);
    cr_assert_eq(nq, 0);
}

Test(dns, question_without_qclass_truncated) {
    /* query_www without its last two bytes (qclass) */
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq = 99;
    cr_assert_eq(emb__dns_parse(query_www, sizeof(query_www) - 2, &h, q, 1, &nq), EMB_X_TRUNCATED);
    cr_assert_eq(nq, 0);
}

Test(dns, shorter_than_header_truncated) {
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    for (size_t len = 0; len < 12; len++) {
        size_t nq = 99;
        cr_assert_eq(emb__dns_parse(query_www, len, &h, q, 1, &nq), EMB_X_TRUNCATED, "len %zu",
                     len);
        cr_assert_eq(nq, 0);
    }
}

Test(dns, cut_at_every_length) {
    /* Never a crash; TRUNCATED until the whole question is there, then OK. */
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    for (size_t len = 0; len <= sizeof(query_www); len++) {
        size_t nq;
        emb_x_result_t r = emb__dns_parse(query_www, len, &h, q, 1, &nq);
        if (len < sizeof(query_www)) {
            cr_assert_eq(r, EMB_X_TRUNCATED, "len %zu: %d", len, r);
            cr_assert_eq(nq, 0);
        } else {
            cr_assert_eq(r, EMB_X_OK);
            cr_assert_eq(nq, 1);
        }
    }
}

Test(dns, opcode_15_invalid) {
    /* query_www with flags 0x7900: opcode 15, RD */
    uint8_t msg[sizeof(query_www)];
    memcpy(msg, query_www, sizeof(msg));
    msg[2] = 0x79;
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq;
    cr_assert_eq(emb__dns_parse(msg, sizeof(msg), &h, q, 1, &nq), EMB_X_INVALID);
    cr_assert_eq(nq, 0);
}

Test(dns, root_name) {
    /* header, then the root name (a single 0), qtype 2 NS, qclass IN: a priming query */
    uint8_t msg[12 + 5];
    memcpy(msg, hdr_one_q, 12);
    static const uint8_t root_ns[5] = {0x00, 0x00, 0x02, 0x00, 0x01};
    memcpy(msg + 12, root_ns, 5);
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq;
    cr_assert_eq(emb__dns_parse(msg, sizeof(msg), &h, q, 1, &nq), EMB_X_OK);
    cr_assert_eq(nq, 1);
    cr_assert_str_eq(q[0].name, ".");
    cr_assert_eq(q[0].name_len, 1);
    cr_assert_eq(q[0].qtype, 2);
}

/* ---- names and compression ---------------------------------------------- */

Test(dns, name_offset_moves_past_the_name) {
    expect_name(query_www, sizeof(query_www), 12, EMB_X_OK, "www.example.com", 29);
    /* with a pointer, the name ends after the pointer, not where it points */
    expect_name(response_two_questions, sizeof(response_two_questions), 33, EMB_X_OK,
                "mail.example.com", 40);
}

Test(dns, pointer_forward_invalid) {
    /* header, then at 12 a pointer to 14 (forward), where "a" 0 sits */
    uint8_t msg[12 + 5];
    memcpy(msg, hdr_one_q, 12);
    static const uint8_t fwd[5] = {0xc0, 0x0e, 0x01, 'a', 0x00};
    memcpy(msg + 12, fwd, 5);
    expect_name(msg, sizeof(msg), 12, EMB_X_INVALID, NULL, 0);
}

Test(dns, pointer_to_itself_invalid) {
    /* header, then at 12 a pointer to 12 */
    uint8_t msg[12 + 2];
    memcpy(msg, hdr_one_q, 12);
    msg[12] = 0xc0;
    msg[13] = 0x0c;
    expect_name(msg, sizeof(msg), 12, EMB_X_INVALID, NULL, 0);
    emb_dns_header_t h;
    emb_dns_question_t q[1];
    size_t nq;
    cr_assert_eq(emb__dns_parse(msg, sizeof(msg), &h, q, 1, &nq), EMB_X_INVALID);
}

Test(dns, pointer_loop_through_labels_invalid) {
    /* at 12: 1 "a", then at 14 a pointer back to 12. The pointer points
     * backwards, but reading on from 12 reaches it again: a loop. */
    uint8_t msg[12 + 4];
    memcpy(msg, hdr_one_q, 12);
    static const uint8_t loop[4] = {0x01, 'a', 0xc0, 0x0c};
    memcpy(msg + 12, loop, 4);
    expect_name(msg, sizeof(msg), 12, EMB_X_INVALID, NULL, 0);
}

Test(dns, chained_backward_pointers) {
    uint8_t msg[12 + 25];
    memcpy(msg, hdr_one_q, 12);
    /* clang-format off */
    static const uint8_t names[25] = {
        0x03, 'c', 'o', 'm', 0x00,                          /* 12: "com" */
        0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0xc0, 0x0c, /* 17: "example" -> 12 */
        0x03, 'w', 'w', 'w', 0xc0, 0x11,                     /* 27: "www" -> 17 */
        0xc0, 0x1b,                                          /* 33: -> 27 */
        0xc0, 0x21                                           /* 35: -> 33 */
    };
    /* clang-format on */
    memcpy(msg + 12, names, sizeof(names));
    expect_name(msg, sizeof(msg), 12, EMB_X_OK, "com", 17);
    expect_name(msg, sizeof(msg), 17, EMB_X_OK, "example.com", 27);
    expect_name(msg, sizeof(msg), 27, EMB_X_OK, "www.example.com", 33);
    expect_name(msg, sizeof(msg), 33, EMB_X_OK, "www.example.com", 35);
    expect_name(msg, sizeof(msg), 35, EMB_X_OK, "www.example.com", 37);
}

/* Writes a name of labels of the given lengths (filled with 'a'..) and a 0
 * at msg + 12 after the header; returns the message length. */
static size_t name_of_labels(uint8_t *msg, const size_t *labels, size_t n) {
    memcpy(msg, hdr_one_q, 12);
    size_t o = 12;
    for (size_t i = 0; i < n; i++) {
        msg[o++] = (uint8_t)labels[i];
        memset(msg + o, 'a' + (int)i, labels[i]);
        o += labels[i];
    }
    msg[o++] = 0;
    return o;
}

Test(dns, wire_name_of_255_octets_ok) {
    /* 63+63+63+61 label bytes, 4 length octets and the final 0: 255 octets */
    uint8_t msg[12 + 300];
    static const size_t labels[] = {63, 63, 63, 61};
    size_t len = name_of_labels(msg, labels, 4);
    cr_assert_eq(len - 12, 255);
    char out[EMB_DNS_NAME_MAX];
    size_t out_len, off = 12;
    cr_assert_eq(emb__dns_name(msg, len, &off, out, sizeof(out), &out_len), EMB_X_OK);
    cr_assert_eq(out_len, 63 + 1 + 63 + 1 + 63 + 1 + 61);
    cr_assert_eq(off, len);
}

Test(dns, wire_name_over_255_octets_invalid) {
    /* 63+63+63+62: 256 octets with the lengths and the final 0 (RFC 1035
     * section 2.3.4: 255 octets or less) */
    uint8_t msg[12 + 300];
    static const size_t labels[] = {63, 63, 63, 62};
    size_t len = name_of_labels(msg, labels, 4);
    cr_assert_eq(len - 12, 256);
    expect_name(msg, len, 12, EMB_X_INVALID, NULL, 0);

    /* four labels of 63: 257 octets */
    static const size_t labels4[] = {63, 63, 63, 63};
    len = name_of_labels(msg, labels4, 4);
    expect_name(msg, len, 12, EMB_X_INVALID, NULL, 0);
}

Test(dns, wire_name_over_255_through_pointers_invalid) {
    /* at 12: 63 'a' and 0 (65 octets); at 77: 63 'b' -> 12; at 143: 63 'c' -> 77;
     * at 209: 63 'd' -> 143. The name at 209 is 4*64 + 1 = 257 octets. */
    uint8_t msg[12 + 65 + 3 * 66];
    memcpy(msg, hdr_one_q, 12);
    msg[12] = 63;
    memset(msg + 13, 'a', 63);
    msg[76] = 0;
    for (int i = 0; i < 3; i++) {
        size_t o = 77 + (size_t)i * 66, prev = i == 0 ? 12 : 77 + (size_t)(i - 1) * 66;
        msg[o] = 63;
        memset(msg + o + 1, 'b' + i, 63);
        msg[o + 64] = (uint8_t)(0xc0 | prev >> 8);
        msg[o + 65] = (uint8_t)(prev & 0xff);
    }
    char out[EMB_DNS_NAME_MAX];
    size_t out_len, off = 143;
    /* the name at 143 is 3*64 + 1 = 193 octets: fine */
    cr_assert_eq(emb__dns_name(msg, sizeof(msg), &off, out, sizeof(out), &out_len), EMB_X_OK);
    cr_assert_eq(out_len, 3 * 63 + 2);
    cr_assert_eq(off, 209);
    expect_name(msg, sizeof(msg), 209, EMB_X_INVALID, NULL, 0);
}

Test(dns, special_label_bytes_escaped) {
    /* header, then 3 "a.b" 2 "\\x" ... each label one case, followed by 0 */
    const struct {
        const uint8_t *label;
        size_t len;
        const char *text;
        /* clang-format off */
    } cases[] = {
        {(const uint8_t *)"a.b", 3, "a\\046b"},          /* a dot inside a label */
        {(const uint8_t *)"a\\b", 3, "a\\092b"},         /* a backslash */
        {(const uint8_t *)"a\0b", 3, "a\\000b"},         /* NUL */
        {(const uint8_t *)"a\377b", 3, "a\\255b"},       /* 0xff */
        {(const uint8_t *)"a b", 3, "a\\032b"},          /* space */
        {(const uint8_t *)"a\177b", 3, "a\\127b"},       /* DEL */
        {(const uint8_t *)"a~!b", 4, "a~!b"},            /* printable: as is */
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t msg[12 + 16];
        memcpy(msg, hdr_one_q, 12);
        msg[12] = (uint8_t)cases[i].len;
        memcpy(msg + 13, cases[i].label, cases[i].len);
        msg[13 + cases[i].len] = 0;
        char out[EMB_DNS_NAME_MAX];
        size_t out_len, off = 12;
        cr_assert_eq(emb__dns_name(msg, 14 + cases[i].len, &off, out, sizeof(out), &out_len),
                     EMB_X_OK, "case %zu", i);
        cr_assert_str_eq(out, cases[i].text, "case %zu", i);
        cr_assert_eq(out_len, strlen(cases[i].text));
    }
}

Test(dns, escaped_dot_is_not_a_separator) {
    /* 3 "a.b" 3 "com" 0: two labels, shown as "a\046b.com", unlike 1 "a" 1 "b" 3 "com" */
    /* clang-format off */
    static const uint8_t msg[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x03, 'a',  '.',  'b',  0x03, 'c',
                                  'o',  'm',  0x00};
    /* clang-format on */
    expect_name(msg, sizeof(msg), 12, EMB_X_OK, "a\\046b.com", sizeof(msg));
}

Test(dns, truncated_label) {
    /* 3 "ww": the label says 3 bytes, 2 are there */
    /* clang-format off */
    static const uint8_t cut_label[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x03, 'w',  'w'};
    /* clang-format on */
    expect_name(cut_label, sizeof(cut_label), 12, EMB_X_TRUNCATED, NULL, 0);
    /* the name of query_www without its final 0 */
    expect_name(query_www, 28, 12, EMB_X_TRUNCATED, NULL, 0);
    /* a pointer's first byte only: c0 */
    /* clang-format off */
    static const uint8_t half_ptr[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0xc0};
    /* clang-format on */
    expect_name(half_ptr, sizeof(half_ptr), 12, EMB_X_TRUNCATED, NULL, 0);
    /* nothing at all at the offset */
    expect_name(query_www, 12, 12, EMB_X_TRUNCATED, NULL, 0);
}

Test(dns, obsolete_label_types_invalid) {
    /* 0x41 (label type 01, extended) and 0x81 (type 10) at 12 */
    uint8_t msg[12 + 4];
    memcpy(msg, hdr_one_q, 12);
    static const uint8_t ext[4] = {0x41, 'a', 0x00, 0x00};
    memcpy(msg + 12, ext, 4);
    expect_name(msg, sizeof(msg), 12, EMB_X_INVALID, NULL, 0);
    msg[12] = 0x81;
    expect_name(msg, sizeof(msg), 12, EMB_X_INVALID, NULL, 0);
}

Test(dns, output_buffer_too_small) {
    /* "www.example.com" needs 16 bytes with its NUL; give 8 and check that
     * nothing is written past them. */
    char out[16];
    memset(out, '#', sizeof(out));
    size_t out_len = 0, off = 12;
    cr_assert_eq(emb__dns_name(query_www, sizeof(query_www), &off, out, 8, &out_len),
                 EMB_X_INVALID);
    for (size_t i = 8; i < sizeof(out); i++)
        cr_assert_eq(out[i], '#', "byte %zu written", i);
    /* exactly 16 is enough */
    off = 12;
    cr_assert_eq(emb__dns_name(query_www, sizeof(query_www), &off, out, 16, &out_len), EMB_X_OK);
    cr_assert_str_eq(out, "www.example.com");
}

/* ---- rrtype names ------------------------------------------------------- */

Test(dns, rrtype_names) {
    cr_assert_str_eq(emb__dns_rrtype_name(1), "A");
    cr_assert_str_eq(emb__dns_rrtype_name(2), "NS");
    cr_assert_str_eq(emb__dns_rrtype_name(5), "CNAME");
    cr_assert_str_eq(emb__dns_rrtype_name(12), "PTR");
    cr_assert_str_eq(emb__dns_rrtype_name(15), "MX");
    cr_assert_str_eq(emb__dns_rrtype_name(16), "TXT");
    cr_assert_str_eq(emb__dns_rrtype_name(28), "AAAA");
    cr_assert_str_eq(emb__dns_rrtype_name(33), "SRV");
    cr_assert_str_eq(emb__dns_rrtype_name(65), "HTTPS");
    cr_assert_str_eq(emb__dns_rrtype_name(255), "ANY");
    cr_assert_null(emb__dns_rrtype_name(0));
    cr_assert_null(emb__dns_rrtype_name(99));
    cr_assert_null(emb__dns_rrtype_name(65535));
}

/* ---- answers' addresses without names ------------------------------------ */

/* A response for www.example.com: a CNAME to cdn.example.net, two A records
 * and an AAAA for it, an OPT and an A in the additional section (glue, not an
 * answer): emb__dns_answer_addrs gives the answer section's three addresses,
 * as emb__dns_parse_records does, and stops at a record cut short. */
/* clang-format off */
static const uint8_t response_chain[] = {
    0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
    /* offset 12: www.example.com A IN */
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
    0x00, 0x01, 0x00, 0x01,
    /* offset 33: CNAME to cdn.example.net, its rdata at 45 */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x11,
    0x03, 'c', 'd', 'n', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'n', 'e', 't', 0x00,
    /* offset 62: cdn.example.net A 192.0.2.1, TTL 60 */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 192, 0, 2, 1,
    /* OPT in the answer section (malformed placement): not counted, not an address */
    0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* A 192.0.2.2, TTL 300 */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 192, 0, 2, 2,
    /* AAAA 2001:db8::1, TTL 60 */
    0xc0, 0x2d, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x10,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    /* additional: glue A 198.51.100.9 */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 198, 51, 100, 9,
};
/* clang-format on */

Test(dns, answer_addresses_without_names) {
    emb_dns_addr_t a[EMB_DNS_MAX_RECORDS];
    size_t n = 0;
    cr_assert_eq(emb__dns_answer_addrs(response_chain, sizeof(response_chain), a, &n), EMB_X_OK);
    cr_assert_eq(n, 3);
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    cr_assert(a[0].family == 4 && a[0].ttl == 60 && memcmp(a[0].addr, "\xc0\x00\x02\x01", 4) == 0);
    cr_assert(a[1].family == 4 && a[1].ttl == 300 && memcmp(a[1].addr, "\xc0\x00\x02\x02", 4) == 0);
    cr_assert(a[2].family == 6 && a[2].ttl == 60 && memcmp(a[2].addr, v6, 16) == 0);

    /* the same as the record parser's answers */
    static emb_dns_rr_t rrs[EMB_DNS_MAX_RECORDS];
    size_t nrr = 0, k = 0;
    cr_assert_eq(emb__dns_parse_records(response_chain, sizeof(response_chain), rrs,
                                        EMB_DNS_MAX_RECORDS, &nrr),
                 EMB_X_OK);
    for (size_t i = 0; i < nrr; i++)
        if (rrs[i].section == 1 && rrs[i].family != 0)
            cr_assert_eq(memcmp(rrs[i].addr, a[k++].addr, rrs[i].family == 4 ? 4 : 16), 0);
    cr_assert_eq(k, n);

    /* cut inside the second A: the first address stays */
    size_t cut = 12 + 21 + 29 + 16 + 11 + 10;
    cr_assert_eq(emb__dns_answer_addrs(response_chain, cut, a, &n), EMB_X_OK);
    cr_assert_eq(n, 1);
    /* cut inside the question: nothing */
    cr_assert_eq(emb__dns_answer_addrs(response_chain, 20, a, &n), EMB_X_INVALID);
    cr_assert_eq(n, 0);
    cr_assert_eq(emb__dns_answer_addrs(response_chain, 11, a, &n), EMB_X_TRUNCATED);
}
