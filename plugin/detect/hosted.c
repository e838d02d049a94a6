/*
 * Matching what another parser extracted (the public facts API): a host that
 * already decodes traffic, Suricata for one, hands over a flow's endpoints
 * and the field values it read, and asks for the DNS attribution of a
 * connection whose first client message named no server. No packet, no flow
 * of the engine's own: each call is one round, reported through `cb`.
 */
#include "detect/devices.h"
#include "detect/inspect.h"
#include "detect/match.h"
#include "detect/round.h"
#include "detect/shared.h"

#include "common/names.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool domain_valued(emb_field_t f) {
    return f == EMB_FIELD_DNS_QUERY || f == EMB_FIELD_TLS_SNI || f == EMB_FIELD_QUIC_SNI ||
           f == EMB_FIELD_TLS_CERT_NAME;
}

/* The name a device's value went under in its round (emb__round_scan_device). */
static const char *device_key(const emb_engine_t *e, const char *value) {
    for (size_t i = 0; i < e->app.ndev; i++)
        if ((const char *)e->app.dev[i].value == value)
            return e->app.dev[i].name;
    return NULL;
}

/* Each candidate of the round, as an emb_match_t, to `cb`; `device_host`
 * names the sender of a device round's message (NULL: not one). */
static int report_candidates(emb_engine_t *e, const char *device_host, emb_match_cb cb,
                             void *userdata) {
    for (size_t i = 0; i < e->ncands; i++) {
        const emb_cand_t *c = &e->cands[i];
        const emb_rule_t *rule = &e->rules->rules[c->rule];
        const emb_vendor_t *v = &e->rules->vendors[rule->vendor];
        if (!v->selected)
            continue; /* no ban of the vendor applies (emb_rules_select) */
        emb_match_t m = {
            .sid = rule->sid,
            .rev = rule->rev,
            .severity = rule->severity,
            .vendor = v->id,
            .channel = emb_channel_name(rule->channel),
            .confidence = emb__confidence_name(c->low ? EMB_CONF_LOW : rule->confidence),
            .msg = rule->msg,
            .product = rule->product,
            .field = emb__evidence_name(c->ev),
            .value = c->value,
            .value_len = c->value_len,
            .authorities = v->authorities,
            .nauthorities = v->nbans,
            .references = (const char *const *)rule->refs,
            .nreferences = rule->nrefs,
            .rule = rule,
        };
        if (device_host != NULL) {
            m.device_protocol = e->app.dev_proto;
            m.device_host = device_host;
            /* past the values a round keeps (EMB_DEV_MAX_FIELDS), the field's own name */
            m.device_key = device_key(e, c->value);
            m.device_values = e->app.dev;
            m.ndevice_values = e->app.ndev;
            if (m.device_key == NULL) {
                const char *dot = strchr(m.field, '.');
                m.device_key = dot != NULL ? dot + 1 : m.field;
            }
        }
        if (cb && cb(&m, userdata) != 0)
            return EMB_ECANCELED;
    }
    return 0;
}

/* The endpoints ip/port conditions look at; none when the family is unknown. */
static emb_endpoints_t endpoints_of(const emb_facts_t *facts) {
    emb_endpoints_t ep = {facts->family, facts->proto, facts->client, facts->server,
                          facts->server_port};
    if (facts->family != 4 && facts->family != 6)
        ep.family = 0;
    return ep;
}

/* One round of `facts`: their candidates in e->cands. *asked is the first
 * DNS name's normalised copy (NULL when there is none). */
