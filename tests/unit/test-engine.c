/*
 * The engine as a whole: facts from another parser (emb_engine_match), the
 * precedence of product channels over `web`, AND across keys, ip and port
 * conditions, and one alert per rule per flow on packets; TLS after an
 * accepted STARTTLS is inspected, after a refused one it is not (with no
 * payload rule, so the refused flow's later packets come one at a time).
 */
#include "helpers.h"
#include "pack/pack.h"

#include <criterion/criterion.h>

static emb_rules_t *rules;
static emb_engine_t *engine;

/* One vendor with a product rule and a web rule on the same names, a rule
 * that needs two keys, an ip+port rule and a port-only rule. */
static const char *pack =
    "vendor: acme\nname: Acme\n"
    "bans: [{authority: Test ban, effective: 2024-01-01, reference: https://example.org}]\n"
    "rules:\n"
    "  - {sid: 10, msg: update, channel: update, match: [{domain: upd.acme.example}]}\n"
    "  - {sid: 11, msg: site, channel: web, match: [{domain: acme.example}]}\n"
    "  - {sid: 12, msg: both, channel: telemetry,\n"
    "     match: [{http.uri: /t/, http.user_agent: AcmeAgent}]}\n"
    "  - {sid: 13, msg: net, channel: cloud, match: [{ip: 198.51.100.0/24, port: 443/tcp}]}\n"
    "  - {sid: 14, msg: mgmt, channel: management, match: [{port: 13000/tcp}]}\n"
    "  - {sid: 15, msg: cdn, channel: cloud, match: [{domain: cdn.acme.example}]}\n"
    "  - {sid: 16, msg: tele, channel: telemetry, match: [{domain: \"t*.cdn.acme.example\"}]}\n";

static void setup(void) {
    emb_diags_t *d = NULL;
    rules = test_load_text(pack, &d);
    test_print_diags(d);
    cr_assert_not_null(rules);
    cr_assert_eq(emb_engine_new(rules, NULL, &engine, &d), 0);
}

static void teardown(void) {
    emb_engine_free(engine);
    emb_rules_free(rules);
}

TestSuite(engine, .init = setup, .fini = teardown);

typedef struct {
    uint32_t sids[16];
    char fields[16][32];
    char values[16][64];
    size_t n;
} got_t;

static int on_match(const emb_match_t *m, void *ud) {
    got_t *g = ud;
    if (g->n < 16) {
        g->sids[g->n] = m->sid;
        snprintf(g->fields[g->n], 32, "%s", m->field);
        snprintf(g->values[g->n], 64, "%.*s", (int)m->value_len, m->value);
        g->n++;
    }
    return 0;
}

static got_t match(const emb_facts_t *f) {
    got_t g = {0};
    cr_assert_eq(emb_engine_match(engine, f, on_match, &g), 0);
    return g;
}

Test(engine, product_channel_hides_web_for_the_same_vendor) {
    emb_fact_t fa = {EMB_FIELD_TLS_SNI, "S1.UPD.Acme.Example.", 20};
    emb_facts_t f = {.facts = &fa, .nfacts = 1};
    got_t g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 10);
    cr_assert_str_eq(g.fields[0], "tls.sni");
    cr_assert_str_eq(g.values[0], "s1.upd.acme.example");

    /* the vendor's website alone raises the web rule */
    emb_fact_t fw = {EMB_FIELD_HTTP_HOST, "www.acme.example:8080", 21};
    f.facts = &fw;
    g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 11);
    cr_assert_str_eq(g.values[0], "www.acme.example");
}

Test(engine, the_more_specific_domain_pattern_wins) {
    emb_fact_t fa = {EMB_FIELD_DNS_QUERY, "t1.cdn.acme.example", 19};
    emb_facts_t f = {.facts = &fa, .nfacts = 1};
    got_t g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 16, "telemetry (t*.cdn.acme.example) outranks cdn.acme.example");
    emb_fact_t fb = {EMB_FIELD_DNS_QUERY, "x.cdn.acme.example", 18};
    f.facts = &fb;
    g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 15);
}

/* A rule's specificity on a name is that of its longest pattern matching the
 * name, whichever its patterns are listed or found in: sid 20 lists acme.example
 * and a.upd.acme.example, sid 21 upd.acme.example; a.upd.acme.example is sid
 * 20's (it names the host), x.upd.acme.example sid 21's. */
Test(engine, a_rule_is_as_specific_as_its_longest_matching_pattern) {
    static const char *const orders[] = {"[acme.example, a.upd.acme.example]",
                                         "[a.upd.acme.example, acme.example]"};
    for (int o = 0; o < 2; o++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "vendor: acme\nname: Acme\n"
                 "bans: [{authority: Test ban, effective: 2024-01-01, "
                 "reference: https://example.org}]\n"
                 "rules:\n"
                 "  - {sid: 20, msg: a, channel: cloud, match: [{domain: %s}]}\n"
                 "  - {sid: 21, msg: b, channel: cloud, match: [{domain: upd.acme.example}]}\n",
                 orders[o]);
        emb_diags_t *d = NULL;
        emb_rules_t *r = test_load_text(text, &d);
        test_print_diags(d);
        cr_assert_not_null(r);
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
        static const struct {
            const char *name;
            uint32_t sid;
        } want[] = {{"a.upd.acme.example", 20}, {"x.upd.acme.example", 21}, {"acme.example", 20}};
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
            emb_fact_t fa = {EMB_FIELD_DNS_QUERY, want[i].name, strlen(want[i].name)};
            emb_facts_t f = {.facts = &fa, .nfacts = 1};
            got_t g = {0};
            cr_assert_eq(emb_engine_match(e, &f, on_match, &g), 0);
            cr_assert_eq(g.n, 1, "%s (order %d): %zu rules", want[i].name, o, g.n);
            cr_assert_eq(g.sids[0], want[i].sid, "%s (order %d): sid %u", want[i].name, o,
                         g.sids[0]);
        }
        emb_engine_free(e);
        emb_rules_free(r);
    }
}

