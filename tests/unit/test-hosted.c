/*
 * What a host that parses traffic itself asks of the engine (detect/hosted.c):
 * DNS attribution of its connections (emb_engine_attribute), learned from DNS
 * responses fed to an engine, shared between engines as between Suricata's
 * workers, and judged as of the connection's first message; and which rules
 * a host reading only some keys can raise (emb_rules_raised_by).
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

static emb_rules_t *rules;

static const char *pack =
    "vendor: acme\nname: Acme\n"
    "bans: [{authority: Test ban, effective: 2024-01-01, reference: https://example.org}]\n"
    "rules:\n"
    "  - {sid: 10, msg: update, channel: update, match: [{domain: upd.acme.example}]}\n"
    "  - {sid: 13, msg: net, channel: cloud, match: [{ip: 198.51.100.0/24, port: 443/tcp}]}\n"
    "  - {sid: 17, msg: body, channel: update, match: [{payload: ACMEUPD}]}\n";

static void setup(void) {
    emb_diags_t *d = NULL;
    rules = test_load_text(pack, &d);
    test_print_diags(d);
    cr_assert_not_null(rules);
}

static void teardown(void) {
    emb_rules_free(rules);
}

TestSuite(hosted, .init = setup, .fini = teardown);

/* A raw IPv4/UDP DNS response from 192.0.2.53:53 to `client`:41000 for `name`,
 * one A record (TTL 3600) giving `addr`. */
static size_t dns_answer(uint8_t *b, const char *name, uint8_t client, const uint8_t addr[4]) {
    size_t n = 28;
    static const uint8_t hdr[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
    memcpy(b + n, hdr, sizeof(hdr));
    n += sizeof(hdr);
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        b[n++] = (uint8_t)l;
        memcpy(b + n, p, l);
        n += l;
        p += l + (dot ? 1 : 0);
    }
    b[n++] = 0;
    static const uint8_t qtail[4] = {0, 1, 0, 1};
    memcpy(b + n, qtail, 4);
    n += 4;
    static const uint8_t an[12] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4};
    memcpy(b + n, an, sizeof(an));
    n += sizeof(an);
    memcpy(b + n, addr, 4);
    n += 4;
    static const uint8_t ip[20] = {0x45, 0, 0,   0, 0, 0,  0,   0, 64, 17,
                                   0,    0, 192, 0, 2, 53, 192, 0, 2,  0};
    memcpy(b, ip, 20);
    b[19] = client;
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    static const uint8_t udp[4] = {0, 53, 0xa0, 0x28};
    memcpy(b + 20, udp, 4);
    b[24] = (uint8_t)((n - 20) >> 8);
    b[25] = (uint8_t)(n - 20);
    b[26] = b[27] = 0;
    return n;
}

typedef struct {
    uint32_t sid;
    char field[32], value[64], confidence[16];
    int n;
} got_t;

static int on_match(const emb_match_t *m, void *ud);

/* The same answer as a host's parser gives it, names apart: its question's
 * name, then its answer's owner name, to emb_engine_match_dns_response,
 * whose result it returns; what they raise goes to `cb`. */
static int learn_response(emb_engine_t *e, const char *name, uint8_t client, const uint8_t addr[4],
                          int64_t sec, uint32_t usec, emb_match_cb cb, void *ud) {
    uint8_t b[256];
    size_t n = dns_answer(b, name, client, addr);
    emb_fact_t names[2] = {{EMB_FIELD_DNS_QUERY, name, strlen(name)},
                           {EMB_FIELD_DNS_QUERY, name, strlen(name)}};
    emb_facts_t f = {.family = 4,
                     .proto = 17,
                     .client = {192, 0, 2, client},
                     .server = {192, 0, 2, 53},
                     .client_port = 41000,
                     .server_port = 53,
                     .facts = names,
                     .nfacts = 2,
                     .fields_only = true};
    emb_dns_response_t r = {b + 28, n - 28, f.client, sec, usec};
    return emb_engine_match_dns_response(e, &f, &r, cb, ud);
}

