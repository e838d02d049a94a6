/*
 * The exporters (export.c): exact Suricata rules and Zeek Intel lines for a
 * small pack, the notes for what a format cannot say, and write errors.
 */
#include "helpers.h"
#include "pack/pack.h"

#include <criterion/criterion.h>

/* A pack of two rules: a product rule (three alternatives) and a web rule under it. */
static const char *const PACK = "vendor: acme\n"
                                "bans:\n"
                                "  - authority: Test authority\n"
                                "    reference: https://example.org/ban\n"
                                "rules:\n"
                                "  - sid: 100\n"
                                "    msg: Acme update\n"
                                "    channel: update\n"
                                "    confidence: high\n"
                                "    references: [https://example.org/r]\n"
                                "    match:\n"
                                "      - domain: [upd.acme.example, \"=cdn.acme.example\"]\n"
                                "      - http.uri: /upd/\n"
                                "        http.user_agent: \"re:^AcmeUpdater/\"\n"
                                "      - ip: 192.0.2.0/24\n"
                                "        port: 443/tcp\n"
                                "  - sid: 190\n"
                                "    msg: Acme website\n"
                                "    channel: web\n"
                                "    references: [https://example.org/w]\n"
                                "    match:\n"
                                "      - payload: \"hex:41 43 4d 45 3b\"\n"
                                "        port: 9000/udp\n"
                                "      - domain: acme.example\n";

typedef struct {
    char buf[65536];
    size_t len;
    int fail_after; /* calls before the writer fails; -1 never */
} sink_t;

static int sink_write(const char *p, size_t n, void *ud) {
    sink_t *s = ud;
    if (s->fail_after == 0)
        return -1;
    if (s->fail_after > 0)
        s->fail_after--;
    cr_assert_lt(s->len + n, sizeof(s->buf));
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return 0;
}

static emb_rules_t *load_pack(void) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(PACK, &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    return r;
}

static void expect_line(const sink_t *s, const char *line) {
    char want[4096];
    snprintf(want, sizeof(want), "%s\n", line);
    if (strstr(s->buf, want) == NULL)
        cr_log_info("output:\n%s", s->buf);
    cr_assert_not_null(strstr(s->buf, want), "missing line: %s", line);
}

#define TAIL(sid, alt, ch, conf, ssid)                                                             \
    " flowbits:isnotset,embargo." #sid "; flowbits:set,embargo." #sid ";"                          \
    " priority:2; classtype:policy-violation; metadata:embargo_sid " #sid ", embargo_alt " #alt    \
    ", vendor acme, channel " ch ", confidence " conf "; sid:" #ssid "; rev:1;)"

