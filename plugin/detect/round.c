/*
 * Matching rounds, one per message (a DNS message, a TLS handshake message,
 * an HTTP request, a stretch of stream bytes): each field of the message is
 * scanned in its own Hyperscan database, each hit marks one condition of one
 * alternative, and an alternative whose content conditions were all marked
 * in the round, and whose ip/port conditions hold for the flow, becomes a
 * candidate. Precedence then drops the candidates a better one of the same
 * vendor covers, and the rest are written as alerts, once per rule per flow.
 *
 * The marks live in a per-alternative array stamped with the round number,
 * so nothing is cleared between rounds. Alternatives made only of ip/port
 * conditions are checked once, on the flow's first packet.
 */
#include "detect/round.h"

#include "common/names.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* ---- matching ---------------------------------------------------------- */

static void on_hit(const emb_patref_t *ref, void *ctx) {
    emb_engine_t *e = ctx;
    emb_alt_state_t *st = &e->alt_state[ref->alt];
    if (st->stamp != e->stamp) {
        st->stamp = e->stamp;
        st->mask = 0;
    }
    uint32_t bit = 1u << ref->cond;
    if (st->mask & bit)
        return; /* this condition already holds in this round */
    st->mask |= bit;
    if (e->nhits == EMB_MAX_HITS)
        return;
    emb_hit_t *h = &e->hits[e->nhits++];
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
    const emb_indicator_t *ind = &e->rules->inds[ref->ind];
    h->spec = ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT
                  ? (uint32_t)ind->len + (ind->kind == EMB_PAT_DOMAIN_EXACT)
                  : 0;
}

int emb__round_scan(emb_engine_t *e, emb_field_t f, const void *p, size_t n) {
    e->cur_field = f;
    e->cur_value = p;
    e->cur_value_len = n;
    return emb__matcher_scan(e->matcher, f, p, n, on_hit, e);
}

int emb__round_scan_payload(emb_engine_t *e, const void *p, size_t n, emb_payload_at_t at) {
    e->cur_field = EMB_FIELD_PAYLOAD;
    e->cur_value = p;
    e->cur_value_len = n;
    return emb__matcher_scan_payload(e->matcher, p, n, at, on_hit, e);
}

int emb__round_scan_name(emb_engine_t *e, emb_field_t f, const void *p, size_t n, bool host) {
    if (e->nnames == EMB_MAX_ROUND_NAMES)
        return 0; /* more names than any real message has: the rest are skipped */
    char *buf = e->names[e->nnames++];
    size_t len = host ? emb__normalize_host(p, n, buf, EMB_NAME_BUF)
                      : emb__normalize_name(p, n, buf, EMB_NAME_BUF);
    return emb__round_scan(e, f, buf, len);
}

emb_endpoints_t emb__flow_endpoints(const emb_flow_t *f) {
    return (emb_endpoints_t){f->family, f->proto, f->cli, f->srv, f->srv_port};
}

static bool port_cond_holds(const emb_rules_t *r, const emb_cond_t *c, const emb_endpoints_t *ep) {
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
                                    const emb_endpoints_t *ep) {
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        const emb_cidr_t *cidr = &r->inds[i].cidr;
        if (emb__cidr_contains(cidr, ep->family, ep->srv))
            return ep->srv;
        if (emb__cidr_contains(cidr, ep->family, ep->cli))
            return ep->cli;
    }
    return NULL;
}

/* True when every ip/port condition of `alt` holds. The ports first: they are
 * few, an address list can be long. */
static bool flow_conds_hold(const emb_rules_t *r, const emb_alt_t *alt, const emb_endpoints_t *ep) {
    for (uint32_t c = 0; c < alt->ncond; c++) {
        const emb_cond_t *cond = &alt->cond[c];
        if (ep->family == 0 && (cond->key == EMB_K_PORT || cond->key == EMB_K_IP))
            return false;
        if (cond->key == EMB_K_PORT && !port_cond_holds(r, cond, ep))
            return false;
    }
    for (uint32_t c = 0; c < alt->ncond; c++)
        if (alt->cond[c].key == EMB_K_IP && ip_cond_holds(r, &alt->cond[c], ep) == NULL)
            return false;
    return true;
}

