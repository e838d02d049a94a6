/*
 * Hyperscan matching and domain semantics, as DESIGN.md states them:
 * `name` is the name and every subdomain, `=name` the name only, `*` any run
 * inside one label, `re:` a regex over the normalised name; field keys are
 * substrings. Lookalikes never match.
 */
#include "helpers.h"
#include "common/names.h"
#include "detect/match.h"
#include "pack/pack.h"

#include <criterion/criterion.h>

static emb_rules_t *rules;
static emb_matcher_t *matcher;

/* sid 1: kaspersky.com and subdomains; 2: exact; 3: wildcard; 4: regex;
 * 5: uri substring; 6: UA regex; 7: a dns.query-only literal; 8: hex payload;
 * 9: a wildcard with no fixed tail after its '*' (no name can be turned away
 * from its scan by the suffix table) */
static const char *pack =
    "vendor: t\nname: T\nrules:\n"
    "  - {sid: 1, msg: a, channel: update, match: [{domain: kaspersky.com}]}\n"
    "  - {sid: 2, msg: b, channel: licensing, match: [{domain: \"=crl.kaspersky.com\"}]}\n"
    "  - {sid: 3, msg: c, channel: update, match: [{domain: \"dnl-*.geo.kaspersky.com\"}]}\n"
    "  - {sid: 4, msg: d, channel: telemetry, match: [{domain: \"re:^ksn-[a-z]+\\\\.example$\"}]}\n"
    "  - {sid: 5, msg: e, channel: update, match: [{http.uri: /updaters/}]}\n"
    "  - {sid: 6, msg: f, channel: update, match: [{http.user_agent: \"re:^Kaspersky\"}]}\n"
    "  - {sid: 7, msg: g, channel: cloud, match: [{dns.query: \"ZONE.test\"}]}\n"
    "  - {sid: 8, msg: h, channel: update, match: [{payload: \"hex:00 4b 4c 00\"}]}\n"
    "  - {sid: 9, msg: i, channel: update, match: [{domain: \"telemetry.vendor*\"}]}\n";

static void setup(void) {
    emb_diags_t *d = NULL;
    rules = test_load_text(pack, &d);
    test_print_diags(d);
    cr_assert_not_null(rules);
    cr_assert_eq(emb__matcher_new(rules, NULL, &matcher, &d), 0);
}

static void teardown(void) {
    emb__matcher_free(matcher);
    emb_rules_free(rules);
}

typedef struct {
    uint32_t sids[16];
    size_t n;
} seen_t;

static void collect(const emb_patref_t *ref, void *ctx) {
    seen_t *s = ctx;
    uint32_t sid = rules->rules[rules->alts[ref->alt].rule].sid;
    if (s->n < 16)
        s->sids[s->n++] = sid;
}

/* The sids that match `value` in field `f`, normalised as the engine does. */
static seen_t match_field(emb_field_t f, const char *value) {
    seen_t s = {{0}, 0};
    char norm[512];
    size_t n = strlen(value);
    if (f == EMB_FIELD_DNS_QUERY || f == EMB_FIELD_TLS_SNI)
        n = emb__normalize_name((const uint8_t *)value, n, norm, sizeof(norm));
    else if (f == EMB_FIELD_HTTP_HOST)
        n = emb__normalize_host((const uint8_t *)value, n, norm, sizeof(norm));
    else
        memcpy(norm, value, n);
    cr_assert_eq(emb__matcher_scan(matcher, f, (const uint8_t *)norm, n, collect, &s), 0);
    return s;
}

static bool has(seen_t s, uint32_t sid) {
    for (size_t i = 0; i < s.n; i++)
        if (s.sids[i] == sid)
            return true;
    return false;
}

TestSuite(match, .init = setup, .fini = teardown);

Test(match, domain_matches_name_and_subdomains) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "kaspersky.com"), 1));
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "s01.upd.kaspersky.com"), 1));
    cr_assert(has(match_field(EMB_FIELD_TLS_SNI, "a.kaspersky.com"), 1));
    cr_assert(has(match_field(EMB_FIELD_HTTP_HOST, "www.kaspersky.com"), 1));
}

Test(match, lookalikes_never_match) {
    const char *fakes[] = {"notkaspersky.com",        "kaspersky.com.evil.example",
                           "kaspersky-labs.co",       "kaspersky.co",
                           "kaspersky.comx",          "xkaspersky.com",
                           "kaspersky.com-evil.test", "kaspersky.com.",
                           "kaspersky.com\n",         "kaspersky-com"};
    for (size_t i = 0; i < sizeof(fakes) / sizeof(*fakes); i++) {
        seen_t s = match_field(EMB_FIELD_DNS_QUERY, fakes[i]);
        /* "kaspersky.com." is the name itself with its root dot: it must match */
        if (strcmp(fakes[i], "kaspersky.com.") == 0)
            cr_assert(has(s, 1), "trailing dot is dropped before matching");
        else
            cr_assert_eq(s.n, 0, "'%s' matched %zu rule(s)", fakes[i], s.n);
    }
}