static int match_round(emb_engine_t *e, const emb_facts_t *facts, const char **asked,
                       size_t *asked_len) {
    if (e == NULL || facts == NULL || (facts->nfacts > 0 && facts->facts == NULL))
        return EMB_EINVAL;
    e->cur = (emb_pkt_ctx_t){0}; /* facts, not a packet: no flow of ours */
    emb__round_begin(e);
    emb_endpoints_t ep = endpoints_of(facts);
    if (ep.family != 0 && !facts->fields_only)
        emb__round_flow_alts(e, &ep);

    /* Normalised copies must outlive the scans: they are the reported values. */
    size_t used = 0;
    *asked = NULL;
    *asked_len = 0;
    for (size_t i = 0; i < facts->nfacts; i++) {
        const emb_fact_t *fa = &facts->facts[i];
        if ((unsigned)fa->field >= EMB_FIELD__COUNT || (fa->value == NULL && fa->len > 0))
            return EMB_EINVAL;
        const void *v = fa->value;
        size_t n = fa->len;
        if (domain_valued(fa->field) || fa->field == EMB_FIELD_HTTP_HOST) {
            if (used == EMB_MAX_FACT_NAMES)
                continue; /* more names than one record holds in practice */
            char *buf = e->names[used++];
            n = fa->field == EMB_FIELD_HTTP_HOST ? emb__normalize_host(v, n, buf, EMB_NAME_BUF)
                                                 : emb__normalize_name(v, n, buf, EMB_NAME_BUF);
            v = buf;
            if (*asked == NULL && fa->field == EMB_FIELD_DNS_QUERY) {
                *asked = buf;
                *asked_len = n;
            }
        }
        int rc = emb__round_scan(e, fa->field, v, n);
        if (rc != 0)
            return rc;
    }
    emb__round_hits(e, &ep);
    emb__round_precedence(e);
    return 0;
}

bool emb_engine_endpoints_may_match(const emb_engine_t *e, const emb_facts_t *facts) {
    if (e == NULL || facts == NULL || (facts->family != 4 && facts->family != 6))
        return false;
    return emb__flow_union_may(emb__matcher_flow_union(e->matcher), facts->family, facts->client,
                               facts->server, facts->server_port);
}

int emb_engine_match(emb_engine_t *e, const emb_facts_t *facts, emb_match_cb cb, void *userdata) {
    const char *asked;
    size_t asked_len;
    int rc = match_round(e, facts, &asked, &asked_len);
    return rc != 0 ? rc : report_candidates(e, NULL, cb, userdata);
}

int emb_engine_match_dns_response(emb_engine_t *e, const emb_facts_t *facts,
                                  const emb_dns_response_t *r, emb_match_cb cb, void *userdata) {
    if (r == NULL || (r->len > 0 && r->msg == NULL) || r->client == NULL)
        return EMB_EINVAL;
    const char *asked;
    size_t asked_len;
    int rc = match_round(e, facts, &asked, &asked_len);
    if (rc != 0)
        return rc;
    if (facts->family == 4 || facts->family == 6) {
        emb__learn_dns_response(e, facts->family, r->client, asked, asked_len, r->msg, r->len,
                                r->ts_sec, r->ts_usec);
        emb__engine_attrib_done(e);
    }
    return report_candidates(e, NULL, cb, userdata);
}

/* A device's message handed over by a host (a UDP datagram, the start of a
 * TCP segment): read by `parse` as the engine's own flows read it, the rules
 * its keys raise reported with the device, its sender. */
static int device_message(emb_engine_t *e, const emb_facts_t *facts, uint8_t proto,
                          bool from_client, const uint8_t *payload, size_t len,
                          int (*parse)(emb_engine_t *, const uint8_t *, size_t), emb_match_cb cb,
                          void *userdata) {
    if (e == NULL || facts == NULL || (payload == NULL && len > 0))
        return EMB_EINVAL;
    emb_decoded_t d = {
        .family = facts->family, .proto = proto, .payload = payload, .payload_len = len};
    memcpy(d.src, from_client ? facts->client : facts->server, sizeof(d.src));
    memcpy(d.dst, from_client ? facts->server : facts->client, sizeof(d.dst));
    d.sport = from_client ? facts->client_port : facts->server_port;
    d.dport = from_client ? facts->server_port : facts->client_port;
    emb_endpoints_t ep = endpoints_of(facts);
    /* No flow of ours: emb__round_end leaves the candidates here. */
    e->cur = (emb_pkt_ctx_t){.d = &d, .ep = &ep};
    e->ncands = 0;
    e->app.dev_proto = NULL;
    int rc = parse(e, payload, len);
    e->cur = (emb_pkt_ctx_t){0};
    if (rc != 0 || e->app.dev_proto == NULL || e->ncands == 0) {
        e->ncands = 0;
        return rc;
    }
    char host[sizeof(e->app.dev_host)] = "";
    if (e->app.dev_host[0] != '\0')
        snprintf(host, sizeof(host), "%s", e->app.dev_host);
    else if (d.family == 4 || d.family == 6)
        inet_ntop(d.family == 4 ? AF_INET : AF_INET6, d.src, host, sizeof(host));
    rc = report_candidates(e, host, cb, userdata);
    e->ncands = 0;
    return rc;
}

