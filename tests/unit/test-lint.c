/*
 * The rule-pack linter (pack-tools/lint.c): each kind of warning is reported at
 * the right place, a clean pack gets none, and what is fine by design (a
 * product rule under a `web` rule's domain, an IPv6 block with a /tcp port)
 * is not flagged.
 */
#include "helpers.h"
#include "pack/pack.h"

#include <criterion/criterion.h>

#define HEAD                                                                                       \
    "vendor: acme\n"                                                                               \
    "bans:\n"                                                                                      \
    "  - authority: Test authority\n"                                                              \
    "    effective: 2024-09-29\n"                                                                  \
    "    reference: https://example.org/ban\n"                                                     \
    "rules:\n"

/* A rule header with references, sid `sid`, channel `ch`; then its match list. */
#define RULE(sid, ch)                                                                              \
    "  - sid: " #sid "\n"                                                                          \
    "    msg: m\n"                                                                                 \
    "    channel: " ch "\n"                                                                        \
    "    references: [https://example.org/r]\n"                                                    \
    "    match:\n"

/* Loads `text` (kept on disk while linting: ban positions are read from the file) and
 * returns the warnings. */
static emb_diags_t *lint_text(const char *text) {
    char *dir = test_write_file(NULL, "r.yaml", text);
    char path[512];
    snprintf(path, sizeof(path), "%s/r.yaml", dir);
    emb_rules_t *r = NULL;
    emb_diags_t *d = NULL;
    int rc = emb_rules_load(path, &r, &d);
    if (rc != 0)
        test_print_diags(d);
    cr_assert_eq(rc, 0, "the test pack must load");
    emb_diags_t *w = NULL;
    cr_assert_eq(emb_rules_lint(r, &w), 0);
    test_print_diags(w);
    emb_rules_free(r);
    unlink(path);
    rmdir(dir);
    free(dir);
    return w;
}

static void expect_warning(const char *text, const char *want) {
    emb_diags_t *w = lint_text(text);
    cr_assert(test_diags_have(w, want), "no warning contains '%s'", want);
    emb_diags_free(w);
}

Test(lint, clean_pack_has_no_warnings) {
    emb_diags_t *w = lint_text(HEAD RULE(
        1, "update") "      - domain: upd.acme.example\n"
                     "      - ip: [2001:db8::/32]\n"
                     "        port: 443/tcp\n" RULE(2, "web") "      - domain: acme.example\n");
    cr_assert_eq(emb_diags_count(w), 0, "a product rule under a web domain is by design");
    emb_diags_free(w);
}

Test(lint, rule_without_references) {
    expect_warning(HEAD "  - sid: 7\n"
                        "    msg: m\n"
                        "    channel: update\n"
                        "    match:\n"
                        "      - domain: acme.example\n",
                   "r.yaml:7:5: warning: rule 7 has no references");
}

Test(lint, ban_without_reference_names_the_ban) {
    expect_warning("vendor: acme\n"
                   "bans:\n"
                   "  - authority: Test authority\n"
                   "    effective: 2024-09-29\n"
                   "rules:\n" RULE(1, "update") "      - domain: acme.example\n",
                   "r.yaml:3:5: warning: ban of vendor 'acme' (Test authority) has no reference");
}

Test(lint, vendor_without_bans) {
    expect_warning("vendor: acme\n"
                   "rules:\n" RULE(1, "update") "      - domain: acme.example\n",
                   "r.yaml:1:1: warning: vendor 'acme' has no bans");
}

Test(lint, duplicate_domain_in_one_rule) {
    expect_warning(HEAD RULE(1, "update") "      - domain: [a.acme.example, b.acme.example]\n"
                                          "      - domain: a.acme.example\n",
                   "r.yaml:13:17: warning: duplicate domain 'a.acme.example' (first at");
}

Test(lint, subdomain_covered_in_same_rule) {
    /* upd.kaspersky.com under kaspersky.com, the brief's example */
    expect_warning(HEAD RULE(1, "update") "      - domain: [kaspersky.com, upd.kaspersky.com]\n",
                   "r.yaml:12:33: warning: domain 'upd.kaspersky.com' is already covered by "
                   "'kaspersky.com'");
}

