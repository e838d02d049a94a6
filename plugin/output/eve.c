/*
 * EVE JSON output. Alerts are rare next to packets, so each is built as a
 * jansson object and dumped into a reused buffer: correctness of escaping
 * (names in packets are attacker-controlled) matters more than speed here.
 * Field names and layout follow what Suricata 8 writes for an alert, and the
 * result validates against Suricata's EVE schema; what matched goes in
 * alert.context.embargo, where the schema allows extra JSON. A host that
 * writes an alert for every matching record (the Suricata 7 filetype) gets
 * the alert object from a template instead: each rule's constant text
 * rendered once with jansson, field and value escaped here as jansson would.
 */
#include "output/eve.h"

#include "common/names.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void emb__eve_timestamp(int64_t sec, uint32_t usec, char *out, size_t cap) {
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06u+0000", date, usec % 1000000);
}

json_t *emb__eve_string(const void *p, size_t n) {
    json_t *s = json_stringn(p, n);
    if (s != NULL)
        return s;
    /* Not UTF-8: map each byte to the code point of the same value. */
    const uint8_t *b = p;
    char *u = malloc(n * 2 + 1);
    if (u == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x80) {
            u[k++] = (char)b[i];
        } else {
            u[k++] = (char)(0xC0 | b[i] >> 6);
            u[k++] = (char)(0x80 | (b[i] & 0x3F));
        }
    }
    s = json_stringn(u, k);
    free(u);
    return s;
}

static json_t *str_array1(const char *s) {
    json_t *a = json_array();
    json_array_append_new(a, json_string(s));
    return a;
}

static json_t *addr_string(int family, const uint8_t *addr) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf)) == NULL)
        buf[0] = '\0';
    return json_string(buf);
}

/* Sets obj[key] to the array `a` when it has members (EVE arrays have minItems 1). */
static void set_nonempty(json_t *obj, const char *key, json_t *a) {
    if (json_array_size(a) > 0)
        json_object_set_new(obj, key, a);
    else
        json_decref(a);
}

