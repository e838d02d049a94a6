/*
 * The YAML rule loader: a valid file loads with the right shape; each kind
 * of mistake is reported as "file:line:column: message" at the right place;
 * every error of a file is reported, not only the first.
 */
#include "helpers.h"
#include "pack/pack.h"

#include <criterion/criterion.h>

#define HEAD                                                                                       \
    "vendor: acme\n"                                                                               \
    "name: Acme Corp\n"                                                                            \
    "bans:\n"                                                                                      \
    "  - authority: Test authority\n"                                                              \
    "    effective: 2024-09-29\n"                                                                  \
    "    reference: https://example.org/ban\n"                                                     \
    "rules:\n"

/* Loads HEAD + body and expects failure with a message containing `want`. */
static void expect_error(const char *body, const char *want) {
    char text[4096];
    snprintf(text, sizeof(text), HEAD "%s", body);
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(text, &d);
    cr_assert_null(r, "expected the rules to be rejected: %s", want);
    if (!test_diags_have(d, want))
        test_print_diags(d);
    cr_assert(test_diags_have(d, want), "no diagnostic contains '%s'", want);
    emb_diags_free(d);
}

Test(rules, valid_file_loads_with_its_shape) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(HEAD "  - sid: 100\n"
                                         "    msg: Acme update\n"
                                         "    channel: update\n"
                                         "    confidence: high\n"
                                         "    references: [https://example.org/a]\n"
                                         "    match:\n"
                                         "      - domain: [upd.acme.example, \"=acme.example\"]\n"
                                         "      - http.uri: /upd/\n"
                                         "        http.user_agent: \"re:^AcmeUpdater/\"\n"
                                         "      - ip: [192.0.2.0/24, 2001:db8::/32]\n"
                                         "        port: [443/tcp, 8000-8100]\n"
                                         "  - sid: 101\n"
                                         "    msg: Acme site\n"
                                         "    channel: web\n"
                                         "    match:\n"
                                         "      - payload: \"hex:41 43 4d 45\"\n",
                                    &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    emb_rules_summary_t s;
    emb_rules_summary(r, &s);
    cr_assert_eq(s.vendors, 1);
    cr_assert_eq(s.rules, 2);
    cr_assert_eq(s.alternatives, 4);
    cr_assert_eq(s.rules_per_channel[EMB_CH_UPDATE], 1);
    cr_assert_eq(s.rules_per_channel[EMB_CH_WEB], 1);
    cr_assert_eq(s.indicators_per_key[EMB_K_DOMAIN], 2);
    cr_assert_eq(s.indicators_per_key[EMB_K_IP], 2);
    cr_assert_eq(s.indicators_per_key[EMB_K_PORT], 2);

    /* defaults: rev 1, severity by channel (2 product, 3 web), confidence medium */
    cr_assert_eq(r->rules[0].rev, 1);
    cr_assert_eq(r->rules[0].severity, 2);
    cr_assert_eq(r->rules[1].severity, 3);
    cr_assert_eq(r->rules[1].confidence, EMB_CONF_MEDIUM);
    /* the hex payload decodes to bytes */
    const emb_indicator_t *hex = &r->inds[r->ninds - 1];
    cr_assert_eq(hex->len, 4);
    cr_assert(memcmp(hex->text, "ACME", 4) == 0);
    /* the second alternative needs both content conditions, and is not ip/port-only */
    cr_assert_eq(r->alts[1].ncond, 2);
    cr_assert_eq(r->alts[1].content_mask, 3);
    cr_assert_eq(r->alts[2].content_mask, 0);
    /* domains: exact marker stripped, kind recorded */
    cr_assert_eq(r->inds[1].kind, EMB_PAT_DOMAIN_EXACT);
    cr_assert_str_eq(r->inds[1].text, "acme.example");
    const char *id, *name;
    size_t n;
    cr_assert_eq(emb_rules_vendor(r, 0, &id, &name, &n), 0);
    cr_assert_str_eq(id, "acme");
    cr_assert_str_eq(name, "Acme Corp");
    cr_assert_eq(n, 2);
    emb_rules_free(r);
}

Test(rules, unknown_channel_names_line_and_column) {
    /* HEAD is 7 lines; "channel: updates" is line 10, its value at column 14 */
    expect_error("  - sid: 1\n"
                 "    msg: m\n"
                 "    match: [{domain: a.example}]\n"
                 "    channel: updates\n",
                 "r.yaml:11:14: unknown channel 'updates'");
}

Test(rules, unknown_keys_at_every_level) {
    expect_error("  - sid: 1\n    msg: m\n    channel: web\n    colour: red\n"
                 "    match: [{domain: a.example}]\n",
                 "unknown rule key 'colour'");
    expect_error("  - sid: 1\n    msg: m\n    channel: web\n"
                 "    match: [{hostname: a.example}]\n",
                 "unknown match key 'hostname'");
    expect_error("  - sid: 1\n    msg: m\n    channel: web\n    match: [{domain: a.example}]\n"
                 "extra: 1\n",
                 "unknown top-level key 'extra'");
}

