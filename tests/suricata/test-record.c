/*
 * Unit tests for plugin/suricata/record.h: the parser of the EVE records
 * Suricata hands to the embargo filetype, and the alert records built from
 * them. Hostile input (garbage, truncation, size, depth, wrong types,
 * missing members, invalid UTF-8) must never crash and never match.
 */
#define _GNU_SOURCE /* memmem */
#include "record.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX (256 * 1024)

/* A DNS query as Suricata 7 logs it (EVE DNS v2). */
static const char dns_query[] =
    "{\"timestamp\":\"2024-09-30T12:00:00.000000+0000\",\"flow_id\":1710468364,\"pcap_cnt\":1,"
    "\"event_type\":\"dns\",\"src_ip\":\"192.0.2.10\",\"src_port\":40001,\"dest_ip\":"
    "\"192.0.2.53\",\"dest_port\":53,\"proto\":\"UDP\",\"pkt_src\":\"wire/pcap\",\"dns\":{"
    "\"version\":2,\"type\":\"query\",\"id\":257,\"rrname\":\"s05.upd.kaspersky.com\","
    "\"rrtype\":\"A\",\"tx_id\":0,\"opcode\":0}}";

static const char http_req[] =
    "{\"timestamp\":\"2018-08-07T16:10:33.978371+0000\",\"flow_id\":512314625214378,"
    "\"pcap_cnt\":8,\"event_type\":\"http\",\"src_ip\":\"128.3.116.128\",\"src_port\":49163,"
    "\"dest_ip\":\"94.75.236.123\",\"dest_port\":80,\"proto\":\"TCP\",\"tx_id\":0,\"http\":{"
    "\"hostname\":\"94.75.236.123\",\"url\":\"/updaters/updater.xml.dif\","
    "\"http_user_agent\":\"KasperskyLab\"}}";

static emb_rules_t *rules;
static emb_engine_t *engine;

static void setup(void) {
    cr_assert_eq(emb_rules_load(EMBARGO_TEST_RULES, &rules, NULL), 0);
    cr_assert_eq(emb_engine_new(rules, NULL, &engine, NULL), 0);
}

static void teardown(void) {
    emb_engine_free(engine);
    emb_rules_free(rules);
}

static int count_cb(const emb_match_t *m, void *ud) {
    (void)m;
    (*(int *)ud)++;
    return 0;
}

static int first_sid_cb(const emb_match_t *m, void *ud) {
    uint32_t *sid = ud;
    if (*sid == 0)
        *sid = m->sid;
    return 0;
}

static bool same_span(const EmbargoRecord *a, EmbargoSpan x, const EmbargoRecord *b,
                      EmbargoSpan y) {
    return x.len == y.len && (x.len == 0 || memcmp(a->buf + x.off, b->buf + y.off, x.len) == 0);
}

/*
 * EmbargoRecordParse, and beside it the plugin's way, EMBARGO_REC_UNCHECKED,
 * on the same text: a record the strict parse takes gives the same facts and
 * header unchecked, no alert before EmbargoRecordCheck, and passes the
 * check; one it refuses is refused unchecked too, or fails the check. Every
 * test below parses through this, hostile inputs included.
 */
static EmbargoParseResult parse_record(EmbargoRecord *r, const char *text, size_t len, size_t max) {
    EmbargoParseResult pr = EmbargoRecordParse(r, text, len, max);
    static EmbargoRecord u;
    EmbargoParseResult pu =
        EmbargoRecordParseTypes(&u, text, len, max, EMBARGO_REC_ALL | EMBARGO_REC_UNCHECKED);
    if (pr == EMBARGO_PARSE_OK) {
        cr_assert_eq(pu, EMBARGO_PARSE_OK);
        cr_assert(u.unchecked);
        cr_assert_eq(EmbargoRecordAlertWrite(&u, "{}", 2, NULL, NULL, 0), 0);
        cr_assert_eq(u.type, r->type);
        cr_assert_eq(u.flow_id, r->flow_id);
        cr_assert_eq(u.src_port, r->src_port);
        cr_assert_eq(u.dest_port, r->dest_port);
        cr_assert_eq(u.to_client, r->to_client);
        cr_assert_eq(u.dns_response, r->dns_response);
        cr_assert(same_span(&u, u.app, r, r->app));
        cr_assert(same_span(&u, u.src_ip, r, r->src_ip));
        cr_assert(same_span(&u, u.timestamp, r, r->timestamp));
        cr_assert_eq(u.facts.family, r->facts.family);
        cr_assert_eq(memcmp(u.facts.server, r->facts.server, 16), 0);
        cr_assert_eq(u.facts.nfacts, r->facts.nfacts);
        for (size_t i = 0; i < r->facts.nfacts; i++) {
            const emb_fact_t *a = &r->facts.facts[i], *b = &u.facts.facts[i];
            cr_assert_eq(a->field, b->field, "fact %zu", i);
            cr_assert_eq(a->len, b->len, "fact %zu", i);
            cr_assert_eq(memcmp(a->value, b->value, a->len), 0, "fact %zu", i);
        }
        cr_assert(EmbargoRecordCheck(&u));
        cr_assert_not(u.unchecked);
        cr_assert_gt(EmbargoRecordAlertWrite(&u, "{}", 2, NULL, NULL, 0), 0);
    } else if (pr == EMBARGO_PARSE_INVALID && pu == EMBARGO_PARSE_OK) {
        cr_assert_not(EmbargoRecordCheck(&u), "a record refused strictly passed the check");
        cr_assert_eq(EmbargoRecordAlertWrite(&u, "{}", 2, NULL, NULL, 0), 0);
    } else if (pr != EMBARGO_PARSE_INVALID)
        cr_assert_eq(pu, pr);
    EmbargoRecordClear(&u);
    return pr;
}