static json_t *build_alert_object(const emb_rules_t *rules, const emb_rule_t *rule,
                                  const char *field, const char *value, size_t value_len,
                                  emb_confidence_t confidence, bool no_name, const char *evidence,
                                  const emb_exception_t *excepted) {
    const emb_vendor_t *v = &rules->vendors[rule->vendor];
    json_t *al = json_object();
    json_object_set_new(al, "action", json_string("allowed"));
    json_object_set_new(al, "gid", json_integer(1));
    json_object_set_new(al, "signature_id", json_integer(rule->sid));
    json_object_set_new(al, "rev", json_integer(rule->rev));
    json_object_set_new(al, "signature", json_string(rule->msg));
    json_object_set_new(al, "category", json_string("Potential Corporate Privacy Violation"));
    json_object_set_new(al, "severity", json_integer(rule->severity));

    json_t *md = json_object();
    json_object_set_new(md, "vendor", str_array1(v->id));
    json_object_set_new(md, "channel", str_array1(emb_channel_name(rule->channel)));
    if (rule->product)
        json_object_set_new(md, "product", str_array1(rule->product));
    json_object_set_new(md, "confidence", str_array1(emb__confidence_name(confidence)));
    /* The bans that apply to this run (emb_rules_select): who they bind and
     * what they restrict, said with the alert so that no reader takes a
     * restriction on new authorizations for a ban on use. */
    json_t *auth = json_array(), *bans = json_array();
    for (size_t i = 0; i < v->nbans; i++) {
        const emb_ban_t *b = &v->bans[i];
        if (!b->applies)
            continue;
        json_array_append_new(auth, json_string(b->authority));
        json_t *o = json_object(), *rs = json_array();
        json_object_set_new(o, "authority", json_string(b->authority));
        json_object_set_new(o, "scope", json_string(b->scope));
        for (uint32_t bit = 1; bit < 1u << EMB_R__COUNT; bit <<= 1)
            if (b->restricts & bit)
                json_array_append_new(rs, json_string(emb__restrict_name(bit)));
        set_nonempty(o, "restricts", rs);
        json_object_set_new(o, "status", json_string(emb__ban_status_name(b->status)));
        if (b->effective)
            json_object_set_new(o, "effective", json_string(b->effective));
        if (b->sunset)
            json_object_set_new(o, "sunset", json_string(b->sunset));
        if (b->note)
            json_object_set_new(o, "note", json_string(b->note));
        if (b->reference)
            json_object_set_new(o, "reference", json_string(b->reference));
        json_array_append_new(bans, o);
    }
    set_nonempty(md, "authority", auth);
    static const char *const term_keys[] = {"scope", "restricts", "ban_status"};
    for (int t = EMB_TERM_SCOPE; t <= EMB_TERM_STATUS; t++) {
        const char *terms[16];
        size_t n = emb__ban_terms(v, (emb_ban_term_t)t, terms, 16);
        json_t *a = json_array();
        for (size_t k = 0; k < n; k++)
            json_array_append_new(a, json_string(terms[k]));
        set_nonempty(md, term_keys[t], a);
    }
    json_object_set_new(al, "metadata", md);

    if (rule->nrefs > 0) {
        json_t *refs = json_array();
        for (size_t i = 0; i < rule->nrefs; i++)
            json_array_append_new(refs, json_string(rule->refs[i]));
        json_object_set_new(al, "references", refs);
    }

    json_t *emb = json_object();
    json_object_set_new(emb, "vendor", json_string(v->id));
    json_object_set_new(emb, "channel", json_string(emb_channel_name(rule->channel)));
    json_object_set_new(emb, "field", json_string(field));
    json_object_set_new(emb, "value", emb__eve_string(value, value_len));
    if (no_name) /* said outright: the connection named no server (docs/flows.md) */
        json_object_set_new(emb, "named", json_false());
    if (evidence)
        json_object_set_new(emb, "evidence", json_string(evidence));
    if (confidence != rule->confidence) /* also here: a host may write its own metadata */
        json_object_set_new(emb, "confidence", json_string(emb__confidence_name(confidence)));
    if (excepted) { /* written all the same: the record is kept (docs/exceptions.md) */
        json_t *x = json_object();
        json_object_set_new(x, "reason", json_string(excepted->reason));
        json_object_set_new(x, "owner", json_string(excepted->owner));
        json_object_set_new(x, "expires", json_string(excepted->expires));
        json_object_set_new(emb, "excepted", x);
    }
    set_nonempty(emb, "bans", bans);
    json_t *ctx = json_object();
    json_object_set_new(ctx, "embargo", emb);
    json_object_set_new(al, "context", ctx);
    return al;
}

char *emb__eve_alert_object(const emb_rules_t *rules, const emb_rule_t *rule, const char *field,
                            const char *value, size_t value_len, emb_confidence_t confidence) {
    json_t *al =
        build_alert_object(rules, rule, field, value, value_len, confidence, false, NULL, NULL);
    if (al == NULL)
        return NULL;
    char *text = json_dumps(al, JSON_COMPACT);
    json_decref(al);
    return text;
}

/* ---- the alert object from a template ---------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} out_t;

static void put(out_t *o, const void *s, size_t n) {
    if (o->n < o->cap)
        memcpy(o->p + o->n, s, n <= o->cap - o->n ? n : o->cap - o->n);
    o->n += n;
}

/* Length of the UTF-8 sequence at p (a byte >= 0x80) as jansson checks it:
 * no overlong forms, no surrogates, nothing past U+10FFFF; 0 when invalid. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static bool utf8_valid(const uint8_t *p, size_t n) {
    const uint8_t *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = utf8_len(p, end);
        if (k == 0)
            return false;
        p += k;
    }
    return true;
}

/* One ASCII byte as jansson's compact dump writes it inside a string. */
static void put_ascii(out_t *o, uint8_t c) {
    static const char hex[] = "0123456789ABCDEF";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '"': put(o, "\\\"", 2); return;
    case '\\': put(o, "\\\\", 2); return;
    case '\b': put(o, "\\b", 2); return;
    case '\f': put(o, "\\f", 2); return;
    case '\n': put(o, "\\n", 2); return;
    case '\r': put(o, "\\r", 2); return;
    case '\t': put(o, "\\t", 2); return;
    default:
        if (c < 0x20)
            put(o, e, 6);
        else
            put(o, &c, 1);
    }
}

/* The JSON string json_dumps(emb__eve_string(p, n), JSON_COMPACT) writes:
 * UTF-8 kept, or every byte read as Latin-1 when the whole is not UTF-8. */
