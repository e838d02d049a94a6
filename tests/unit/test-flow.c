/*
 * Unit tests for flow.c: emb__flow_get over a bounded table.
 *
 * Covered: a first packet creates a flow and a reverse packet finds it;
 * SYN+ACK first makes its sender the server; without a handshake the ports
 * decide (docs/flows.md); session reuse; re-orientation; flow_id is unique and below
 * 2^51; a full table evicts the least recently used flow; flows idle past
 * their protocol's timeout are created afresh (reaped at the cold end, or
 * found expired in their bucket); IPv6 tuples.
 *
 * Packets are emb_decoded_t values built by hand: the flow table looks at
 * nothing else.
 */
#include "packet/flow.h"

#include "embargo/embargo.h"

#include <criterion/criterion.h>
#include <string.h>

#define TCP 6
#define UDP 17

/* An IPv4 packet a.b.c.d:sport -> e.f.g.h:dport. */
static emb_decoded_t v4(uint8_t proto, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                        uint16_t dport, uint8_t flags) {
    emb_decoded_t d;
    memset(&d, 0, sizeof(d));
    d.family = 4;
    d.proto = proto;
    d.tcp_flags = flags;
    memcpy(d.src, src, 4);
    memcpy(d.dst, dst, 4);
    d.sport = sport;
    d.dport = dport;
    return d;
}

/* The same packet the other way. */
static emb_decoded_t reverse(const emb_decoded_t *d, uint8_t flags) {
    emb_decoded_t r = *d;
    memcpy(r.src, d->dst, 16);
    memcpy(r.dst, d->src, 16);
    r.sport = d->dport;
    r.dport = d->sport;
    r.tcp_flags = flags;
    return r;
}

static const uint8_t client_ip[4] = {10, 0, 0, 1};
static const uint8_t server_ip[4] = {93, 184, 216, 34};

static emb_flow_table_t *table(size_t max, uint32_t tcp_timeout, uint32_t udp_timeout) {
    emb_flow_table_t *t = NULL;
    cr_assert_eq(emb__flow_table_new(max, tcp_timeout, udp_timeout, &t), 0);
    cr_assert_not_null(t);
    return t;
}

Test(flow, table_new_rejects_zero) {
    emb_flow_table_t *t = (emb_flow_table_t *)1;
    cr_assert_eq(emb__flow_table_new(0, 60, 30, &t), EMB_EINVAL);
    cr_assert_null(t);
    emb__flow_table_free(NULL); /* accepts NULL */
}

Test(flow, first_packet_creates_reverse_finds) {
    emb_flow_table_t *t = table(16, 600, 120);
    /* 10.0.0.1:40000 -> 93.184.216.34:443 SYN */
    emb_decoded_t syn = v4(TCP, client_ip, 40000, server_ip, 443, EMB_TCP_SYN);
    bool to_server = false, is_new = false;
    emb_flow_t *f = emb__flow_get(t, &syn, 1000, 250000, &to_server, &is_new);
    cr_assert_not_null(f);
    cr_assert(is_new);
    cr_assert(to_server);
    cr_assert_eq(f->family, 4);
    cr_assert_eq(f->proto, TCP);
    cr_assert_arr_eq(f->cli, client_ip, 4);
    cr_assert_arr_eq(f->srv, server_ip, 4);
    cr_assert_eq(f->cli_port, 40000);
    cr_assert_eq(f->srv_port, 443);
    cr_assert_eq(f->start_sec, 1000);
    cr_assert_eq(f->start_usec, 250000);
    uint64_t id = f->flow_id;
    cr_assert_neq(id, 0);

    /* 93.184.216.34:443 -> 10.0.0.1:40000 SYN+ACK */
    emb_decoded_t synack = reverse(&syn, EMB_TCP_SYN | EMB_TCP_ACK);
    emb_flow_t *g = emb__flow_get(t, &synack, 1001, 0, &to_server, &is_new);
    cr_assert_eq(g, f);
    cr_assert_not(is_new);
    cr_assert_not(to_server);
    cr_assert_eq(g->flow_id, id);
    cr_assert_eq(g->last_sec, 1001);

    /* client again: to_server */
    emb_decoded_t ack = v4(TCP, client_ip, 40000, server_ip, 443, EMB_TCP_ACK);
    g = emb__flow_get(t, &ack, 1002, 0, &to_server, &is_new);
    cr_assert_eq(g, f);
    cr_assert_not(is_new);
    cr_assert(to_server);
    cr_assert_eq(emb__flow_created(t), 1);
    emb__flow_table_free(t);
}

