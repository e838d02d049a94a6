/*
 * libFuzzer target: the Suricata plugin's EVE record parser
 * (plugin/suricata/record.h). A record that parses is matched against the
 * shipped pack, and each match rendered into the alert record, as the plugin
 * does for every record Suricata writes; the alert object of
 * emb_match_alert_write must be emb_match_alert_json's, byte for byte.
 * A flow record left after its header (EmbargoRecordParseFlows with the
 * plugin's table of ports and address bytes) must raise no rule when read
 * whole and matched. Read as the plugin reads it (EMBARGO_REC_UNCHECKED), a
 * record must give the facts the strict parse gives, and pass
 * EmbargoRecordCheck exactly when the strict parse takes it.
 */
#include "record-json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static emb_rules_t *rules;
static emb_engine_t *engine;
static EmbargoPortSet ports; /* as plugin.c's ThreadNew fills it */

typedef struct {
    const EmbargoRecord *rec;
} ctx_t;

static int on_match(const emb_match_t *m, void *userdata) {
    ctx_t *c = userdata;
    char *alert = emb_match_alert_json(engine, m);
    if (alert == NULL)
        return 0;
    /* the plugin's way (emb_match_alert_write, from a template) writes the same bytes */
    static char buf[65536];
    size_t n = emb_match_alert_write(engine, m, buf, sizeof(buf));
    if (n != strlen(alert) || memcmp(buf, alert, n) != 0) {
        fprintf(stderr, "fuzz-record: emb_match_alert_write differs:\n%.*s\n%s\n", (int)n, buf,
                alert);
        abort();
    }
    size_t len = 0;
    free(EmbargoRecordAlert(c->rec, alert, &len));
    free(alert);
    return 0;
}

/* EmbargoJsonCheckRest must accept what the iterator accepts, from the same
 * place (after the first member), and list the same members. */
static void check_rest(const char *data, size_t size) {
    Iter it, ref;
    const char *k, *v, *ve;
    size_t kn;
    if (!EmbargoJsonIterBegin(&it, data, data + size, 0) ||
        EmbargoJsonIterNext(&it, &k, &kn, &v, &ve) != ITER_ITEM)
        return;
    JsonMember m[8];
    size_t n = 0;
    const char *after = NULL;
    bool fast = EmbargoJsonCheckRest(&it, m, 8, &n, &after);
    ref = it;
    size_t i = 0;
    IterStep st;
    while ((st = EmbargoJsonIterNext(&ref, &k, &kn, &v, &ve)) == ITER_ITEM) {
        if (fast && i < 8 && (m[i].key != k || m[i].klen != kn || m[i].v != v || m[i].vend != ve)) {
            fprintf(stderr, "fuzz-record: EmbargoJsonCheckRest lists member %zu otherwise\n", i);
            abort();
        }
        i++;
    }
    if (fast != (st == ITER_END) || (fast && (n != i || after != ref.c.p))) {
        fprintf(stderr, "fuzz-record: EmbargoJsonCheckRest says %d, the iterator %d\n", fast,
                st == ITER_END);
        abort();
    }
}

static int count_match(const emb_match_t *m, void *userdata) {
    (void)m;
    ++*(int *)userdata;
    return 0;
}

/* A flow record the header check leaves must raise nothing read whole. */
static void check_flow_header(const char *data, size_t size) {
    EmbargoRecord r;
    unsigned types = EMBARGO_REC_MASK(EMBARGO_REC_FLOW) | EMBARGO_REC_FLOW_HEADER;
    EmbargoParseResult res = EmbargoRecordParseFlows(&r, data, size, 65536, types, &ports);
    EmbargoRecordClear(&r);
    if (res != EMBARGO_PARSE_SKIP ||
        EmbargoRecordParseTypes(&r, data, size, 65536, EMBARGO_REC_MASK(EMBARGO_REC_FLOW)) !=
            EMBARGO_PARSE_OK) {
        EmbargoRecordClear(&r);
        return;
    }
    int raised = 0;
    (void)emb_engine_match(engine, &r.facts, count_match, &raised);
    EmbargoRecordClear(&r);
    if (raised != 0) {
        fprintf(stderr, "fuzz-record: a flow record left after its header raises %d rules\n",
                raised);
        abort();
    }
}