static void put_string(out_t *o, const void *p, size_t n) {
    const uint8_t *b = p != NULL ? p : (const uint8_t *)"", *end = b + (p != NULL ? n : 0);
    bool latin1 = !utf8_valid(b, (size_t)(end - b));
    put(o, "\"", 1);
    while (b < end) {
        const uint8_t *run = b;
        while (b < end && *b >= 0x20 && *b != '"' && *b != '\\' && (*b < 0x80 || !latin1))
            b++;
        put(o, run, (size_t)(b - run));
        if (b == end)
            break;
        if (*b >= 0x80) { /* latin1 */
            uint8_t u[2] = {(uint8_t)(0xC0 | *b >> 6), (uint8_t)(0x80 | (*b & 0x3F))};
            put(o, u, 2);
        } else
            put_ascii(o, *b);
        b++;
    }
    put(o, "\"", 1);
}

size_t emb_json_string(const void *value, size_t len, char *out, size_t cap) {
    out_t o = {out, 0, out != NULL ? cap : 0};
    put_string(&o, value, len);
    return o.n;
}

/* Where build_alert_object writes an empty field and value: found once, since
 * no other member is named "field" and a quote inside a string is escaped. */
#define FIELD_VALUE_EMPTY ",\"field\":\"\",\"value\":\"\""

int emb__eve_alert_template(const emb_rules_t *rules, const emb_rule_t *rule,
                            emb_confidence_t confidence, emb_eve_alert_tmpl_t *t) {
    *t = (emb_eve_alert_tmpl_t){.rules = rules, .rule = rule, .confidence = confidence};
    json_t *al = build_alert_object(rules, rule, "", "", 0, confidence, false, NULL, NULL);
    if (al == NULL)
        return EMB_ENOMEM;
    char *text = json_dumps(al, JSON_COMPACT);
    json_decref(al);
    if (text == NULL)
        return EMB_ENOMEM;
    char *at = strstr(text, FIELD_VALUE_EMPTY);
    size_t gap = sizeof(FIELD_VALUE_EMPTY) - 1;
    if (at == NULL || strstr(at + gap, FIELD_VALUE_EMPTY) != NULL) {
        free(text);
        t->whole = true;
        return 0;
    }
    t->head_len = (size_t)(at - text);
    t->tail_len = strlen(at + gap);
    memmove(at, at + gap, t->tail_len + 1);
    t->text = text;
    return 0;
}

size_t emb__eve_alert_fill(const emb_eve_alert_tmpl_t *t, const char *field, const char *value,
                           size_t value_len, char *out, size_t cap) {
    out_t o = {out, 0, out != NULL ? cap : 0};
    if (t->whole) {
        char *text =
            emb__eve_alert_object(t->rules, t->rule, field, value, value_len, t->confidence);
        if (text == NULL)
            return 0;
        put(&o, text, strlen(text));
        free(text);
        return o.n;
    }
    if (t->text == NULL)
        return 0;
    put(&o, t->text, t->head_len);
    /* jansson leaves out a member whose value it cannot make: no field, or not UTF-8 */
    if (field != NULL && utf8_valid((const uint8_t *)field, strlen(field))) {
        put(&o, ",\"field\":", 9);
        put_string(&o, field, strlen(field));
    }
    put(&o, ",\"value\":", 9);
    put_string(&o, value, value_len);
    put(&o, t->text + t->head_len, t->tail_len);
    return o.n;
}

void emb__eve_alert_tmpl_free(emb_eve_alert_tmpl_t *t) {
    free(t->text);
    t->text = NULL;
}

static json_t *rrtype_string(uint16_t type) {
    const char *tn = emb__dns_rrtype_name(type);
    char num[8];
    if (tn == NULL) {
        snprintf(num, sizeof(num), "%u", type);
        tn = num;
    }
    return json_string(tn);
}