/* learn_response, which must succeed; what it raised in *g. */
static void match_response(emb_engine_t *e, const char *name, uint8_t client, const uint8_t addr[4],
                           int64_t sec, uint32_t usec, got_t *g) {
    cr_assert_eq(learn_response(e, name, client, addr, sec, usec, on_match, g), 0);
}

/* How the tests below teach an engine an answer: as emb_engine_feed learns
 * a packet (0), or as emb_engine_match_dns_response learns a host's parsed
 * response (1). */
static int way;

static void feed(emb_engine_t *e, const char *name, uint8_t client, const uint8_t addr[4],
                 int64_t sec, uint32_t usec) {
    if (way == 1) {
        got_t g = {0};
        match_response(e, name, client, addr, sec, usec, &g);
        return;
    }
    uint8_t b[256];
    size_t n = dns_answer(b, name, client, addr);
    emb_packet_t p = {.ts_sec = sec,
                      .ts_usec = usec,
                      .linktype = EMB_LINK_RAW,
                      .data = b,
                      .caplen = (uint32_t)n,
                      .len = (uint32_t)n};
    cr_assert_eq(emb_engine_feed(e, &p), 0);
}

static int on_match(const emb_match_t *m, void *ud) {
    got_t *g = ud;
    g->sid = m->sid;
    snprintf(g->field, sizeof(g->field), "%s", m->field);
    snprintf(g->value, sizeof(g->value), "%.*s", (int)m->value_len, m->value);
    snprintf(g->confidence, sizeof(g->confidence), "%s", m->confidence);
    g->n++;
    return 0;
}

/* The connection 192.0.2.<client>:50000 -> addr:443. */
static emb_facts_t connection(uint8_t client, const uint8_t addr[4]) {
    emb_facts_t f = {.family = 4, .proto = 6, .client_port = 50000, .server_port = 443};
    static const uint8_t net[3] = {192, 0, 2};
    memcpy(f.client, net, 3);
    f.client[3] = client;
    memcpy(f.server, addr, 4);
    return f;
}

/* That connection's attribution, its first message at `sec`.`usec`. */
static got_t attribute(emb_engine_t *e, uint8_t client, const uint8_t addr[4], int64_t sec,
                       uint32_t usec) {
    emb_facts_t f = connection(client, addr);
    got_t g = {0};
    cr_assert_eq(emb_engine_attribute(e, &f, sec, usec, on_match, &g), 0);
    if (g.n > 0) /* the cheap question never says no where the attribution says yes */
        cr_assert(emb_engine_may_attribute(e, &f, sec, usec), "may_attribute said no");
    return g;
}

static bool may_attribute(emb_engine_t *e, uint8_t client, const uint8_t addr[4], int64_t sec,
                          uint32_t usec) {
    emb_facts_t f = connection(client, addr);
    return emb_engine_may_attribute(e, &f, sec, usec);
}

static const uint8_t edge[4] = {203, 0, 113, 7};

Test(hosted, an_answer_before_the_message_attributes_it) {
    for (way = 0; way < 2; way++) {
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
        feed(e, "s1.upd.acme.example", 10, edge, 1727697600, 100000);
        got_t g = attribute(e, 10, edge, 1727697600, 500000);
        cr_assert_eq(g.n, 1);
        cr_assert_eq(g.sid, 10);
        cr_assert_str_eq(g.field, "dns.attribution");
        cr_assert_str_eq(g.value, "s1.upd.acme.example");
        cr_assert_str_eq(g.confidence, "low", "not in the vendor's own ranges");

        cr_assert_eq(attribute(e, 11, edge, 1727697600, 500000).n, 0, "another client asked");
        static const uint8_t other[4] = {203, 0, 113, 8};
        cr_assert_eq(attribute(e, 10, other, 1727697600, 500000).n, 0, "another address");
        emb_engine_free(e);
    }
}

/* A host whose workers read out of order looks up late: an answer whose
 * packet came after the connection's first message does not count. */