Test(lint, wildcard_and_exact_covered_by_other_rule_same_channel) {
    emb_diags_t *w =
        lint_text(HEAD RULE(1, "update") "      - domain: \"*.geo.acme.example\"\n" RULE(
            2, "update") "      - domain: [\"dnl-*.geo.acme.example\", \"=x.geo.acme.example\"]\n");
    cr_assert(test_diags_have(w, "domain 'dnl-*.geo.acme.example' is already covered by "
                                 "'*.geo.acme.example'"));
    cr_assert(test_diags_have(w, "domain '=x.geo.acme.example' is already covered by"));
    cr_assert(test_diags_have(w, "of rule 1, same vendor and channel"));
    emb_diags_free(w);
}

Test(lint, no_overlap_across_labels_or_channels) {
    /* '*' stays in one label: dnl-*.geo does not cover dnl-1.x.geo; exact does not
     * cover subdomains; another channel is by design. */
    emb_diags_t *w = lint_text(
        HEAD RULE(1, "update") "      - domain: [\"dnl-*.geo.acme.example\", "
                               "\"=geo.acme.example\", dnl-1.x.geo.acme.example]\n" RULE(
                                   2, "telemetry") "      - domain: t.geo.acme.example\n");
    cr_assert_eq(emb_diags_count(w), 0);
    emb_diags_free(w);
}

Test(lint, literal_substring_covered) {
    expect_warning(HEAD RULE(1, "update") "      - http.uri: [/upd, /upd/index.xml]\n",
                   "http.uri '/upd/index.xml' is already covered by '/upd'");
}

Test(lint, keys_never_in_one_packet) {
    expect_warning(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                          "        http.uri: /x\n",
                   "r.yaml:12:9: warning: rule 1: keys dns.query, http.uri are never extracted "
                   "from the same packet");
}

Test(lint, port_excludes_the_protocol) {
    expect_warning(HEAD RULE(1, "update") "      - tls.sni: acme\n"
                                          "        port: 443/udp\n",
                   "tls.sni is read from TLS ClientHello (TCP), which none of the alternative's "
                   "ports allows");
    expect_warning(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                          "        port: 5353/udp\n",
                   "dns.query is read from DNS (port 53)");
}

Test(lint, ipv6_block_with_tcp_port_is_fine) {
    emb_diags_t *w = lint_text(HEAD RULE(1, "update") "      - ip: 2001:db8::/32\n"
                                                      "        port: 443/tcp\n"
                                                      "      - quic.sni: acme\n"
                                                      "        port: [443/udp, 80/tcp]\n");
    cr_assert_eq(emb_diags_count(w), 0);
    emb_diags_free(w);
}

Test(lint, regex_upper_case_on_a_lower_cased_field) {
    expect_warning(HEAD RULE(1, "update") "      - tls.sni: \"re:^Acme\\\\.\"\n",
                   "tls.sni regex 're:^Acme\\.' needs the upper-case 'A'");
    /* (?i), escapes like \\S and classes are fine */
    emb_diags_t *w =
        lint_text(HEAD RULE(1, "update") "      - tls.sni: \"re:(?i)^acme\"\n"
                                         "      - dns.query: \"re:^[A-Za-z]+\\\\S\"\n");
    cr_assert_eq(emb_diags_count(w), 0);
    emb_diags_free(w);
}

Test(lint, names_a_dns_query_cannot_hold) {
    expect_warning(HEAD RULE(1, "update") "      - dns.query: \"acme corp\"\n",
                   "dns.query 'acme corp' holds byte 0x20");
    expect_warning(HEAD RULE(1, "update") "      - dns.query: \"acme..example\"\n",
                   "has an empty label");
    expect_warning(HEAD RULE(1, "update") "      - http.host: \"acme.example:8080\"\n",
                   "http.host 'acme.example:8080' has a port");
}

Test(lint, overlapping_blocks_and_ports_in_a_list) {
    emb_diags_t *w = lint_text(HEAD RULE(1, "update") "      - ip: [10.0.0.0/8, 10.1.0.0/16]\n"
                                                      "        port: [80-90, 85/tcp, 85/udp]\n");
    cr_assert(test_diags_have(w, "ip block is inside another block of the same list"));
    cr_assert(test_diags_have(w, "port 85-85 overlaps port 80-90"));
    emb_diags_free(w);
}

Test(lint, bad_arguments) {
    emb_diags_t *w = (emb_diags_t *)1;
    cr_assert_eq(emb_rules_lint(NULL, &w), EMB_EINVAL);
    cr_assert_null(w);
}
