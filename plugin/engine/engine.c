/*
 * The engine: decode -> flow -> extract -> match -> alert, one packet at a
 * time.
 *
 * Matching is per packet for now: every field extracted from a packet is
 * scanned in its own Hyperscan database, and each hit marks one condition of
 * one alternative. An alternative whose content conditions were all marked by
 * this packet, and whose ip/port conditions hold for the flow, raises its
 * rule. Alternatives made only of ip/port conditions are checked once, on the
 * flow's first packet. The marks live in a per-alternative array stamped with
 * a packet counter, so nothing is cleared between packets.
 */
#include "decode.h"
#include "eve.h"
#include "extract.h"
#include "flow.h"
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HITS 256
#define NAME_BUF 1024
#define MAX_FLOW_VALUES 16 /* ip/port values reported in one round */
#define FLOW_VALUE_LEN 64
#define MAX_FACT_NAMES 32

typedef struct {
    uint32_t alt;
    uint32_t cond;
    emb_field_t field;
    const char *value; /* what matched: normalised text or raw bytes */
    size_t value_len;
} hit_t;

/* A rule that holds for this packet, with what to report for it. */
typedef struct {
    uint32_t rule;
    const char *fname;
    const char *value;
    size_t value_len;
} cand_t;

typedef struct {
    uint64_t stamp; /* packet counter when `mask` was last touched */
    uint32_t mask;
} alt_state_t;

/* Per-packet extraction results, for the alert's protocol object. */
typedef struct {
    emb_app_t app;
    emb_dns_header_t dns;
    emb_dns_question_t questions[EMB_DNS_MAX_QUESTIONS];
    size_t nquestions;
    const uint8_t *sni;
    size_t sni_len;
    emb_http_request_t http;
} app_info_t;

struct emb_engine {
    const emb_rules_t *rules;
    emb_config_t cfg;
    emb_matcher_t *matcher;
    emb_flow_table_t *flows;
    alt_state_t *alt_state;
    uint64_t stamp;
    hit_t hits[MAX_HITS];
    size_t nhits;
    cand_t cands[MAX_HITS];
    size_t ncands;
    char flow_value[MAX_FLOW_VALUES][FLOW_VALUE_LEN];
    size_t nflow_values;
    char fact_norm[MAX_FACT_NAMES][NAME_BUF];
    emb_field_t cur_field; /* set around each scan for the match callback */
    const char *cur_value;
    size_t cur_value_len;
    char sni_norm[NAME_BUF], host_norm[NAME_BUF];
    char dns_norm[EMB_DNS_MAX_QUESTIONS][NAME_BUF];
    app_info_t app;
    emb_eve_buf_t eve;
    emb_stats_t stats;
};

void emb_config_init(emb_config_t *cfg) {
    cfg->max_flows = 65536;
    cfg->tcp_timeout_s = 3600;
    cfg->udp_timeout_s = 120;
}

int emb_engine_new(const emb_rules_t *rules, const emb_config_t *cfg, emb_engine_t **out,
                   emb_diags_t **diags) {
    if (diags)
        *diags = NULL;
    *out = NULL;
    if (rules == NULL)
        return EMB_EINVAL;
    emb_engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return EMB_ENOMEM;
    e->rules = rules;
    if (cfg)
        e->cfg = *cfg;
    else
        emb_config_init(&e->cfg);

    int rc = emb__matcher_new(rules, &e->matcher, diags);
    if (rc != 0)
        goto fail;
    rc = emb__flow_table_new(e->cfg.max_flows, e->cfg.tcp_timeout_s, e->cfg.udp_timeout_s,
                             &e->flows);
    if (rc != 0) {
        emb__diag_add(diags, NULL, 0, 0, "cannot allocate a flow table of %zu flows",
                      e->cfg.max_flows);
        goto fail;
    }
    e->alt_state = calloc(rules->nalts ? rules->nalts : 1, sizeof(alt_state_t));
    if (e->alt_state == NULL) {
        rc = EMB_ENOMEM;
        goto fail;
    }
    *out = e;
    return 0;
fail:
    emb_engine_free(e);
    return rc;
}

void emb_engine_free(emb_engine_t *e) {
    if (e == NULL)
        return;
    emb__matcher_free(e->matcher);
    emb__flow_table_free(e->flows);
    free(e->alt_state);
    emb__eve_buf_free(&e->eve);
    free(e);
}