Test(hosted, an_answer_after_the_message_does_not) {
    for (way = 0; way < 2; way++) {
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
        feed(e, "s1.upd.acme.example", 10, edge, 1727697600, 900000);
        cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 0);
        cr_assert_eq(attribute(e, 10, edge, 1727697601, 0).n, 1, "as of a later message it does");
        emb_engine_free(e);
    }
}

/* ... nor does an answer that shows the address shared after the message:
 * as of the message the address answered for the vendor alone. */
Test(hosted, a_shared_edge_is_judged_as_of_the_message) {
    for (way = 0; way < 2; way++) {
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
        feed(e, "s1.upd.acme.example", 10, edge, 1727697600, 100000);
        feed(e, "www.unrelated.example", 10, edge, 1727697600, 700000);
        cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 1);
        cr_assert_eq(attribute(e, 10, edge, 1727697600, 800000).n, 0, "by then a shared edge");
        emb_engine_free(e);
    }
}

/* The cheap question a host asks before working out whether a connection
 * named its server: no for every connection no answer gave the server to,
 * as of its first message; yes where an answer did, even when the address
 * turns out shared (it may, the attribution decides). */
Test(hosted, may_attribute_says_no_only_where_nothing_can_be_attributed) {
    for (way = 0; way < 2; way++) {
        emb_engine_t *e = NULL;
        cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
        cr_assert_not(may_attribute(e, 10, edge, 1727697600, 0), "nothing learned yet");
        feed(e, "s1.upd.acme.example", 10, edge, 1727697600, 100000);
        cr_assert(may_attribute(e, 10, edge, 1727697600, 500000));
        cr_assert(may_attribute(e, 10, edge, 1727697600, 100000), "the answer's own time");
        cr_assert_not(may_attribute(e, 10, edge, 1727697600, 99999), "before the answer");
        cr_assert_not(may_attribute(e, 11, edge, 1727697600, 500000), "another client");
        static const uint8_t other[4] = {203, 0, 113, 8};
        cr_assert_not(may_attribute(e, 10, other, 1727697600, 500000), "another address");
        cr_assert_not(may_attribute(e, 10, edge, 1727697600 + 30 * 86400, 0), "long expired");
        feed(e, "www.unrelated.example", 10, edge, 1727697600, 700000);
        cr_assert(may_attribute(e, 10, edge, 1727697600, 800000));
        cr_assert_eq(attribute(e, 10, edge, 1727697600, 800000).n, 0, "shared: none made");
        emb_engine_t *none = NULL;
        cr_assert_not(emb_engine_may_attribute(none, NULL, 0, 0));
        emb_engine_free(e);
    }
}

/* Which first bytes of a client may still name the server (a TLS record, an
 * HTTP request line): the rest are attributed at once, whatever their length. */