Test(export, suricata_rules_exact) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = -1};
    emb_diags_t *notes = NULL;
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA, sink_write, &s, &notes), 0);
    /* subdomain semantics: dotprefix + endswith, one rule per buffer */
    expect_line(&s, "alert dns any any -> any any (msg:\"Acme update\"; flow:to_server; dns.query; "
                    "dotprefix; content:\".upd.acme.example\"; nocase; endswith;" TAIL(
                        100, 0, "update", "high", 100000));
    /* =exact: startswith + endswith; http.host is lower-cased by Suricata: no nocase */
    expect_line(&s, "alert http any any -> any any (msg:\"Acme update\"; flow:to_server; "
                    "http.host; content:\"cdn.acme.example\"; startswith; endswith;" TAIL(
                        100, 0, "update", "high", 100009));
    /* certificate names: the subject CN, sent by the server */
    expect_line(&s, "alert tls any any -> any any (msg:\"Acme update\"; flow:to_client; "
                    "tls.cert_subject; content:\"CN=\"; "
                    "pcre:\"/(?:^|, )CN=(?:[^,]*\\.)?upd\\.acme\\.example(?:,|$)/i\";" TAIL(
                        100, 0, "update", "high", 100004));
    /* two keys of one alternative in one rule; '/' escaped in the pcre */
    expect_line(&s, "alert http any any -> any any (msg:\"Acme update\"; flow:to_server; "
                    "http.uri.raw; content:\"/upd/\"; http.user_agent; "
                    "pcre:\"/^AcmeUpdater\\//\";" TAIL(100, 1, "update", "high", 100010));
    /* ip + port: the server in the block, then the client */
    expect_line(&s, "alert tcp any any -> [192.0.2.0/24] [443] (msg:\"Acme update\"; "
                    "flow:to_server;" TAIL(100, 2, "update", "high", 100011));
    expect_line(&s, "alert tcp [192.0.2.0/24] any -> any [443] (msg:\"Acme update\"; "
                    "flow:to_server;" TAIL(100, 2, "update", "high", 100012));
    /* payload: hex for ';', the port on UDP only */
    expect_line(&s, "alert udp any any -> any [9000] (msg:\"Acme website\"; flow:to_server; "
                    "content:\"ACME|3B|\"; flowbits:isnotset,embargo.190; "
                    "flowbits:set,embargo.190; priority:3; classtype:policy-violation; "
                    "metadata:embargo_sid 190, embargo_alt 0, vendor acme, channel web, "
                    "confidence medium; sid:190000; rev:1;)");
    /* web fallback: names a product rule of the vendor claims are excluded */
    expect_line(&s, "alert dns any any -> any any (msg:\"Acme website\"; flow:to_server; "
                    "dns.query; dotprefix; content:\".acme.example\"; nocase; endswith; "
                    "pcre:!\"/(?:(?:^|\\.)upd\\.acme\\.example|^\\.cdn\\.acme\\.example)$/i\"; "
                    "flowbits:isnotset,embargo.190; flowbits:set,embargo.190; priority:3; "
                    "classtype:policy-violation; metadata:embargo_sid 190, embargo_alt 1, vendor "
                    "acme, channel web, confidence medium; sid:190001; rev:1;)");
    cr_assert_eq(emb_diags_count(notes), 0);
    emb_diags_free(notes);
    emb_rules_free(r);
}

Test(export, suricata_notes_alternatives_it_cannot_express) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text("vendor: acme\n"
                                    "rules:\n"
                                    "  - sid: 5\n"
                                    "    msg: m\n"
                                    "    channel: update\n"
                                    "    match:\n"
                                    "      - dns.query: acme\n"
                                    "        http.uri: /x\n",
                                    &d);
    cr_assert_not_null(r);
    sink_t s = {.fail_after = -1};
    emb_diags_t *notes = NULL;
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA, sink_write, &s, &notes), 0);
    cr_assert(test_diags_have(notes, "r.yaml:7:9: not exported: rule 5: its keys are never read "
                                     "from one message"));
    cr_assert_null(strstr(s.buf, "alert "));
    emb_diags_free(notes);
    emb_rules_free(r);
}

Test(export, zeek_intel_exact) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = -1};
    emb_diags_t *notes = NULL;
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_ZEEK_INTEL, sink_write, &s, &notes), 0);
    cr_assert_str_eq(s.buf, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
                            "upd.acme.example\tIntel::DOMAIN\tembargo:100\tacme update: Acme "
                            "update\thttps://example.org/r\n"
                            "cdn.acme.example\tIntel::DOMAIN\tembargo:100\tacme update: Acme "
                            "update\thttps://example.org/r\n"
                            "acme.example\tIntel::DOMAIN\tembargo:190\tacme web: Acme "
                            "website\thttps://example.org/w\n");
    test_print_diags(notes);
    cr_assert(test_diags_have(notes, "r.yaml:12:18: not exported: zeek-intel: the subdomains of 1 "
                                     "domain pattern"));
    cr_assert(test_diags_have(notes, "r.yaml:13:9: not exported: zeek-intel: rule 100: an "
                                     "alternative of several keys"));
    cr_assert(test_diags_have(notes, "r.yaml:15:9: not exported: zeek-intel: rule 100: addresses "
                                     "with a port"));
    emb_diags_free(notes);
    emb_rules_free(r);
}