Test(rules, duplicate_sid_in_one_file) {
    expect_error("  - {sid: 7, msg: a, channel: web, match: [{domain: a.example}]}\n"
                 "  - {sid: 7, msg: b, channel: web, match: [{domain: b.example}]}\n",
                 "r.yaml:9:11: duplicate sid 7 (first used at ");
}

Test(rules, duplicate_sid_across_files_of_a_directory) {
    char *dir =
        test_write_file(NULL, "a.yaml",
                        "vendor: a\nname: A\nrules:\n"
                        "  - {sid: 9, msg: a, channel: web, match: [{domain: a.example}]}\n");
    free(test_write_file(dir, "b.yaml",
                         "vendor: b\nname: B\nrules:\n"
                         "  - {sid: 9, msg: b, channel: web, match: [{domain: b.example}]}\n"));
    emb_rules_t *r = NULL;
    emb_diags_t *d = NULL;
    cr_assert_eq(emb_rules_load(dir, &r, &d), EMB_ERULES);
    cr_assert_null(r);
    cr_assert(test_diags_have(d, "b.yaml:4:11: duplicate sid 9 (first used at "));
    cr_assert(test_diags_have(d, "a.yaml:4:5"));
    emb_diags_free(d);
    free(dir);
}

Test(rules, directory_loads_every_yaml_file_in_order) {
    char *dir =
        test_write_file(NULL, "b.yaml",
                        "vendor: b\nname: B\nrules:\n"
                        "  - {sid: 2, msg: b, channel: web, match: [{domain: b.example}]}\n");
    free(test_write_file(dir, "a.yaml",
                         "vendor: a\nname: A\nrules:\n"
                         "  - {sid: 1, msg: a, channel: web, match: [{domain: a.example}]}\n"));
    free(test_write_file(dir, "notes.txt", "not a rule file"));
    emb_rules_t *r = NULL;
    cr_assert_eq(emb_rules_load(dir, &r, NULL), 0);
    cr_assert_eq(r->nvendors, 2);
    cr_assert_str_eq(r->vendors[0].id, "a");
    cr_assert_str_eq(r->vendors[1].id, "b");
    emb_rules_free(r);
    free(dir);
}

Test(rules, bad_cidr_and_port) {
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{ip: 10.0.0.0/33}]}\n",
                 "bad CIDR '10.0.0.0/33': bad prefix length");
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{ip: 10.0.0.1/8}]}\n",
                 "bits set beyond the prefix length");
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{ip: kaspersky.com}]}\n",
                 "not an IPv4 or IPv6 address");
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{port: 70000}]}\n",
                 "bad port '70000'");
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{port: 443/sctp}]}\n",
                 "protocol must be /tcp or /udp");
    expect_error("  - {sid: 1, msg: m, channel: cloud, match: [{port: 90-80}]}\n",
                 "port range is reversed");
}

Test(rules, regex_rejected_by_hyperscan_names_the_place) {
    expect_error("  - sid: 1\n    msg: m\n    channel: web\n"
                 "    match:\n      - http.uri: \"re:(unclosed\"\n",
                 "r.yaml:12:19: regex rejected by Hyperscan");
    /* a regex that matches the empty string would fire on everything */
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{http.uri: \"re:a*\"}]}\n",
                 "can match the empty string");
}

Test(rules, bad_domain_patterns) {
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{domain: \"a b.example\"}]}\n",
                 "invalid character ' ' in domain");
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{domain: \"a..example\"}]}\n",
                 "empty label");
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{domain: \"=\"}]}\n", "empty domain");
}

Test(rules, missing_required_fields_and_bad_values) {
    expect_error("  - {sid: 1, channel: web, match: [{domain: a.example}]}\n", "rule has no 'msg'");
    expect_error("  - {msg: m, channel: web, match: [{domain: a.example}]}\n", "rule has no 'sid'");
    expect_error("  - {sid: 1, msg: m, channel: web}\n", "rule has no 'match'");
    expect_error("  - {sid: 0, msg: m, channel: web, match: [{domain: a.example}]}\n",
                 "sid must be a whole number");
    expect_error("  - {sid: 1, msg: m, channel: web, severity: 4, match: [{domain: a.b}]}\n",
                 "severity must be 1, 2 or 3");
    expect_error("  - {sid: 1, msg: m, channel: web, confidence: sure, match: [{domain: a.b}]}\n",
                 "confidence must be high, medium or low");
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{}]}\n", "empty alternative");
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{domain: []}]}\n", "empty list");
    expect_error("  - {sid: 1, msg: m, channel: web, match: [{payload: \"hex:4g\"}]}\n",
                 "bad hex pattern");
}

Test(rules, every_error_of_a_file_is_reported) {
    char text[1024];
    snprintf(text, sizeof(text),
             HEAD "  - {sid: 1, msg: m, channel: nope, match: [{domain: a.example}]}\n"
                  "  - {sid: 2, msg: m, channel: web, match: [{ip: 1.2.3.4/40}]}\n");
    emb_diags_t *d = NULL;
    cr_assert_null(test_load_text(text, &d));
    cr_assert_eq(emb_diags_count(d), 2);
    cr_assert(test_diags_have(d, ":8:"));
    cr_assert(test_diags_have(d, ":9:"));
    emb_diags_free(d);
}

