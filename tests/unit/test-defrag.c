/*
 * IP fragment reassembly: any order, overlaps (first copy wins), the 64 KiB
 * limit, inconsistent ends, timeouts, a full table, and IPv6.
 */
#include "packet/defrag.h"

#include <criterion/criterion.h>
#include <string.h>

static emb_defrag_t *df;

static void setup(void) {
    cr_assert_eq(emb__defrag_new(4, 1 << 20, 30, &df), 0);
}
static void teardown(void) {
    emb__defrag_free(df);
}

TestSuite(defrag, .init = setup, .fini = teardown);

/* A fragment of datagram `id` from 192.0.2.1 to 192.0.2.2, UDP. */
static emb_decoded_t frag(uint32_t id, uint32_t off, bool more, const void *data, size_t len) {
    emb_decoded_t d;
    memset(&d, 0, sizeof(d));
    d.family = 4;
    uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {192, 0, 2, 2};
    memcpy(d.src, src, 4);
    memcpy(d.dst, dst, 4);
    d.frag_id = id;
    d.frag_off = off;
    d.frag_more = more;
    d.frag_proto = 17;
    d.frag_data = data;
    d.frag_len = len;
    return d;
}

static bool add(emb_decoded_t f, int64_t now, const uint8_t **out, size_t *len) {
    return emb__defrag_add(df, &f, now, out, len);
}

Test(defrag, fragments_in_reverse_order) {
    const uint8_t *out;
    size_t len;
    cr_assert_not(add(frag(7, 16, false, "tail", 4), 0, &out, &len));
    cr_assert_not(add(frag(7, 8, true, "middle..", 8), 0, &out, &len));
    cr_assert(add(frag(7, 0, true, "first...", 8), 0, &out, &len));
    cr_assert_eq(len, 20);
    cr_assert(memcmp(out, "first...middle..tail", 20) == 0);
    cr_assert_eq(emb__defrag_stats(df)->reassembled, 1);
}

Test(defrag, overlap_keeps_the_first_copy) {
    const uint8_t *out;
    size_t len;
    cr_assert_not(add(frag(1, 0, true, "AAAAAAAA", 8), 0, &out, &len));
    /* covers bytes 0..15, disagreeing about 0..7 */
    cr_assert(add(frag(1, 0, false, "BBBBBBBBCCCCCCCC", 16), 0, &out, &len));
    cr_assert(memcmp(out, "AAAAAAAACCCCCCCC", 16) == 0);
    cr_assert_eq(emb__defrag_stats(df)->overlaps, 1);
}

Test(defrag, missing_piece_never_completes) {
    const uint8_t *out;
    size_t len;
    cr_assert_not(add(frag(2, 0, true, "AAAAAAAA", 8), 0, &out, &len));
    cr_assert_not(add(frag(2, 16, false, "CC", 2), 0, &out, &len));
    /* later, past the timeout, the datagram is dropped */
    cr_assert_not(add(frag(3, 0, true, "XXXXXXXX", 8), 100, &out, &len));
    cr_assert_eq(emb__defrag_stats(df)->timeouts, 1);
}

/* A datagram past the timeout on the clock starts afresh when its next fragment
 * comes, even when the reaping at the cold end has not reached it: the old
 * piece is not joined to the new. */
Test(defrag, expired_datagram_found_starts_afresh) {
    const uint8_t *out;
    size_t len;
    /* 8 begins first, at 20 s; 7 after it, with an older time (0 s) */
    cr_assert_not(add(frag(8, 0, true, "newnewne", 8), 20, &out, &len));
    cr_assert_not(add(frag(7, 0, true, "OLDOLDOL", 8), 0, &out, &len));
    emb__defrag_clock(df, 40); /* 40 s: 7 is past 30 s, 8 (the cold end) is not */
    cr_assert_not(add(frag(7, 8, false, "end", 3), 40, &out, &len), "joined to a piece 40 s old");
    cr_assert_eq(emb__defrag_stats(df)->timeouts, 1);
    /* and 7 goes on from the new piece: its start completes it */
    cr_assert(add(frag(7, 0, true, "NEWNEWNE", 8), 41, &out, &len));
    cr_assert_eq(len, 11);
    cr_assert_eq(memcmp(out, "NEWNEWNEend", 11), 0);
}

Test(defrag, absurd_fragments_are_refused) {
    const uint8_t *out;
    size_t len;
    /* ends past 65,535 bytes */
    cr_assert_not(add(frag(4, 65528, false, "0123456789", 10), 0, &out, &len));
    /* a non-final fragment whose length is not a multiple of 8 */
    cr_assert_not(add(frag(5, 0, true, "abc", 3), 0, &out, &len));
    /* two different ends */
    cr_assert_not(add(frag(6, 8, false, "end1", 4), 0, &out, &len));
    cr_assert_not(add(frag(6, 16, false, "end2", 4), 0, &out, &len));
    cr_assert_eq(emb__defrag_stats(df)->invalid, 3);
}

Test(defrag, full_table_evicts_the_oldest) {
    const uint8_t *out;
    size_t len;
    for (uint32_t id = 10; id < 15; id++) /* 5 datagrams, 4 slots */
        add(frag(id, 0, true, "AAAAAAAA", 8), (int64_t)id, &out, &len);
    cr_assert_eq(emb__defrag_stats(df)->evicted, 1);
    /* datagram 10 was evicted: its tail alone does not complete it */
    cr_assert_not(add(frag(10, 8, false, "Z", 1), 15, &out, &len));
    /* datagram 14 is still there */
    cr_assert(add(frag(14, 8, false, "Z", 1), 15, &out, &len));
    cr_assert_eq(len, 9);
}

Test(defrag, ipv6_datagrams_are_kept_apart_by_address) {
    const uint8_t *out;
    size_t len;
    emb_decoded_t a = frag(9, 0, true, "v6v6v6v6", 8);
    a.family = 6;
    memset(a.src, 0x20, 16);
    emb_decoded_t b = frag(9, 8, false, "!", 1);
    b.family = 6;
    memset(b.src, 0x21, 16); /* another sender, same id */
    cr_assert_not(emb__defrag_add(df, &a, 0, &out, &len));
    cr_assert_not(emb__defrag_add(df, &b, 0, &out, &len));
    memset(b.src, 0x20, 16);
    cr_assert(emb__defrag_add(df, &b, 0, &out, &len));
    cr_assert_eq(len, 9);
}

Test(defrag, memory_is_bounded) {
    emb__defrag_free(df);
    cr_assert_eq(emb__defrag_new(4, 4096, 30, &df), 0);
    const uint8_t *out;
    size_t len;
    static uint8_t big[4096];
    cr_assert_not(add(frag(1, 0, true, big, 4096), 0, &out, &len));
    cr_assert_not(add(frag(2, 0, true, big, 4096), 0, &out, &len));
    cr_assert_gt(emb__defrag_stats(df)->memcap_refused, 0);
    cr_assert_leq(emb__defrag_stats(df)->mem_peak, 4096);
}