Test(export, suricata_plugin_exact) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = -1};
    emb_diags_t *notes = NULL;
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA_PLUGIN, sink_write, &s, &notes), 0);
    cr_assert_null(notes); /* one keyword rule says everything: nothing left out */
    cr_assert_str_eq(
        s.buf,
        "# embargo " EMB_VERSION_STRING " rule pack for Suricata 8 with embargo.so (embargo rules "
        "export --format suricata-plugin)\n"
        "# Each rule fires where embargo's engine raised the pack rule of the same sid; gid 2: "
        "by DNS attribution\n# of a flow Suricata has no naming transaction for.\n"
        "alert ip any any -> any any (msg:\"Acme update\"; embargo: sid 100; sid:100; rev:1; "
        "priority:2; metadata: vendor acme, channel update, confidence high, authority Test "
        "authority, scope all, ban_status in-force; classtype:policy-violation;)\n"
        /* a domain: DNS attribution can raise it, on a flow without a naming transaction too */
        "alert ip any any -> any any (msg:\"Acme update\"; embargo: sid 100, attribution; "
        "sid:100; gid:2; rev:1; priority:2; metadata: vendor acme, channel update, confidence "
        "high, authority Test authority, scope all, ban_status in-force; "
        "classtype:policy-violation;)\n"
        "alert ip any any -> any any (msg:\"Acme website\"; embargo: sid 190; sid:190; rev:1; "
        "priority:3; metadata: vendor acme, channel web, confidence medium, authority Test "
        "authority, scope all, ban_status in-force; classtype:policy-violation;)\n"
        "alert ip any any -> any any (msg:\"Acme website\"; embargo: sid 190, attribution; "
        "sid:190; gid:2; rev:1; priority:3; metadata: vendor acme, channel web, confidence "
        "medium, authority Test authority, scope all, ban_status in-force; "
        "classtype:policy-violation;)\n");
    emb_rules_free(r);
}

/* A rule no DNS name raises (addresses, a user-agent) gets no attribution twin. */
Test(export, suricata_plugin_twin_only_for_names) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text("vendor: acme\n"
                                    "bans:\n"
                                    "  - authority: Test authority\n"
                                    "    reference: https://example.org/ban\n"
                                    "rules:\n"
                                    "  - sid: 300\n"
                                    "    msg: Acme devices\n"
                                    "    channel: update\n"
                                    "    references: [https://example.org/r]\n"
                                    "    match:\n"
                                    "      - ip: 192.0.2.0/24\n"
                                    "      - http.user_agent: AcmeAgent\n"
                                    "  - sid: 301\n"
                                    "    msg: Acme lookups\n"
                                    "    channel: update\n"
                                    "    references: [https://example.org/r]\n"
                                    "    match:\n"
                                    "      - dns.query: upd.acme.example\n",
                                    &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    sink_t s = {.fail_after = -1};
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA_PLUGIN, sink_write, &s, NULL), 0);
    cr_assert_not_null(strstr(s.buf, "embargo: sid 300; sid:300; rev:1;"));
    cr_assert_null(strstr(s.buf, "embargo: sid 300, attribution"));
    cr_assert_not_null(strstr(s.buf, "embargo: sid 301, attribution; sid:301; gid:2; rev:1;"));
    emb_diags_free(d);
    emb_rules_free(r);
}

Test(export, suricata_plugin_drop_is_flow_scoped) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = -1};
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA_PLUGIN_DROP, sink_write, &s, NULL), 0);
    cr_assert(strstr(s.buf, "--action drop)\n") != NULL);
    cr_assert(strstr(s.buf, "\ndrop:flow ip any any -> any any (msg:\"Acme update\"; embargo: "
                            "sid 100;") != NULL);
    cr_assert(strstr(s.buf, "\nalert ") == NULL);
    emb_rules_free(r);
}

Test(export, write_failure_is_EIO) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = 2};
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA, sink_write, &s, NULL), EMB_EIO);
    emb_rules_free(r);
}

Test(export, bad_arguments) {
    emb_rules_t *r = load_pack();
    sink_t s = {.fail_after = -1};
    cr_assert_eq(emb_rules_export(NULL, EMB_EXPORT_SURICATA, sink_write, &s, NULL), EMB_EINVAL);
    cr_assert_eq(emb_rules_export(r, (emb_export_format_t)7, sink_write, &s, NULL), EMB_EINVAL);
    cr_assert_eq(emb_rules_export(r, EMB_EXPORT_SURICATA, NULL, &s, NULL), EMB_EINVAL);
    emb_rules_free(r);
}
