/*
 * TCP reassembly: in-order growth, out-of-order islands, overlaps (first
 * copy wins), retransmissions of old data, sequence wrap, midstream pickup,
 * the depth, and the memory cap.
 */
#include "packet/stream.h"

#include <criterion/criterion.h>
#include <string.h>

static emb_stream_pool_t pool;
static emb_stream_t s;

static void setup(void) {
    memset(&pool, 0, sizeof(pool));
    memset(&s, 0, sizeof(s));
    pool.depth = 64;
    pool.memcap = 1 << 20;
}

static void teardown(void) {
    emb__stream_close(&pool, &s);
    emb__stream_pool_free(&pool);
}

TestSuite(stream, .init = setup, .fini = teardown);

static uint32_t add(uint32_t seq, const char *data) {
    return emb__stream_add(&pool, &s, seq, false, (const uint8_t *)data, strlen(data));
}

Test(stream, syn_sets_the_base_and_data_grows_in_order) {
    cr_assert_eq(emb__stream_add(&pool, &s, 1000, true, NULL, 0), 0);
    cr_assert(s.base_set);
    cr_assert_eq(s.base, 1001);
    cr_assert_eq(add(1001, "hello "), 6);
    cr_assert_eq(add(1007, "world"), 5);
    cr_assert_eq(s.have, 11);
    cr_assert(memcmp(s.buf, "hello world", 11) == 0);
    cr_assert_not(s.midstream);
}

Test(stream, out_of_order_segments_fill_in) {
    emb__stream_add(&pool, &s, 99, true, NULL, 0);
    cr_assert_eq(add(106, "world"), 0, "a gap: nothing contiguous yet");
    cr_assert_eq(s.have, 0);
    cr_assert_eq(pool.stats.out_of_order, 1);
    cr_assert_eq(add(100, "hello "), 11, "the gap closes: both pieces become contiguous");
    cr_assert(memcmp(s.buf, "hello world", 11) == 0);
}

Test(stream, overlap_keeps_the_first_copy) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    add(1, "abcdef");
    /* a retransmission that disagrees about bytes 3..8 */
    cr_assert_eq(add(4, "XYZ123"), 3, "only the 3 new bytes count");
    cr_assert(memcmp(s.buf, "abcdef123", 9) == 0, "bytes already held are not replaced");
    cr_assert_eq(pool.stats.overlaps, 1);
}

Test(stream, old_retransmission_before_the_base_is_trimmed) {
    emb__stream_add(&pool, &s, 500, true, NULL, 0);
    add(501, "abc");
    /* starts 2 bytes before the base (a SYN retransmitted with data, say) */
    cr_assert_eq(add(499, "..abcdef"), 3);
    cr_assert(memcmp(s.buf, "abcdef", 6) == 0);
    cr_assert_eq(add(400, "old"), 0, "wholly before the base: ignored");
}

Test(stream, sequence_numbers_wrap) {
    emb__stream_add(&pool, &s, 0xFFFFFFFCu, true, NULL, 0); /* base 0xFFFFFFFD */
    cr_assert_eq(add(0xFFFFFFFDu, "abc"), 3);
    cr_assert_eq(add(0x00000000u, "def"), 3, "0 follows 0xFFFFFFFF");
    cr_assert(memcmp(s.buf, "abcdef", 6) == 0);
}

Test(stream, midstream_pickup_starts_where_data_is) {
    cr_assert_eq(add(123456, "GET / HTTP/1.1\r\n"), 16);
    cr_assert(s.midstream);
    cr_assert_eq(s.base, 123456);
}

Test(stream, only_the_depth_is_kept) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    char big[100];
    memset(big, 'x', sizeof(big));
    big[99] = '\0';
    cr_assert_eq(add(1, big), 64, "99 bytes offered, 64 kept");
    cr_assert_eq(add(200, "beyond"), 0);
    cr_assert_eq(s.have, 64);
    cr_assert(s.cap <= pool.depth);
}

Test(stream, too_many_islands_are_dropped_not_crashed) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    for (uint32_t i = 0; i < 12; i++)
        add(3 + i * 4, "ab"); /* islands at 2, 6, 10, ... */
    cr_assert_leq(s.nranges, EMB_STREAM_MAX_RANGES);
    cr_assert_gt(pool.stats.dropped, 0);
}

Test(stream, memory_cap_closes_the_stream) {
    pool.memcap = 10; /* less than the first chunk (the 64-byte depth here) */
    cr_assert_eq(add(1, "data"), 0);
    cr_assert(s.closed);
    cr_assert_null(s.buf);
    cr_assert_eq(pool.stats.memcap_refused, 1);
    cr_assert_eq(pool.stats.mem_in_use, 0);
    cr_assert_eq(add(5, "more"), 0, "a closed stream takes nothing");
}

