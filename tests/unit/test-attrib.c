/*
 * DNS attribution table: per client, TTL floor and ceiling, the set's
 * replacement when full, the same entry whichever order its answers came in.
 */
#include "detect/attrib.h"

#include <criterion/criterion.h>
#include <string.h>

static emb_attrib_t *a;
static const uint8_t client[16] = {192, 0, 2, 10}, other[16] = {192, 0, 2, 11};
static const uint8_t addr[16] = {203, 0, 113, 77};

static void setup(void) {
    cr_assert_eq(emb__attrib_new(64, 60, 3600, &a), 0);
}
static void teardown(void) {
    emb__attrib_free(a);
}

TestSuite(attrib, .init = setup, .fini = teardown);

Test(attrib, remembered_for_that_client_only) {
    emb__attrib_add(a, 4, client, addr, 3, "dnl-03.geo.kaspersky.com", 24, 300, 1000,
                    1000 * 1000000LL);
    const emb_attrib_entry_t *e[4];
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1100, e, 4), 1);
    cr_assert_eq(e[0]->rule, 3);
    cr_assert_str_eq(e[0]->name, "dnl-03.geo.kaspersky.com");
    cr_assert_eq(emb__attrib_lookup(a, 4, other, addr, 1100, e, 4), 0);
    cr_assert_eq(emb__attrib_lookup(a, 6, client, addr, 1100, e, 4), 0, "family counts");
}

Test(attrib, ttl_floor_and_ceiling) {
    const emb_attrib_entry_t *e[4];
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 0, 1000, 1000 * 1000000LL); /* TTL 0 -> 60 s */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1059, e, 4), 1);
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1061, e, 4), 0);
    emb__attrib_add(a, 4, client, addr, 2, "b", 1, 604800, 1000,
                    1000 * 1000000LL); /* a week -> 3600 s */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 4600, e, 4), 1);
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 4601, e, 4), 0);
}

Test(attrib, several_rules_for_one_address_and_refresh) {
    const emb_attrib_entry_t *e[4];
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 100, 0, 0 * 1000000LL);
    emb__attrib_add(a, 4, client, addr, 2, "b", 1, 100, 0, 0 * 1000000LL);
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 100, 50,
                    50 * 1000000LL); /* the same again: refreshed */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 120, e, 4), 1, "rule 2 expired");
    cr_assert_eq(e[0]->rule, 1);
}

Test(attrib, a_full_set_replaces_the_soonest_to_expire) {
    const emb_attrib_entry_t *e[8];
    for (uint32_t r = 0; r < 5; r++) /* one (client, addr) pair: one set of 4 ways */
        emb__attrib_add(a, 4, client, addr, r, "n", 1, 100 + r * 10, 0, 0 * 1000000LL);
    size_t n = emb__attrib_lookup(a, 4, client, addr, 1, e, 8);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(e[i]->rule, 0, "rule 0 expired soonest and made room");
    cr_assert_eq(emb__attrib_stats(a)->replaced, 1);
}

Test(attrib, bad_settings_refused) {
    emb_attrib_t *b;
    cr_assert_neq(emb__attrib_new(2, 60, 3600, &b), 0);
    cr_assert_neq(emb__attrib_new(64, 3600, 60, &b), 0);
}

/* Shared addresses (attrib.h): unrelated registrable domains on one address. */
static bool note2(const char *n1, uint32_t v1, const char *n2, uint32_t v2, int64_t when) {
    emb_attrib_t *t = NULL;
    cr_assert_eq(emb__attrib_new(64, 60, 3600, &t), 0);
    static const uint8_t edge[16] = {23, 50, 1, 2};
    emb__attrib_note(t, 4, edge, n1, strlen(n1), v1, 300, 1000, 1000 * 1000000LL);
    emb__attrib_note(t, 4, edge, n2, strlen(n2), v2, 300, 1000, 1000 * 1000000LL + 5);
    bool shared = emb__attrib_shared(t, 4, edge, when, INT64_MAX);
    emb__attrib_free(t);
    return shared;
}

Test(attrib, shared_addresses) {
    cr_assert_not(note2("a.example.com", 0, "b.example.com", 0, 1100), "one registrable domain");
    cr_assert(note2("example.com", 0, "other.org", 0, 1100), "two unrelated domains");
    cr_assert(note2("p16-tiktokcdn-com.akamaized.net", 7, "www.apple.com", 0, 1100),
              "a vendor's alias beside another site: a CDN edge");
    cr_assert_not(note2("s01.upd.kaspersky.com", 3, "dc1.ksn.kaspersky-labs.com", 3, 1100),
                  "two domains of one vendor");
    cr_assert(note2("x.kaspersky.com", 3, "y.hicloud.com", 5, 1100), "two vendors");
    cr_assert_not(note2("a.example.co.uk", 0, "b.example.co.uk", 0, 1100),
                  "co.uk: three labels make the registrable domain");
    cr_assert(note2("example.co.uk", 0, "other.co.uk", 0, 1100));
    cr_assert_not(note2("example.com", 0, "other.org", 0, 1000 + 3601),
                  "the notes expire with their TTL (held within the floor and ceiling)");
    cr_assert_not(emb__attrib_shared(a, 4, addr, 1000, INT64_MAX), "an address never noted");
}

/* A host whose workers look up late (Suricata's, detect-sc8-tx.c) asks as of
 * the connection's first message: an answer that came after it does not
 * make the address shared yet. */