/* ---- candidates: the rules one packet (or one set of facts) raises ------ */

void emb__round_add_candidate(emb_engine_t *e, uint32_t rule, emb_evidence_t ev, const char *value,
                              size_t value_len, uint32_t spec) {
    for (size_t i = 0; i < e->ncands; i++)
        if (e->cands[i].rule == rule)
            return; /* the first alternative to hold speaks for the rule */
    if (e->ncands == EMB_MAX_HITS)
        return;
    e->cands[e->ncands++] = (emb_cand_t){rule, ev, value, value_len, spec, false, 0};
}

/* Alternatives of ip/port only: checked once per flow (or per set of facts). */
void emb__round_flow_alts(emb_engine_t *e, const emb_endpoints_t *ep) {
    const emb_rules_t *r = e->rules;
    size_t n;
    const uint32_t *alts = emb__matcher_flow_alts(e->matcher, &n);
    const emb_flow_sieve_t *sieves = emb__matcher_flow_sieves(e->matcher);
    bool addressed = ep->family == 4 || ep->family == 6;
    /* No alternative can hold without an address (flow_conds_hold), and most
     * flows' endpoints fall outside all of them at once. */
    if (!addressed || !emb__flow_union_may(emb__matcher_flow_union(e->matcher), ep->family, ep->srv,
                                           ep->cli, ep->srv_port))
        return;
    for (size_t i = 0; i < n; i++) {
        const emb_alt_t *alt = &r->alts[alts[i]];
        if (e->cur.flow && r->rules[alt->rule].any_packet != (e->cur.flow->evidence == 0))
            continue; /* checked at the other moment (first packet / conversation) */
        if (!emb__flow_sieve_may(&sieves[i], ep->family, ep->srv, ep->cli, ep->srv_port))
            continue;
        if (!flow_conds_hold(r, alt, ep))
            continue;
        /* Report the address if the alternative has one, else the port. */
        const emb_cond_t *ipc = NULL;
        for (uint32_t c = 0; c < alt->ncond; c++)
            if (alt->cond[c].key == EMB_K_IP)
                ipc = &alt->cond[c];
        char *val = e->flow_value[e->nflow_values++ % EMB_MAX_FLOW_VALUES];
        emb_evidence_t ev = EMB_EV_PORT;
        if (ipc) {
            const uint8_t *addr = ip_cond_holds(r, ipc, ep);
            ev = EMB_EV_IP;
            if (inet_ntop(ep->family == 4 ? AF_INET : AF_INET6, addr, val, EMB_FLOW_VALUE_LEN) ==
                NULL)
                val[0] = '\0';
        } else {
            snprintf(val, EMB_FLOW_VALUE_LEN, "%u/%s", ep->srv_port,
                     ep->proto == 6 ? "tcp" : "udp");
        }
        size_t before = e->ncands;
        emb__round_add_candidate(e, alt->rule, ev, val, strlen(val), 0);
        if (e->ncands > before) {
            /* An address or a port alone is weak evidence of a vendor: always low. */
            e->cands[before].low = true;
            e->cands[before].evidence = e->cur.flow ? e->cur.flow->evidence : 0;
        }
    }
}

/* Alternatives whose content conditions all matched in this scan round. */
void emb__round_hits(emb_engine_t *e, const emb_endpoints_t *ep) {
    const emb_rules_t *r = e->rules;
    for (size_t i = 0; i < e->nhits; i++) {
        const emb_hit_t *h = &e->hits[i];
        const emb_alt_t *alt = &r->alts[h->alt];
        emb_alt_state_t *st = &e->alt_state[h->alt];
        if (st->mask != alt->content_mask)
            continue;
        st->mask |= 1u << 31; /* evaluated: later hits of this alternative are skipped */
        if (!flow_conds_hold(r, alt, ep))
            continue;
        emb__round_add_candidate(e, alt->rule, emb__field_evidence(h->field), h->value,
                                 h->value_len, h->spec);
    }
}