Test(stream, memory_is_given_back_on_close) {
    add(1, "abc");
    cr_assert_gt(pool.stats.mem_in_use, 0);
    emb__stream_close(&pool, &s);
    cr_assert_eq(pool.stats.mem_in_use, 0);
    cr_assert_gt(pool.stats.mem_peak, 0);
}

/* ---- the sliding window (HTTP and DNS over TCP) ---------------------------- */

Test(stream, sliding_window_moves_past_what_the_parser_consumed) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    s.slide = true;
    char msg[41];
    memset(msg, 'a', 40);
    msg[40] = '\0';
    cr_assert_eq(add(1, msg), 40);
    s.cursor = 30; /* the parser took 30 bytes; 10 wait for the rest of a message */
    /* 40 more bytes would pass the 64-byte window: it slides by 30 first */
    char more[41];
    memset(more, 'b', 40);
    more[40] = '\0';
    cr_assert_eq(add(41, more), 40);
    cr_assert_eq(s.offset, 30);
    cr_assert_eq(s.base, 31);
    cr_assert_eq(s.cursor, 0);
    cr_assert_eq(s.have, 50);
    cr_assert(memcmp(s.buf, "aaaaaaaaaabbbb", 14) == 0, "the unconsumed bytes moved to the front");
}

Test(stream, sliding_past_what_is_held_skips_bytes_still_to_come) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    s.slide = true;
    add(1, "0123456789");
    s.cursor = 50; /* a body runs 40 bytes past what arrived */
    char big[61];
    memset(big, 'x', 60);
    big[60] = '\0';
    add(11, big); /* offsets 10..70: the window slides by 50 first */
    cr_assert_eq(s.offset, 50);
    cr_assert_eq(s.have, 20, "bytes 50..70 of the stream are held");
    cr_assert_eq(add(71, "NEXT"), 4);
    cr_assert(memcmp(s.buf + 20, "NEXT", 4) == 0);
}

Test(stream, sliding_keeps_islands_beyond_the_cut) {
    emb__stream_add(&pool, &s, 0, true, NULL, 0);
    s.slide = true;
    add(1, "0123456789");
    add(31, "island"); /* offsets 30..36, beyond a gap */
    s.cursor = 10;
    char big[61];
    memset(big, 'y', 60);
    big[60] = '\0';
    add(41, big); /* offsets 40..100: the window slides by 10 */
    cr_assert_eq(s.offset, 10);
    cr_assert_eq(s.have, 0, "the gap at 10..30 is still open");
    cr_assert_eq(s.ranges[0].start, 20);
    cr_assert(memcmp(s.buf + 20, "island", 6) == 0);
    /* the gap closes up to the island; 26..30 (stream 36..40) is still open */
    cr_assert_eq(add(11, "abcdefghijklmnopqrst"), 26);
    cr_assert(memcmp(s.buf + 20, "island", 6) == 0);
}

Test(stream, consuming_everything_gives_the_buffer_back) {
    add(1, "abc");
    cr_assert_gt(pool.stats.mem_in_use, 0);
    emb__stream_consume(&pool, &s, 3);
    cr_assert_null(s.buf);
    cr_assert_eq(pool.stats.mem_in_use, 0);
    cr_assert_eq(s.offset, 3);
    cr_assert_eq(add(4, "def"), 3, "the next bytes start a new buffer");
    cr_assert(memcmp(s.buf, "def", 3) == 0);
}

/* Buffers go back to the pool and are used again: a second round of the same
 * streams takes no new memory, and every byte is accounted for. Each stream
 * grows through every size (2, 4, 8, 16 KiB) and holds what it was given. */
Test(stream, buffers_are_reused) {
    static emb_stream_t many[300];
    static uint8_t data[16384];
    pool.depth = 16384;
    pool.memcap = 64u << 20;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    size_t slabs_after_first = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            memset(&many[i], 0, sizeof(many[i]));
            emb__stream_add(&pool, &many[i], 0, true, NULL, 0);
            for (uint32_t off = 0; off < sizeof(data); off += 1000) {
                uint32_t n = sizeof(data) - off < 1000 ? (uint32_t)(sizeof(data) - off) : 1000;
                emb__stream_add(&pool, &many[i], 1 + off, false, data + off, n);
            }
            cr_assert_eq(many[i].have, sizeof(data));
            cr_assert_eq(memcmp(many[i].buf, data, sizeof(data)), 0, "stream %d holds its bytes",
                         i);
        }
        cr_assert_eq(pool.stats.mem_in_use, 300u * 16384);
        for (int i = 0; i < 300; i++)
            emb__stream_close(&pool, &many[i]);
        cr_assert_eq(pool.stats.mem_in_use, 0);
        if (round == 0)
            slabs_after_first = pool.nslabs;
    }
    cr_assert_eq(pool.nslabs, slabs_after_first, "the second round reused the first's buffers");
}