Test(engine, keys_of_an_alternative_must_all_hold) {
    emb_fact_t uri = {EMB_FIELD_HTTP_URI, "/t/x", 4};
    emb_fact_t ua = {EMB_FIELD_HTTP_USER_AGENT, "AcmeAgent/2", 11};
    emb_fact_t both[2] = {uri, ua};
    emb_facts_t f = {.facts = &uri, .nfacts = 1};
    cr_assert_eq(match(&f).n, 0, "the URI alone is not enough");
    f.facts = &ua;
    cr_assert_eq(match(&f).n, 0, "the User-Agent alone is not enough");
    f.facts = both;
    f.nfacts = 2;
    got_t g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 12);
}

Test(engine, ip_and_port_conditions_on_facts) {
    emb_facts_t f = {.family = 4,
                     .proto = 6,
                     .client = {192, 0, 2, 1},
                     .server = {198, 51, 100, 7},
                     .client_port = 50000,
                     .server_port = 443};
    got_t g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 13);
    cr_assert_str_eq(g.fields[0], "ip");
    cr_assert_str_eq(g.values[0], "198.51.100.7");

    f.server_port = 80; /* the ip holds, the port does not */
    cr_assert_eq(match(&f).n, 0);
    f.proto = 17;
    f.server_port = 443; /* 443/udp is not 443/tcp */
    cr_assert_eq(match(&f).n, 0);

    f.proto = 6;
    f.server_port = 13000;
    f.server[0] = 203; /* any address, the KSC-like port */
    g = match(&f);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sids[0], 14);
    cr_assert_str_eq(g.values[0], "13000/tcp");

    f.family = 0; /* endpoints unknown: ip and port never hold */
    cr_assert_eq(match(&f).n, 0);
}

static int render_alert(const emb_match_t *m, void *ud) {
    *(char **)ud = emb_match_alert_json(engine, m);
    return 0;
}

Test(engine, alert_json_for_a_match) {
    emb_fact_t fa = {EMB_FIELD_DNS_QUERY, "upd.acme.example", 16};
    emb_facts_t f = {.facts = &fa, .nfacts = 1};
    char *json = NULL;
    cr_assert_eq(emb_engine_match(engine, &f, render_alert, &json), 0);
    cr_assert_not_null(json);
    cr_assert(strstr(json, "\"signature_id\":10") != NULL, "%s", json);
    cr_assert(strstr(json, "\"authority\":[\"Test ban\"]") != NULL, "%s", json);
    cr_assert(strstr(json,
                     "\"context\":{\"embargo\":{\"vendor\":\"acme\",\"channel\":\"update\","
                     "\"field\":\"dns.query\",\"value\":\"upd.acme.example\",\"bans\":[{"
                     "\"authority\":\"Test ban\",\"scope\":\"all\",\"status\":\"in-force\"") !=
                  NULL,
              "%s", json);
    /* the ban's scope and status in the metadata too; it says no restriction */
    cr_assert(strstr(json, "\"scope\":[\"all\"],\"ban_status\":[\"in-force\"]") != NULL, "%s",
              json);
    cr_assert(strstr(json, "\"restricts\"") == NULL, "%s", json);
    free(json);
}

static int stop(const emb_match_t *m, void *ud) {
    (void)m;
    (void)ud;
    return 1;
}

Test(engine, callback_can_stop) {
    emb_facts_t f = {.family = 4, .proto = 6, .server = {198, 51, 100, 1}, .server_port = 443};
    cr_assert_eq(emb_engine_match(engine, &f, stop, NULL), EMB_ECANCELED);
}

/* A raw IPv4/UDP DNS query for `name` from 192.0.2.10:sport to 192.0.2.53:53. */
static size_t dns_packet(uint8_t *b, const char *name, uint16_t sport) {
    size_t n = 28;
    static const uint8_t dns_hdr[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(b + n, dns_hdr, 12);
    n += 12;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        b[n++] = (uint8_t)l;
        memcpy(b + n, p, l);
        n += l;
        p += l + (dot ? 1 : 0);
    }
    b[n++] = 0;
    static const uint8_t qtail[4] = {0, 1, 0, 1}; /* type A, class IN */
    memcpy(b + n, qtail, 4);
    n += 4;
    /* IPv4 header: version 4, IHL 5, total n, TTL 64, UDP */
    static const uint8_t ip[20] = {0x45, 0, 0,   0, 0, 0,  0,   0, 64, 17,
                                   0,    0, 192, 0, 2, 10, 192, 0, 2,  53};
    memcpy(b, ip, 20);
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    b[20] = (uint8_t)(sport >> 8);
    b[21] = (uint8_t)sport;
    b[22] = 0;
    b[23] = 53;
    b[24] = (uint8_t)((n - 20) >> 8);
    b[25] = (uint8_t)(n - 20);
    b[26] = b[27] = 0;
    return n;
}

static int count_alerts(const emb_alert_t *a, void *ud) {
    (void)a;
    (*(int *)ud)++;
    return 0;
}

