/*
 * DNS attribution table: per client, TTL floor and ceiling, the set's
 * replacement when full.
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
    emb__attrib_add(a, 4, client, addr, 3, "dnl-03.geo.kaspersky.com", 24, 300, 1000);
    const emb_attrib_entry_t *e[4];
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1100, e, 4), 1);
    cr_assert_eq(e[0]->rule, 3);
    cr_assert_str_eq(e[0]->name, "dnl-03.geo.kaspersky.com");
    cr_assert_eq(emb__attrib_lookup(a, 4, other, addr, 1100, e, 4), 0);
    cr_assert_eq(emb__attrib_lookup(a, 6, client, addr, 1100, e, 4), 0, "family counts");
}

Test(attrib, ttl_floor_and_ceiling) {
    const emb_attrib_entry_t *e[4];
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 0, 1000); /* TTL 0 -> 60 s */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1059, e, 4), 1);
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 1061, e, 4), 0);
    emb__attrib_add(a, 4, client, addr, 2, "b", 1, 604800, 1000); /* a week -> 3600 s */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 4600, e, 4), 1);
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 4601, e, 4), 0);
}

Test(attrib, several_rules_for_one_address_and_refresh) {
    const emb_attrib_entry_t *e[4];
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 100, 0);
    emb__attrib_add(a, 4, client, addr, 2, "b", 1, 100, 0);
    emb__attrib_add(a, 4, client, addr, 1, "a", 1, 100, 50); /* the same again: refreshed */
    cr_assert_eq(emb__attrib_lookup(a, 4, client, addr, 120, e, 4), 1, "rule 2 expired");
    cr_assert_eq(e[0]->rule, 1);
}

Test(attrib, a_full_set_replaces_the_soonest_to_expire) {
    const emb_attrib_entry_t *e[8];
    for (uint32_t r = 0; r < 5; r++) /* one (client, addr) pair: one set of 4 ways */
        emb__attrib_add(a, 4, client, addr, r, "n", 1, 100 + r * 10, 0);
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