static json_t *build_dns(const emb_app_info_t *in) {
    json_t *dns = json_object();
    json_object_set_new(dns, "version", json_integer(3)); /* EVE DNS v3, as Suricata 8 */
    json_object_set_new(dns, "type", json_string(in->dns.qr ? "response" : "request"));
    json_object_set_new(dns, "id", json_integer(in->dns.id));
    json_object_set_new(dns, "rd", json_boolean(in->dns.rd));
    json_object_set_new(dns, "opcode", json_integer(in->dns.opcode));
    if (in->nquestions > 0) {
        json_t *qs = json_array();
        for (size_t i = 0; i < in->nquestions; i++) {
            const emb_dns_question_t *q = &in->questions[i];
            json_t *o = json_object();
            json_object_set_new(o, "rrname", emb__eve_string(q->name, q->name_len));
            json_object_set_new(o, "rrtype", rrtype_string(q->qtype));
            json_array_append_new(qs, o);
        }
        json_object_set_new(dns, "queries", qs);
    }
    json_t *ans = NULL;
    for (size_t i = 0; i < in->nrrs; i++) {
        const emb_dns_rr_t *rr = &in->rrs[i];
        if (rr->section != 1)
            continue; /* authority and additional records are matched, not logged */
        json_t *o = json_object();
        json_object_set_new(o, "rrname", emb__eve_string(rr->name, rr->name_len));
        json_object_set_new(o, "rrtype", rrtype_string(rr->type));
        json_object_set_new(o, "ttl", json_integer(rr->ttl));
        char addr[INET6_ADDRSTRLEN];
        if (rr->family &&
            inet_ntop(rr->family == 4 ? AF_INET : AF_INET6, rr->addr, addr, sizeof(addr)))
            json_object_set_new(o, "rdata", json_string(addr));
        else if (rr->target_len > 0)
            json_object_set_new(o, "rdata", emb__eve_string(rr->target, rr->target_len));
        if (ans == NULL)
            ans = json_array();
        json_array_append_new(ans, o);
    }
    if (ans)
        json_object_set_new(dns, "answers", ans);
    return dns;
}

static json_t *build_tls(const emb_app_info_t *in) {
    json_t *tls = json_object();
    if (in->sni)
        json_object_set_new(tls, "sni", emb__eve_string(in->sni, in->sni_len));
    if (in->cert) {
        json_object_set_new(tls, "subject",
                            emb__eve_string(in->cert->subject, in->cert->subject_len));
        json_object_set_new(tls, "issuerdn",
                            emb__eve_string(in->cert->issuer, in->cert->issuer_len));
    }
    if (in->ja4 && in->ja4[0])
        json_object_set_new(tls, "ja4", json_string(in->ja4));
    return tls;
}

static json_t *build_quic(const emb_app_info_t *in) {
    json_t *q = json_object();
    if (in->sni)
        json_object_set_new(q, "sni", emb__eve_string(in->sni, in->sni_len));
    if (in->ja4 && in->ja4[0])
        json_object_set_new(q, "ja4", json_string(in->ja4));
    return q;
}

/* Printable text of up to `n` bytes, as Suricata's *_printable fields:
 * bytes outside printable ASCII (line ends kept) become '.'. */
static json_t *printable(const uint8_t *p, size_t n) {
    char buf[EMB_DEV_VALUE_MAX];
    if (n > sizeof(buf))
        n = sizeof(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] =
            (char)((p[i] >= 0x20 && p[i] < 0x7F) || p[i] == '\r' || p[i] == '\n' || p[i] == '\t'
                       ? p[i]
                       : '.');
    return json_stringn(buf, n);
}

static json_t *build_http(const emb_app_info_t *in) {
    const emb_http_request_t *h = &in->http;
    json_t *o = json_object();
    if (in->http_status)
        json_object_set_new(o, "status", json_integer(in->http_status));
    if (in->resp && in->resp->server) {
        json_t *hs = json_array(), *kv = json_object();
        json_object_set_new(kv, "name", json_string("Server"));
        json_object_set_new(kv, "value", emb__eve_string(in->resp->server, in->resp->server_len));
        json_array_append_new(hs, kv);
        json_object_set_new(o, "response_headers", hs);
    }
    if (in->body_len > 0)
        json_object_set_new(o, "http_response_body_printable", printable(in->body, in->body_len));
    if (!in->have_request)
        return o;
    if (h->host) {
        /* As Suricata: the name without its port, the port apart. */
        size_t name_len, port;
        emb__host_split(h->host, h->host_len, &name_len, &port);
        const uint8_t *name = h->host;
        if (name_len >= 2 && name[0] == '[') {
            name++;
            name_len -= 2;
        }
        /* lower-cased, as Suricata logs it */
        char lower[256];
        size_t n = name_len < sizeof(lower) ? name_len : sizeof(lower);
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        json_object_set_new(o, "hostname", emb__eve_string(lower, n));
        if (port > 0)
            json_object_set_new(o, "http_port", json_integer((json_int_t)port));
    }
    json_object_set_new(o, "url", emb__eve_string(h->uri, h->uri_len));
    if (h->user_agent)
        json_object_set_new(o, "http_user_agent",
                            emb__eve_string(h->user_agent, h->user_agent_len));
    json_object_set_new(o, "http_method", emb__eve_string(h->method, h->method_len));
    json_object_set_new(o, "protocol", emb__eve_string(h->version, h->version_len));
    return o;
}

