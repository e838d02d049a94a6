/*
 * Rendering of alerts as Suricata EVE JSON lines.
 */
#ifndef EMB_EVE_H
#define EMB_EVE_H

#include "packet/decode.h"
#include "protocols/protocols.h"
#include "packet/flow.h"
#include "pack/pack.h"

typedef enum {
    EMB_APP_NONE,
    EMB_APP_DNS,
    EMB_APP_TLS,
    EMB_APP_HTTP,
    EMB_APP_QUIC,
    EMB_APP_SIP,
    EMB_APP_SNMP,
    EMB_APP_DHCP
} emb_app_t;

#define EMB_DEV_MAX_FIELDS 8
#define EMB_DEV_VALUE_MAX 512 /* longer values are cut, in the match and in EVE */

/* One thing a device said of itself, for alert.context.embargo.device:
 * "server", "location", "sysdescr", ... */
typedef emb_device_value_t emb_dev_kv_t;

/* What the alert's protocol object shows for the message of this round. */
typedef struct {
    emb_app_t app;
    emb_dns_header_t dns;
    emb_dns_question_t questions[EMB_DNS_MAX_QUESTIONS];
    size_t nquestions;
    emb_dns_rr_t rrs[EMB_DNS_MAX_RECORDS];
    size_t nrrs;
    const uint8_t *sni;
    size_t sni_len;
    const char *ja4;
    const emb_tls_cert_t *cert;
    emb_http_request_t http;
    bool have_request;
    uint16_t http_status;
    /* A device describing itself (the device keys): the sender of the
     * message is the device. dev_proto NULL: this round is not one. */
    const char *dev_proto; /* "http", "rtsp", "sip", "ssdp", "onvif", "sadp", ... */
    char dev_host[48];     /* the device's address when it is not the sender's (DHCP) */
    emb_dev_kv_t dev[EMB_DEV_MAX_FIELDS];
    size_t ndev;
    const emb_http_response_t *resp; /* HTTP/RTSP/SIP response of this round, or NULL */
    const uint8_t *resp_line;        /* its status line, for sip.response_line */
    const uint8_t *body;             /* the first bytes of the body looked at */
    size_t body_len;
    const uint8_t *req_line; /* a SIP request's line, for sip.request_line */
    const emb_snmp_t *snmp;
    const emb_dhcp_t *dhcp;
    bool mac; /* the round is the Ethernet source address: write ether.src_mac */
} emb_app_info_t;

/* Everything an alert line says; pointers are borrowed for the call. */
typedef struct {
    int64_t ts_sec;
    uint32_t ts_usec;
    uint64_t pcap_cnt;
    const emb_decoded_t *pkt;
    bool to_server;
    const emb_flow_t *flow;
    const emb_rules_t *rules;
    const emb_rule_t *rule;
    const char *field;
    const char *value;
    size_t value_len;
    emb_confidence_t confidence;     /* metadata.confidence: the rule's, or lowered */
    bool no_name;                    /* the connection carried no name of its own */
    const char *evidence;            /* an ip/port rule: what made the flow a conversation */
    const emb_app_info_t *info;      /* the protocol object; NULL for none */
    const emb_exception_t *excepted; /* a live exception covering it; NULL for none */
} emb_eve_alert_t;

/* A growable output buffer that the engine keeps between alerts. */
typedef struct {
    char *data;
    size_t len, cap;
} emb_eve_buf_t;

/* Renders `a` as one JSON line (no newline) into `buf`. 0 or EMB_ENOMEM. */
int emb__eve_alert(const emb_eve_alert_t *a, emb_eve_buf_t *buf);

/* The `alert` object alone, as JSON text (malloc'd), for hosts that write
 * the rest of the record themselves. NULL when out of memory. */
char *emb__eve_alert_object(const emb_rules_t *rules, const emb_rule_t *rule, const char *field,
                            const char *value, size_t value_len, emb_confidence_t confidence);

/*
 * The constant text of one rule's `alert` object at one confidence (all but
 * context.embargo's field and value), rendered once by emb__eve_alert_template
 * and filled in by emb__eve_alert_fill for each alert, so that writing an
 * alert allocates nothing.
 */
typedef struct {
    char *text;      /* head, then tail; NULL until rendered */
    size_t head_len; /* text before ,"field": */
    size_t tail_len; /* text after the value: confidence, bans, closing braces */
    /* Could not be split (never seen): each alert is rendered whole from these. */
    bool whole;
    const emb_rules_t *rules;
    const emb_rule_t *rule;
    emb_confidence_t confidence;
} emb_eve_alert_tmpl_t;

/* Renders `t` for `rule` and `confidence` as emb__eve_alert_object would
 * write it. 0 or EMB_ENOMEM. */
int emb__eve_alert_template(const emb_rules_t *rules, const emb_rule_t *rule,
                            emb_confidence_t confidence, emb_eve_alert_tmpl_t *t);

/* Writes the alert object of `t` with `field` and `value` into out[0..cap)
 * (no NUL), byte for byte what emb__eve_alert_object gives. Returns the length
 * of the whole text, also when it is more than `cap` (out then holds only a
 * prefix). */
size_t emb__eve_alert_fill(const emb_eve_alert_tmpl_t *t, const char *field, const char *value,
                           size_t value_len, char *out, size_t cap);

void emb__eve_alert_tmpl_free(emb_eve_alert_tmpl_t *t);

/* "2024-09-30T12:00:00.123456+0000" into out (at least 32 bytes). */
void emb__eve_timestamp(int64_t sec, uint32_t usec, char *out, size_t cap);

/*
 * A JSON string for arbitrary bytes: kept as is when they are valid UTF-8,
 * otherwise each byte is read as Latin-1, so nothing is lost or invalid.
 */
struct json_t;
struct json_t *emb__eve_string(const void *p, size_t n);

void emb__eve_buf_free(emb_eve_buf_t *buf);

/* A `stats` record in Suricata's layout (see emb_engine_stats_json). */
char *emb__eve_stats(const emb_stats_t *st, int64_t ts_sec, uint32_t ts_usec, uint64_t uptime_s);

#endif /* EMB_EVE_H */