Test(match, case_and_trailing_dot_are_normalised) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "UPD.KASPERSKY.COM."), 1));
    cr_assert(has(match_field(EMB_FIELD_TLS_SNI, "Kaspersky.Com"), 1));
    cr_assert(has(match_field(EMB_FIELD_HTTP_HOST, "WWW.Kaspersky.com:8080"), 1));
    cr_assert(has(match_field(EMB_FIELD_HTTP_HOST, "[kaspersky.com]:80"), 1));
    /* a Host with a bogus port suffix is not stripped, so it cannot match */
    cr_assert_eq(match_field(EMB_FIELD_HTTP_HOST, "kaspersky.com:80x").n, 0);
}

Test(match, exact_domain_only_the_name) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "crl.kaspersky.com"), 2));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "a.crl.kaspersky.com"), 2));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "xcrl.kaspersky.com"), 2));
}

Test(match, wildcard_stays_inside_one_label) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "dnl-07.geo.kaspersky.com"), 3));
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "dnl-.geo.kaspersky.com"), 3));
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "x.dnl-19.geo.kaspersky.com"), 3));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "dnl-a.b.geo.kaspersky.com"), 3));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "xdnl-07.geo.kaspersky.com"), 3));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "dnl-07.geo.kaspersky.com.evil"), 3));
}

Test(match, wildcard_without_a_fixed_tail) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "telemetry.vendorx"), 9));
    cr_assert(has(match_field(EMB_FIELD_TLS_SNI, "a.telemetry.vendor"), 9));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "telemetry.vendor.x"), 9));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "xtelemetry.vendorx"), 9));
    /* and a name that ends in no pattern's suffix still reaches it */
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "telemetry.vendor-eu1"), 9));
}

Test(match, regex_over_the_normalised_name) {
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "KSN-abc.example"), 4));
    cr_assert_not(has(match_field(EMB_FIELD_DNS_QUERY, "ksn-1.example"), 4));
}

Test(match, field_keys_are_substrings_in_their_field_only) {
    cr_assert(has(match_field(EMB_FIELD_HTTP_URI, "/x/updaters/updater.xml"), 5));
    cr_assert_not(has(match_field(EMB_FIELD_HTTP_USER_AGENT, "/updaters/"), 5));
    cr_assert(has(match_field(EMB_FIELD_HTTP_USER_AGENT, "KasperskyLab/1.0"), 6));
    cr_assert_not(has(match_field(EMB_FIELD_HTTP_USER_AGENT, "Mozilla Kaspersky"), 6));
    /* a dns.query literal is lower-cased like the field and matched as substring */
    cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "a.zone.test.example"), 7));
    cr_assert_not(has(match_field(EMB_FIELD_TLS_SNI, "zone.test"), 7));
    /* URIs keep their case */
    cr_assert_not(has(match_field(EMB_FIELD_HTTP_URI, "/UPDATERS/"), 5));
}

Test(match, hex_payload_with_nul_bytes) {
    /* bytes: 'x' 00 'K' 'L' 00 'y' */
    static const uint8_t payload[] = {0x78, 0x00, 0x4b, 0x4c, 0x00, 0x79};
    seen_t s = {{0}, 0};
    cr_assert_eq(
        emb__matcher_scan(matcher, EMB_FIELD_PAYLOAD, payload, sizeof(payload), collect, &s), 0);
    cr_assert(has(s, 8));
    static const uint8_t near[] = {0x78, 0x00, 0x4b, 0x4d, 0x00}; /* 'x' 00 'K' 'M' 00 */
    s.n = 0;
    emb__matcher_scan(matcher, EMB_FIELD_PAYLOAD, near, sizeof(near), collect, &s);
    cr_assert_eq(s.n, 0);
}

Test(match, ip_port_only_alternatives_are_listed_for_flows) {
    size_t n;
    emb__matcher_flow_alts(matcher, &n);
    cr_assert_eq(n, 0, "this pack has no ip/port-only alternative");
}

Test(match, pattern_expressions) {
    emb_indicator_t ind = {.key = EMB_K_DOMAIN, .kind = EMB_PAT_DOMAIN, .text = "a-b.c", .len = 5};
    char *e = emb__pattern_expr(&ind);
    cr_assert_str_eq(e, ".a-b.c", "a plain domain is a literal over the dotted name");
    free(e);
    ind.kind = EMB_PAT_DOMAIN_EXACT;
    ind.text = "*.c";
    ind.len = 3;
    e = emb__pattern_expr(&ind);
    cr_assert_str_eq(e, "^\\.[^.]*\\x2ec\\z");
    free(e);
    ind.key = EMB_K_HTTP_URI;
    ind.kind = EMB_PAT_LITERAL;
    ind.text = "/a?b*";
    ind.len = 5;
    e = emb__pattern_expr(&ind);
    cr_assert_str_eq(e, "/a\\x3fb\\x2a");
    free(e);
}