Test(hosted, first_bytes_that_may_name_the_server) {
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    cr_assert(emb_bytes_may_name_server(hello, sizeof(hello)), "a TLS handshake record");
    cr_assert(emb_bytes_may_name_server(hello, 1), "its first byte alone");
    cr_assert(emb_bytes_may_name_server((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    cr_assert(emb_bytes_may_name_server((const uint8_t *)"HEAD", 4), "a method still unfinished");
    cr_assert(emb_bytes_may_name_server(NULL, 0), "nothing yet");
    static const uint8_t dvrip[] = {0xa0, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00};
    cr_assert_not(emb_bytes_may_name_server(dvrip, sizeof(dvrip)), "a device protocol's bytes");
    cr_assert_not(emb_bytes_may_name_server((const uint8_t *)"SSH-2.0-OpenSSH_9.6\r\n", 21));
    cr_assert_not(emb_bytes_may_name_server((const uint8_t *)"HEAD\x00\x01", 6),
                  "capitals that do not end in a space");
    static const uint8_t tls_v2[] = {0x16, 0x02};
    cr_assert_not(emb_bytes_may_name_server(tls_v2, 2), "a record of another major version");
}

/* Two engines with one shared table, as two Suricata workers: an answer one
 * of them learned attributes the connection the other one sees. */
Test(hosted, engines_sharing_a_table_attribute_each_others_answers) {
    for (way = 0; way < 2; way++) {
        emb_config_t cfg;
        emb_config_init(&cfg);
        emb_shared_t *shared = NULL;
        cr_assert_eq(emb_shared_new(&cfg, &shared), 0);
        cfg.shared = shared;
        emb_engine_t *a = NULL, *b = NULL;
        cr_assert_eq(emb_engine_new(rules, &cfg, &a, NULL), 0);
        cr_assert_eq(emb_engine_new(rules, &cfg, &b, NULL), 0);
        feed(a, "s1.upd.acme.example", 10, edge, 1727697600, 100000);
        cr_assert_eq(attribute(b, 10, edge, 1727697600, 500000).n, 1);
        emb_engine_t *alone = NULL;
        cr_assert_eq(emb_engine_new(rules, NULL, &alone, NULL), 0);
        cr_assert_eq(attribute(alone, 10, edge, 1727697600, 500000).n, 0, "its own table is empty");
        emb_engine_free(alone);
        emb_engine_free(a);
        emb_engine_free(b);
        emb_shared_free(shared);
    }
}

/* What a parsed response's names raise is reported as emb_engine_match
 * reports it: learning its answers adds no alert. */
Test(hosted, a_parsed_response_raises_what_its_names_raise) {
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
    got_t g = {0};
    match_response(e, "s1.upd.acme.example", 10, edge, 1727697600, 100000, &g);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sid, 10);
    cr_assert_str_eq(g.field, "dns.query");
    cr_assert_str_eq(g.value, "s1.upd.acme.example");
    got_t none = {0};
    match_response(e, "www.unrelated.example", 10, edge, 1727697600, 200000, &none);
    cr_assert_eq(none.n, 0);
    emb_engine_free(e);
}

/* A query, and a response without an address, teach nothing; a response
 * without a question is learned with each answer's own name, as
 * emb_engine_feed learns it. */
Test(hosted, what_a_parsed_response_teaches) {
    uint8_t b[256];
    size_t n = dns_answer(b, "s1.upd.acme.example", 10, edge);
    uint8_t *m = b + 28;
    size_t len = n - 28;
    emb_fact_t name = {EMB_FIELD_DNS_QUERY, "s1.upd.acme.example", 19};
    emb_facts_t f = {.family = 4,
                     .proto = 17,
                     .client = {192, 0, 2, 10},
                     .facts = &name,
                     .nfacts = 1,
                     .fields_only = true};
    emb_dns_response_t r = {m, len, f.client, 1727697600, 100000};

    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
    m[2] = 0x01; /* QR clear: the query */
    got_t g = {0};
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, on_match, &g), 0);
    cr_assert_eq(g.n, 1, "its name raises the rule all the same");
    cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 0, "a query teaches nothing");
    m[2] = 0x81 | 7 << 3; /* a response with an unassigned opcode, as emb_engine_feed refuses */
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, NULL, NULL), 0);
    cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 0, "opcode 7 teaches nothing");
    m[2] = 0x81;
    m[7] = 0; /* ANCOUNT 0 */
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, NULL, NULL), 0);
    cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 0, "no answer, no address");
    m[7] = 1;
    cr_assert_eq(emb_engine_match_dns_response(e, &f, NULL, NULL, NULL), EMB_EINVAL);
    r.client = NULL;
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, NULL, NULL), EMB_EINVAL);
    r.client = f.client;
    emb_engine_free(e);

    /* No question: the answer's owner name spelled out where the question was. */
    uint8_t nq[256];
    size_t qname = len - 12 - 4 - 16; /* the question's name, its type and class, the answer */
    memcpy(nq, m, 12);
    nq[5] = 0;                                 /* QDCOUNT 0 */
    memcpy(nq + 12, m + 12, qname);            /* the owner name */
    memcpy(nq + 12 + qname, m + len - 14, 14); /* type, class, TTL, length, address */
    r.msg = nq;
    r.len = 12 + qname + 14;
    name.value = "www.unrelated.example"; /* a host's names need not be the message's */
    name.len = 21;
    cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, NULL, NULL), 0);
    cr_assert_eq(attribute(e, 10, edge, 1727697600, 500000).n, 0,
                 "the host's names raised nothing: nothing to resolve");
    name.value = "s1.upd.acme.example";
    name.len = 19;
    cr_assert_eq(emb_engine_match_dns_response(e, &f, &r, NULL, NULL), 0);
    got_t a = attribute(e, 10, edge, 1727697600, 500000);
    cr_assert_eq(a.n, 1);
    cr_assert_str_eq(a.value, "s1.upd.acme.example");
    emb_engine_free(e);
}