Test(engine, one_alert_per_rule_per_flow) {
    uint8_t b[256];
    size_t n = dns_packet(b, "s1.upd.acme.example", 40000);
    emb_packet_t pkt = {.ts_sec = 1727697600,
                        .linktype = EMB_LINK_RAW,
                        .data = b,
                        .caplen = (uint32_t)n,
                        .len = (uint32_t)n,
                        .pcap_cnt = 1};
    int alerts = 0;
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    pkt.pcap_cnt = 2; /* the same query again, same flow */
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    cr_assert_eq(alerts, 1);

    n = dns_packet(b, "s1.upd.acme.example", 40001); /* a new flow */
    pkt.caplen = pkt.len = (uint32_t)n;
    pkt.pcap_cnt = 3;
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    cr_assert_eq(alerts, 2);

    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.packets, 3);
    cr_assert_eq(st.flows, 2);
    cr_assert_eq(st.alerts, 2);
    cr_assert_eq(st.alerts_suppressed, 1);
    cr_assert_eq(st.dns_parsed, 3);
}

Test(engine, last_flow_id_names_the_packets_flow) {
    uint8_t b[256];
    size_t n = dns_packet(b, "www.example.org", 40000);
    emb_packet_t pkt = {.ts_sec = 1727697600,
                        .linktype = EMB_LINK_RAW,
                        .data = b,
                        .caplen = (uint32_t)n,
                        .len = (uint32_t)n,
                        .pcap_cnt = 1};
    cr_assert_eq(emb_engine_last_flow_id(engine), 0); /* nothing processed yet */
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    uint64_t first = emb_engine_last_flow_id(engine);
    cr_assert_neq(first, 0);
    pkt.pcap_cnt = 2; /* the same flow again */
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    cr_assert_eq(emb_engine_last_flow_id(engine), first);

    /* not IP: an ICMP echo has no flow */
    static const uint8_t icmp[28] = {0x45, 0, 0,   28, 0, 2, 0, 0, 64, 1, 0, 0, 192, 0,
                                     2,    1, 192, 0,  2, 2, 8, 0, 0,  0, 0, 1, 0,   1};
    emb_packet_t other = {
        .linktype = EMB_LINK_RAW, .data = icmp, .caplen = 28, .len = 28, .pcap_cnt = 3};
    cr_assert_eq(emb_engine_process(engine, &other, NULL, NULL), 0);
    cr_assert_eq(emb_engine_last_flow_id(engine), 0);

    n = dns_packet(b, "www.example.org", 40001); /* another flow */
    pkt.caplen = pkt.len = (uint32_t)n;
    pkt.pcap_cnt = 4;
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    uint64_t second = emb_engine_last_flow_id(engine);
    cr_assert_neq(second, 0);
    cr_assert_neq(second, first);

    /* a second engine over the same packets gives the same ids */
    emb_engine_t *again = NULL;
    cr_assert_eq(emb_engine_new(rules, NULL, &again, NULL), 0);
    pkt.pcap_cnt = 1;
    n = dns_packet(b, "www.example.org", 40000);
    pkt.caplen = pkt.len = (uint32_t)n;
    cr_assert_eq(emb_engine_process(again, &pkt, NULL, NULL), 0);
    cr_assert_eq(emb_engine_last_flow_id(again), first);
    emb_engine_free(again);

    /* undecodable: 0 */
    pkt.linktype = 9999;
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    cr_assert_eq(emb_engine_last_flow_id(engine), 0);
}

Test(engine, malformed_packets_are_counted_not_fatal) {
    /* a raw IPv4 header claiming IHL 15 in 20 bytes */
    static const uint8_t bad[20] = {0x4f, 0, 0, 20, 0, 0, 0, 0, 64, 17,
                                    0,    0, 1, 2,  3, 4, 5, 6, 7,  8};
    emb_packet_t pkt = {.linktype = EMB_LINK_RAW, .data = bad, .caplen = 20, .len = 20};
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    pkt.linktype = 9999;
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.invalid + st.truncated, 1);
    cr_assert_eq(st.unsupported, 1);
    cr_assert_eq(st.alerts, 0);
}

Test(engine, tunnelled_packets_counted_whether_inspected_or_not) {
    /* IPv4 198.51.100.1 -> .2 / GRE (protocol 0x0800) / IPv4 proto 1 (ICMP echo):
     * decapsulated, then not inspected ("other") */
    uint8_t b[20 + 4 + 28] = {0x45, 0, 0,   sizeof(b), 0,   1, 0,   0,  64,  47,
                              0,    0, 198, 51,        100, 1, 198, 51, 100, 2};
    static const uint8_t gre[4] = {0x00, 0x00, 0x08, 0x00};
    static const uint8_t icmp[28] = {0x45, 0, 0,   28, 0, 2, 0, 0, 64, 1, 0, 0, 192, 0,
                                     2,    1, 192, 0,  2, 2, 8, 0, 0,  0, 0, 1, 0,   1};
    memcpy(b + 20, gre, sizeof(gre));
    memcpy(b + 24, icmp, sizeof(icmp));
    emb_packet_t pkt = {.linktype = EMB_LINK_RAW, .data = b, .caplen = sizeof(b), .len = sizeof(b)};
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    /* the same with GRE protocol 0x880b (PPP): not decapsulated, unsupported */
    b[22] = 0x88;
    b[23] = 0x0b;
    cr_assert_eq(emb_engine_process(engine, &pkt, NULL, NULL), 0);
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.tunnels, 1);
    cr_assert_eq(st.unsupported, 1);
    cr_assert_eq(st.invalid + st.truncated, 0);
    cr_assert_eq(st.flows, 0);
}