void emb_engine_stats(const emb_engine_t *e, emb_stats_t *out) {
    *out = e->stats;
    out->flows = emb__flow_created(e->flows);
    out->flows_evicted = emb__flow_evicted(e->flows);
}

/* ---- matching ---------------------------------------------------------- */

static void on_hit(const emb_patref_t *ref, void *ctx) {
    emb_engine_t *e = ctx;
    alt_state_t *st = &e->alt_state[ref->alt];
    if (st->stamp != e->stamp) {
        st->stamp = e->stamp;
        st->mask = 0;
    }
    uint32_t bit = 1u << ref->cond;
    if (st->mask & bit)
        return; /* this condition already holds for this packet */
    st->mask |= bit;
    if (e->nhits == MAX_HITS)
        return;
    hit_t *h = &e->hits[e->nhits++];
    h->alt = ref->alt;
    h->cond = ref->cond;
    h->field = e->cur_field;
    if (e->cur_field == EMB_FIELD_PAYLOAD) {
        /* The whole payload says little: report the indicator that matched. */
        const emb_indicator_t *ind = &e->rules->inds[ref->ind];
        h->value = ind->text;
        h->value_len = ind->len;
    } else {
        h->value = e->cur_value;
        h->value_len = e->cur_value_len;
    }
}

static int scan(emb_engine_t *e, emb_field_t f, const void *p, size_t n) {
    e->cur_field = f;
    e->cur_value = p;
    e->cur_value_len = n;
    return emb__matcher_scan(e->matcher, f, p, n, on_hit, e);
}

/* The flow facts ip/port conditions look at, from a flow or from a host. */
typedef struct {
    uint8_t family, proto;
    const uint8_t *cli, *srv;
    uint16_t srv_port;
} endpoints_t;

static endpoints_t flow_endpoints(const emb_flow_t *f) {
    return (endpoints_t){f->family, f->proto, f->cli, f->srv, f->srv_port};
}

static bool port_cond_holds(const emb_rules_t *r, const emb_cond_t *c, const endpoints_t *ep) {
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        const emb_portrange_t *pr = &r->inds[i].ports;
        if ((pr->proto == 0 || pr->proto == ep->proto) && ep->srv_port >= pr->lo &&
            ep->srv_port <= pr->hi)
            return true;
    }
    return false;
}

/* Returns the matching side's address (server first, then client), or NULL. */
static const uint8_t *ip_cond_holds(const emb_rules_t *r, const emb_cond_t *c,
                                    const endpoints_t *ep) {
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        const emb_cidr_t *cidr = &r->inds[i].cidr;
        if (emb__cidr_contains(cidr, ep->family, ep->srv))
            return ep->srv;
        if (emb__cidr_contains(cidr, ep->family, ep->cli))
            return ep->cli;
    }
    return NULL;
}

/* True when every ip/port condition of `alt` holds. */
static bool flow_conds_hold(const emb_rules_t *r, const emb_alt_t *alt, const endpoints_t *ep) {
    for (uint32_t c = 0; c < alt->ncond; c++) {
        const emb_cond_t *cond = &alt->cond[c];
        if (ep->family == 0 && (cond->key == EMB_K_PORT || cond->key == EMB_K_IP))
            return false;
        if (cond->key == EMB_K_PORT && !port_cond_holds(r, cond, ep))
            return false;
        if (cond->key == EMB_K_IP && ip_cond_holds(r, cond, ep) == NULL)
            return false;
    }
    return true;
}

/* ---- candidates: the rules one packet (or one set of facts) raises ------ */

static void add_candidate(emb_engine_t *e, uint32_t rule, const char *fname, const char *value,
                          size_t value_len) {
    for (size_t i = 0; i < e->ncands; i++)
        if (e->cands[i].rule == rule)
            return; /* the first alternative to hold speaks for the rule */
    if (e->ncands == MAX_HITS)
        return;
    e->cands[e->ncands++] = (cand_t){rule, fname, value, value_len};
}