Test(hosted, rules_raised_by_some_keys) {
    const uint64_t names = UINT64_C(1) << EMB_K_DOMAIN;
    const uint64_t flow = (UINT64_C(1) << EMB_K_IP) | (UINT64_C(1) << EMB_K_PORT);
    cr_assert(emb_rules_raised_by(rules, 0, names));
    cr_assert_not(emb_rules_raised_by(rules, 0, flow));
    cr_assert(emb_rules_raised_by(rules, 1, flow), "ip and port both read");
    cr_assert_not(emb_rules_raised_by(rules, 1, UINT64_C(1) << EMB_K_IP), "port not read");
    cr_assert_not(emb_rules_raised_by(rules, 2, names | flow), "a payload rule");
    cr_assert_not(emb_rules_raised_by(rules, 3, ~UINT64_C(0)), "no rule 3");
}

/* A host that decides a flow's address and port rules once (Suricata's
 * flow prefilter) matches its messages with fields_only: the message's own
 * rules still come, the flow's address rule does not come again. */
Test(hosted, fields_only_leaves_out_the_rules_of_addresses_and_ports) {
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(rules, NULL, &e, NULL), 0);
    static const char sni[] = "s1.upd.acme.example";
    emb_fact_t fact = {EMB_FIELD_TLS_SNI, sni, sizeof(sni) - 1};
    emb_facts_t f = {.family = 4,
                     .proto = 6,
                     .client_port = 50000,
                     .server_port = 443,
                     .facts = &fact,
                     .nfacts = 1};
    static const uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {198, 51, 100, 9};
    memcpy(f.client, cli, 4);
    memcpy(f.server, srv, 4);

    got_t all = {0};
    cr_assert_eq(emb_engine_match(e, &f, on_match, &all), 0);
    cr_assert_eq(all.n, 2, "the name's rule and the flow's address rule");

    f.fields_only = true;
    got_t g = {0};
    cr_assert_eq(emb_engine_match(e, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sid, 10);
    cr_assert_str_eq(g.field, "tls.sni");

    f.nfacts = 0;
    g = (got_t){0};
    cr_assert_eq(emb_engine_match(e, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 0, "no field: nothing");
    emb_engine_free(e);
}

/* A host that gets flows as records (the Suricata 7 output) reads one only
 * when some rule of addresses and ports alone can hold on its server port. */
Test(hosted, ports_a_rule_of_addresses_and_ports_may_hold_on) {
    cr_assert(emb_rules_port_may_hold(rules, 6, 443), "sid 13: 443/tcp");
    cr_assert_not(emb_rules_port_may_hold(rules, 6, 80));
    cr_assert_not(emb_rules_port_may_hold(rules, 17, 443), "443/tcp only");
    cr_assert_not(emb_rules_port_alone_may_hold(rules, 6, 443), "sid 13 needs its range too");
    uint64_t v4[4], v6[4];
    emb_rules_address_first_bytes(rules, v4, v6);
    for (unsigned b = 0; b < 256; b++) {
        cr_assert_eq((v4[b / 64] >> (b % 64)) & 1, b == 198, "first byte %u", b);
        cr_assert_eq((v6[b / 64] >> (b % 64)) & 1, 0);
    }
    emb_diags_t *d = NULL;
    emb_rules_t *any = test_load_text(
        "vendor: b\nname: B\nrules:\n"
        "  - {sid: 20, msg: n, channel: cloud, match: [{ip: 203.0.113.0/24}]}\n"
        "  - {sid: 21, msg: m, channel: cloud, match: [{domain: b.example, port: 8443/tcp}]}\n",
        &d);
    test_print_diags(d);
    cr_assert_not_null(any);
    cr_assert(emb_rules_port_may_hold(any, 17, 5353), "an address rule holds on any port");
    cr_assert_not(emb_rules_port_alone_may_hold(any, 17, 5353), "but on its addresses only");
    emb_rules_address_first_bytes(any, v4, v6);
    cr_assert_eq(v4[203 / 64], UINT64_C(1) << (203 % 64));
    emb_diags_t *d3 = NULL;
    emb_rules_t *port =
        test_load_text("vendor: p\nname: P\nrules:\n"
                       "  - {sid: 40, msg: p, channel: cloud, match: [{port: 37777/tcp}]}\n",
                       &d3);
    test_print_diags(d3);
    cr_assert_not_null(port);
    cr_assert(emb_rules_port_alone_may_hold(port, 6, 37777));
    cr_assert_not(emb_rules_port_alone_may_hold(port, 6, 37778));
    emb_rules_address_first_bytes(port, v4, v6);
    cr_assert_eq(v4[0] | v4[1] | v4[2] | v4[3] | v6[0] | v6[1] | v6[2] | v6[3], 0);
    emb_rules_free(port);
    emb_rules_free(any);
    emb_diags_t *d2 = NULL;
    emb_rules_t *names = test_load_text(
        "vendor: c\nname: C\nrules:\n"
        "  - {sid: 30, msg: m, channel: cloud, match: [{domain: c.example, port: 8443/tcp}]}\n",
        &d2);
    test_print_diags(d2);
    cr_assert_not_null(names);
    cr_assert_not(emb_rules_port_may_hold(names, 6, 8443), "needs a name: not on endpoints");
    emb_rules_free(names);
}

static int facts_raise_on(emb_engine_t *e, uint8_t family, const uint8_t *cli, const uint8_t *srv,
                          uint8_t proto, uint16_t port, uint32_t *sid) {
    emb_facts_t f = {.family = family, .proto = proto, .client_port = 50000, .server_port = port};
    size_t n = family == 4 ? 4 : 16;
    memcpy(f.client, cli, n);
    memcpy(f.server, srv, n);
    got_t g = {0};
    cr_assert_eq(emb_engine_match(e, &f, on_match, &g), 0);
    *sid = g.sid;
    return g.n;
}

static int facts_raise(emb_engine_t *e, uint8_t family, const uint8_t *cli, const uint8_t *srv,
                       uint32_t *sid) {
    return facts_raise_on(e, family, cli, srv, 6, 443, sid);
}

static bool may(emb_engine_t *e, uint8_t family, const uint8_t *cli, const uint8_t *srv,
                uint16_t port) {
    emb_facts_t f = {.family = family, .proto = 6, .client_port = 50000, .server_port = port};
    size_t n = family == 4 ? 4 : 16;
    memcpy(f.client, cli, n);
    memcpy(f.server, srv, n);
    return emb_engine_endpoints_may_match(e, &f);
}

/* The engine turns a flow away by the first byte of its addresses and the
 * span of its server port before it walks a rule's ranges (match.c, its
 * flow sieves): prefixes shorter than a byte cover a run of first bytes,
 * longer ones share their first byte with addresses outside them, the two
 * families stay apart, and a port inside the span may still be outside
 * every range or of the other protocol. */
Test(hosted, address_rules_hold_on_either_side_at_every_prefix_length) {
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(
        "vendor: n\nname: N\nrules:\n"
        "  - {sid: 40, msg: a, channel: cloud, match: [{ip: 8.0.0.0/6}]}\n"
        "  - {sid: 41, msg: b, channel: cloud, match: [{ip: 203.0.113.128/25}]}\n"
        "  - {sid: 42, msg: c, channel: cloud, match: [{ip: '2001:db8::/32'}]}\n"
        "  - {sid: 43, msg: d, channel: cloud, match: [{port: [13000-13010/tcp, 15000/udp]}]}\n",
        &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    static const uint8_t cli[4] = {192, 0, 2, 10};
    static const struct {
        uint8_t addr[4];
        uint32_t sid; /* 0: none */
    } v4[] = {
        {{8, 0, 0, 1}, 40},    {{11, 255, 255, 254}, 40}, {{7, 255, 255, 255}, 0},
        {{12, 0, 0, 1}, 0},    {{203, 0, 113, 200}, 41},  {{203, 0, 113, 5}, 0},
        {{32, 1, 13, 184}, 0}, /* 2001:0db8 read as IPv4 */
    };
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        uint32_t sid = 0;
        int n = facts_raise(e, 4, cli, v4[i].addr, &sid);
        cr_assert_eq(n, v4[i].sid ? 1 : 0, "server %u.%u.%u.%u", v4[i].addr[0], v4[i].addr[1],
                     v4[i].addr[2], v4[i].addr[3]);
        if (v4[i].sid)
            cr_assert_eq(sid, v4[i].sid);
        /* the coarse test a host makes first: never "no" where a rule holds */
        cr_assert(!v4[i].sid ||
                  (may(e, 4, cli, v4[i].addr, 443) && may(e, 4, v4[i].addr, cli, 80)));
        n = facts_raise(e, 4, v4[i].addr, cli, &sid); /* the same address as the client */
        cr_assert_eq(n, v4[i].sid ? 1 : 0, "client %u.%u.%u.%u", v4[i].addr[0], v4[i].addr[1],
                     v4[i].addr[2], v4[i].addr[3]);
    }
    uint8_t in6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, out6[16] = {0x20, 0x01, 0x0d, 0xb9};
    uint8_t cli6[16] = {0xfe, 0x80, [15] = 2};
    uint32_t sid = 0;
    cr_assert_eq(facts_raise(e, 6, cli6, in6, &sid), 1);
    cr_assert_eq(sid, 42);
    cr_assert_eq(facts_raise(e, 6, cli6, out6, &sid), 0);
    uint8_t v4mapped[16] = {8, 0, 0, 1}; /* begins like sid 40's range, but IPv6 */
    cr_assert_eq(facts_raise(e, 6, cli6, v4mapped, &sid), 0);
    static const uint8_t far[4] = {192, 0, 2, 99};
    static const struct {
        uint8_t proto;
        uint16_t port;
        bool raises;
    } ports[] = {{6, 13000, true},  {6, 13010, true},  {6, 12999, false}, {6, 13011, false},
                 {17, 15000, true}, {6, 15000, false}, {6, 14000, false}, {17, 15001, false}};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        int n = facts_raise_on(e, 4, cli, far, ports[i].proto, ports[i].port, &sid);
        cr_assert_eq(n, ports[i].raises ? 1 : 0, "port %u/%u", ports[i].port, ports[i].proto);
        if (ports[i].raises)
            cr_assert_eq(sid, 43);
        cr_assert(!ports[i].raises || may(e, 4, cli, far, ports[i].port));
    }
    /* and "no" for endpoints outside every first byte and port span */
    cr_assert_not(may(e, 4, cli, far, 443));
    cr_assert_not(may(e, 4, cli, far, 12999));
    uint8_t low6[16] = {0x01, 0x0d, [15] = 1};
    cr_assert_not(may(e, 6, cli6, low6, 443));
    cr_assert(may(e, 6, cli6, in6, 443));
    emb_facts_t none = {.family = 0, .server_port = 13000};
    cr_assert_not(emb_engine_endpoints_may_match(e, &none), "no address: no such rule holds");
    emb_engine_free(e);
    emb_rules_free(r);
}