/* The path of the one cache file in `dir`, or "" if none. */
static void cache_file(const char *dir, char *out, size_t cap) {
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls %s/embargo-*.hsdb 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (p && fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    if (p)
        pclose(p);
}

Test(engine, compiled_databases_are_cached_and_checked) {
    char dir[] = "/tmp/embargo-cache-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    emb_config_t cfg;
    emb_config_init(&cfg);
    cfg.cache_dir = dir;

    emb_engine_t *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(emb_engine_new(rules, &cfg, &a, NULL), 0);
    cr_assert_not(emb_engine_from_cache(a), "the first start compiles");
    char path[600];
    cache_file(dir, path, sizeof(path));
    cr_assert_neq(path[0], '\0', "and leaves a cache file");

    cr_assert_eq(emb_engine_new(rules, &cfg, &b, NULL), 0);
    cr_assert(emb_engine_from_cache(b), "the second start loads it");
    emb_fact_t fa = {EMB_FIELD_TLS_SNI, "s1.upd.acme.example", 19};
    emb_facts_t f = {.facts = &fa, .nfacts = 1};
    got_t g = {0};
    cr_assert_eq(emb_engine_match(b, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 1, "and matches as the compiled one does");
    cr_assert_eq(g.sids[0], 10);

    /* One flipped byte in the middle of a database: refused and rebuilt. */
    FILE *fp = fopen(path, "r+b");
    cr_assert_not_null(fp);
    fseek(fp, 200, SEEK_SET);
    int ch = fgetc(fp);
    fseek(fp, 200, SEEK_SET);
    fputc(ch ^ 0x40, fp);
    fclose(fp);
    cr_assert_eq(emb_engine_new(rules, &cfg, &c, NULL), 0);
    cr_assert_not(emb_engine_from_cache(c), "a corrupt cache is never trusted");
    g.n = 0;
    cr_assert_eq(emb_engine_match(c, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 1);

    emb_engine_free(a);
    emb_engine_free(b);
    emb_engine_free(c);
    unlink(path);
    rmdir(dir);
}

Test(engine, reload_keeps_flows_and_what_they_raised) {
    uint8_t b[256];
    size_t n = dns_packet(b, "s1.upd.acme.example", 41000);
    emb_packet_t pkt = {.ts_sec = 1727697600,
                        .linktype = EMB_LINK_RAW,
                        .data = b,
                        .caplen = (uint32_t)n,
                        .len = (uint32_t)n,
                        .pcap_cnt = 1};
    int alerts = 0;
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    cr_assert_eq(alerts, 1, "sid 10 on the first query");

    /* The same sid 10 in a new pack, plus sid 30 on the same names. */
    emb_diags_t *d = NULL;
    emb_rules_t *next = test_load_text(
        "vendor: acme\nname: Acme\nrules:\n"
        "  - {sid: 30, msg: new, channel: telemetry, match: [{dns.query: s1.upd}]}\n"
        "  - {sid: 10, msg: update, channel: update, match: [{domain: upd.acme.example}]}\n",
        &d);
    cr_assert_not_null(next);
    cr_assert_eq(emb_engine_reload(engine, next, &d), 0);
    emb_rules_free(rules); /* the old pack can go */
    rules = next;

    pkt.pcap_cnt = 2; /* the same flow again */
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    cr_assert_eq(alerts, 2, "sid 10 kept its place on the flow; only the new sid 30 alerts");
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.flows, 1, "the flow was not forgotten");
}

/*
 * Precedence never cancels (docs/rules.md, "Precedence"): for every set of
 * rules of one vendor built from the two exceptions (web below a product
 * channel; a shorter domain pattern below a longer one on the same name) and a
 * substring rule outside both, a name they all match raises at least one
 * alert, never a web rule beside a product one, and never a shorter domain
 * pattern beside a longer one of its class.
 */
Test(engine, precedence_never_cancels) {
    static const struct {
        bool web;
        const char *key, *pattern;
        uint32_t spec; /* the domain pattern's length: longer wins in its class */
    } tpl[] = {
        {false, "domain", "hicloud.com", 11}, {false, "domain", "www.hicloud.com", 15},
        {true, "domain", "hicloud.com", 11},  {true, "domain", "www.hicloud.com", 15},
        {false, "http.host", "hicloud", 0},   {true, "http.host", "hicloud", 0},
    };
    const size_t n = sizeof(tpl) / sizeof(tpl[0]);
    for (unsigned set = 1; set < (1u << n); set++) {
        char text[2048];
        int len = snprintf(text, sizeof(text),
                           "vendor: huawei\nname: Huawei\n"
                           "bans: [{authority: Test, effective: 2024-01-01, "
                           "reference: https://example.org}]\nrules:\n");
        for (size_t i = 0; i < n; i++)
            if (set & (1u << i))
                len +=
                    snprintf(text + len, sizeof(text) - (size_t)len,
                             "  - {sid: %zu, msg: r%zu, channel: %s, match: [{%s: %s}]}\n", 100 + i,
                             i, tpl[i].web ? "web" : "cloud", tpl[i].key, tpl[i].pattern);
        emb_diags_t *d = NULL;
        emb_rules_t *r = test_load_text(text, &d);
        test_print_diags(d);
        cr_assert_not_null(r);
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(r, NULL, &e, &d), 0);
        emb_fact_t fa = {EMB_FIELD_HTTP_HOST, "www.hicloud.com", 15};
        emb_facts_t f = {.facts = &fa, .nfacts = 1};
        got_t g = {0};
        cr_assert_eq(emb_engine_match(e, &f, on_match, &g), 0);
        cr_assert_geq(g.n, 1, "rule set %#x: every rule matched, none was reported", set);
        bool product = false, web = false;
        uint32_t best[2] = {0, 0}; /* the longest domain pattern per class */
        for (size_t i = 0; i < n; i++)
            if (set & (1u << i)) {
                product |= !tpl[i].web;
                if (tpl[i].spec > best[tpl[i].web])
                    best[tpl[i].web] = tpl[i].spec;
            }
        for (size_t k = 0; k < g.n; k++) {
            size_t i = g.sids[k] - 100;
            web |= tpl[i].web;
            cr_assert(tpl[i].spec == 0 || tpl[i].spec == best[tpl[i].web],
                      "rule set %#x: sid %u is a shorter pattern than its class's best", set,
                      g.sids[k]);
        }
        cr_assert(!(product && web), "rule set %#x: a web rule beside a product rule", set);
        emb_engine_free(e);
        emb_rules_free(r);
    }
}

/* ---- TLS after STARTTLS, with a pack that has no payload rule ------------- */

/* A TCP segment in an IPv4 packet from 192.0.2.10 (the client) to
 * 198.51.100.30 or back: ports, sequence number, flags, payload. */
typedef struct {
    uint8_t b[600];
    size_t n;
} seg_t;

static seg_t tcp_seg(bool to_server, uint16_t cport, uint32_t seq, uint8_t flags, const void *data,
                     size_t len) {
    seg_t s;
    static const uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {198, 51, 100, 30};
    memset(s.b, 0, 40);
    s.n = 40 + len;
    s.b[0] = 0x45; /* IPv4, 20-byte header */
    s.b[2] = (uint8_t)(s.n >> 8);
    s.b[3] = (uint8_t)s.n;
    s.b[8] = 64;
    s.b[9] = 6; /* TCP */
    memcpy(s.b + 12, to_server ? cli : srv, 4);
    memcpy(s.b + 16, to_server ? srv : cli, 4);
    uint16_t sp = to_server ? cport : 25, dp = to_server ? 25 : cport;
    s.b[20] = (uint8_t)(sp >> 8);
    s.b[21] = (uint8_t)sp;
    s.b[22] = (uint8_t)(dp >> 8);
    s.b[23] = (uint8_t)dp;
    for (int i = 0; i < 4; i++)
        s.b[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
    s.b[32] = 0x50; /* 20-byte header */
    s.b[33] = flags;
    s.b[34] = 0xff;
    memcpy(s.b + 40, data, len);
    return s;
}

/* A ClientHello record whose one extension is server_name `name`. */
static size_t client_hello(uint8_t *b, const char *name) {
    size_t nl = strlen(name), n = 0;
    uint8_t body[200];
    body[n++] = 3; /* client_version 3.3 */
    body[n++] = 3;
    memset(body + n, 0x11, 32); /* random */
    n += 32;
    body[n++] = 0;                                /* session_id */
    body[n++] = 0, body[n++] = 2;                 /* cipher_suites: one */
    body[n++] = 0x13, body[n++] = 0x01;           /* TLS_AES_128_GCM_SHA256 */
    body[n++] = 1, body[n++] = 0;                 /* compression: null */
    body[n++] = 0, body[n++] = (uint8_t)(nl + 9); /* extensions */
    body[n++] = 0, body[n++] = 0;                 /* server_name */
    body[n++] = 0, body[n++] = (uint8_t)(nl + 5);
    body[n++] = 0, body[n++] = (uint8_t)(nl + 3); /* server_name_list */
    body[n++] = 0;                                /* host_name */
    body[n++] = 0, body[n++] = (uint8_t)nl;
    memcpy(body + n, name, nl);
    n += nl;
    uint8_t rec[] = {22, 3, 1, 0, (uint8_t)(n + 4), 1, 0, 0, (uint8_t)n};
    memcpy(b, rec, sizeof(rec));
    memcpy(b + sizeof(rec), body, n);
    return sizeof(rec) + n;
}

/* An SMTP session on client port `cport`: greeting, STARTTLS, the server's
 * answer `reply`, then a ClientHello for upd.acme.example. Returns the alerts. */
static int smtp_session(uint16_t cport, const char *reply) {
    struct {
        bool to_server;
        const char *text;
    } steps[] = {{false, "220 mail.example ESMTP\r\n"}, {true, "STARTTLS\r\n"}, {false, reply}};
    uint32_t cseq = 1001, sseq = 5001;
    int alerts = 0;
    uint64_t cnt = 0;
    emb_packet_t pkt = {.ts_sec = 1727697600, .linktype = EMB_LINK_RAW};
    seg_t s[3] = {tcp_seg(true, cport, 1000, 0x02, "", 0), tcp_seg(false, cport, 5000, 0x12, "", 0),
                  tcp_seg(true, cport, 1001, 0x10, "", 0)};
    for (int i = 0; i < 3; i++) {
        pkt.data = s[i].b;
        pkt.caplen = pkt.len = (uint32_t)s[i].n;
        pkt.pcap_cnt = ++cnt;
        cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    }
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(steps[i].text);
        seg_t g = tcp_seg(steps[i].to_server, cport, steps[i].to_server ? cseq : sseq, 0x18,
                          steps[i].text, len);
        *(steps[i].to_server ? &cseq : &sseq) += (uint32_t)len;
        pkt.data = g.b;
        pkt.caplen = pkt.len = (uint32_t)g.n;
        pkt.pcap_cnt = ++cnt;
        cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    }
    uint8_t ch[256];
    size_t chl = client_hello(ch, "upd.acme.example");
    seg_t g = tcp_seg(true, cport, cseq, 0x18, ch, chl);
    pkt.data = g.b;
    pkt.caplen = pkt.len = (uint32_t)g.n;
    pkt.pcap_cnt = ++cnt;
    cr_assert_eq(emb_engine_process(engine, &pkt, count_alerts, &alerts), 0);
    return alerts;
}

Test(engine, tls_after_starttls_is_inspected) {
    cr_assert_eq(smtp_session(42001, "220 2.0.0 Ready to start TLS\r\n"), 1,
                 "the ClientHello after an accepted STARTTLS raises sid 10");
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.tls_client_hellos, 1);
}