/* Parses `text` and returns how many rules it raises (0 unless parsed OK). */
static int matches(const char *text, size_t len) {
    EmbargoRecord r = {0};
    int n = 0;
    if (parse_record(&r, text, len, MAX) == EMBARGO_PARSE_OK)
        cr_assert_eq(emb_engine_match(engine, &r.facts, count_cb, &n), 0);
    EmbargoRecordClear(&r);
    return n;
}

static size_t count_field(const EmbargoRecord *r, emb_field_t f) {
    size_t n = 0;
    for (size_t i = 0; i < r->facts.nfacts; i++)
        n += r->facts.facts[i].field == f;
    return n;
}

static bool has_fact(const EmbargoRecord *r, emb_field_t f, const char *v) {
    for (size_t i = 0; i < r->facts.nfacts; i++)
        if (r->facts.facts[i].field == f && r->facts.facts[i].len == strlen(v) &&
            memcmp(r->facts.facts[i].value, v, strlen(v)) == 0)
            return true;
    return false;
}

/* `tmpl` with its one "%s" replaced by `val`, into buf. Returns the length. */
static int subst(char *buf, size_t cap, const char *tmpl, const char *val) {
    const char *at = strstr(tmpl, "%s");
    cr_assert_not_null(at);
    return snprintf(buf, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, val, at + 2);
}

TestSuite(record, .init = setup, .fini = teardown);

Test(record, peek_type) {
    cr_assert_eq(EmbargoRecordPeekType(dns_query, strlen(dns_query)), EMBARGO_REC_DNS);
    cr_assert_eq(EmbargoRecordPeekType(http_req, strlen(http_req)), EMBARGO_REC_HTTP);
    const char *other[] = {"{\"event_type\":\"http2\"}",
                           "{\"event_type\":\"alert\"}",
                           "{\"event_type\":\"dns",
                           "{\"event_type\":\"\"}",
                           "",
                           "{}"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        cr_assert_eq(EmbargoRecordPeekType(other[i], strlen(other[i])), EMBARGO_REC_OTHER, "%s",
                     other[i]);
    cr_assert_eq(EmbargoRecordPeekType(NULL, 10), EMBARGO_REC_OTHER);
}

Test(record, dns_v2_query) {
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, dns_query, strlen(dns_query), MAX), EMBARGO_PARSE_OK);
    cr_assert_eq(r.type, EMBARGO_REC_DNS);
    cr_assert_eq(r.flow_id, 1710468364u);
    cr_assert_eq(r.facts.family, 4);
    cr_assert_eq(r.facts.proto, 17);
    cr_assert_eq(r.facts.client_port, 40001);
    cr_assert_eq(r.facts.server_port, 53);
    cr_assert_eq(r.facts.server[3], 53); /* 192.0.2.53 */
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "s05.upd.kaspersky.com"));
    cr_assert_eq(r.facts.nfacts, 1);
    uint32_t sid = 0;
    cr_assert_eq(emb_engine_match(engine, &r.facts, first_sid_cb, &sid), 0);
    cr_assert_eq(sid, 4200101);
    EmbargoRecordClear(&r);
}

Test(record, dns_answers_v3_queries_grouped) {
    /* CNAME and PTR rdata are names; A rdata is an address, not a name. */
    const char *rec =
        "{\"event_type\":\"dns\",\"flow_id\":7,\"src_ip\":\"2001:db8::1\",\"dest_ip\":"
        "\"2001:db8::53\",\"src_port\":1,\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{"
        "\"queries\":[{\"rrname\":\"q.example\"}],\"answers\":[{\"rrname\":\"a.example\","
        "\"rrtype\":\"CNAME\",\"rdata\":\"c.example\"},{\"rrname\":\"c.example\",\"rrtype\":\"A\","
        "\"rdata\":\"192.0.2.1\"},{\"rrname\":\"p.example\",\"rrtype\":\"PTR\",\"rdata\":"
        "\"ptr.example\"},7,\"x\"],\"grouped\":{\"CNAME\":[\"g.example\",5],\"A\":[\"192.0.2.9\"]}}"
        "}";
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, rec, strlen(rec), MAX), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.family, 6);
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "q.example"));
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "a.example"));
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "c.example"));
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "ptr.example"));
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "g.example"));
    cr_assert(!has_fact(&r, EMB_FIELD_DNS_QUERY, "192.0.2.1"));
    cr_assert(!has_fact(&r, EMB_FIELD_DNS_QUERY, "192.0.2.9"));
    EmbargoRecordClear(&r);
}