int emb_engine_match_datagram(emb_engine_t *e, const emb_facts_t *facts, bool from_client,
                              const uint8_t *payload, size_t len, emb_match_cb cb, void *userdata) {
    return device_message(e, facts, 17, from_client, payload, len, emb__device_datagram, cb,
                          userdata);
}

int emb_engine_match_segment(emb_engine_t *e, const emb_facts_t *facts, bool from_client,
                             const uint8_t *payload, size_t len, emb_match_cb cb, void *userdata) {
    return device_message(e, facts, 6, from_client, payload, len, emb__device_segment, cb,
                          userdata);
}

static int request_body(emb_engine_t *e, const uint8_t *p, size_t len) {
    emb_http_request_t req = {.content_length = -1}; /* its head was the host's to read */
    return emb__device_request_body(e, &req, p, len);
}

static int response_body(emb_engine_t *e, const uint8_t *p, size_t len) {
    return emb__device_response_body(e, p, len); /* e->resp: emb_engine_match_http_body */
}

int emb_engine_match_http_body(emb_engine_t *e, const emb_facts_t *facts, bool request, int status,
                               const uint8_t *body, size_t len, emb_match_cb cb, void *userdata) {
    if (e == NULL)
        return EMB_EINVAL;
    if (!request)
        e->resp = (emb_http_response_t){
            .status = (uint16_t)(status > 0 && status < 1000 ? status : 0), .content_length = -1};
    return device_message(e, facts, 6, request, body, len, request ? request_body : response_body,
                          cb, userdata);
}

size_t emb_engine_stream_lookback(const emb_engine_t *e) {
    if (e == NULL || !e->has_payload_rules)
        return 0;
    uint32_t width = emb__matcher_start_width(e->matcher); /* UINT32_MAX: unbounded */
    uint32_t back = width > e->payload_overlap ? width : e->payload_overlap;
    return back < e->cfg.stream_depth ? back : e->cfg.stream_depth; /* never scanned past it */
}

/*
 * Payload patterns over a stretch of one TCP stream direction, as the
 * engine's own flows scan theirs (inspect.c, scan_stream_payload): the new
 * bytes with the overlap a pattern may span before them, only the first
 * stream_depth bytes, `^` at the stream's first byte alone, and the anchored
 * patterns again over a longer start while they could span more of it.
 */
int emb_engine_match_stream(emb_engine_t *e, const emb_facts_t *facts, emb_stream_scan_t *st,
                            const uint8_t *data, size_t len, uint64_t offset, emb_match_cb cb,
                            void *userdata) {
    if (e == NULL || facts == NULL || st == NULL || (data == NULL && len > 0))
        return EMB_EINVAL;
    uint64_t depth = e->cfg.stream_depth;
    uint64_t end = offset + len < depth ? offset + len : depth;
    if (offset >= depth || !e->has_payload_rules) {
        st->done = true;
        return 0;
    }
    if (offset > st->scanned)
        st->scanned = offset; /* a gap: what came before it is lost */
    if (end <= st->scanned)
        return 0; /* nothing new */
    uint64_t back = st->scanned > e->payload_overlap ? st->scanned - e->payload_overlap : 0;
    uint64_t from = back > offset ? back : offset;
    st->scanned = end;
    st->done = end >= depth;

    emb_endpoints_t ep = endpoints_of(facts);
    e->cur = (emb_pkt_ctx_t){0}; /* a stretch, not a packet: no flow of ours */
    emb__round_begin(e);
    emb_payload_at_t at = from == 0 ? EMB_AT_START : EMB_AT_MIDDLE;
    int rc = emb__round_scan_payload(e, data + (from - offset), (size_t)(end - from), at);
    uint32_t width = emb__matcher_start_width(e->matcher);
    if (at == EMB_AT_START) {
        st->start_scanned = (uint32_t)end;
    } else if (rc == 0 && offset == 0 && st->start_scanned < width && st->start_scanned < end) {
        uint32_t n = end < width ? (uint32_t)end : width;
        rc = emb__round_scan_payload(e, data, n, EMB_AT_START_ONLY);
        st->start_scanned = n;
    }
    if (rc != 0)
        return rc;
    emb__round_hits(e, &ep);
    emb__round_precedence(e);
    return report_candidates(e, NULL, cb, userdata);
}