Test(engine, a_refused_starttls_is_no_tls) {
    /* Without payload rules the client's stream is let go once the upgrade is
     * ruled out; the ClientHello then comes as a lone packet, which must not
     * be searched for a handshake either. */
    cr_assert_eq(smtp_session(42002, "454 4.7.0 TLS not available\r\n"), 0);
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    cr_assert_eq(st.tls_client_hellos, 0);
}

/* A port rule waits for a conversation unless it says `established: false`
 * (docs/rules.md): a lone SYN raises only the latter; the completed handshake
 * then raises the former. */
static int last_sid;
static int record_sid(const emb_alert_t *a, void *ud) {
    (*(int *)ud)++;
    last_sid = (int)a->sid;
    return 0;
}

Test(engine, established_false_holds_on_a_lone_syn) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(
        "vendor: acme\nname: Acme\n"
        "bans: [{authority: Test ban, effective: 2024-01-01, reference: https://example.org}]\n"
        "rules:\n"
        "  - {sid: 50, msg: conv, channel: management, match: [{port: 25/tcp}]}\n"
        "  - {sid: 51, msg: any, channel: management, established: false,\n"
        "     match: [{port: 25/tcp}]}\n",
        &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(r, NULL, &e, &d), 0);
    emb_packet_t pkt = {.ts_sec = 1727697600, .linktype = EMB_LINK_RAW};
    seg_t s[3] = {tcp_seg(true, 42100, 1000, 0x02, "", 0), tcp_seg(false, 42100, 5000, 0x12, "", 0),
                  tcp_seg(true, 42100, 1001, 0x10, "", 0)};
    int alerts = 0;
    pkt.data = s[0].b;
    pkt.caplen = pkt.len = (uint32_t)s[0].n;
    pkt.pcap_cnt = 1;
    cr_assert_eq(emb_engine_process(e, &pkt, record_sid, &alerts), 0);
    cr_assert_eq(alerts, 1, "the SYN raises only the rule that says established: false");
    cr_assert_eq(last_sid, 51);
    for (int i = 1; i < 3; i++) {
        pkt.data = s[i].b;
        pkt.caplen = pkt.len = (uint32_t)s[i].n;
        pkt.pcap_cnt = (uint64_t)i + 1;
        cr_assert_eq(emb_engine_process(e, &pkt, record_sid, &alerts), 0);
    }
    cr_assert_eq(alerts, 2, "the client's ACK completes the handshake: sid 50, once");
    cr_assert_eq(last_sid, 50);
    emb_engine_free(e);
    emb_rules_free(r);
}