/* Alternatives of ip/port only: checked once per flow (or per set of facts). */
static void collect_flow_alts(emb_engine_t *e, const endpoints_t *ep) {
    const emb_rules_t *r = e->rules;
    size_t n;
    const uint32_t *alts = emb__matcher_flow_alts(e->matcher, &n);
    for (size_t i = 0; i < n; i++) {
        const emb_alt_t *alt = &r->alts[alts[i]];
        if (!flow_conds_hold(r, alt, ep))
            continue;
        /* Report the address if the alternative has one, else the port. */
        const emb_cond_t *ipc = NULL;
        for (uint32_t c = 0; c < alt->ncond; c++)
            if (alt->cond[c].key == EMB_K_IP)
                ipc = &alt->cond[c];
        char *val = e->flow_value[e->nflow_values++ % MAX_FLOW_VALUES];
        const char *fname = "port";
        if (ipc) {
            const uint8_t *addr = ip_cond_holds(r, ipc, ep);
            fname = "ip";
            if (inet_ntop(ep->family == 4 ? AF_INET : AF_INET6, addr, val, FLOW_VALUE_LEN) == NULL)
                val[0] = '\0';
        } else {
            snprintf(val, FLOW_VALUE_LEN, "%u/%s", ep->srv_port, ep->proto == 6 ? "tcp" : "udp");
        }
        add_candidate(e, alt->rule, fname, val, strlen(val));
    }
}

/* Alternatives whose content conditions all matched in this scan round. */
static void collect_hits(emb_engine_t *e, const endpoints_t *ep) {
    const emb_rules_t *r = e->rules;
    for (size_t i = 0; i < e->nhits; i++) {
        const hit_t *h = &e->hits[i];
        const emb_alt_t *alt = &r->alts[h->alt];
        alt_state_t *st = &e->alt_state[h->alt];
        if (st->mask != alt->content_mask)
            continue;
        st->mask |= 1u << 31; /* evaluated: later hits of this alternative are skipped */
        if (!flow_conds_hold(r, alt, ep))
            continue;
        add_candidate(e, alt->rule, emb__field_name(h->field), h->value, h->value_len);
    }
}

/*
 * `web` is the fallback channel: a person on the vendor's site. When a
 * product channel rule of the same vendor holds for the same packet, the web
 * rule says nothing more, so it is dropped.
 */
static void apply_precedence(emb_engine_t *e) {
    const emb_rules_t *r = e->rules;
    size_t keep = 0;
    for (size_t i = 0; i < e->ncands; i++) {
        const emb_rule_t *ri = &r->rules[e->cands[i].rule];
        bool drop = false;
        for (size_t j = 0; j < e->ncands && ri->channel == EMB_CH_WEB && !drop; j++) {
            const emb_rule_t *rj = &r->rules[e->cands[j].rule];
            drop = rj->vendor == ri->vendor && rj->channel != EMB_CH_WEB;
        }
        if (!drop)
            e->cands[keep++] = e->cands[i];
    }
    e->ncands = keep;
}

static void begin_round(emb_engine_t *e) {
    e->stamp++;
    e->nhits = 0;
    e->ncands = 0;
}

/* ---- extraction -------------------------------------------------------- */