/* More rules of ports alone than the engine keeps spans for: the last span
 * widens to cover the rest, so the coarse test still says "maybe" on each. */
Test(hosted, many_port_rules_widen_the_last_span) {
    char text[2048] = "vendor: m\nname: M\nrules:\n";
    static const uint16_t at[] = {21, 23, 37777, 8000, 554, 7070, 9000, 10554, 34567, 5060, 161};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        size_t len = strlen(text);
        snprintf(text + len, sizeof(text) - len,
                 "  - {sid: %zu, msg: p, channel: cloud, match: [{port: %u/tcp}]}\n", 50 + i,
                 at[i]);
    }
    emb_diags_t *d = NULL;
    emb_rules_t *r = test_load_text(text, &d);
    test_print_diags(d);
    cr_assert_not_null(r);
    emb_engine_t *e = NULL;
    cr_assert_eq(emb_engine_new(r, NULL, &e, NULL), 0);
    static const uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {198, 51, 100, 1};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        uint32_t sid = 0;
        cr_assert(may(e, 4, cli, srv, at[i]), "port %u", at[i]);
        cr_assert_eq(facts_raise_on(e, 4, cli, srv, 6, at[i], &sid), 1, "port %u", at[i]);
        cr_assert_eq(sid, 50 + i);
    }
    cr_assert_not(may(e, 4, cli, srv, 20), "below every span");
    cr_assert_not(may(e, 4, cli, srv, 22), "between two spans, below the widened one");
    cr_assert_not(may(e, 4, cli, srv, 40000), "above every span");
    cr_assert(may(e, 4, cli, srv, 1000), "inside the widened span [161, 34567]: maybe");
    emb_engine_free(e);
    emb_rules_free(r);
}