/* As Suricata's sip logger: the request or the status line, and its parts. */
static json_t *build_sip(const emb_app_info_t *in) {
    json_t *o = json_object();
    if (in->resp) {
        const emb_http_response_t *r = in->resp;
        char code[8];
        snprintf(code, sizeof(code), "%u", r->status);
        json_object_set_new(o, "version", emb__eve_string(r->version, r->version_len));
        json_object_set_new(o, "code", json_string(code));
        size_t rs = r->version_len + 5;
        if (r->line_len > rs)
            json_object_set_new(o, "reason", emb__eve_string(in->resp_line + rs, r->line_len - rs));
        json_object_set_new(o, "response_line", emb__eve_string(in->resp_line, r->line_len));
    } else if (in->req_line) {
        const emb_http_request_t *q = &in->http;
        json_object_set_new(o, "method", emb__eve_string(q->method, q->method_len));
        json_object_set_new(o, "uri", emb__eve_string(q->uri, q->uri_len));
        json_object_set_new(o, "version", emb__eve_string(q->version, q->version_len));
        json_object_set_new(o, "request_line", emb__eve_string(in->req_line, q->line_len));
    }
    return o;
}

static json_t *build_snmp(const emb_app_info_t *in) {
    const emb_snmp_t *sn = in->snmp;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(sn->version));
    json_object_set_new(o, "pdu_type", json_string(emb__snmp_pdu_name(sn->pdu)));
    if (sn->nshown > 0) {
        json_t *vars = json_array();
        for (size_t i = 0; i < sn->nshown; i++)
            json_array_append_new(vars, json_string(sn->vars[i]));
        json_object_set_new(o, "vars", vars);
    }
    json_object_set_new(o, "community", emb__eve_string(sn->community, sn->community_len));
    return o;
}

static json_t *ip4_string(const uint8_t a[4]) {
    char buf[16];
    snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return json_string(buf);
}