bool emb_engine_mac_may_match(const emb_engine_t *e, const uint8_t mac[6]) {
    return e != NULL && mac != NULL && emb__matcher_mac_may(e->matcher, mac);
}

int emb_engine_match_mac(emb_engine_t *e, const emb_facts_t *facts, const uint8_t mac[6],
                         emb_match_cb cb, void *userdata) {
    if (e == NULL || facts == NULL || mac == NULL)
        return EMB_EINVAL;
    if (!emb__matcher_mac_may(e->matcher, mac))
        return 0;
    emb_endpoints_t ep = endpoints_of(facts);
    e->cur = (emb_pkt_ctx_t){.ep = &ep};
    emb__round_begin(e);
    e->app.dev_proto = "ethernet";
    e->app.mac = true;
    e->stats.device_messages++;
    /* The text scanned is the engine's (dev_host): the reported value outlives the round. */
    emb__mac_text(mac, e->app.dev_host);
    int rc = emb__round_scan_device(e, EMB_FIELD_MAC, "mac", e->app.dev_host, 17);
    if (rc == 0)
        rc = emb__round_end(e); /* no flow: the candidates stay */
    e->cur = (emb_pkt_ctx_t){0};
    if (rc == 0 && e->ncands > 0)
        rc = report_candidates(e, e->app.dev_host, cb, userdata);
    e->ncands = 0;
    return rc;
}

/*
 * DNS attribution for a host's connection (docs/flows.md): the rules whose
 * names resolved to `facts->server` for `facts->client` in an answer seen no
 * later than `ts`, as check_attribution does for the engine's own flows. The
 * host calls it once, at the connection's first client message, and only
 * when that message named no server. The answers are the ones this engine,
 * or an engine sharing its table, learned from DNS responses.
 */
int emb_engine_attribute(emb_engine_t *e, const emb_facts_t *facts, int64_t ts_sec,
                         uint32_t ts_usec, emb_match_cb cb, void *userdata) {
    if (e == NULL || facts == NULL)
        return EMB_EINVAL;
    if (facts->family != 4 && facts->family != 6)
        return 0;
    e->cur = (emb_pkt_ctx_t){0};
    int64_t now_us = emb__time_us(ts_sec, ts_usec);
    int rc = 0;
    emb__round_begin(e);
    emb__engine_attrib_turn(e, facts->family, facts->client, facts->server);
    if (!emb__attrib_shared(e->attrib, facts->family, facts->server, ts_sec, now_us)) {
        const emb_attrib_entry_t *found[8];
        size_t nf = emb__attrib_lookup(e->attrib, facts->family, facts->client, facts->server,
                                       ts_sec, found, 8);
        for (size_t i = 0; i < nf; i++) {
            if (found[i]->seen_us > now_us)
                continue; /* an answer from after the connection began */
            size_t before = e->ncands;
            /* The name is copied: the table may change once the lock is given back. */
            char *name = e->names[e->nnames < EMB_MAX_ROUND_NAMES ? e->nnames++ : 0];
            size_t n = found[i]->name_len < EMB_NAME_BUF ? found[i]->name_len : EMB_NAME_BUF - 1;
            memcpy(name, found[i]->name, n);
            emb__round_add_candidate(e, found[i]->rule, EMB_EV_DNS_ATTRIBUTION, name, n, 0);
            if (e->ncands > before)
                e->cands[before].low = !emb__round_vendor_owns(
                    e->rules, e->rules->rules[found[i]->rule].vendor, facts->family, facts->server);
        }
        emb__round_precedence(e);
        e->stats.attributions += e->ncands;
    }
    emb__engine_attrib_done(e);
    if (e->ncands > 0)
        rc = report_candidates(e, NULL, cb, userdata);
    e->ncands = 0;
    return rc;
}