Test(record, tls_and_quic_and_http) {
    const char *tls = "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"ds.kaspersky.com\","
                      "\"subject\":\"C=RU, O=AO Kaspersky Lab, CN=*.kaspersky.com\","
                      "\"issuerdn\":\"C=US, O=DigiCert Inc, CN=DigiCert CA\"}}";
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, tls, strlen(tls), MAX), EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_TLS_SNI, "ds.kaspersky.com"));
    cr_assert(has_fact(&r, EMB_FIELD_TLS_CERT_NAME, "*.kaspersky.com"));
    cr_assert(
        has_fact(&r, EMB_FIELD_TLS_CERT_SUBJECT, "C=RU, O=AO Kaspersky Lab, CN=*.kaspersky.com"));
    cr_assert(has_fact(&r, EMB_FIELD_TLS_CERT_ISSUER, "C=US, O=DigiCert Inc, CN=DigiCert CA"));
    cr_assert_eq(r.facts.family, 0); /* no addresses: no ip/port condition can hold */
    EmbargoRecordClear(&r);

    const char *quic = "{\"event_type\":\"quic\",\"quic\":{\"sni\":\"x.example\"}}";
    cr_assert_eq(parse_record(&r, quic, strlen(quic), MAX), EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_QUIC_SNI, "x.example"));
    EmbargoRecordClear(&r);

    cr_assert_eq(parse_record(&r, http_req, strlen(http_req), MAX), EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_HTTP_HOST, "94.75.236.123"));
    cr_assert(has_fact(&r, EMB_FIELD_HTTP_URI, "/updaters/updater.xml.dif"));
    cr_assert(has_fact(&r, EMB_FIELD_HTTP_USER_AGENT, "KasperskyLab"));
    cr_assert_eq(r.facts.proto, 6);
    EmbargoRecordClear(&r);
    cr_assert_gt(matches(http_req, strlen(http_req)), 0);
}

Test(record, to_client_direction_swaps_endpoints) {
    const char *rec = "{\"event_type\":\"flow\",\"direction\":\"to_client\",\"src_ip\":"
                      "\"198.51.100.1\",\"src_port\":443,\"dest_ip\":\"192.0.2.10\","
                      "\"dest_port\":50000,\"proto\":\"TCP\"}";
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, rec, strlen(rec), MAX), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.server_port, 443);
    cr_assert_eq(r.facts.client_port, 50000);
    cr_assert_eq(r.facts.server[0], 198);
    EmbargoRecordClear(&r);
}

Test(record, other_types_are_skipped) {
    const char *recs[] = {
        "{\"event_type\":\"alert\",\"dns\":{\"rrname\":\"upd.kaspersky.com\"}}",
        "{\"event_type\":\"stats\"}",
        /* the first event_type in the text is a decoy inside a string */
        "{\"x\":\"\\\"event_type\\\":\\\"dns\\\"\",\"event_type\":\"fileinfo\"}",
    };
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        EmbargoRecord r = {0};
        cr_assert_eq(parse_record(&r, recs[i], strlen(recs[i]), MAX), EMBARGO_PARSE_SKIP, "%s",
                     recs[i]);
        cr_assert_eq(r.facts.nfacts, 0);
        cr_assert_null(r.buf);
    }
    /* Text says dns, the object says alert: the object wins. */
    const char *liar =
        "{\"a\":{\"event_type\":\"dns\"},\"event_type\":\"alert\",\"dns\":{\"rrname\":"
        "\"upd.kaspersky.com\"}}";
    cr_assert_eq(matches(liar, strlen(liar)), 0);
}

Test(record, garbage) {
    /* Deterministic pseudo-random bytes, some with a dns event_type glued in front. */
    uint32_t x = 2463534242u;
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[i] = (char)(iter % 3 == 0 ? "{}[]\":,0123abc \\u"[x % 18] : (char)x);
        }
        if (iter % 2 == 0 && n > 20)
            memcpy(buf, "{\"event_type\":\"dns\",", 20);
        EmbargoRecord r = {0};
        EmbargoParseResult pr = parse_record(&r, buf, n, MAX);
        if (pr != EMBARGO_PARSE_OK)
            cr_assert_eq(r.facts.nfacts, 0);
        else
            cr_assert_eq(emb_engine_match(engine, &r.facts, NULL, NULL), 0);
        EmbargoRecordClear(&r);
    }
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, NULL, 5, MAX), EMBARGO_PARSE_INVALID);
    EmbargoRecordClear(&r);
}

Test(record, truncated) {
    /* Every proper prefix of a valid record is refused. */
    const char *recs[] = {dns_query, http_req};
    for (size_t k = 0; k < 2; k++) {
        size_t len = strlen(recs[k]);
        for (size_t n = 0; n < len; n++) {
            EmbargoRecord r = {0};
            EmbargoParseResult pr = parse_record(&r, recs[k], n, MAX);
            cr_assert(pr == EMBARGO_PARSE_INVALID || pr == EMBARGO_PARSE_SKIP, "prefix %zu", n);
            cr_assert_eq(r.facts.nfacts, 0);
            EmbargoRecordClear(&r);
        }
    }
}

Test(record, huge_and_deep) {
    /* Longer than the limit: not parsed, even though it would match. */
    size_t big = MAX + 100;
    char *p = malloc(big + 64);
    int h = snprintf(p, 64,
                     "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"upd.kaspersky.com\",\"x\":\"");
    memset(p + h, 'a', big - (size_t)h - 3);
    memcpy(p + big - 3, "\"}}", 3);
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, p, big, MAX), EMBARGO_PARSE_TOOBIG);
    cr_assert_eq(parse_record(&r, p, big, big), EMBARGO_PARSE_OK); /* valid otherwise */
    EmbargoRecordClear(&r);

    /* 100000 nested arrays: over EMBARGO_RECORD_MAX_DEPTH, refused, no stack overflow. */
    size_t depth = 100000;
    char *d = malloc(depth * 2 + 64);
    size_t k = (size_t)snprintf(d, 64, "{\"event_type\":\"dns\",\"dns\":");
    memset(d + k, '[', depth);
    memset(d + k + depth, ']', depth);
    d[k + 2 * depth] = '}';
    cr_assert_eq(parse_record(&r, d, k + 2 * depth + 1, 1u << 30), EMBARGO_PARSE_INVALID);
    EmbargoRecordClear(&r);
    free(d);
    free(p);
}