/* `^` of a payload regex: which patterns count as anchored at a stream's start. */
Test(match, payload_anchors) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(
        "vendor: t\nname: T\nrules:\n"
        "  - {sid: 11, msg: a, channel: cloud, match: [{payload: \"re:^AB\"}]}\n"
        "  - {sid: 12, msg: b, channel: cloud, match: [{payload: \"re:^XY|CD\"}]}\n"
        "  - {sid: 13, msg: c, channel: cloud, match: [{payload: \"re:(?m)^EF\"}]}\n"
        "  - {sid: 14, msg: d, channel: cloud, match: [{payload: \"re:(?i)^(GH|IJ)\"}]}\n"
        "  - {sid: 15, msg: e, channel: cloud, match: [{payload: \"re:^[|]K\"}]}\n",
        &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    emb_matcher_t *m = NULL;
    cr_assert_eq(emb__matcher_new(r, NULL, &m, &d), 0);
    cr_assert_eq(emb__matcher_start_width(m), 2, "the widest anchored pattern is 2 bytes");
    emb_rules_t *saved = rules;
    rules = r; /* collect() names sids through `rules` */
    struct {
        const char *bytes;
        emb_payload_at_t at;
        uint32_t want[4];
    } cases[] = {
        {"AB", EMB_AT_START, {11}},
        {"AB", EMB_AT_MIDDLE, {0}}, /* ^ never holds in a stream's middle */
        {"AB", EMB_AT_START_ONLY, {11}},
        {"xCD", EMB_AT_MIDDLE, {12}},   /* an alternative outside the anchor: not anchored */
        {"x\nEF", EMB_AT_MIDDLE, {13}}, /* multiline: ^ after a newline too */
        {"ij", EMB_AT_START, {14}},
        {"ij", EMB_AT_MIDDLE, {0}},
        {"|K", EMB_AT_MIDDLE, {0}}, /* a | inside a class is no alternative */
        {"|K", EMB_AT_START, {15}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        seen_t s = {{0}, 0};
        cr_assert_eq(emb__matcher_scan_payload(m, (const uint8_t *)cases[i].bytes,
                                               strlen(cases[i].bytes), cases[i].at, collect, &s),
                     0);
        size_t want = cases[i].want[0] ? 1 : 0;
        cr_assert_eq(s.n, want, "case %zu (%s): %zu matches", i, cases[i].bytes, s.n);
        if (want)
            cr_assert(has(s, cases[i].want[0]), "case %zu: sid %u", i, cases[i].want[0]);
    }
    rules = saved;
    emb__matcher_free(m);
    emb_rules_free(r);
}

/* Values that matched nothing are remembered (a miss table per matcher):
 * asking again gives the same answer, in the same field only, and a value
 * that matched is scanned, and reported, every time. Many values hashing to
 * the same slots (more than it holds) change no answer. */
Test(match, repeated_values_get_the_same_answers) {
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(match_field(EMB_FIELD_DNS_QUERY, "www.example.org").n, 0);
        cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "dnl-01.geo.kaspersky.com"), 3));
        cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "zone.test"), 7));
        cr_assert_eq(match_field(EMB_FIELD_TLS_SNI, "zone.test").n, 0, "dns.query only");
        cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, "zone.test"), 7), "not the SNI's miss");
        cr_assert(has(match_field(EMB_FIELD_HTTP_USER_AGENT, "Kaspersky/11"), 6));
        cr_assert_eq(match_field(EMB_FIELD_HTTP_USER_AGENT, "Mozilla/5.0").n, 0);
    }
    char name[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "host%d.example.net", i);
        cr_assert_eq(match_field(EMB_FIELD_DNS_QUERY, name).n, 0);
        snprintf(name, sizeof(name), "h%d.kaspersky.com", i);
        cr_assert(has(match_field(EMB_FIELD_DNS_QUERY, name), 1), "%s", name);
    }
    /* Longer than a remembered value: scanned every time, the same answer. */
    char ua[300];
    memset(ua, 'x', sizeof(ua));
    memcpy(ua, "Kaspersky", 9);
    ua[sizeof(ua) - 1] = '\0';
    cr_assert(has(match_field(EMB_FIELD_HTTP_USER_AGENT, ua), 6));
    cr_assert(has(match_field(EMB_FIELD_HTTP_USER_AGENT, ua), 6));
}