bool emb_bytes_may_name_server(const uint8_t *p, size_t n) {
    return p == NULL || emb__may_name_server(p, n);
}

bool emb_engine_may_attribute(emb_engine_t *e, const emb_facts_t *facts, int64_t ts_sec,
                              uint32_t ts_usec) {
    if (e == NULL || facts == NULL || (facts->family != 4 && facts->family != 6))
        return false;
    int64_t now_us = emb__time_us(ts_sec, ts_usec);
    emb__engine_attrib_turn(e, facts->family, facts->client, facts->server);
    bool may =
        emb__attrib_holds(e->attrib, facts->family, facts->client, facts->server, ts_sec, now_us);
    emb__engine_attrib_done(e);
    return may;
}

/* The confidence an alert for `m` states: the rule's, or low for an ip/port
 * rule reported low. */
static emb_confidence_t match_confidence(const emb_match_t *m) {
    const emb_rule_t *rule = m->rule;
    if (m->confidence != NULL && strcmp(m->confidence, emb__confidence_name(EMB_CONF_LOW)) == 0)
        return EMB_CONF_LOW;
    return rule->confidence;
}

char *emb_match_alert_json(const emb_engine_t *e, const emb_match_t *m) {
    if (e == NULL || m == NULL || m->rule == NULL)
        return NULL;
    return emb__eve_alert_object(e->rules, m->rule, m->field, m->value, m->value_len,
                                 match_confidence(m));
}

/* The engine's cache of alert templates: two per rule (its own confidence, low). */
static bool alert_cache(emb_engine_t *e) {
    return e->alert_tmpl != NULL ||
           (e->alert_tmpl = calloc(e->rules->nrules * 2, sizeof(*e->alert_tmpl))) != NULL;
}

int emb_engine_prepare_alerts(emb_engine_t *e) {
    if (e == NULL)
        return EMB_EINVAL;
    if (e->rules->nrules == 0)
        return 0; /* nothing to render (and calloc(0) may say NULL) */
    if (!alert_cache(e))
        return EMB_ENOMEM;
    for (size_t i = 0; i < e->rules->nrules; i++) {
        const emb_rule_t *rule = &e->rules->rules[i];
        emb_eve_alert_tmpl_t *t = &e->alert_tmpl[i * 2];
        if (t->text == NULL && !t->whole &&
            emb__eve_alert_template(e->rules, rule, rule->confidence, t) != 0)
            return EMB_ENOMEM;
    }
    return 0;
}

size_t emb_match_alert_write(emb_engine_t *e, const emb_match_t *m, char *out, size_t cap) {
    if (e == NULL || m == NULL || m->rule == NULL)
        return 0;
    const emb_rule_t *rule = m->rule;
    if (rule < e->rules->rules || rule >= e->rules->rules + e->rules->nrules)
        return 0; /* not a rule of this engine's pack */
    if (!alert_cache(e))
        return 0;
    emb_confidence_t conf = match_confidence(m);
    emb_eve_alert_tmpl_t *t =
        &e->alert_tmpl[(size_t)(rule - e->rules->rules) * 2 + (conf != rule->confidence)];
    if (t->text == NULL && !t->whole && emb__eve_alert_template(e->rules, rule, conf, t) != 0)
        return 0;
    return emb__eve_alert_fill(t, m->field, m->value, m->value_len, out, cap);
}