/*
 * True when candidate `a` says less than `b` of the same vendor and drops out
 * (docs/rules.md, "Precedence"). Candidates are ordered by (class, spec):
 *   1. `web` is the fallback channel: a product channel rule (telemetry,
 *      licensing, update, cloud, management) beats it;
 *   2. within one class, of two domain patterns that matched the same name the
 *      longer is the more specific: metrics1.data.hicloud.com is telemetry,
 *      not just cloud.
 * Each drop goes up that lexicographic order, so the relation has no cycle
 * and the best candidate of a vendor always survives: precedence can thin a
 * round's alerts, never empty it (test-engine's precedence_never_cancels).
 */
static bool outranked(const emb_rules_t *r, const emb_cand_t *a, const emb_cand_t *b) {
    const emb_rule_t *ra = &r->rules[a->rule], *rb = &r->rules[b->rule];
    if (a == b || ra->vendor != rb->vendor)
        return false;
    bool web_a = ra->channel == EMB_CH_WEB, web_b = rb->channel == EMB_CH_WEB;
    if (web_a != web_b)
        return web_a;
    return a->spec > 0 && b->spec > a->spec && a->value_len == b->value_len &&
           memcmp(a->value, b->value, a->value_len) == 0;
}

/*
 * Drops the candidates that a better one of the same vendor covers: a `web`
 * rule when a product channel rule holds in the same round, and a rule whose
 * domain pattern is less specific than another's of its class on the same name.
 */
void emb__round_precedence(emb_engine_t *e) {
    const emb_rules_t *r = e->rules;
    size_t keep = 0;
    for (size_t i = 0; i < e->ncands; i++) {
        bool drop = false;
        for (size_t j = 0; j < e->ncands && !drop; j++)
            drop = outranked(r, &e->cands[i], &e->cands[j]);
        if (!drop)
            e->cands[keep++] = e->cands[i];
    }
    e->ncands = keep;
}

const char *emb__flow_evidence_name(uint8_t evidence) {
    switch (evidence) {
    case EMB_EVIDENCE_HANDSHAKE: return "handshake";
    case EMB_EVIDENCE_BOTH: return "both directions";
    case EMB_EVIDENCE_ONE_WAY: return "one direction only";
    default: return NULL;
    }
}

int emb__round_flow_rules(emb_engine_t *e) {
    emb__round_begin(e);
    emb_endpoints_t ep = emb__flow_endpoints(e->cur.flow);
    emb__round_flow_alts(e, &ep);
    emb__round_precedence(e);
    return emb__round_emit(e);
}

void emb__round_begin(emb_engine_t *e) {
    e->stamp++;
    e->nhits = 0;
    e->ncands = 0;
    e->nnames = 0;
    e->nflow_values = 0;
    e->app.app = EMB_APP_NONE;
    e->app.nquestions = 0;
    e->app.nrrs = 0;
    e->app.sni = NULL;
    e->app.ja4 = NULL;
    e->app.cert = NULL;
    e->app.have_request = false;
    e->app.http_status = 0;
    e->app.dev_proto = NULL;
    e->app.dev_host[0] = '\0';
    e->app.ndev = 0;
    e->app.resp = NULL;
    e->app.resp_line = NULL;
    e->app.body = NULL;
    e->app.body_len = 0;
    e->app.req_line = NULL;
    e->app.snmp = NULL;
    e->app.dhcp = NULL;
    e->app.mac = false;
}

int emb__round_scan_device(emb_engine_t *e, emb_field_t f, const char *name, const void *p,
                           size_t n) {
    if (p == NULL || n == 0)
        return 0;
    if (n > EMB_DEV_VALUE_MAX)
        n = EMB_DEV_VALUE_MAX;
    emb_app_info_t *app = &e->app;
    if (app->ndev < EMB_DEV_MAX_FIELDS)
        app->dev[app->ndev++] = (emb_dev_kv_t){name, p, n};
    return emb__round_scan(e, f, p, n);
}

void emb__round_collect(emb_engine_t *e) {
    emb_endpoints_t ep = emb__flow_endpoints(e->cur.flow);
    emb__round_hits(e, &ep);
    emb__round_precedence(e);
}

static bool already_alerted(const emb_flow_t *f, uint32_t rule) {
    for (uint8_t i = 0; i < f->nalerted; i++)
        if (f->alerted[i] == rule)
            return true;
    return false;
}