Test(record, non_utf8_and_nul) {
    /* "s05.upd.kaspersky.com\xff" is not UTF-8: the record is refused. */
    const char bad[] =
        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"s05.upd.kaspersky.com\xff\"}}";
    cr_assert_eq(matches(bad, strlen(bad)), 0);
    /* An escaped NUL inside the name: parsed, kept whole, and it does not match the name. */
    const char nul[] =
        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"upd.kaspersky.com\\u0000.evil.example\"}}";
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, nul, strlen(nul), MAX), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.nfacts, 1);
    cr_assert_eq(r.facts.facts[0].len, strlen("upd.kaspersky.com") + 1 + strlen(".evil.example"));
    EmbargoRecordClear(&r);
}

/* Every member replaced by a value of each wrong type: no crash, no fact, no match. */
Test(record, wrong_types_and_missing_members) {
    static const char *const wrong[] = {"1",
                                        "-1",
                                        "1.5",
                                        "true",
                                        "null",
                                        "[]",
                                        "{}",
                                        "[\"upd.kaspersky.com\"]",
                                        "{\"a\":\"upd.kaspersky.com\"}",
                                        "99999999999999999999"};
    /* A template with one placeholder at a time: %s replaces the value of one member. */
    static const char *const templates[] = {
        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":%s}}",
        "{\"event_type\":\"dns\",\"dns\":%s}",
        "{\"event_type\":\"dns\",\"dns\":{\"queries\":%s}}",
        "{\"event_type\":\"dns\",\"dns\":{\"queries\":[{\"rrname\":%s}]}}",
        "{\"event_type\":\"dns\",\"dns\":{\"answers\":[{\"rrname\":%s}]}}",
        "{\"event_type\":\"dns\",\"dns\":{\"answers\":[{\"rrtype\":\"CNAME\",\"rdata\":%s}]}}",
        "{\"event_type\":\"dns\",\"dns\":{\"grouped\":%s}}",
        "{\"event_type\":\"dns\",\"dns\":{\"grouped\":{\"CNAME\":%s}}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":%s}}",
        "{\"event_type\":\"tls\",\"tls\":{\"subject\":%s}}",
        "{\"event_type\":\"tls\",\"tls\":{\"issuerdn\":%s}}",
        "{\"event_type\":\"tls\",\"tls\":{\"subjectaltname\":%s}}",
        "{\"event_type\":\"http\",\"http\":{\"hostname\":%s}}",
        "{\"event_type\":\"http\",\"http\":{\"url\":%s}}",
        "{\"event_type\":\"http\",\"http\":{\"http_user_agent\":%s}}",
        "{\"event_type\":\"quic\",\"quic\":{\"sni\":%s}}",
        "{\"event_type\":%s,\"dns\":{\"rrname\":\"x\"}}",
        /* endpoints: a flow to 77.74.180.5:443/tcp raises 4200140 only when all are right */
        "{\"event_type\":\"flow\",\"src_ip\":%s,\"dest_ip\":\"77.74.180.5\",\"src_port\":1,"
        "\"dest_port\":443,\"proto\":\"TCP\"}",
        "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":%s,\"src_port\":1,"
        "\"dest_port\":443,\"proto\":\"TCP\"}",
        "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"77.74.180.5\","
        "\"src_port\":%s,\"dest_port\":443,\"proto\":\"TCP\"}",
        "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"77.74.180.5\","
        "\"src_port\":1,\"dest_port\":%s,\"proto\":\"TCP\"}",
        "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"77.74.180.5\","
        "\"src_port\":1,\"dest_port\":443,\"proto\":%s}",
        "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"77.74.180.5\","
        "\"src_port\":1,\"dest_port\":443,\"proto\":\"TCP\",\"flow_id\":%s}",
    };
    char buf[512];
    for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
        for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++) {
            /* a list of names is the right type for these two */
            if (strcmp(wrong[w], "[\"upd.kaspersky.com\"]") == 0 &&
                (strstr(templates[t], "CNAME\":%s") || strstr(templates[t], "altname\":%s")))
                continue;
            if (strcmp(wrong[w], "1") == 0 && strstr(templates[t], "\"src_port\":%s"))
                continue; /* a valid client port */
            int n = subst(buf, sizeof(buf), templates[t], wrong[w]);
            cr_assert(n > 0 && (size_t)n < sizeof(buf));
            EmbargoRecord r = {0};
            EmbargoParseResult pr = parse_record(&r, buf, (size_t)n, MAX);
            int raised = 0;
            if (pr == EMBARGO_PARSE_OK) {
                cr_assert_eq(count_field(&r, EMB_FIELD_DNS_QUERY) +
                                 count_field(&r, EMB_FIELD_TLS_SNI) +
                                 count_field(&r, EMB_FIELD_HTTP_HOST),
                             0, "%s", buf);
                cr_assert_eq(emb_engine_match(engine, &r.facts, count_cb, &raised), 0);
            }
            /* flow_id of the wrong type does not stop the address rule */
            bool ok_anyway = strstr(templates[t], "\"flow_id\":%s") != NULL;
            if (ok_anyway && pr == EMBARGO_PARSE_OK) /* a flow_id over 2^63 counts as absent */
                cr_assert_eq(raised, 1, "%s", buf);
            else
                cr_assert_eq(raised, 0, "%s", buf);
            char *alert =
                pr == EMBARGO_PARSE_OK ? EmbargoRecordAlert(&r, "{}", &(size_t){0}) : NULL;
            if (pr == EMBARGO_PARSE_OK) {
                cr_assert_not_null(alert, "%s", buf);
                /* the protocol object is copied as text: a number too big for
                 * jansson's integers is still JSON */
                json_t *o = json_loads(alert, JSON_DECODE_INT_AS_REAL, NULL);
                cr_assert(json_is_object(o), "%s -> %s", buf, alert);
                /* wrong-typed header members are left out, not copied: when
                 * present, they are unsigned integers */
                static const char *const ints[] = {"\"flow_id\":", "\"src_port\":"};
                for (size_t i = 0; i < 2; i++) {
                    const char *at = strstr(alert, ints[i]);
                    if (at == NULL)
                        continue;
                    at += strlen(ints[i]);
                    size_t digits = strspn(at, "0123456789");
                    cr_assert(digits > 0 && (at[digits] == ',' || at[digits] == '}'), "%s", alert);
                }
                json_decref(o);
            }
            free(alert);
            EmbargoRecordClear(&r);
        }
        /* The same templates with an empty string. */
        subst(buf, sizeof(buf), templates[t], "\"\"");
        bool fid = strstr(templates[t], "\"flow_id\":%s") != NULL;
        cr_assert_eq(matches(buf, strlen(buf)), fid ? 1 : 0, "%s", buf);
    }
    /* The right types raise it, so the negative results above mean something. */
    const char *good = "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":"
                       "\"77.74.180.5\",\"src_port\":1,\"dest_port\":443,\"proto\":\"TCP\"}";
    cr_assert_eq(matches(good, strlen(good)), 1);
    const char *udp = "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":"
                      "\"77.74.180.5\",\"src_port\":1,\"dest_port\":443,\"proto\":\"UDP\"}";
    cr_assert_eq(matches(udp, strlen(udp)), 0);
}