Test(engine, established_must_be_true_or_false) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(
        "vendor: acme\nname: Acme\nrules:\n"
        "  - {sid: 50, msg: m, channel: cloud, established: maybe, match: [{port: 25/tcp}]}\n",
        &d);
    cr_assert_null(r);
    cr_assert(test_diags_have(d, "r.yaml:4:52: established must be true or false, not 'maybe'"));
    emb_diags_free(d);
}

/* emb_packet_shard: both directions of a flow, and a fragment of its datagrams,
 * get one key (the pair of addresses); another pair of addresses another key
 * for at least some of a handful of pairs; no IP, key 0. */
Test(engine, shard_by_address_pair) {
    uint8_t b[512], r[512], frag[64];
    size_t n = dns_packet(b, "s01.upd.kaspersky.com", 40000);
    memcpy(r, b, n);
    memcpy(r + 12, b + 16, 4); /* the reply: addresses and ports swapped */
    memcpy(r + 16, b + 12, 4);
    memcpy(r + 20, b + 22, 2);
    memcpy(r + 22, b + 20, 2);
    emb_packet_t p = {
        .linktype = EMB_LINK_RAW, .data = b, .caplen = (uint32_t)n, .len = (uint32_t)n};
    emb_packet_t q = p;
    q.data = r;
    uint32_t k = emb_packet_shard(&p);
    cr_assert_neq(k, 0);
    cr_assert_eq(emb_packet_shard(&q), k, "the reply goes where the query went");
    /* A non-first fragment between the same addresses (offset 8, more to come). */
    memcpy(frag, b, 20);
    frag[2] = 0;
    frag[3] = 36;
    frag[6] = 0x20; /* MF */
    frag[7] = 1;    /* offset 1 * 8 bytes */
    memset(frag + 20, 0xAB, 16);
    emb_packet_t f = {.linktype = EMB_LINK_RAW, .data = frag, .caplen = 36, .len = 36};
    cr_assert_eq(emb_packet_shard(&f), k, "a fragment goes where its flow goes");
    bool differs = false;
    for (uint8_t host = 11; host < 19 && !differs; host++) {
        b[15] = host; /* another client */
        differs = emb_packet_shard(&p) % 2 != k % 2;
    }
    cr_assert(differs, "every pair of addresses on one worker of two");
    uint8_t junk[4] = {0x00, 1, 2, 3};
    emb_packet_t j = {.linktype = EMB_LINK_RAW, .data = junk, .caplen = 4, .len = 4};
    cr_assert_eq(emb_packet_shard(&j), 0);
}

/* The response to dns_packet's query (`q`, `n` bytes), with one A record
 * giving 203.0.113.7: addresses and ports swapped, QR set, one answer. */