/* Two engines on one table in two threads at once, as Suricata's workers run
 * them (the table is locked by stripe, detect/shared.c): each learns answers
 * for its own 200 clients, to 200 addresses that spread over the stripes, and
 * looks up the other thread's clients while it goes; then every one of its own
 * connections is attributed, and nothing crashed or went missing. */
typedef struct {
    emb_engine_t *e;
    uint8_t first; /* its clients: 192.0.2.<first + i>, i < 100; both ways */
    int learned_errors, found;
} worker_t;

static int count_match(const emb_match_t *m, void *ud) {
    (void)m;
    ++*(int *)ud;
    return 0;
}

static void *worker_run(void *arg) {
    worker_t *w = arg;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++) {
            uint8_t client = (uint8_t)(w->first + i),
                    addr[4] = {203, 0, (uint8_t)round, (uint8_t)i};
            int ignored = 0;
            if (learn_response(w->e, "s1.upd.acme.example", client, addr, 1727697600, (uint32_t)i,
                               count_match, &ignored) != 0)
                w->learned_errors++;
            /* the other thread's client at the same address: it may or may not be there yet */
            emb_facts_t other = connection((uint8_t)(client ^ 0x80), addr);
            emb_engine_attribute(w->e, &other, 1727697601, 0, count_match, &ignored);
        }
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 100; i++) {
            uint8_t addr[4] = {203, 0, (uint8_t)round, (uint8_t)i};
            emb_facts_t f = connection((uint8_t)(w->first + i), addr);
            int n = 0;
            emb_engine_attribute(w->e, &f, 1727697601, 0, count_match, &n);
            w->found += n == 1;
        }
    return NULL;
}

Test(hosted, engines_in_two_threads_share_a_table) {
    emb_config_t cfg;
    emb_config_init(&cfg);
    emb_shared_t *shared = NULL;
    cr_assert_eq(emb_shared_new(&cfg, &shared), 0);
    cfg.shared = shared;
    worker_t w[2] = {{.first = 0}, {.first = 0x80}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(emb_engine_new(rules, &cfg, &w[t].e, NULL), 0);
        cr_assert_eq(pthread_create(&th[t], NULL, worker_run, &w[t]), 0);
    }
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(pthread_join(th[t], NULL), 0);
        cr_assert_eq(w[t].learned_errors, 0);
        cr_assert_eq(w[t].found, 200, "thread %d attributed %d of its 200 connections", t,
                     w[t].found);
        emb_engine_free(w[t].e);
    }
    emb_shared_free(shared);
}