Test(record, missing_members) {
    /* Each member of the HTTP record left out in turn: never a crash, and the
     * facts that remain are exactly the ones still there. */
    static const char *const keys[] = {"\"flow_id\":512314625214378,",
                                       "\"src_ip\":\"128.3.116.128\",",
                                       "\"proto\":\"TCP\",",
                                       "\"hostname\":\"94.75.236.123\",",
                                       "\"url\":\"/updaters/updater.xml.dif\",",
                                       "\"http_user_agent\":\"KasperskyLab\""};
    char buf[1024];
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *at = strstr(http_req, keys[k]);
        cr_assert_not_null(at);
        snprintf(buf, sizeof(buf), "%.*s%s", (int)(at - http_req), http_req, at + strlen(keys[k]));
        EmbargoRecord r = {0};
        EmbargoParseResult pr = parse_record(&r, buf, strlen(buf), MAX);
        if (k == 5) { /* leaves a trailing comma: not JSON */
            cr_assert_eq(pr, EMBARGO_PARSE_INVALID);
            EmbargoRecordClear(&r);
            continue;
        }
        cr_assert_eq(pr, EMBARGO_PARSE_OK, "%s", buf);
        cr_assert_eq(r.facts.nfacts, k >= 3 ? 2u : 3u, "%s", buf);
        cr_assert_eq(r.facts.family, k == 1 ? 0 : 4);
        cr_assert_eq(r.facts.proto, k == 1 ? 0 : k == 2 ? 0 : 6);
        cr_assert_eq(r.flow_id, k == 0 ? 0u : 512314625214378u);
        EmbargoRecordClear(&r);
    }
}

Test(record, alert_record) {
    EmbargoRecord r = {0};
    cr_assert_eq(parse_record(&r, dns_query, strlen(dns_query), MAX), EMBARGO_PARSE_OK);
    size_t len = 0;
    char *line = EmbargoRecordAlert(&r, "{\"signature_id\":4200101}", &len);
    cr_assert_not_null(line);
    cr_assert_eq(len, strlen(line));
    cr_assert_null(strchr(line, '\n'));
    json_t *o = json_loads(line, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(o, "event_type")), "alert");
    cr_assert_str_eq(json_string_value(json_object_get(o, "timestamp")),
                     "2024-09-30T12:00:00.000000+0000");
    cr_assert_eq(json_integer_value(json_object_get(o, "flow_id")), 1710468364);
    cr_assert_eq(json_integer_value(json_object_get(o, "pcap_cnt")), 1);
    cr_assert_eq(json_integer_value(json_object_get(o, "src_port")), 40001);
    cr_assert_str_eq(json_string_value(json_object_get(o, "app_proto")), "dns");
    cr_assert_str_eq(json_string_value(json_object_get(o, "direction")), "to_server");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "alert"), "signature_id")),
                 4200101);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "dns"), "rrname")),
                     "s05.upd.kaspersky.com");
    cr_assert_null(json_object_get(o, "tx_id")); /* not a header field */
    json_decref(o);
    free(line);
    cr_assert_null(EmbargoRecordAlert(&r, "[1]", &len));
    cr_assert_null(EmbargoRecordAlert(&r, "{", &len));
    cr_assert_null(EmbargoRecordAlert(&r, NULL, &len));
    EmbargoRecordClear(&r);
    cr_assert_null(EmbargoRecordAlert(&r, "{}", &len)); /* nothing parsed */
}

/* ---- the scanner ------------------------------------------------------- */

/* Parses a NUL-terminated record. */
static EmbargoParseResult parse(EmbargoRecord *r, const char *text) {
    return parse_record(r, text, strlen(text), MAX);
}