static size_t dns_response(uint8_t *b, const uint8_t *q, size_t n) {
    memcpy(b, q, n);
    memcpy(b + 12, q + 16, 4);
    memcpy(b + 16, q + 12, 4);
    memcpy(b + 20, q + 22, 2);
    memcpy(b + 22, q + 20, 2);
    b[30] = 0x81; /* QR, RD */
    b[31] = 0x80; /* RA */
    b[35] = 1;    /* ANCOUNT */
    static const uint8_t an[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 203, 0, 113, 7};
    memcpy(b + n, an, sizeof(an));
    n += sizeof(an);
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    b[24] = (uint8_t)((n - 20) >> 8);
    b[25] = (uint8_t)(n - 20);
    return n;
}

/* A UDP datagram with a few bytes from 192.0.2.10:41000 to 203.0.113.7:4444. */
static size_t udp_to_answer(uint8_t *b) {
    static const uint8_t p[34] = {0x45, 0,  0, 34, 0,   0,   0,   0,   64,   17,   0,    0,
                                  192,  0,  2, 10, 203, 0,   113, 7,   0xa0, 0x28, 0x11, 0x5c,
                                  0,    14, 0, 0,  'h', 'e', 'l', 'l', 'o',  '!'};
    memcpy(b, p, sizeof(p));
    return sizeof(p);
}

/* emb_engine_feed: another worker's DNS answer teaches this engine's
 * attribution table without an alert or a counter; the connection this
 * engine inspects afterwards is attributed, as with one engine. */
Test(engine, feed_teaches_attribution_silently) {
    uint8_t q[256], r[256], u[64];
    size_t nq = dns_packet(q, "s1.upd.acme.example", 40000);
    size_t nr = dns_response(r, q, nq);
    size_t nu = udp_to_answer(u);
    emb_packet_t pkt = {.ts_sec = 1727697600, .linktype = EMB_LINK_RAW};
    emb_place_t place;
    int alerts = 0;
    emb_stats_t before, after;
    emb_engine_stats(engine, &before);
    const uint8_t *feed[2] = {q, r};
    size_t feed_len[2] = {nq, nr};
    for (int i = 0; i < 2; i++) {
        pkt.data = feed[i];
        pkt.caplen = pkt.len = (uint32_t)feed_len[i];
        pkt.pcap_cnt = (uint64_t)i + 1;
        emb_packet_place(&pkt, &place);
        cr_assert(place.dns, "port 53 may carry DNS");
        cr_assert_eq(emb_engine_feed(engine, &pkt), 0);
    }
    emb_engine_stats(engine, &after);
    cr_assert_eq(after.packets, before.packets, "fed packets are not counted");
    cr_assert_eq(after.alerts, before.alerts, "fed packets raise nothing");
    cr_assert_eq(after.flows, before.flows);

    pkt.data = u;
    pkt.caplen = pkt.len = (uint32_t)nu;
    pkt.pcap_cnt = 3;
    emb_packet_place(&pkt, &place);
    cr_assert_not(place.dns);
    cr_assert_eq(emb_engine_process(engine, &pkt, record_sid, &alerts), 0);
    cr_assert_eq(alerts, 1, "the answer fed before attributes the connection");
    cr_assert_eq(last_sid, 10);

    /* Without the answer, nothing: a fresh engine sees only the connection. */
    emb_engine_t *fresh = NULL;
    cr_assert_eq(emb_engine_new(rules, NULL, &fresh, NULL), 0);
    alerts = 0;
    cr_assert_eq(emb_engine_process(fresh, &pkt, record_sid, &alerts), 0);
    cr_assert_eq(alerts, 0);
    emb_engine_free(fresh);
}

/* attrib_grace_ms (live -j N): an answer processed after the connection's first
 * client message, because another thread passed it on late, still attributes
 * the connection at its next client packet if the answer's packet came first;
 * an answer that came after that message does not; without the grace, neither. */
static int late_answer(uint32_t grace_ms, uint32_t answer_usec) {
    uint8_t q[256], r[256], u[64];
    size_t nq = dns_packet(q, "s1.upd.acme.example", 40000);
    size_t nr = dns_response(r, q, nq);
    size_t nu = udp_to_answer(u);
    emb_config_t cfg;
    emb_config_init(&cfg);
    cfg.attrib_grace_ms = grace_ms;
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(rules, &cfg, &e, NULL), 0);
    int alerts = 0;
    last_sid = 0;
    /* the connection's first datagram at .500000: no answer known yet */
    emb_packet_t c = {.ts_sec = 1727697600,
                      .ts_usec = 500000,
                      .linktype = EMB_LINK_RAW,
                      .data = u,
                      .caplen = (uint32_t)nu,
                      .len = (uint32_t)nu,
                      .pcap_cnt = 1};
    cr_assert_eq(emb_engine_process(e, &c, record_sid, &alerts), 0);
    cr_assert_eq(alerts, 0);
    /* the lookup and its answer, passed on late */
    emb_packet_t d = {.ts_sec = 1727697600,
                      .ts_usec = answer_usec,
                      .linktype = EMB_LINK_RAW,
                      .data = q,
                      .caplen = (uint32_t)nq,
                      .len = (uint32_t)nq,
                      .pcap_cnt = 2};
    cr_assert_eq(emb_engine_process(e, &d, record_sid, &alerts), 0);
    d.data = r;
    d.caplen = d.len = (uint32_t)nr;
    d.pcap_cnt = 3;
    cr_assert_eq(emb_engine_process(e, &d, record_sid, &alerts), 0);
    alerts = 0; /* the lookup's own alert is not the point */
    /* the connection's next datagram */
    c.ts_usec = 900000;
    c.pcap_cnt = 4;
    cr_assert_eq(emb_engine_process(e, &c, record_sid, &alerts), 0);
    emb_engine_free(e);
    return alerts;
}