Test(rules, yaml_syntax_error_names_the_place) {
    emb_diags_t *d = NULL;
    cr_assert_null(test_load_text("vendor: a\nname: [unclosed\nrules: []\n", &d));
    cr_assert_eq(emb_diags_count(d), 1);
    cr_assert(strstr(emb_diags_message(d, 0), "r.yaml:") != NULL);
    cr_assert(strstr(emb_diags_message(d, 0), "YAML error") != NULL);
    emb_diags_free(d);
}

Test(rules, bad_ban_and_vendor) {
    emb_diags_t *d = NULL;
    cr_assert_null(test_load_text("vendor: Bad Vendor\nname: X\nbans:\n"
                                  "  - {authority: A, effective: 2024-13-01}\n"
                                  "rules:\n"
                                  "  - {sid: 1, msg: m, channel: web, match: [{domain: a.b}]}\n",
                                  &d));
    cr_assert(test_diags_have(d, "r.yaml:1:9: vendor id 'Bad Vendor' must match"));
    cr_assert(test_diags_have(d, "r.yaml:4:31: effective must be a date"));
    emb_diags_free(d);
}

Test(rules, missing_file_and_empty_directory) {
    emb_rules_t *r = NULL;
    emb_diags_t *d = NULL;
    cr_assert_eq(emb_rules_load("/nonexistent/rules.yaml", &r, &d), EMB_ERULES);
    cr_assert(test_diags_have(d, "/nonexistent/rules.yaml: cannot read rules"));
    emb_diags_free(d);

    char tmpl[] = "/tmp/embargo-test-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    d = NULL;
    cr_assert_eq(emb_rules_load(tmpl, &r, &d), EMB_ERULES);
    cr_assert(test_diags_have(d, "no *.yaml rule files"));
    emb_diags_free(d);
}

Test(rules, cidr_and_port_parsers) {
    emb_cidr_t c;
    const char *why;
    cr_assert_eq(emb__parse_cidr("77.74.176.0/21", &c, &why), 0);
    cr_assert_eq(c.family, 4);
    cr_assert_eq(c.plen, 21);
    uint8_t in[4] = {77, 74, 183, 255}, out[4] = {77, 74, 184, 0};
    cr_assert(emb__cidr_contains(&c, 4, in));
    cr_assert_not(emb__cidr_contains(&c, 4, out));
    cr_assert_eq(emb__parse_cidr("2001:db8::/32", &c, &why), 0);
    cr_assert_eq(c.family, 6);
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff};
    cr_assert(emb__cidr_contains(&c, 6, v6));
    cr_assert_not(emb__cidr_contains(&c, 4, v6), "family must match");
    cr_assert_eq(emb__parse_cidr("192.0.2.7", &c, &why), 0);
    cr_assert_eq(c.plen, 32);

    emb_portrange_t p;
    cr_assert_eq(emb__parse_ports("13000/tcp", &p, &why), 0);
    cr_assert(p.lo == 13000 && p.hi == 13000 && p.proto == 6);
    cr_assert_eq(emb__parse_ports("23100-23199", &p, &why), 0);
    cr_assert(p.lo == 23100 && p.hi == 23199 && p.proto == 0);
    cr_assert_eq(emb__parse_ports("15000/udp", &p, &why), 0);
    cr_assert_eq(p.proto, 17);
    cr_assert_neq(emb__parse_ports("-5", &p, &why), 0);
    cr_assert_neq(emb__parse_ports("", &p, &why), 0);
    cr_assert_neq(emb__parse_ports("12/", &p, &why), 0);
}

Test(rules, trailing_dot_in_names) {
    /* A substring on a name field ending in a dot could only match a longer name:
     * refused where it is written. */
    expect_error("  - {sid: 1, msg: m, channel: update, match: [{dns.query: upd.kaspersky.}]}\n",
                 "r.yaml:8:59: 'upd.kaspersky.' ends with a dot");
    expect_error("  - {sid: 1, msg: m, channel: update, match: [{tls.sni: A.Example.}]}\n",
                 "ends with a dot");
    /* A whole name (domain) drops its trailing dot, and its length with it; a name
     * that is only cased differently is lower-cased to the same length. */
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(HEAD "  - {sid: 1, msg: m, channel: update,\n"
                                         "     match: [{domain: Upd.Kaspersky.COM.},\n"
                                         "             {dns.query: UPD.kaspersky}]}\n",
                                    &d);
    cr_assert_not_null(r);
    cr_assert_eq(r->ninds, 2);
    cr_assert_eq(r->inds[0].len, strlen("upd.kaspersky.com"));
    cr_assert_str_eq(r->inds[0].text, "upd.kaspersky.com");
    cr_assert_eq(r->inds[1].len, strlen("upd.kaspersky"));
    cr_assert_str_eq(r->inds[1].text, "upd.kaspersky");
    emb_rules_free(r);
}