/* A MAC address in lower case, as Suricata writes them. */
static void mac_lower(const uint8_t mac[6], char out[18]) {
    emb__mac_text(mac, out);
    for (char *c = out; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
}

static json_t *build_dhcp(const emb_app_info_t *in) {
    const emb_dhcp_t *dh = in->dhcp;
    json_t *o = json_object();
    char mac[18];
    mac_lower(dh->chaddr, mac);
    json_object_set_new(o, "type", json_string(dh->op == 1 ? "request" : "reply"));
    json_object_set_new(o, "id", json_integer(dh->xid));
    json_object_set_new(o, "client_mac", json_string(mac));
    json_object_set_new(o, "client_ip", ip4_string(dh->ciaddr));
    if (dh->has_requested)
        json_object_set_new(o, "requested_ip", ip4_string(dh->requested));
    if (dh->msg_type)
        json_object_set_new(o, "dhcp_type", json_string(emb__dhcp_type_name(dh->msg_type)));
    if (dh->hostname)
        json_object_set_new(o, "hostname", emb__eve_string(dh->hostname, dh->hostname_len));
    if (dh->vendor_class)
        json_object_set_new(o, "vendor_class_identifier",
                            emb__eve_string(dh->vendor_class, dh->vendor_class_len));
    return o;
}

/*
 * alert.context.embargo.device: who the device is (the sender of the message,
 * or the address DHCP names, or its MAC) and what it said, by name.
 */
static json_t *build_device(const emb_eve_alert_t *a) {
    const emb_app_info_t *in = a->info;
    json_t *o = json_object();
    json_object_set_new(o, "protocol", json_string(in->dev_proto));
    if (in->dev_host[0])
        json_object_set_new(o, "host", json_string(in->dev_host));
    else
        json_object_set_new(o, "host", addr_string(a->pkt->family, a->pkt->src));
    if (a->pkt->has_mac) {
        char mac[18];
        emb__mac_text(a->pkt->src_mac, mac);
        json_object_set_new(o, "mac", json_string(mac));
    }
    for (size_t i = 0; i < in->ndev; i++) {
        const emb_dev_kv_t *kv = &in->dev[i];
        if (json_object_get(o, kv->name) == NULL)
            json_object_set_new(o, kv->name, emb__eve_string(kv->value, kv->len));
    }
    return o;
}

static json_t *build_flow(const emb_flow_t *f) {
    json_t *o = json_object();
    char ts[40];
    json_object_set_new(o, "pkts_toserver", json_integer((json_int_t)f->pkts_toserver));
    json_object_set_new(o, "pkts_toclient", json_integer((json_int_t)f->pkts_toclient));
    json_object_set_new(o, "bytes_toserver", json_integer((json_int_t)f->bytes_toserver));
    json_object_set_new(o, "bytes_toclient", json_integer((json_int_t)f->bytes_toclient));
    emb__eve_timestamp(f->start_sec, f->start_usec, ts, sizeof(ts));
    json_object_set_new(o, "start", json_string(ts));
    json_object_set_new(o, "src_ip", addr_string(f->family, f->cli));
    json_object_set_new(o, "dest_ip", addr_string(f->family, f->srv));
    json_object_set_new(o, "src_port", json_integer(f->cli_port));
    json_object_set_new(o, "dest_port", json_integer(f->srv_port));
    return o;
}

int emb__eve_alert(const emb_eve_alert_t *a, emb_eve_buf_t *buf) {
    const emb_decoded_t *d = a->pkt;
    char ts[40];
    emb__eve_timestamp(a->ts_sec, a->ts_usec, ts, sizeof(ts));

    json_t *o = json_object();
    if (o == NULL)
        return EMB_ENOMEM;
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "flow_id", json_integer((json_int_t)a->flow->flow_id));
    json_object_set_new(o, "pcap_cnt", json_integer((json_int_t)a->pcap_cnt));
    json_object_set_new(o, "event_type", json_string("alert"));
    json_object_set_new(o, "src_ip", addr_string(d->family, d->src));
    json_object_set_new(o, "src_port", json_integer(d->sport));
    json_object_set_new(o, "dest_ip", addr_string(d->family, d->dst));
    json_object_set_new(o, "dest_port", json_integer(d->dport));
    json_object_set_new(o, "proto", json_string(d->proto == 6 ? "TCP" : "UDP"));
    json_object_set_new(o, "pkt_src", json_string("wire/pcap"));
    if (d->nvlan > 0) {
        json_t *vl = json_array();
        for (size_t i = 0; i < d->nvlan; i++)
            json_array_append_new(vl, json_integer(d->vlan[i]));
        json_object_set_new(o, "vlan", vl);
    }
    json_object_set_new(o, "direction", json_string(a->to_server ? "to_server" : "to_client"));
    json_t *al = build_alert_object(a->rules, a->rule, a->field, a->value, a->value_len,
                                    a->confidence, a->no_name, a->evidence, a->excepted);
    json_object_set_new(o, "alert", al);
    const emb_app_info_t *dev = a->info;
    if (dev && dev->dev_proto)
        json_object_set_new(json_object_get(json_object_get(al, "context"), "embargo"), "device",
                            build_device(a));
    if (dev && dev->mac) {
        char mac[18];
        mac_lower(d->src_mac, mac);
        json_t *eth = json_object();
        json_object_set_new(eth, "src_mac", json_string(mac));
        json_object_set_new(o, "ether", eth);
    }

    static const char *const app_names[] = {NULL,   "dns", "tls",  "http",
                                            "quic", "sip", "snmp", "dhcp"};
    const emb_app_info_t *in = a->info;
    if (in && in->app != EMB_APP_NONE) {
        json_object_set_new(o, "app_proto", json_string(app_names[in->app]));
        /* TLS that began inside another protocol (STARTTLS): Suricata names
         * the protocol the flow switched from, as for any protocol change. */
        const char *orig = in->app == EMB_APP_TLS && a->flow->app_proto == EMB_AP_STARTTLS_TLS
                               ? emb__starttls_name((emb_starttls_proto_t)a->flow->plain_proto)
                               : NULL;
        if (orig)
            json_object_set_new(o, "app_proto_orig", json_string(orig));
        switch (in->app) {
        case EMB_APP_DNS: json_object_set_new(o, "dns", build_dns(in)); break;
        case EMB_APP_TLS: json_object_set_new(o, "tls", build_tls(in)); break;
        case EMB_APP_HTTP: json_object_set_new(o, "http", build_http(in)); break;
        case EMB_APP_QUIC: json_object_set_new(o, "quic", build_quic(in)); break;
        case EMB_APP_SIP: json_object_set_new(o, "sip", build_sip(in)); break;
        case EMB_APP_SNMP: json_object_set_new(o, "snmp", build_snmp(in)); break;
        case EMB_APP_DHCP: json_object_set_new(o, "dhcp", build_dhcp(in)); break;
        case EMB_APP_NONE: break;
        }
    }
    json_object_set_new(o, "flow", build_flow(a->flow));

    int rc = 0;
    size_t need = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (need == 0) {
        rc = EMB_ENOMEM;
    } else {
        if (need > buf->cap) {
            char *p = realloc(buf->data, need);
            if (p == NULL) {
                rc = EMB_ENOMEM;
                goto out;
            }
            buf->data = p;
            buf->cap = need;
        }
        buf->len = json_dumpb(o, buf->data, buf->cap, JSON_COMPACT);
    }
out:
    json_decref(o);
    return rc;
}