Test(engine, grace_attributes_an_answer_passed_on_late) {
    cr_assert_eq(late_answer(2000, 400000), 1, "the answer came before the first message");
    cr_assert_eq(last_sid, 10);
    cr_assert_eq(late_answer(2000, 600000), 0, "the answer came after the first message");
    cr_assert_eq(late_answer(0, 400000), 0, "no grace: looked up once");
}

/* emb_match_alert_write against emb_match_alert_json, for every rule of the
 * shipped pack at both confidences, with values that take every path of the
 * string writer: escapes, controls, UTF-8 kept, not UTF-8 read as Latin-1. */
static void alert_write_equals_json(emb_engine_t *e, const emb_rules_t *r) {
    static const char *const fields[] = {"dns.query", "ip", "tls.cert", "q\"f\\", "bad\xff", NULL};
    static const struct {
        const char *v;
        size_t n;
    } values[] = {
        {"", 0},
        {"upd.example", 11},
        {"a\"b\\c/d", 7},
        {"\x00\x01\x1f\x7f", 4},
        {"t\tn\nf\fb\br\r", 10},
        {"b\xc3\xbc"
         "cher",
         7},                      /* UTF-8 */
        {"\xf0\x9f\x98\x80", 4},  /* UTF-8, 4 bytes */
        {"\xff\xfe\x80\"x\n", 6}, /* not UTF-8 */
        {"\xed\xa0\x80", 3},      /* a surrogate: not UTF-8 */
        {"\xf4\x90\x80\x80", 4},  /* past U+10FFFF */
        {"\xc0\xaf", 2},          /* overlong */
        {"\xe2\x82", 2},          /* cut short */
        {NULL, 0},
    };
    char out[16384];
    size_t checked = 0;
    for (size_t i = 0; i < r->nrules; i++)
        for (int low = 0; low < 2; low++)
            for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
                for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
                    emb_match_t m = {.rule = &r->rules[i],
                                     .confidence = low ? "low" : NULL,
                                     .field = fields[f],
                                     .value = values[v].v,
                                     .value_len = values[v].n};
                    if (values[v].v == NULL)
                        continue; /* emb_match_alert_json needs a value; write gives "" */
                    char *want = emb_match_alert_json(e, &m);
                    cr_assert_not_null(want);
                    size_t n = emb_match_alert_write(e, &m, out, sizeof(out));
                    cr_assert_eq(n, strlen(want), "sid %u: %zu bytes, want %zu: %s",
                                 r->rules[i].sid, n, strlen(want), want);
                    cr_assert(memcmp(out, want, n) == 0, "sid %u:\n got %.*s\nwant %s",
                              r->rules[i].sid, (int)n, out, want);
                    /* too small a buffer: the same length, and a prefix */
                    memset(out, 0, sizeof(out));
                    cr_assert_eq(emb_match_alert_write(e, &m, out, n / 2), n);
                    cr_assert(memcmp(out, want, n / 2) == 0 && out[n / 2] == '\0');
                    cr_assert_eq(emb_match_alert_write(e, &m, NULL, 0), n);
                    free(want);
                    checked++;
                }
    cr_assert_gt(checked, 100);
}

Test(alert_write, same_bytes_as_alert_json_for_the_shipped_pack) {
    emb_rules_t *r = NULL;
    emb_engine_t *e = NULL;
    char dir[1024]; /* the repository's rules/, from this file's place in it */
    snprintf(dir, sizeof(dir), "%s", __FILE__);
    cr_assert_not_null(strrchr(dir, '/'));
    snprintf(strrchr(dir, '/'), sizeof(dir) - (size_t)(strrchr(dir, '/') - dir), "/../../rules");
    cr_assert_eq(emb_rules_load(dir, &r, NULL), 0, "%s", dir);
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    alert_write_equals_json(e, r);
    alert_write_equals_json(e, r); /* the second time from the rendered templates */
    emb_engine_free(e);
    /* bans chosen otherwise: other metadata, and vendors without bans that apply */
    char err[160];
    cr_assert_geq(emb_rules_select(r, "federal", "updates,use", true, err, sizeof(err)), 0, "%s",
                  err);
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    alert_write_equals_json(e, r);
    emb_engine_free(e);
    /* rendered before any alert (emb_engine_prepare_alerts): the same bytes */
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    cr_assert_eq(emb_engine_prepare_alerts(e), 0);
    cr_assert_eq(emb_engine_prepare_alerts(e), 0); /* again: nothing to do */
    alert_write_equals_json(e, r);
    emb_engine_free(e);
    emb_rules_free(r);
}

Test(alert_write, refuses_a_rule_of_another_pack) {
    emb_rules_t *r = test_load_text(pack, NULL);
    emb_engine_t *e = NULL;
    cr_assert_not_null(r);
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    emb_rule_t other = r->rules[0];
    emb_match_t m = {.rule = &other, .field = "ip", .value = "x", .value_len = 1};
    char out[64];
    cr_assert_eq(emb_match_alert_write(e, &m, out, sizeof(out)), 0);
    m.rule = NULL;
    cr_assert_eq(emb_match_alert_write(e, &m, out, sizeof(out)), 0);
    cr_assert_eq(emb_engine_prepare_alerts(NULL), EMB_EINVAL);
    emb_engine_free(e);
    emb_rules_free(r);
}