static int inspect_dns(emb_engine_t *e, const emb_decoded_t *d) {
    app_info_t *app = &e->app;
    emb_x_result_t x = emb__dns_parse(d->payload, d->payload_len, &app->dns, app->questions,
                                      EMB_DNS_MAX_QUESTIONS, &app->nquestions);
    if (x != EMB_X_OK) {
        if (x == EMB_X_TRUNCATED)
            e->stats.truncated++;
        else if (x == EMB_X_INVALID)
            e->stats.invalid++;
        return 0;
    }
    e->stats.dns_parsed++;
    app->app = EMB_APP_DNS;
    for (size_t i = 0; i < app->nquestions; i++) {
        const emb_dns_question_t *q = &app->questions[i];
        size_t n =
            emb__normalize_name((const uint8_t *)q->name, q->name_len, e->dns_norm[i], NAME_BUF);
        int rc = scan(e, EMB_FIELD_DNS_QUERY, e->dns_norm[i], n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int inspect_tcp(emb_engine_t *e, const emb_decoded_t *d) {
    app_info_t *app = &e->app;
    const uint8_t *p = d->payload;
    size_t len = d->payload_len;

    if (p[0] == 0x16) {
        const uint8_t *sni;
        size_t sni_len;
        emb_x_result_t x = emb__tls_client_hello_sni(p, len, &sni, &sni_len);
        if (x == EMB_X_OK) {
            e->stats.tls_client_hellos++;
            app->app = EMB_APP_TLS;
            app->sni = sni;
            app->sni_len = sni_len;
            size_t n = emb__normalize_name(sni, sni_len, e->sni_norm, NAME_BUF);
            return scan(e, EMB_FIELD_TLS_SNI, e->sni_norm, n);
        }
        if (x == EMB_X_INVALID)
            e->stats.invalid++;
        return 0;
    }

    emb_http_request_t *req = &app->http;
    if (emb__http_parse_request(p, len, req) == EMB_X_OK) {
        int rc;
        e->stats.http_requests++;
        app->app = EMB_APP_HTTP;
        if ((rc = scan(e, EMB_FIELD_HTTP_URI, req->uri, req->uri_len)) != 0)
            return rc;
        if (req->user_agent &&
            (rc = scan(e, EMB_FIELD_HTTP_USER_AGENT, req->user_agent, req->user_agent_len)) != 0)
            return rc;
        if (req->host) {
            size_t n = emb__normalize_host(req->host, req->host_len, e->host_norm, NAME_BUF);
            if ((rc = scan(e, EMB_FIELD_HTTP_HOST, e->host_norm, n)) != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- output ------------------------------------------------------------ */

static bool already_alerted(const emb_flow_t *f, uint32_t rule) {
    for (uint8_t i = 0; i < f->nalerted; i++)
        if (f->alerted[i] == rule)
            return true;
    return false;
}

/* Writes the candidates of one packet as alerts, once per rule per flow. */
static int emit_alerts(emb_engine_t *e, const emb_packet_t *pkt, const emb_decoded_t *d,
                       emb_flow_t *f, bool to_server, emb_alert_cb cb, void *ud) {
    apply_precedence(e);
    for (size_t i = 0; i < e->ncands; i++) {
        const cand_t *c = &e->cands[i];
        if (already_alerted(f, c->rule) || f->nalerted == EMB_FLOW_MAX_ALERTED) {
            /* a repeat, or more rules on one flow than it can remember: no flood */
            e->stats.alerts_suppressed++;
            continue;
        }
        f->alerted[f->nalerted++] = c->rule;

        const emb_rule_t *rule = &e->rules->rules[c->rule];
        emb_eve_alert_t a = {
            .ts_sec = pkt->ts_sec,
            .ts_usec = pkt->ts_usec,
            .pcap_cnt = pkt->pcap_cnt,
            .pkt = d,
            .to_server = to_server,
            .flow = f,
            .rules = e->rules,
            .rule = rule,
            .field = c->fname,
            .value = c->value,
            .value_len = c->value_len,
            .app = e->app.app,
            .dns = &e->app.dns,
            .questions = e->app.questions,
            .nquestions = e->app.nquestions,
            .sni = e->app.sni,
            .sni_len = e->app.sni_len,
            .http = &e->app.http,
        };
        int rc = emb__eve_alert(&a, &e->eve);
        if (rc != 0)
            return rc;
        e->stats.alerts++;
        emb_alert_t out = {
            .sid = rule->sid,
            .rev = rule->rev,
            .severity = rule->severity,
            .vendor = e->rules->vendors[rule->vendor].id,
            .channel = emb_channel_name(rule->channel),
            .msg = rule->msg,
            .field = c->fname,
            .eve = e->eve.data,
            .eve_len = e->eve.len,
        };
        if (cb && cb(&out, ud) != 0)
            return EMB_ECANCELED;
    }
    return 0;
}

int emb_engine_process(emb_engine_t *e, const emb_packet_t *pkt, emb_alert_cb cb, void *userdata) {
    emb_decoded_t d;
    e->stats.packets++;
    e->stats.bytes += pkt->len;
    if (pkt->data == NULL)
        return EMB_EINVAL;

    switch (emb__decode(pkt->linktype, pkt->data, pkt->caplen, &d)) {
    case EMB_DEC_OK: break;
    case EMB_DEC_OTHER: return 0;
    case EMB_DEC_FRAGMENT: e->stats.fragments++; return 0;
    case EMB_DEC_TRUNCATED: e->stats.truncated++; return 0;
    case EMB_DEC_INVALID: e->stats.invalid++; return 0;
    case EMB_DEC_UNSUPPORTED: e->stats.unsupported++; return 0;
    }
    if (d.truncated)
        e->stats.truncated++;

    bool to_server, is_new;
    emb_flow_t *flow = emb__flow_get(e->flows, &d, pkt->ts_sec, pkt->ts_usec, &to_server, &is_new);
    if (to_server) {
        flow->pkts_toserver++;
        flow->bytes_toserver += pkt->len;
    } else {
        flow->pkts_toclient++;
        flow->bytes_toclient += pkt->len;
    }
    if (!is_new && d.payload_len == 0)
        return 0;

    e->app.app = EMB_APP_NONE;
    e->app.nquestions = 0;
    e->app.sni = NULL;
    begin_round(e);
    endpoints_t ep = flow_endpoints(flow);
    int rc = 0;
    if (is_new)
        collect_flow_alts(e, &ep);
    if (d.payload_len > 0) {
        if (d.proto == 17 && (d.sport == 53 || d.dport == 53))
            rc = inspect_dns(e, &d);
        else if (d.proto == 6)
            rc = inspect_tcp(e, &d);
        if (rc == 0)
            rc = scan(e, EMB_FIELD_PAYLOAD, d.payload, d.payload_len);
        if (rc != 0)
            return rc;
        collect_hits(e, &ep);
    }
    return emit_alerts(e, pkt, &d, flow, to_server, cb, userdata);
}

/* ---- facts from another parser ----------------------------------------- */

static bool domain_valued(emb_field_t f) {
    return f == EMB_FIELD_DNS_QUERY || f == EMB_FIELD_TLS_SNI || f == EMB_FIELD_QUIC_SNI ||
           f == EMB_FIELD_TLS_CERT_NAME;
}

int emb_engine_match(emb_engine_t *e, const emb_facts_t *facts, emb_match_cb cb, void *userdata) {
    if (e == NULL || facts == NULL || (facts->nfacts > 0 && facts->facts == NULL))
        return EMB_EINVAL;
    begin_round(e);
    endpoints_t ep = {facts->family, facts->proto, facts->client, facts->server,
                      facts->server_port};
    if (facts->family == 4 || facts->family == 6)
        collect_flow_alts(e, &ep);
    else
        ep.family = 0;

    /* Normalised copies must outlive the scans: they are the reported values. */
    size_t used = 0;
    for (size_t i = 0; i < facts->nfacts; i++) {
        const emb_fact_t *fa = &facts->facts[i];
        if ((unsigned)fa->field >= EMB_FIELD__COUNT || (fa->value == NULL && fa->len > 0))
            return EMB_EINVAL;
        const void *v = fa->value;
        size_t n = fa->len;
        if (domain_valued(fa->field) || fa->field == EMB_FIELD_HTTP_HOST) {
            if (used == MAX_FACT_NAMES)
                continue; /* more names than one record holds in practice */
            char *buf = e->fact_norm[used++];
            n = fa->field == EMB_FIELD_HTTP_HOST ? emb__normalize_host(v, n, buf, NAME_BUF)
                                                 : emb__normalize_name(v, n, buf, NAME_BUF);
            v = buf;
        }
        int rc = scan(e, fa->field, v, n);
        if (rc != 0)
            return rc;
    }
    collect_hits(e, &ep);
    apply_precedence(e);

    for (size_t i = 0; i < e->ncands; i++) {
        const cand_t *c = &e->cands[i];
        const emb_rule_t *rule = &e->rules->rules[c->rule];
        const emb_vendor_t *v = &e->rules->vendors[rule->vendor];
        emb_match_t m = {
            .sid = rule->sid,
            .rev = rule->rev,
            .severity = rule->severity,
            .vendor = v->id,
            .channel = emb_channel_name(rule->channel),
            .confidence = emb__confidence_name(rule->confidence),
            .msg = rule->msg,
            .product = rule->product,
            .field = c->fname,
            .value = c->value,
            .value_len = c->value_len,
            .authorities = v->authorities,
            .nauthorities = v->nbans,
            .references = (const char *const *)rule->refs,
            .nreferences = rule->nrefs,
            .rule = rule,
        };
        if (cb && cb(&m, userdata) != 0)
            return EMB_ECANCELED;
    }
    return 0;
}

char *emb_match_alert_json(const emb_engine_t *e, const emb_match_t *m) {
    if (e == NULL || m == NULL || m->rule == NULL)
        return NULL;
    return emb__eve_alert_object(e->rules, m->rule, m->field, m->value, m->value_len);
}