Test(attrib, shared_as_of_a_time) {
    emb_attrib_t *t = NULL;
    cr_assert_eq(emb__attrib_new(64, 60, 3600, &t), 0);
    static const uint8_t edge[16] = {23, 50, 1, 1};
    const char *tiktok = "p16-tiktokcdn-com.akamaized.net", *apple = "www.apple.com";
    emb__attrib_note(t, 4, edge, tiktok, strlen(tiktok), 7, 300, 1000, 1000000000LL);
    emb__attrib_note(t, 4, edge, apple, strlen(apple), 0, 300, 1000, 1000000500LL);
    cr_assert_not(emb__attrib_shared(t, 4, edge, 1000, 1000000100LL),
                  "as of before the second answer: one domain only");
    cr_assert(emb__attrib_shared(t, 4, edge, 1000, 1000000500LL), "as of the second answer");
    cr_assert(emb__attrib_shared(t, 4, edge, 1000, INT64_MAX));
    emb__attrib_free(t);
}

/* Two answers for one rule, learned in either order (a sensor's workers learn
 * them out of order): the entry holds the earlier answer's time and name, the
 * later one's expiry, whichever came last. */
static void learn_two(bool earlier_first, const emb_attrib_entry_t **out) {
    if (earlier_first) {
        emb__attrib_add(a, 4, client, addr, 7, "www.example.net", 15, 300, 1000, 1000000000LL);
        emb__attrib_add(a, 4, client, addr, 7, "alias.example.net", 17, 300, 1010, 1010000000LL);
    } else {
        emb__attrib_add(a, 4, client, addr, 7, "alias.example.net", 17, 300, 1010, 1010000000LL);
        emb__attrib_add(a, 4, client, addr, 7, "www.example.net", 15, 300, 1000, 1000000000LL);
    }
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1200, out, 1), 1);
}

Test(attrib, the_earlier_answer_names_the_entry_in_any_order) {
    const emb_attrib_entry_t *e[1];
    for (int order = 0; order < 2; order++) {
        emb__attrib_free(a);
        cr_assert_eq(emb__attrib_new(64, 60, 3600, &a), 0);
        learn_two(order == 0, e);
        cr_assert_str_eq(e[0]->name, "www.example.net", "order %d", order);
        cr_assert_eq(e[0]->seen_us, 1000000000LL, "order %d", order);
        cr_assert_eq(e[0]->expires, 1310, "the later expiry (order %d)", order);
    }
    /* the same time: the smaller name, in either order */
    emb__attrib_add(a, 4, other, addr, 8, "b.example", 9, 300, 1000, 5);
    emb__attrib_add(a, 4, other, addr, 8, "a.example", 9, 300, 1000, 5);
    emb__attrib_add(a, 4, other, addr, 8, "c.example", 9, 300, 1000, 5);
    cr_assert_eq(emb__attrib_lookup(a, 4, other, addr, 1000, e, 1), 1);
    cr_assert_str_eq(e[0]->name, "a.example");
}

/* The same (client, address, rule) answered again after its entry expired:
 * the earlier answer still answers a lookup as of before its expiry (a
 * sensor's worker behind in packet time, or a decision as of a flow's start),
 * and the later one from its own time on. Before, the later answer took the
 * expired entry's way and the earlier answer's connections lost it. */
Test(attrib, an_answer_after_expiry_keeps_the_earlier) {
    const emb_attrib_entry_t *e[4];
    emb__attrib_add(a, 4, client, addr, 5, "first.example", 13, 60, 1000, 1000000000LL);
    emb__attrib_add(a, 4, client, addr, 5, "again.example", 13, 60, 2000, 2000000000LL);
    cr_assert(emb__attrib_holds(a, 4, client, addr, 1030, 1030000000LL));
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1030, e, 4), 2,
                 "both are live as of 1030 by expiry; seen_us tells them apart");
    int earlier = e[0]->seen_us == 1000000000LL ? 0 : 1;
    cr_assert_eq(e[earlier]->seen_us, 1000000000LL);
    cr_assert_str_eq(e[earlier]->name, "first.example");
    cr_assert_eq(e[1 - earlier]->seen_us, 2000000000LL);
    cr_assert_not(emb__attrib_holds(a, 4, client, addr, 1500, 1500000000LL), "between the two");
    cr_assert(emb__attrib_holds(a, 4, client, addr, 2030, 2030000000LL));
    cr_assert_eq(emb__attrib_stats(a)->replaced, 0);
}

/* The same for shared addresses: an address that answered for two unrelated
 * domains is shared as of then, even once it answered again for one of them
 * after that record expired. */
Test(attrib, shared_as_of_a_time_after_a_later_answer) {
    static const uint8_t edge[16] = {23, 50, 1, 3};
    const char *vendor = "update.vendor.example", *other_site = "www.unrelated.example";
    emb__attrib_note(a, 4, edge, vendor, strlen(vendor), 3, 60, 1000, 1000000000LL);
    emb__attrib_note(a, 4, edge, other_site, strlen(other_site), 0, 60, 1000, 1000000001LL);
    emb__attrib_note(a, 4, edge, vendor, strlen(vendor), 3, 60, 2000, 2000000000LL);
    cr_assert(emb__attrib_shared(a, 4, edge, 1030, 1030000000LL), "as of the first two answers");
    cr_assert_not(emb__attrib_shared(a, 4, edge, 2030, 2030000000LL),
                  "as of the third: the earlier record expired, one domain");
}