int emb__round_emit(emb_engine_t *e) {
    const emb_pkt_ctx_t *pc = &e->cur;
    emb_flow_t *f = pc->flow;
    for (size_t i = 0; i < e->ncands; i++) {
        const emb_cand_t *c = &e->cands[i];
        if (!e->rules->vendors[e->rules->rules[c->rule].vendor].selected)
            continue; /* no ban of the vendor applies to this run (emb_rules_select) */
        if (already_alerted(f, c->rule) || f->nalerted == EMB_FLOW_MAX_ALERTED) {
            /* a repeat, or more rules on one flow than it can remember: no flood */
            e->stats.alerts_suppressed++;
            continue;
        }
        f->alerted[f->nalerted++] = c->rule;
        if (e->mute)
            continue; /* a feeder (emb_engine_feed): attribution only */
        if (c->ev == EMB_EV_DNS_ATTRIBUTION)
            e->stats.attributions++;

        const emb_rule_t *rule = &e->rules->rules[c->rule];
        const char *vendor_id = e->rules->vendors[rule->vendor].id;
        const emb_exception_t *exc = NULL;
        if (e->exceptions) {
            /* The host an exception names: the flow's client, or the device
             * that described itself. */
            const uint8_t *host = e->app.dev_proto ? pc->d->src : f->cli;
            long xi = emb__exceptions_find(e->exceptions, f->family, host, vendor_id, rule->channel,
                                           rule->sid, pc->pkt->ts_sec, e->exception_expired);
            exc = xi >= 0 ? &e->exceptions->v[xi] : NULL;
        }
        emb_eve_alert_t a = {
            .ts_sec = pc->pkt->ts_sec,
            .ts_usec = pc->pkt->ts_usec,
            .pcap_cnt = pc->pkt->pcap_cnt,
            .pkt = pc->d,
            .to_server = pc->to_server,
            .flow = f,
            .rules = e->rules,
            .rule = rule,
            .field = emb__evidence_name(c->ev),
            .value = c->value,
            .value_len = c->value_len,
            .confidence = c->low ? EMB_CONF_LOW : rule->confidence,
            .no_name = c->ev == EMB_EV_DNS_ATTRIBUTION,
            .evidence = emb__flow_evidence_name(c->evidence),
            .info = &e->app,
            .excepted = exc,
        };
        int rc = emb__eve_alert(&a, &e->eve);
        if (rc != 0)
            return rc;
        e->stats.alerts++;
        if (exc)
            e->stats.alerts_excepted++;
        emb_alert_t out = {
            .sid = rule->sid,
            .rev = rule->rev,
            .severity = rule->severity,
            .vendor = vendor_id,
            .channel = emb_channel_name(rule->channel),
            .msg = rule->msg,
            .field = emb__evidence_name(c->ev),
            .eve = e->eve.data,
            .eve_len = e->eve.len,
            .excepted = exc != NULL,
        };
        if (pc->cb && pc->cb(&out, pc->ud) != 0)
            return EMB_ECANCELED;
    }
    e->ncands = 0;
    return 0;
}

int emb__round_end(emb_engine_t *e) {
    if (e->cur.flow == NULL) { /* a host's datagram (hosted.c): it reports them */
        emb__round_hits(e, e->cur.ep);
        emb__round_precedence(e);
        return 0;
    }
    emb__round_collect(e);
    return emb__round_emit(e);
}

/* True when the address `addr` is in an `ip` indicator of a rule of `vendor`:
 * the vendor's own ranges, which make an attribution more than a guess. */
bool emb__round_vendor_owns(const emb_rules_t *r, uint32_t vendor, int family,
                            const uint8_t *addr) {
    for (size_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        if (r->rules[alt->rule].vendor != vendor)
            continue;
        for (uint32_t c = 0; c < alt->ncond; c++) {
            if (alt->cond[c].key != EMB_K_IP)
                continue;
            for (uint32_t i = alt->cond[c].first; i < alt->cond[c].first + alt->cond[c].count; i++)
                if (emb__cidr_contains(&r->inds[i].cidr, family, addr))
                    return true;
        }
    }
    return false;
}