void emb__eve_buf_free(emb_eve_buf_t *buf) {
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

char *emb__eve_stats(const emb_stats_t *st, int64_t ts_sec, uint32_t ts_usec, uint64_t uptime_s) {
    char ts[40];
    emb__eve_timestamp(ts_sec, ts_usec, ts, sizeof(ts));
    json_t *o = json_object();
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "event_type", json_string("stats"));

    json_t *dec = json_object();
    json_object_set_new(dec, "pkts", json_integer((json_int_t)st->packets));
    json_object_set_new(dec, "bytes", json_integer((json_int_t)st->bytes));
    json_object_set_new(dec, "invalid",
                        json_integer((json_int_t)(st->invalid + st->truncated + st->unsupported)));
    json_t *flow = json_object();
    json_object_set_new(flow, "total", json_integer((json_int_t)st->flows));
    json_object_set_new(flow, "tcp_reuse", json_integer((json_int_t)st->flows_reused));
    json_t *mgr = json_object();
    json_object_set_new(mgr, "flows_evicted", json_integer((json_int_t)st->flows_evicted));
    json_object_set_new(flow, "mgr", mgr);
    json_t *tcp = json_object();
    json_object_set_new(tcp, "midstream_pickups", json_integer((json_int_t)st->tcp_midstream));
    json_object_set_new(tcp, "overlap", json_integer((json_int_t)st->stream_overlaps));
    json_object_set_new(tcp, "reassembly_gap", json_integer((json_int_t)st->stream_gaps));
    json_object_set_new(tcp, "segment_memcap_drop",
                        json_integer((json_int_t)st->stream_memcap_refused));
    json_t *det = json_object();
    json_object_set_new(det, "alert", json_integer((json_int_t)st->alerts));
    json_object_set_new(det, "alerts_suppressed", json_integer((json_int_t)st->alerts_suppressed));

    json_t *stats = json_object();
    json_object_set_new(stats, "uptime", json_integer((json_int_t)uptime_s));
    json_object_set_new(stats, "decoder", dec);
    json_object_set_new(stats, "flow", flow);
    json_object_set_new(stats, "tcp", tcp);
    json_object_set_new(stats, "detect", det);
    if (st->live_capture) {
        json_t *cap = json_object();
        json_object_set_new(cap, "kernel_packets", json_integer((json_int_t)st->kernel_packets));
        json_object_set_new(cap, "kernel_drops", json_integer((json_int_t)st->kernel_drops));
        json_object_set_new(cap, "kernel_ifdrops", json_integer((json_int_t)st->kernel_ifdrops));
        json_object_set_new(stats, "capture", cap);
    }
    json_object_set_new(o, "stats", stats);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}