static bool same_facts(const EmbargoRecord *a, const EmbargoRecord *b) {
    if (a->type != b->type || a->flow_id != b->flow_id || a->src_port != b->src_port ||
        a->dest_port != b->dest_port || a->to_client != b->to_client ||
        a->dns_response != b->dns_response || a->app.off != b->app.off ||
        a->app.len != b->app.len || a->facts.family != b->facts.family ||
        a->facts.nfacts != b->facts.nfacts || a->facts.proto != b->facts.proto ||
        a->facts.client_port != b->facts.client_port ||
        a->facts.server_port != b->facts.server_port ||
        memcmp(a->facts.client, b->facts.client, 16) != 0 ||
        memcmp(a->facts.server, b->facts.server, 16) != 0)
        return false;
    const EmbargoSpan *sa[] = {&a->timestamp, &a->in_iface,     &a->vlan,
                               &a->src_ip,    &a->dest_ip,      &a->proto,
                               &a->pkt_src,   &a->community_id, &a->app_proto};
    const EmbargoSpan *sb[] = {&b->timestamp, &b->in_iface,     &b->vlan,
                               &b->src_ip,    &b->dest_ip,      &b->proto,
                               &b->pkt_src,   &b->community_id, &b->app_proto};
    for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
        if (sa[i]->off != sb[i]->off || sa[i]->len != sb[i]->len)
            return false;
    for (size_t i = 0; i < a->facts.nfacts; i++) {
        const emb_fact_t *x = &a->facts.facts[i], *y = &b->facts.facts[i];
        if (x->field != y->field || x->len != y->len || memcmp(x->value, y->value, x->len) != 0)
            return false;
    }
    return true;
}

/* The plugin's unchecked reading against the strict one (`strict`, parsed). */
static void check_unchecked(const char *data, size_t size, const EmbargoRecord *strict,
                            EmbargoParseResult sres) {
    static EmbargoRecord u;
    EmbargoParseResult ures =
        EmbargoRecordParseTypes(&u, data, size, 65536, EMBARGO_REC_ALL | EMBARGO_REC_UNCHECKED);
    const char *why = NULL;
    if (sres == EMBARGO_PARSE_OK) {
        if (ures != EMBARGO_PARSE_OK || !same_facts(strict, &u))
            why = "a record parsed strictly gives other facts unchecked";
        else if (EmbargoRecordAlertWrite(&u, "{}", 2, NULL, NULL, 0) != 0)
            why = "an unchecked record was written into an alert";
        else if (!EmbargoRecordCheck(&u))
            why = "a record parsed strictly fails EmbargoRecordCheck";
    } else if (ures == EMBARGO_PARSE_OK && EmbargoRecordCheck(&u))
        why = "a record the strict parse refuses passes EmbargoRecordCheck";
    EmbargoRecordClear(&u);
    if (why != NULL) {
        fprintf(stderr, "fuzz-record: %s (strict %d, unchecked %d)\n", why, sres, ures);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_rest((const char *)data, size);
    if (engine == NULL) {
        emb_diags_t *diags = NULL;
        if (emb_rules_load(EMBARGO_RULES_DIR, &rules, &diags) != 0 ||
            emb_engine_new(rules, NULL, &engine, &diags) != 0) {
            fprintf(stderr, "fuzz-record: cannot load %s\n", EMBARGO_RULES_DIR);
            abort();
        }
        EmbargoPortSetFill(&ports, rules);
    }
    check_flow_header((const char *)data, size);
    (void)EmbargoRecordPeekType((const char *)data, size);
    EmbargoRecord r;
    EmbargoParseResult res = EmbargoRecordParse(&r, (const char *)data, size, 65536);
    check_unchecked((const char *)data, size, &r, res);
    if (res == EMBARGO_PARSE_OK) {
        ctx_t c = {&r};
        (void)emb_engine_match(engine, &r.facts, on_match, &c);
    }
    EmbargoRecordClear(&r);
    return 0;
}
