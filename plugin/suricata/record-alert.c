/*
 * The alert record written after an EVE record of ours, spliced from the
 * slices record-parse.c kept: the header members and the protocol object are
 * copied as text, never re-encoded, so the alert carries exactly what
 * Suricata wrote. Only the alert object itself (from the engine) is checked
 * here, since it is spliced in as is.
 */
#include "record-json.h"

#include <stdlib.h>
#include <string.h>

/* The protocol object's key in the record, and the app_proto written when
 * the record has none. */
static const char *const app_names[] = {
    [EMBARGO_REC_DNS] = "dns",   [EMBARGO_REC_TLS] = "tls",   [EMBARGO_REC_HTTP] = "http",
    [EMBARGO_REC_QUIC] = "quic", [EMBARGO_REC_FLOW] = "flow",
};

typedef struct {
    char *p;
    size_t n, cap;
} Out;

static void Put(Out *o, const char *s, size_t n) {
    if (o->n < o->cap)
        memcpy(o->p + o->n, s, n <= o->cap - o->n ? n : o->cap - o->n);
    o->n += n;
}

#define PUTS(o, lit) Put((o), (lit), sizeof(lit) - 1)

/* `,"key":` (no comma right after the opening brace: o->n counts every byte,
 * written or not, so 1 means only "{" so far). */
static void PutKey(Out *o, const char *key) {
    if (o->n > 1)
        Put(o, ",", 1);
    Put(o, "\"", 1);
    Put(o, key, strlen(key));
    Put(o, "\":", 2);
}

static void PutSpan(Out *o, const EmbargoRecord *r, const char *key, EmbargoSpan s) {
    if (s.len == 0)
        return;
    PutKey(o, key);
    Put(o, SpanPtr(r, s), s.len);
}

static void PutUint(Out *o, const char *key, uint64_t v) {
    char num[24];
    size_t n = sizeof(num);
    do
        num[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    PutKey(o, key);
    Put(o, num + n, sizeof(num) - n);
}

/* Did the server send what matched? Then the alert is written to_client. */
static bool ServerSide(const EmbargoRecord *r, const char *field) {
    if (field == NULL)
        return r->dns_response;
    if (strncmp(field, "tls.cert", 8) == 0)
        return true;
    return r->dns_response && (strncmp(field, "dns.", 4) == 0 || strcmp(field, "domain") == 0);
}

size_t EmbargoRecordAlertWrite(const EmbargoRecord *r, const char *alert, size_t alert_len,
                               const char *field, char *out, size_t cap) {
    if (r == NULL || r->buf == NULL || r->type == EMBARGO_REC_OTHER || r->unchecked ||
        alert == NULL)
        return 0;
    /* The alert text must be exactly one object: it is spliced in as is. */
    Cur c = {alert, alert + alert_len};
    Ws(&c);
    if (c.p >= c.end || *c.p != '{' || !EmbargoJsonSkipValue(&c, 1))
        return 0;
    Ws(&c);
    if (c.p != c.end)
        return 0;

    bool to_client = ServerSide(r, field) || r->to_client;
    bool swap = to_client != r->to_client;
    Out o = {out, 0, out ? cap : 0};
    /* The header, in Suricata's order. */
    PUTS(&o, "{");
    PutSpan(&o, r, "timestamp", r->timestamp);
    if (r->flow_id != 0)
        PutUint(&o, "flow_id", r->flow_id);
    PutSpan(&o, r, "in_iface", r->in_iface);
    if (r->has_pcap_cnt)
        PutUint(&o, "pcap_cnt", r->pcap_cnt);
    PutKey(&o, "event_type");
    PUTS(&o, "\"alert\"");
    PutSpan(&o, r, "vlan", r->vlan);
    PutSpan(&o, r, "src_ip", swap ? r->dest_ip : r->src_ip);
    int32_t sp = swap ? r->dest_port : r->src_port, dp = swap ? r->src_port : r->dest_port;
    if (sp >= 0)
        PutUint(&o, "src_port", (uint64_t)sp);
    PutSpan(&o, r, "dest_ip", swap ? r->src_ip : r->dest_ip);
    if (dp >= 0)
        PutUint(&o, "dest_port", (uint64_t)dp);
    PutSpan(&o, r, "proto", r->proto);
    PutSpan(&o, r, "pkt_src", r->pkt_src);
    PutSpan(&o, r, "community_id", r->community_id);
    if (to_client)
        PUTS(&o, ",\"direction\":\"to_client\"");
    else
        PUTS(&o, ",\"direction\":\"to_server\"");
    PUTS(&o, ",\"alert\":");
    Put(&o, alert, alert_len);
    /* app_proto: the record's, else the protocol of the record (not for flows) */
    if (r->app_proto.len != 0)
        PutSpan(&o, r, "app_proto", r->app_proto);
    else if (r->type != EMBARGO_REC_FLOW) {
        PUTS(&o, ",\"app_proto\":\"");
        Put(&o, app_names[r->type], strlen(app_names[r->type]));
        PUTS(&o, "\"");
    }
    PutSpan(&o, r, app_names[r->type], r->app);
    PUTS(&o, "}");
    return o.n;
}

char *EmbargoRecordAlert(const EmbargoRecord *r, const char *alert_json, size_t *len) {
    if (len == NULL)
        return NULL;
    *len = 0;
    if (alert_json == NULL)
        return NULL;
    size_t alen = strlen(alert_json);
    size_t n = EmbargoRecordAlertWrite(r, alert_json, alen, NULL, NULL, 0);
    if (n == 0)
        return NULL;
    char *text = malloc(n + 1);
    if (text == NULL)
        return NULL;
    (void)EmbargoRecordAlertWrite(r, alert_json, alen, NULL, text, n);
    text[n] = '\0';
    *len = n;
    return text;
}
