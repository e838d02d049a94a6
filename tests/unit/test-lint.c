/*
 * The rule-pack linter (pack-tools/lint.c, lint-names.c, lint-regex.c): each
 * kind of warning is reported at the right place, a clean pack gets none, and
 * what is fine by design (a product rule under a `web` rule's domain, an IPv6
 * block with a /tcp port) or can still match (a regex with a lower-case way
 * through, payload with only ip and port) is not flagged.
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

/* `text` gets one warning, and it is `want` exactly (after the file's directory). */
static void expect_only(const char *text, const char *want) {
    emb_diags_t *w = lint_text(text);
    cr_assert_eq(emb_diags_count(w), 1, "want one warning: %s", want);
    const char *m = emb_diags_message(w, 0);
    size_t n = strlen(m), wn = strlen(want);
    cr_assert(n > wn && strcmp(m + n - wn, want) == 0 && m[n - wn - 1] == '/',
              "got '%s', want '.../%s'", m, want);
    emb_diags_free(w);
}

static void expect_none(const char *text) {
    emb_diags_t *w = lint_text(text);
    cr_assert_eq(emb_diags_count(w), 0, "want no warning, got %zu", emb_diags_count(w));
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

Test(lint, keys_never_in_one_message) {
    expect_only(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                       "        http.uri: /x\n",
                "r.yaml:12:9: warning: rule 1: dns.query is read from a DNS message, http.uri "
                "from an HTTP request: all keys of an alternative must match in one message, so "
                "it can never match");
    expect_only(HEAD RULE(1, "update") "      - tls.sni: acme\n"
                                       "        http.host: acme\n",
                "r.yaml:12:9: warning: rule 1: tls.sni is read from a TLS ClientHello, http.host "
                "from an HTTP request: all keys of an alternative must match in one message, so it "
                "can never match");
    expect_only(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                       "        tls.cert_issuer: Acme\n",
                "r.yaml:12:9: warning: rule 1: dns.query is read from a DNS message, "
                "tls.cert_issuer from a TLS Certificate: all keys of an alternative must match in "
                "one message, so it can never match");
    /* JA4 is the ClientHello's; the certificate comes in a later message */
    expect_only(HEAD RULE(1, "update") "      - ja4: t13d\n"
                                       "        tls.cert_subject: Acme\n",
                "r.yaml:12:9: warning: rule 1: ja4 is read from a TLS or QUIC ClientHello, "
                "tls.cert_subject from a TLS Certificate: all keys of an alternative must match in "
                "one message, so it can never match");
    expect_only(HEAD RULE(1, "update") "      - domain: acme.example\n"
                                       "        quic.sni: acme\n"
                                       "        tls.sni: acme\n",
                "r.yaml:12:9: warning: rule 1: quic.sni is read from a QUIC Initial's "
                "ClientHello, tls.sni from a TLS ClientHello: all keys of an alternative must "
                "match in one message, so it can never match");
}

Test(lint, keys_of_one_message_are_fine) {
    expect_none(HEAD RULE(1, "update") "      - ja4: t13d\n"
                                       "        tls.sni: acme\n"
                                       "      - ja4: q13d\n"
                                       "        quic.sni: acme\n"
                                       "      - domain: acme.example\n"
                                       "        tls.cert_subject: Acme\n"
                                       "      - domain: acme.example\n"
                                       "        ja4: t13d\n"
                                       "      - http.host: acme\n"
                                       "        http.uri: /x\n"
                                       "        http.user_agent: Acme\n"
                                       "      - tls.cert_subject: Acme\n"
                                       "        tls.cert_issuer: Acme CA\n");
}

Test(lint, payload_with_a_message_key) {
    expect_only(HEAD RULE(1, "update") "      - http.user_agent: Acme\n"
                                       "        payload: acme\n",
                "r.yaml:12:9: warning: rule 1: payload is scanned in a round of its own (stream "
                "or datagram bytes, no other field), never in one message with http.user_agent: "
                "all keys of an alternative must match in one message, so it can never match");
    expect_only(HEAD RULE(1, "update") "      - ip: 192.0.2.0/24\n"
                                       "        payload: acme\n"
                                       "        domain: acme.example\n"
                                       "        http.uri: /x\n",
                "r.yaml:12:9: warning: rule 1: payload is scanned in a round of its own (stream "
                "or datagram bytes, no other field), never in one message with domain, http.uri: "
                "all keys of an alternative must match in one message, so it can never match");
}

Test(lint, payload_with_ip_and_port_is_fine) {
    /* ip and port are facts of the flow: they hold in the payload round too */
    expect_none(HEAD RULE(1, "update") "      - payload: acme\n"
                                       "        ip: 192.0.2.0/24\n"
                                       "        port: 53/udp\n"
                                       "      - payload: \"hex:4b 4c\"\n");
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

Test(lint, port_excludes_every_message_of_the_keys) {
    /* port 53 makes a UDP flow DNS, never QUIC */
    expect_only(HEAD RULE(1, "update") "      - quic.sni: acme\n"
                                       "        port: 53/udp\n",
                "r.yaml:12:9: warning: rule 1: quic.sni is read from QUIC Initial (UDP, not port "
                "53), which none of the alternative's ports allows: it can never match");
    expect_only(HEAD RULE(1, "update") "      - ja4: t13d\n"
                                       "        port: 53/udp\n",
                "r.yaml:12:9: warning: rule 1: ja4 is read from TLS ClientHello (TCP) or QUIC "
                "Initial (UDP, not port 53), which none of the alternative's ports allows: it can "
                "never match");
    expect_only(HEAD RULE(1, "update") "      - http.host: acme\n"
                                       "        http.uri: /x\n"
                                       "        port: 443/udp\n",
                "r.yaml:12:9: warning: rule 1: http.host, http.uri are read from HTTP request "
                "(TCP), which none of the alternative's ports allows: it can never match");
    /* DNS over TCP only to server port 53; over UDP either port may be 53 */
    expect_only(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                       "        port: 5353/tcp\n",
                "r.yaml:12:9: warning: rule 1: dns.query is read from DNS (port 53), which none "
                "of the alternative's ports allows: it can never match");
    expect_only(HEAD RULE(1, "update") "      - dns.query: acme\n"
                                       "        port: 5353\n",
                "r.yaml:12:9: warning: rule 1: dns.query is read from DNS (port 53), which none "
                "of the alternative's ports allows: it can only match DNS that a client sends "
                "from port 53");
}

Test(lint, ports_that_allow_a_message_are_fine) {
    /* TLS and HTTP are told by their first bytes on any TCP port, 53 too */
    expect_none(HEAD RULE(1, "update") "      - tls.sni: acme\n"
                                       "        port: 53/tcp\n"
                                       "      - http.host: acme\n"
                                       "        port: 53\n"
                                       "      - quic.sni: acme\n"
                                       "        port: 50-60/udp\n"
                                       "      - ja4: t13d\n"
                                       "        port: [53/udp, 8443/tcp]\n"
                                       "      - dns.query: acme\n"
                                       "        port: 53/tcp\n"
                                       "      - domain: acme.example\n"
                                       "        port: 5353/udp\n");
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

Test(lint, regex_needing_upper_case_in_a_class_or_on_domain) {
    expect_only(HEAD RULE(1, "update") "      - tls.sni: \"re:^[A-Z]+\\\\.acme\"\n",
                "r.yaml:12:18: warning: tls.sni regex 're:^[A-Z]+\\.acme' needs an upper-case "
                "letter, but tls.sni is lower-cased before matching: it can never match there "
                "(write it in lower case or add (?i))");
    /* (?i) only from where it stands */
    expect_only(HEAD RULE(1, "update") "      - domain: \"re:^Acme(?i)corp\"\n",
                "r.yaml:12:17: warning: domain regex 're:^Acme(?i)corp' needs the upper-case 'A', "
                "but domain is lower-cased before matching: it can never match there (write it in "
                "lower case or add (?i))");
}

Test(lint, regex_with_a_lower_case_way_is_fine) {
    /* a branch, an optional letter or a negated class leaves a lower-case match; URI,
     * User-Agent and certificate DNs keep their case */
    expect_none(HEAD RULE(1, "update") "      - tls.sni: \"re:^(acme|ACME)\\\\.\"\n"
                                       "      - quic.sni: \"re:^X?acme[^A-Z]\"\n"
                                       "      - http.host: \"re:(?i:A)cme\"\n"
                                       "      - domain: \"re:(?i)^[A-Z]+corp\"\n"
                                       "      - http.uri: \"re:^/Acme\"\n"
                                       "      - tls.cert_subject: \"re:CN=Acme\"\n");
}

Test(lint, regex_needing_a_trailing_dot) {
    expect_only(HEAD RULE(1, "update") "      - dns.query: \"re:acme\\\\.$\"\n",
                "r.yaml:12:20: warning: dns.query regex 're:acme\\.$' needs a dot at the end of "
                "the name, but names are matched without their trailing dot: it can never match");
    expect_only(HEAD RULE(1, "update") "      - tls.sni: \"re:^acme(\\\\.com)?\\\\.\\\\z\"\n",
                "r.yaml:12:18: warning: tls.sni regex 're:^acme(\\.com)?\\.\\z' needs a dot at "
                "the end of the name, but names are matched without their trailing dot: it can "
                "never match");
}

Test(lint, regex_with_a_dot_the_name_goes_on_after_is_fine) {
    expect_none(HEAD RULE(1, "update") "      - dns.query: \"re:acme\\\\.\"\n"
                                       "      - tls.sni: \"re:acme\\\\.(com|$)\"\n"
                                       "      - http.host: \"re:\\\\.acme$\"\n");
}

Test(lint, regex_a_dns_name_cannot_hold) {
    expect_only(HEAD RULE(1, "update") "      - dns.query: \"re:acme[ _]corp\"\n"
                                       "      - dns.query: \"re:acme\\\\s+corp\"\n",
                "r.yaml:13:20: warning: dns.query regex 're:acme\\s+corp' needs a space, control "
                "or non-ASCII byte, which a DNS name shows as \\DDD: it can never match");
    expect_only(HEAD RULE(1, "update") "      - dns.query: \"re:^acme\\\\x00\"\n",
                "r.yaml:12:20: warning: dns.query regex 're:^acme\\x00' needs byte 0x00, which a "
                "DNS name shows as \\000: it can never match");
    expect_only(HEAD RULE(1, "update") "      - dns.query: \"re:acme\\\\.{2}example\"\n",
                "r.yaml:12:20: warning: dns.query regex 're:acme\\.{2}example' needs an empty "
                "label (a leading dot or two dots in a row), which a DNS name never has: it can "
                "never match");
}

Test(lint, regex_a_dns_name_can_hold_is_fine) {
    /* a space shows as \032 in a DNS name; an SNI or a Host carries its bytes as sent */
    expect_none(HEAD RULE(1, "update") "      - dns.query: \"re:acme\\\\\\\\032corp\"\n"
                                       "      - dns.query: \"re:^[^.]+\\\\.acme\\\\.\"\n"
                                       "      - tls.sni: \"re:acme corp\"\n"
                                       "      - http.host: \"re:acme\\\\.\\\\.example\"\n"
                                       "      - dns.query: \"re:\\\\p{L}\\\\.\\\\.\"\n");
}

Test(lint, host_port_that_may_be_part_of_an_ipv6_literal) {
    /* "[2001:db8::beef:80]" is matched as 2001:db8::beef:80: ':80' may be in it */
    expect_none(HEAD RULE(1, "update") "      - http.host: \"beef:80\"\n");
    expect_only(HEAD RULE(1, "update") "      - http.host: \"cafe.example:80\"\n",
                "r.yaml:12:20: warning: http.host 'cafe.example:80' has a port, but the port is "
                "removed from Host before matching: it can never match (use a port condition)");
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