Test(record, escaped_quotes_and_backslashes) {
    /* rrname is: a"b\c.kaspersky.com ; the \" must not end the string early */
    const char *rec = "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\\\"b\\\\c.kaspersky.com\","
                      "\"x\":\"\\\"},\\\"rrname\\\":\\\"upd.kaspersky.com\"}}";
    EmbargoRecord r;
    cr_assert_eq(parse(&r, rec), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.nfacts, 1);
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "a\"b\\c.kaspersky.com"));
    cr_assert(!has_fact(&r, EMB_FIELD_DNS_QUERY, "upd.kaspersky.com"));
    /* the other escapes decode to their bytes */
    const char *esc = "{\"event_type\":\"http\",\"http\":{\"url\":\"\\/a\\tb\\nc\\rd\\be\\ff\"}}";
    cr_assert_eq(parse(&r, esc), EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_HTTP_URI, "/a\tb\nc\rd\be\ff"));
    /* unknown escapes, raw control characters: not JSON */
    const char *bad[] = {"{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\\x\"}}",
                         "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\tb\"}}",
                         "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\\\"}}"};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(parse(&r, bad[i]), EMBARGO_PARSE_INVALID, "%s", bad[i]);
}

Test(record, nested_keys_are_not_top_level) {
    /* src_ip, event_type, flow_id and a dns object inside other members, before the
     * real ones: only the top-level members count. */
    const char *rec =
        "{\"meta\":{\"event_type\":\"dns\",\"src_ip\":\"77.74.180.5\",\"flow_id\":9,"
        "\"dns\":{\"rrname\":\"upd.kaspersky.com\"}},\"list\":[{\"event_type\":\"tls\"},"
        "[\"dns\"]],\"event_type\":\"flow\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":"
        "\"192.0.2.2\",\"src_port\":1,\"dest_port\":443,\"proto\":\"TCP\",\"flow_id\":5}";
    EmbargoRecord r;
    cr_assert_eq(parse(&r, rec), EMBARGO_PARSE_OK);
    cr_assert_eq(r.type, EMBARGO_REC_FLOW);
    cr_assert_eq(r.flow_id, 5);
    cr_assert_eq(r.facts.server[0], 192);
    cr_assert_eq(r.facts.nfacts, 0);
    cr_assert_eq(matches(rec, strlen(rec)), 0);
    cr_assert_eq(EmbargoRecordPeekType(rec, strlen(rec)), EMBARGO_REC_FLOW);
    /* names in dns.answers[].x.rrname are not answers */
    const char *deep = "{\"event_type\":\"dns\",\"dns\":{\"answers\":[{\"x\":{\"rrname\":"
                       "\"upd.kaspersky.com\"}}],\"y\":{\"rrname\":\"upd.kaspersky.com\"}}}";
    cr_assert_eq(parse(&r, deep), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.nfacts, 0);
    /* a key spelled with an escape is not the key */
    const char *k = "{\"event\\u005ftype\":\"dns\",\"dns\":{\"rrname\":\"upd.kaspersky.com\"}}";
    cr_assert_eq(parse(&r, k), EMBARGO_PARSE_SKIP);
}

