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

typedef struct {
    uint32_t alt;
    uint32_t cond;
    emb_field_t field;
    const char *value; /* what matched: normalised text or raw bytes */
    size_t value_len;
} hit_t;

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
    if (e->cur_field == EMB_F_PAYLOAD) {
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

static bool port_cond_holds(const emb_rules_t *r, const emb_cond_t *c, const emb_flow_t *f) {
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        const emb_portrange_t *pr = &r->inds[i].ports;
        if ((pr->proto == 0 || pr->proto == f->proto) && f->srv_port >= pr->lo &&
            f->srv_port <= pr->hi)
            return true;
    }
    return false;
}

/* Returns the matching side's address (client or server), or NULL. */
static const uint8_t *ip_cond_holds(const emb_rules_t *r, const emb_cond_t *c,
                                    const emb_flow_t *f) {
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        const emb_cidr_t *cidr = &r->inds[i].cidr;
        if (emb__cidr_contains(cidr, f->family, f->srv))
            return f->srv;
        if (emb__cidr_contains(cidr, f->family, f->cli))
            return f->cli;
    }
    return NULL;
}

/* True when every ip/port condition of `alt` holds for the flow. */
static bool flow_conds_hold(const emb_rules_t *r, const emb_alt_t *alt, const emb_flow_t *f) {
    for (uint32_t c = 0; c < alt->ncond; c++) {
        const emb_cond_t *cond = &alt->cond[c];
        if (cond->key == EMB_K_PORT && !port_cond_holds(r, cond, f))
            return false;
        if (cond->key == EMB_K_IP && ip_cond_holds(r, cond, f) == NULL)
            return false;
    }
    return true;
}

typedef struct {
    emb_engine_t *e;
    const emb_packet_t *pkt;
    const emb_decoded_t *d;
    emb_flow_t *flow;
    bool to_server;
    emb_alert_cb cb;
    void *ud;
} pkt_ctx_t;

static bool already_alerted(emb_flow_t *f, uint32_t rule) {
    for (uint8_t i = 0; i < f->nalerted; i++)
        if (f->alerted[i] == rule)
            return true;
    return false;
}

static int raise_alert(pkt_ctx_t *pc, uint32_t rule_idx, emb_field_t field, const char *fname,
                       const char *value, size_t value_len) {
    emb_engine_t *e = pc->e;
    emb_flow_t *f = pc->flow;
    if (already_alerted(f, rule_idx)) {
        e->stats.alerts_suppressed++;
        return 0;
    }
    if (f->nalerted == EMB_FLOW_MAX_ALERTED) {
        /* Cannot remember more rules on this flow: do not risk a flood. */
        e->stats.alerts_suppressed++;
        return 0;
    }
    f->alerted[f->nalerted++] = rule_idx;

    const emb_rule_t *rule = &e->rules->rules[rule_idx];
    emb_eve_alert_t a = {
        .ts_sec = pc->pkt->ts_sec,
        .ts_usec = pc->pkt->ts_usec,
        .pcap_cnt = pc->pkt->pcap_cnt,
        .pkt = pc->d,
        .to_server = pc->to_server,
        .flow = f,
        .rules = e->rules,
        .rule = rule,
        .field = fname ? fname : emb__field_name(field),
        .value = value,
        .value_len = value_len,
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
        .field = a.field,
        .eve = e->eve.data,
        .eve_len = e->eve.len,
    };
    if (pc->cb && pc->cb(&out, pc->ud) != 0)
        return EMB_ECANCELED;
    return 0;
}

/* Alternatives of ip/port only: checked on a flow's first packet. */
static int check_flow_alts(pkt_ctx_t *pc) {
    emb_engine_t *e = pc->e;
    const emb_rules_t *r = e->rules;
    size_t n;
    const uint32_t *alts = emb__matcher_flow_alts(e->matcher, &n);
    for (size_t i = 0; i < n; i++) {
        const emb_alt_t *alt = &r->alts[alts[i]];
        if (!flow_conds_hold(r, alt, pc->flow))
            continue;
        /* Report the address if the alternative has one, else the port. */
        char val[64];
        const char *fname = "port";
        const emb_cond_t *ipc = NULL;
        for (uint32_t c = 0; c < alt->ncond; c++)
            if (alt->cond[c].key == EMB_K_IP)
                ipc = &alt->cond[c];
        if (ipc) {
            const uint8_t *addr = ip_cond_holds(r, ipc, pc->flow);
            fname = "ip";
            if (inet_ntop(pc->flow->family == 4 ? AF_INET : AF_INET6, addr, val, sizeof(val)) ==
                NULL)
                val[0] = '\0';
        } else {
            snprintf(val, sizeof(val), "%u/%s", pc->flow->srv_port,
                     pc->flow->proto == 6 ? "tcp" : "udp");
        }
        int rc = raise_alert(pc, alt->rule, EMB_F__COUNT, fname, val, strlen(val));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int evaluate_hits(pkt_ctx_t *pc) {
    emb_engine_t *e = pc->e;
    const emb_rules_t *r = e->rules;
    for (size_t i = 0; i < e->nhits; i++) {
        const hit_t *h = &e->hits[i];
        const emb_alt_t *alt = &r->alts[h->alt];
        alt_state_t *st = &e->alt_state[h->alt];
        if (st->mask != alt->content_mask)
            continue;
        st->mask |= 1u << 31; /* evaluated: later hits of this alternative are skipped */
        if (!flow_conds_hold(r, alt, pc->flow))
            continue;
        int rc = raise_alert(pc, alt->rule, h->field, NULL, h->value, h->value_len);
        if (rc != 0)
            return rc;
    }
    return 0;
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
        int rc = scan(e, EMB_F_DNS_QUERY, e->dns_norm[i], n);
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
            return scan(e, EMB_F_TLS_SNI, e->sni_norm, n);
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
        if ((rc = scan(e, EMB_F_HTTP_URI, req->uri, req->uri_len)) != 0)
            return rc;
        if (req->user_agent &&
            (rc = scan(e, EMB_F_HTTP_USER_AGENT, req->user_agent, req->user_agent_len)) != 0)
            return rc;
        if (req->host) {
            size_t n = emb__normalize_host(req->host, req->host_len, e->host_norm, NAME_BUF);
            if ((rc = scan(e, EMB_F_HTTP_HOST, e->host_norm, n)) != 0)
                return rc;
        }
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

    pkt_ctx_t pc = {e, pkt, &d, flow, to_server, cb, userdata};
    e->app.app = EMB_APP_NONE;
    e->app.nquestions = 0;
    e->app.sni = NULL;
    int rc = 0;
    if (is_new && (rc = check_flow_alts(&pc)) != 0)
        return rc;
    if (d.payload_len == 0)
        return 0;

    e->stamp++;
    e->nhits = 0;
    if (d.proto == 17 && (d.sport == 53 || d.dport == 53))
        rc = inspect_dns(e, &d);
    else if (d.proto == 6)
        rc = inspect_tcp(e, &d);
    if (rc == 0)
        rc = scan(e, EMB_F_PAYLOAD, d.payload, d.payload_len);
    if (rc != 0)
        return rc;
    return evaluate_hits(&pc);
}