Test(flow, tuple_fields_tell_flows_apart) {
    emb_flow_table_t *t = table(16, 600, 120);
    bool to_server, is_new;
    emb_decoded_t base = v4(UDP, client_ip, 5353, server_ip, 53, 0);
    emb_flow_t *f = emb__flow_get(t, &base, 0, 0, &to_server, &is_new);
    cr_assert(is_new);
    /* another source port, another protocol, another server: each a new flow */
    emb_decoded_t other_port = v4(UDP, client_ip, 5354, server_ip, 53, 0);
    emb_decoded_t other_proto = v4(TCP, client_ip, 5353, server_ip, 53, 0);
    static const uint8_t other_ip[4] = {93, 184, 216, 35};
    emb_decoded_t other_dst = v4(UDP, client_ip, 5353, other_ip, 53, 0);
    const emb_decoded_t *others[] = {&other_port, &other_proto, &other_dst};
    for (size_t i = 0; i < 3; i++) {
        emb_flow_t *g = emb__flow_get(t, others[i], 0, 0, &to_server, &is_new);
        cr_assert(is_new, "variant %zu", i);
        cr_assert_neq(g, f, "variant %zu", i);
        cr_assert_neq(g->flow_id, f->flow_id, "variant %zu", i);
    }
    /* ports swapped but addresses not: not the reverse direction */
    emb_decoded_t half = v4(UDP, client_ip, 53, server_ip, 5353, 0);
    emb__flow_get(t, &half, 0, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_eq(emb__flow_created(t), 5);
    emb__flow_table_free(t);
}

Test(flow, syn_ack_first_makes_sender_the_server) {
    emb_flow_table_t *t = table(16, 600, 120);
    /* first packet seen: 93.184.216.34:443 -> 10.0.0.1:40000 SYN+ACK (the SYN was missed) */
    emb_decoded_t synack = v4(TCP, server_ip, 443, client_ip, 40000, EMB_TCP_SYN | EMB_TCP_ACK);
    bool to_server = true, is_new = false;
    emb_flow_t *f = emb__flow_get(t, &synack, 10, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_not(to_server);
    cr_assert_eq(f->srv_port, 443);
    cr_assert_eq(f->cli_port, 40000);
    cr_assert_arr_eq(f->srv, server_ip, 4);
    cr_assert_arr_eq(f->cli, client_ip, 4);
    /* the client's ACK goes to the server */
    emb_decoded_t ack = reverse(&synack, EMB_TCP_ACK);
    cr_assert_eq(emb__flow_get(t, &ack, 10, 0, &to_server, &is_new), f);
    cr_assert(to_server);
    cr_assert_not(is_new);
    emb__flow_table_free(t);
}

Test(flow, syn_ack_rule_is_tcp_only_and_needs_both_flags) {
    emb_flow_table_t *t = table(16, 600, 120);
    bool to_server, is_new;
    /* UDP with tcp_flags that would read SYN+ACK: the first sender is still the client */
    emb_decoded_t udp = v4(UDP, server_ip, 5000, client_ip, 40000, EMB_TCP_SYN | EMB_TCP_ACK);
    emb_flow_t *f = emb__flow_get(t, &udp, 0, 0, &to_server, &is_new);
    cr_assert(to_server);
    cr_assert_eq(f->cli_port, 5000);
    /* TCP ACK alone (a mid-stream pickup) from the higher port: the ports decide, and
     * the lower one serves */
    emb_decoded_t ack = v4(TCP, client_ip, 40001, server_ip, 5001, EMB_TCP_ACK);
    f = emb__flow_get(t, &ack, 0, 0, &to_server, &is_new);
    cr_assert(to_server);
    cr_assert_eq(f->cli_port, 40001);
    cr_assert_not(f->oriented);
    emb__flow_table_free(t);
}

Test(flow, flow_ids_unique_and_below_2_pow_51) {
    enum { N = 1000 };
    emb_flow_table_t *t = table(1024, 600, 120);
    static uint64_t ids[N];
    for (size_t i = 0; i < N; i++) {
        /* 10.0.x.y:(1024 + i) -> 93.184.216.34:53, one flow each */
        const uint8_t src[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)i};
        emb_decoded_t d = v4(UDP, src, (uint16_t)(1024 + i), server_ip, 53, 0);
        bool to_server, is_new;
        emb_flow_t *f = emb__flow_get(t, &d, 0, 0, &to_server, &is_new);
        cr_assert(is_new, "flow %zu", i);
        ids[i] = f->flow_id;
        cr_assert_neq(ids[i], 0, "flow %zu", i);
        cr_assert_lt(ids[i], 1ULL << 51, "flow %zu: id %llu", i, (unsigned long long)ids[i]);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            cr_assert_neq(ids[i], ids[j], "flows %zu and %zu share id %llu", i, j,
                          (unsigned long long)ids[i]);
    cr_assert_eq(emb__flow_created(t), N);
    cr_assert_eq(emb__flow_evicted(t), 0);
    emb__flow_table_free(t);
}

Test(flow, flow_ids_repeat_between_runs) {
    /* The same input gives the same ids: two tables, the same three flows. */
    uint64_t a[3], b[3];
    for (int run = 0; run < 2; run++) {
        emb_flow_table_t *t = table(8, 600, 120);
        for (uint16_t i = 0; i < 3; i++) {
            emb_decoded_t d = v4(TCP, client_ip, (uint16_t)(50000 + i), server_ip, 80, 0);
            bool to_server, is_new;
            (run ? b : a)[i] = emb__flow_get(t, &d, 0, 0, &to_server, &is_new)->flow_id;
        }
        emb__flow_table_free(t);
    }
    cr_assert_arr_eq(a, b, sizeof(a));
}

/* Flow i of the eviction tests: 10.0.0.1:(1000 + i) -> 93.184.216.34:80 TCP. */
static emb_decoded_t nth(uint16_t i) {
    return v4(TCP, client_ip, (uint16_t)(1000 + i), server_ip, 80, EMB_TCP_SYN);
}

Test(flow, full_table_evicts_least_recently_used) {
    emb_flow_table_t *t = table(4, 600, 120);
    bool to_server, is_new;
    uint64_t ids[5];
    for (uint16_t i = 0; i < 4; i++) {
        emb_decoded_t d = nth(i);
        ids[i] = emb__flow_get(t, &d, i, 0, &to_server, &is_new)->flow_id;
        cr_assert(is_new);
    }
    cr_assert_eq(emb__flow_evicted(t), 0);

    /* the fifth flow evicts flow 0, the one idle longest */
    emb_decoded_t d4 = nth(4);
    ids[4] = emb__flow_get(t, &d4, 4, 0, &to_server, &is_new)->flow_id;
    cr_assert(is_new);
    cr_assert_eq(emb__flow_evicted(t), 1);
    cr_assert_eq(emb__flow_created(t), 5);

    /* flows 2 and 3 are still there, with their ids */
    for (uint16_t i = 2; i < 4; i++) {
        emb_decoded_t d = nth(i);
        emb_flow_t *f = emb__flow_get(t, &d, 5, 0, &to_server, &is_new);
        cr_assert_not(is_new, "flow %u", i);
        cr_assert_eq(f->flow_id, ids[i]);
    }
    /* flow 0 is new again (and in turn evicts flow 1, now the coldest) */
    emb_decoded_t d0 = nth(0);
    emb_flow_t *f0 = emb__flow_get(t, &d0, 6, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(f0->flow_id, ids[0]);
    cr_assert_eq(emb__flow_evicted(t), 2);
    emb_decoded_t d1 = nth(1);
    emb__flow_get(t, &d1, 7, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_eq(emb__flow_evicted(t), 3);
    emb__flow_table_free(t);
}

Test(flow, lookup_refreshes_lru_position) {
    emb_flow_table_t *t = table(4, 600, 120);
    bool to_server, is_new;
    for (uint16_t i = 0; i < 4; i++) {
        emb_decoded_t d = nth(i);
        emb__flow_get(t, &d, i, 0, &to_server, &is_new);
    }
    /* a packet of flow 0 (the reverse direction counts too) makes it the warmest */
    emb_decoded_t d0 = nth(0);
    emb_decoded_t r0 = reverse(&d0, EMB_TCP_ACK);
    emb__flow_get(t, &r0, 4, 0, &to_server, &is_new);
    cr_assert_not(is_new);
    /* so the fifth flow evicts flow 1 */
    emb_decoded_t d4 = nth(4);
    emb__flow_get(t, &d4, 5, 0, &to_server, &is_new);
    cr_assert_eq(emb__flow_evicted(t), 1);
    emb__flow_get(t, &d0, 6, 0, &to_server, &is_new);
    cr_assert_not(is_new, "flow 0 was evicted, not flow 1");
    emb_decoded_t d1 = nth(1);
    emb__flow_get(t, &d1, 7, 0, &to_server, &is_new);
    cr_assert(is_new, "flow 1 should have been evicted");
    emb__flow_table_free(t);
}

Test(flow, udp_timeout_recreates) {
    emb_flow_table_t *t = table(16, 600, 30);
    bool to_server, is_new;
    emb_decoded_t q = v4(UDP, client_ip, 5353, server_ip, 53, 0);
    emb_flow_t *f = emb__flow_get(t, &q, 100, 0, &to_server, &is_new);
    uint64_t id = f->flow_id;
    /* 30 s idle: not more than the timeout, still the same flow */
    emb_decoded_t resp = reverse(&q, 0);
    f = emb__flow_get(t, &resp, 130, 0, &to_server, &is_new);
    cr_assert_not(is_new);
    cr_assert_eq(f->flow_id, id);
    /* 31 s after the last packet: a new flow with a new id */
    f = emb__flow_get(t, &q, 161, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert(to_server);
    cr_assert_neq(f->flow_id, id);
    cr_assert_eq(f->start_sec, 161);
    cr_assert_eq(emb__flow_created(t), 2);
    cr_assert_eq(emb__flow_evicted(t), 0, "a timeout is not an eviction");
    emb__flow_table_free(t);
}

Test(flow, tcp_uses_its_own_timeout) {
    emb_flow_table_t *t = table(16, 600, 30);
    bool to_server, is_new;
    emb_decoded_t d = v4(TCP, client_ip, 40000, server_ip, 443, EMB_TCP_SYN);
    uint64_t id = emb__flow_get(t, &d, 0, 0, &to_server, &is_new)->flow_id;
    /* 100 s: past the UDP timeout, within the TCP one */
    emb_flow_t *f = emb__flow_get(t, &d, 100, 0, &to_server, &is_new);
    cr_assert_not(is_new);
    cr_assert_eq(f->flow_id, id);
    /* 701 s after the last packet: expired */
    f = emb__flow_get(t, &d, 801, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(f->flow_id, id);
    emb__flow_table_free(t);
}

Test(flow, expired_flow_found_in_bucket_recreated) {
    /* Reaping takes two flows per packet from the cold end; with three
     * expired flows, the warmest is still in its bucket when its tuple comes
     * back, and must not be taken for live. */
    emb_flow_table_t *t = table(16, 600, 30);
    bool to_server, is_new;
    uint64_t ids[3];
    for (uint16_t i = 0; i < 3; i++) {
        emb_decoded_t d = v4(UDP, client_ip, (uint16_t)(2000 + i), server_ip, 53, 0);
        ids[i] = emb__flow_get(t, &d, i, 0, &to_server, &is_new)->flow_id;
    }
    emb_decoded_t d2 = v4(UDP, client_ip, 2002, server_ip, 53, 0);
    emb_flow_t *f = emb__flow_get(t, &d2, 1000, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(f->flow_id, ids[2]);
    cr_assert_eq(f->start_sec, 1000);
    /* and the table is still sound: the other two come back new as well */
    for (uint16_t i = 0; i < 2; i++) {
        emb_decoded_t d = v4(UDP, client_ip, (uint16_t)(2000 + i), server_ip, 53, 0);
        emb__flow_get(t, &d, 1000, 0, &to_server, &is_new);
        cr_assert(is_new, "flow %u", i);
    }
    cr_assert_eq(emb__flow_created(t), 6);
    emb__flow_table_free(t);
}

/* Expiry follows the table's clock, which every packet moves, even one
 * another engine inspects (emb__flow_table_clock): a flow that the clock
 * left behind is over, whether or not it was reaped, and its next packet
 * starts a new one. What two engines that split one stream decide is then
 * what one engine decides. */
Test(flow, expiry_by_the_clock_not_the_packet) {
    bool to_server, is_new;
    emb_decoded_t q = v4(UDP, client_ip, 5353, server_ip, 53, 0);
    /* One table sees a later packet of another flow; the other only the time. */
    emb_flow_table_t *whole = table(16, 600, 30), *part = table(16, 600, 30);
    uint64_t a = emb__flow_get(whole, &q, 100, 0, &to_server, &is_new)->flow_id;
    uint64_t b = emb__flow_get(part, &q, 100, 0, &to_server, &is_new)->flow_id;
    emb_decoded_t other = v4(UDP, client_ip, 6000, server_ip, 123, 0);
    emb__flow_get(whole, &other, 150, 0, &to_server, &is_new);
    emb__flow_table_clock(part, 150);
    /* 20 s after the clock went to 150, the query's tuple at 110 (an earlier
     * time, within the backstep): 50 s past its last packet on the clock */
    emb_flow_t *f = emb__flow_get(whole, &q, 110, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(f->flow_id, a);
    f = emb__flow_get(part, &q, 110, 0, &to_server, &is_new);
    cr_assert(is_new, "the time alone must end the flow, as the packet did");
    cr_assert_neq(f->flow_id, b);
    emb__flow_table_free(whole);
    emb__flow_table_free(part);
}

Test(flow, clock_set_back_ends_every_flow) {
    emb_flow_table_t *t = table(16, 600, 30);
    bool to_server, is_new;
    emb_decoded_t d = v4(TCP, client_ip, 40000, server_ip, 443, EMB_TCP_SYN);
    uint64_t id = emb__flow_get(t, &d, 10000, 0, &to_server, &is_new)->flow_id;
    /* A packet 5 s older than the clock: out of order, not a new epoch */
    emb_flow_t *f = emb__flow_get(t, &d, 9995, 0, &to_server, &is_new);
    cr_assert_not(is_new);
    cr_assert_eq(f->flow_id, id);
    /* One 61 s older (a second file from before the first): a new epoch, and
     * a flow of the old one is over even within its timeout */
    emb_decoded_t other = v4(UDP, client_ip, 6000, server_ip, 123, 0);
    emb__flow_get(t, &other, 10000 - EMB_CLOCK_BACKSTEP - 1, 0, &to_server, &is_new);
    f = emb__flow_get(t, &d, 10000 - EMB_CLOCK_BACKSTEP, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(f->flow_id, id);
    emb__flow_table_free(t);
}

Test(flow, ipv6_flows) {
    emb_flow_table_t *t = table(16, 600, 120);
    /* 2001:db8::1:40000 -> 2001:db8::2:443 */
    emb_decoded_t d;
    memset(&d, 0, sizeof(d));
    d.family = 6;
    d.proto = TCP;
    d.tcp_flags = EMB_TCP_SYN;
    static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    memcpy(d.src, a6, 16);
    memcpy(d.dst, b6, 16);
    d.sport = 40000;
    d.dport = 443;
    bool to_server, is_new;
    emb_flow_t *f = emb__flow_get(t, &d, 0, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert(to_server);
    cr_assert_eq(f->family, 6);
    cr_assert_arr_eq(f->cli, a6, 16);
    cr_assert_arr_eq(f->srv, b6, 16);

    emb_decoded_t r = reverse(&d, EMB_TCP_SYN | EMB_TCP_ACK);
    cr_assert_eq(emb__flow_get(t, &r, 1, 0, &to_server, &is_new), f);
    cr_assert_not(is_new);
    cr_assert_not(to_server);

    /* 2001:db8::3 differs from ::2 only in its last byte, past the first
     * four: a different flow */
    emb_decoded_t other = d;
    other.dst[15] = 3;
    emb_flow_t *g = emb__flow_get(t, &other, 2, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(g, f);
    cr_assert_neq(g->flow_id, f->flow_id);

    /* an IPv4 flow with the same first bytes and ports is not the IPv6 one */
    emb_decoded_t v4same = d;
    v4same.family = 4;
    memset(v4same.src + 4, 0, 12);
    memset(v4same.dst + 4, 0, 12);
    emb_flow_t *h = emb__flow_get(t, &v4same, 3, 0, &to_server, &is_new);
    cr_assert(is_new);
    cr_assert_neq(h, f);
    emb__flow_table_free(t);
}

/* ---- connections and sides (docs/flows.md) -------------------------------- */

static emb_flow_t *get(emb_flow_table_t *t, emb_decoded_t d, int64_t sec, bool *ts, bool *is_new) {
    return emb__flow_get(t, &d, sec, 0, ts, is_new);
}

static emb_decoded_t seg(emb_decoded_t d, uint8_t flags, uint32_t seq, size_t len) {
    d.tcp_flags = flags;
    d.tcp_seq = seq;
    d.payload_len = len;
    return d;
}

Test(flow, syn_with_a_new_isn_after_close_is_a_new_connection) {
    emb_flow_table_t *t = table(16, 3600, 120);
    emb_decoded_t c = v4(TCP, client_ip, 40000, server_ip, 80, 0);
    emb_decoded_t s = reverse(&c, 0);
    bool ts, is_new;
    emb_flow_t *f = get(t, seg(c, EMB_TCP_SYN, 1000, 0), 1, &ts, &is_new);
    uint64_t id = f->flow_id;
    f->nalerted = 1; /* something the first connection raised */
    get(t, seg(s, EMB_TCP_SYN | EMB_TCP_ACK, 5000, 0), 1, &ts, &is_new);
    get(t, seg(c, EMB_TCP_ACK, 1001, 100), 1, &ts, &is_new);
    /* the same SYN again: the same connection */
    get(t, seg(c, EMB_TCP_SYN, 1000, 0), 1, &ts, &is_new);
    cr_assert_not(is_new);
    cr_assert_eq(emb__flow_reused(t), 0);
    /* FIN both ways, then a SYN with another ISN on the same ports */
    get(t, seg(c, EMB_TCP_FIN | EMB_TCP_ACK, 1101, 0), 2, &ts, &is_new);
    get(t, seg(s, EMB_TCP_FIN | EMB_TCP_ACK, 5001, 0), 2, &ts, &is_new);
    emb__flow_table_id_hint(t, 77);
    emb_flow_t *g = get(t, seg(c, EMB_TCP_SYN, 1200, 0), 3, &ts, &is_new);
    cr_assert(is_new);
    cr_assert(ts);
    cr_assert_eq(g, f, "the same slot");
    cr_assert_neq(g->flow_id, id, "a flow id of its own");
    cr_assert_eq(g->nalerted, 0, "nothing raised yet on the new connection");
    cr_assert_eq(emb__flow_reused(t), 1);
    cr_assert_eq(emb__flow_created(t), 2);
    emb__flow_table_free(t);
}

Test(flow, syn_outside_the_window_of_an_open_connection_is_a_new_one) {
    emb_flow_table_t *t = table(16, 3600, 120);
    emb_decoded_t c = v4(TCP, client_ip, 40001, server_ip, 80, 0);
    bool ts, is_new;
    get(t, seg(c, EMB_TCP_SYN, 1000, 0), 1, &ts, &is_new);
    get(t, seg(c, EMB_TCP_ACK, 1001, 500), 1, &ts, &is_new);
    /* a SYN inside the window (a confused retransmission): the same connection */
    get(t, seg(c, EMB_TCP_SYN, 1400, 0), 1, &ts, &is_new);
    cr_assert_not(is_new);
    /* one 2^31 away: a new connection, though nothing closed the old one */
    get(t, seg(c, EMB_TCP_SYN, 0x80000000u, 0), 2, &ts, &is_new);
    cr_assert(is_new);
    cr_assert_eq(emb__flow_reused(t), 1);
    emb__flow_table_free(t);
}

Test(flow, midstream_sides_from_the_ports) {
    emb_flow_table_t *t = table(16, 3600, 120);
    bool ts, is_new;
    /* the server's data first, its port well-known: the receiver is the client */
    emb_decoded_t a = v4(TCP, server_ip, 443, client_ip, 50000, EMB_TCP_ACK);
    emb_flow_t *f = emb__flow_get(t, &a, 1, 0, &ts, &is_new);
    cr_assert_not(ts);
    cr_assert_eq(f->srv_port, 443);
    cr_assert_not(f->oriented, "a guess, until a message says");
    /* both unprivileged: TCP takes the lower port for the server's */
    emb_decoded_t b = v4(TCP, client_ip, 9000, server_ip, 3000, EMB_TCP_ACK);
    f = emb__flow_get(t, &b, 1, 0, &ts, &is_new);
    cr_assert(ts);
    cr_assert_eq(f->srv_port, 3000);
    /* UDP: the first sender is the client */
    emb_decoded_t u = v4(UDP, client_ip, 9000, server_ip, 3000, 0);
    f = emb__flow_get(t, &u, 1, 0, &ts, &is_new);
    cr_assert(ts);
    cr_assert_eq(f->srv_port, 3000);
    cr_assert_eq(emb__flow_midstream(t), 2);
    emb__flow_table_free(t);
}

Test(flow, reorient_swaps_the_sides_once) {
    emb_flow_table_t *t = table(16, 3600, 120);
    bool ts, is_new;
    /* the client on the lower port: the ports guess it serves */
    emb_decoded_t b = v4(TCP, client_ip, 3000, server_ip, 9000, EMB_TCP_ACK);
    emb_flow_t *f = emb__flow_get(t, &b, 1, 0, &ts, &is_new);
    cr_assert_not(ts);
    f->dir[1].scanned = 7; /* state of the direction 3000 -> 9000, taken for to-client */
    emb__flow_reorient(t, f);
    cr_assert_arr_eq(f->cli, client_ip, 4);
    cr_assert_eq(f->cli_port, 3000);
    cr_assert_eq(f->srv_port, 9000);
    cr_assert_eq(f->dir[0].scanned, 7, "per-direction state goes with its direction");
    cr_assert(f->oriented);
    cr_assert_eq(emb__flow_reoriented(t), 1);
    /* the same packet now goes to the server */
    emb__flow_get(t, &b, 1, 0, &ts, &is_new);
    cr_assert(ts);
    emb__flow_table_free(t);
}

Test(flow, message_side) {
    static const uint8_t hello[] = {22, 3, 1, 0, 40, 1, 0, 0, 36};
    static const uint8_t shello[] = {22, 3, 3, 0, 40, 2, 0, 0, 36};
    cr_assert_eq(emb__flow_message_side(hello, sizeof(hello)), 1);
    cr_assert_eq(emb__flow_message_side(shello, sizeof(shello)), -1);
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"GET / HTTP/1.1\r\n", 16), 1);
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"CONNECT a:443 HTTP", 18), 1);
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"HTTP/1.1 200 OK", 15), -1);
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"GET", 3), 0, "too short to say");
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"ABC 123", 7), 0);
    cr_assert_eq(emb__flow_message_side((const uint8_t *)"\x17\x03\x03\x00\x10", 5), 0);
}