Test(record, unicode_escapes) {
    /* s05.upd.kaspersky\u002ecom is s05.upd.kaspersky.com: decoded, it matches */
    const char *dot =
        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"s05.upd.kaspersky\\u002ecom\"}}";
    cr_assert_gt(matches(dot, strlen(dot)), 0);
    EmbargoRecord r;
    /* two-, three-byte and surrogate-pair escapes decode to UTF-8 */
    const char *u = "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}}";
    cr_assert_eq(parse(&r, u), EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_TLS_SNI, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    /* lone or reversed surrogates, short or non-hex escapes: not JSON */
    const char *bad[] = {
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\ud83d\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\ude00\\ud83d\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\ud83dx\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\u12\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\\u12g4\"}}",
        /* raw UTF-8: overlong, surrogate, truncated */
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\xc0\xae\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\xed\xa0\x80\"}}",
        "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\xe2\x82\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(&r, bad[i]), EMBARGO_PARSE_INVALID, "%zu", i);
    /* raw UTF-8 is kept as is */
    cr_assert_eq(parse(&r, "{\"event_type\":\"tls\",\"tls\":{\"sni\":\"\xc3\xa9.example\"}}"),
                 EMBARGO_PARSE_OK);
    cr_assert(has_fact(&r, EMB_FIELD_TLS_SNI, "\xc3\xa9.example"));
}

Test(record, scratch_overflow_drops_the_name) {
    /* 600 escaped bytes (3600 of text) twice: the second no longer fits in the scratch (the
     * escaped length is what is reserved) and is left
     * out; the record is still matched on the rest. */
    size_t n = 600;
    size_t cap = 2 * n * 6 + 256;
    char *rec = malloc(cap);
    size_t k =
        (size_t)snprintf(rec, cap, "{\"event_type\":\"dns\",\"dns\":{\"queries\":[{\"rrname\":\"");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(rec + k, cap - k, "\\u0061");
    k += (size_t)snprintf(rec + k, cap - k, "\"},{\"rrname\":\"");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(rec + k, cap - k, "\\u0062");
    k += (size_t)snprintf(rec + k, cap - k, "\"},{\"rrname\":\"upd.kaspersky.com\"}]}}");
    EmbargoRecord r;
    cr_assert_eq(parse_record(&r, rec, k, MAX), EMBARGO_PARSE_OK);
    cr_assert_eq(r.facts.nfacts, 2);
    cr_assert_eq(r.facts.facts[0].len, n);
    cr_assert(has_fact(&r, EMB_FIELD_DNS_QUERY, "upd.kaspersky.com"));
    free(rec);
}

Test(record, numbers_and_literals) {
    EmbargoRecord r;
    const char *ok = "{\"event_type\":\"flow\",\"a\":[-0,0.5e-3,1E+2,true,false,null],"
                     "\"flow_id\":9223372036854775807,\"pcap_cnt\":0}";
    cr_assert_eq(parse(&r, ok), EMBARGO_PARSE_OK);
    cr_assert_eq(r.flow_id, UINT64_C(9223372036854775807));
    cr_assert(r.has_pcap_cnt);
    const char *over = "{\"event_type\":\"flow\",\"flow_id\":9223372036854775808}";
    cr_assert_eq(parse(&r, over), EMBARGO_PARSE_OK);
    cr_assert_eq(r.flow_id, 0); /* out of range: absent */
    const char *bad[] = {
        "{\"event_type\":\"flow\",\"a\":01}",    "{\"event_type\":\"flow\",\"a\":1.}",
        "{\"event_type\":\"flow\",\"a\":-}",     "{\"event_type\":\"flow\",\"a\":1e}",
        "{\"event_type\":\"flow\",\"a\":tru}",   "{\"event_type\":\"flow\",\"a\":+1}",
        "{\"event_type\":\"flow\",\"a\":[1,]}",  "{\"event_type\":\"flow\",}",
        "{\"event_type\":\"flow\"} x",           "{\"event_type\":\"flow\",\"a\" 1}",
        "{\"event_type\":\"flow\",\"a\":[1 2]}", "[\"event_type\",\"flow\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_neq(parse(&r, bad[i]), EMBARGO_PARSE_OK, "%s", bad[i]);
    /* whitespace anywhere JSON allows it */
    const char *ws = " \t\r\n{ \"event_type\" : \"dns\" , \"dns\" : { \"rrname\" : "
                     "\"upd.kaspersky.com\" } } \n";
    cr_assert_gt(matches(ws, strlen(ws)), 0);
}

Test(record, truncated_at_every_length) {
    /* Records with escapes, nesting, arrays and numbers: every proper prefix is refused
     * or skipped, never matched, and never read past (ASan checks the last). */
    const char *recs[] = {
        "{\"timestamp\":\"2024-09-30T12:00:00.000000+0000\",\"flow_id\":7,\"event_type\":\"dns\","
        "\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.53\",\"src_port\":1,\"dest_port\":53,"
        "\"proto\":\"UDP\",\"dns\":{\"type\":\"answer\",\"rrname\":\"x\\\"y\\u00e9\","
        "\"answers\":[{\"rrname\":\"a.example\",\"rrtype\":\"CNAME\",\"rdata\":"
        "\"upd.kaspersky.com\"},{\"rrname\":\"b\",\"rrtype\":\"A\",\"rdata\":\"192.0.2.9\","
        "\"ttl\":-1.5e3}],\"grouped\":{\"CNAME\":[\"upd.kaspersky.com\"]},\"rd\":true}}",
        "{\"event_type\":\"tls\",\"tls\":{\"subject\":\"C=RU, CN=\\ud83d\\ude00\",\"sni\":"
        "\"ds.kaspersky.com\",\"x\":[[[{}]],null,false]}}",
    };
    for (size_t k = 0; k < 2; k++) {
        size_t len = strlen(recs[k]);
        EmbargoRecord r;
        cr_assert_eq(parse_record(&r, recs[k], len, MAX), EMBARGO_PARSE_OK);
        for (size_t n = 0; n < len; n++) {
            char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees any overread */
            memcpy(copy, recs[k], n);
            EmbargoParseResult pr = parse_record(&r, copy, n, MAX);
            cr_assert(pr == EMBARGO_PARSE_INVALID || pr == EMBARGO_PARSE_SKIP, "prefix %zu", n);
            cr_assert_eq(r.facts.nfacts, 0);
            (void)EmbargoRecordPeekType(copy, n);
            free(copy);
        }
    }
}

Test(record, alert_is_spliced_text) {
    /* a DNS answer: names from the server, so the alert goes server -> client */
    const char *rec =
        "{\"timestamp\":\"2024-09-30T12:00:00.000000+0000\",\"flow_id\":77,\"in_iface\":"
        "\"e\\\"th0\",\"pcap_cnt\":2,\"event_type\":\"dns\",\"vlan\":[10,20],\"src_ip\":"
        "\"192.0.2.10\",\"src_port\":40000,\"dest_ip\":\"192.0.2.53\",\"dest_port\":53,"
        "\"proto\":\"UDP\",\"community_id\":\"1:abc=\",\"dns\":{\"version\":2,\"type\":"
        "\"answer\",\"rrname\":\"upd.kaspersky.com\",\"grouped\":{\"A\":[\"192.0.2.1\"]}}}";
    EmbargoRecord r;
    cr_assert_eq(parse(&r, rec), EMBARGO_PARSE_OK);
    cr_assert(r.dns_response);
    const char alert[] = "{\"signature_id\":4200101,\"signature\":\"a \\\"b\\\"\"}";
    char small[16];
    size_t need =
        EmbargoRecordAlertWrite(&r, alert, strlen(alert), "dns.query", small, sizeof(small));
    cr_assert_gt(need, sizeof(small));
    char *line = malloc(need);
    cr_assert_eq(EmbargoRecordAlertWrite(&r, alert, strlen(alert), "dns.query", line, need), need);
    json_t *o = json_loadb(line, need, 0, NULL);
    cr_assert(json_is_object(o), "%.*s", (int)need, line);
    cr_assert_str_eq(json_string_value(json_object_get(o, "direction")), "to_client");
    cr_assert_str_eq(json_string_value(json_object_get(o, "src_ip")), "192.0.2.53");
    cr_assert_eq(json_integer_value(json_object_get(o, "src_port")), 53);
    cr_assert_eq(json_integer_value(json_object_get(o, "dest_port")), 40000);
    cr_assert_str_eq(json_string_value(json_object_get(o, "in_iface")), "e\"th0");
    cr_assert_eq(json_array_size(json_object_get(o, "vlan")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(o, "community_id")), "1:abc=");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "alert"), "signature")),
                     "a \"b\"");
    /* the dns object is the record's text, byte for byte */
    const char *d = strstr(rec, "\"dns\":{");
    cr_assert_not_null(memmem(line, need, d, strlen(d) - 1));
    json_decref(o);
    /* an ip rule on the same record keeps the record's direction */
    cr_assert_eq(EmbargoRecordAlertWrite(&r, alert, strlen(alert), "ip", line, need), need);
    cr_assert_not_null(memmem(line, need, "\"direction\":\"to_server\"", 23));
    /* the alert text must be one object */
    const char *notobj[] = {"", " ", "{", "{}}", "{} {}", "[]", "{\"a\":}", "\"x\""};
    for (size_t i = 0; i < sizeof(notobj) / sizeof(notobj[0]); i++)
        cr_assert_eq(EmbargoRecordAlertWrite(&r, notobj[i], strlen(notobj[i]), NULL, line, need), 0,
                     "%s", notobj[i]);
    free(line);
}

/* Addresses are read as inet_pton reads them, the IPv4 ones without calling it. */
Test(record, addresses_as_inet_pton_reads_them) {
    static const char *const addrs[] = {
        "192.0.2.1", "0.0.0.0",    "255.255.255.255", "256.1.1.1",   "1.2.3",
        "1.2.3.4.",  ".1.2.3.4",   "1..2.3",          "01.2.3.4",    "1.2.3.04",
        "1.2.3.0",   "10.0.0.255", "1.2.3.4.5",       "1.2.3.-4",    "1.2.3.4 ",
        "1.2.3.4a",  "",           "1111.1.1.1",      "2001:db8::1", "::ffff:192.0.2.1",
        "::",        "1.2.3.999",  "00.1.2.3",        "0.1.2.3",     "9.99.199.249"};
    char buf[256];
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        int n = snprintf(buf, sizeof(buf),
                         "{\"event_type\":\"flow\",\"src_ip\":\"%s\",\"dest_ip\":\"%s\","
                         "\"src_port\":1,\"dest_port\":2,\"proto\":\"TCP\"}",
                         addrs[i], addrs[i]);
        uint8_t want[16] = {0};
        int family = inet_pton(AF_INET, addrs[i], want) == 1    ? 4
                     : inet_pton(AF_INET6, addrs[i], want) == 1 ? 6
                                                                : 0;
        EmbargoRecord r = {0};
        cr_assert_eq(parse_record(&r, buf, (size_t)n, MAX), EMBARGO_PARSE_OK, "%s", buf);
        cr_assert_eq(r.facts.family, family, "%s", addrs[i]);
        if (family != 0)
            cr_assert(memcmp(r.facts.client, want, 16) == 0, "%s", addrs[i]);
        EmbargoRecordClear(&r);
    }
}

/* A flow record read for its endpoints alone was not checked past them:
 * nothing of it is written into an alert before EmbargoRecordCheck, which
 * finds what is broken after the header. */
Test(record, header_only_flow_record_is_unchecked) {
    static const char bad[] = "{\"src_ip\":\"1.2.3.4\",\"event_type\":\"flow\",\"src_port\":1,"
                              "\"dest_ip\":\"5.6.7.8\",\"dest_port\":2,\"proto\":\"TCP\","
                              "\"flow\":{\"x\":\"\x01\"},\"bad\":tru}";
    static EmbargoRecord r;
    unsigned types = EMBARGO_REC_MASK(EMBARGO_REC_FLOW) | EMBARGO_REC_FLOW_HEADER;
    cr_assert_eq(EmbargoRecordParseTypes(&r, bad, strlen(bad), MAX, types), EMBARGO_PARSE_HEADER);
    cr_assert(r.unchecked);
    cr_assert_eq(EmbargoRecordAlertWrite(&r, "{}", 2, NULL, NULL, 0), 0);
    cr_assert_not(EmbargoRecordCheck(&r));
    EmbargoRecordClear(&r);
    /* the same record, well-formed: checked on demand, then written */
    static const char good[] = "{\"src_ip\":\"1.2.3.4\",\"event_type\":\"flow\",\"src_port\":1,"
                               "\"dest_ip\":\"5.6.7.8\",\"dest_port\":2,\"proto\":\"TCP\","
                               "\"flow\":{\"x\":\"y\"},\"ok\":true}";
    cr_assert_eq(EmbargoRecordParseTypes(&r, good, strlen(good), MAX, types), EMBARGO_PARSE_HEADER);
    cr_assert(EmbargoRecordCheck(&r));
    cr_assert_gt(EmbargoRecordAlertWrite(&r, "{}", 2, NULL, NULL, 0), 0);
    EmbargoRecordClear(&r);
}
