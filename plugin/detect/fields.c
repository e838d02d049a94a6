/*
 * The kinds of evidence an alert can rest on, and their one table of names:
 * the field kinds the extractors produce (one Hyperscan database each), then
 * the facts of the flow itself (an address, a port) and DNS attribution.
 * The names are those of the EVE alert's `context.embargo.field`.
 */
#include "detect/fields.h"

static const char *const evidence_names[EMB_EV__COUNT] = {
    [EMB_FIELD_DNS_QUERY] = "dns.query",
    [EMB_FIELD_TLS_SNI] = "tls.sni",
    [EMB_FIELD_HTTP_HOST] = "http.host",
    [EMB_FIELD_HTTP_URI] = "http.uri",
    [EMB_FIELD_HTTP_USER_AGENT] = "http.user_agent",
    [EMB_FIELD_QUIC_SNI] = "quic.sni",
    [EMB_FIELD_TLS_CERT_NAME] = "tls.cert_name",
    [EMB_FIELD_TLS_CERT_SUBJECT] = "tls.cert_subject",
    [EMB_FIELD_TLS_CERT_ISSUER] = "tls.cert_issuer",
    [EMB_FIELD_JA4] = "ja4",
    [EMB_FIELD_PAYLOAD] = "payload",
    [EMB_FIELD_HTTP_SERVER] = "http.server",
    [EMB_FIELD_HTTP_RESPONSE_BODY] = "http.response_body",
    [EMB_FIELD_RTSP_SERVER] = "rtsp.server",
    [EMB_FIELD_SIP_USER_AGENT] = "sip.user_agent",
    [EMB_FIELD_SSDP_SERVER] = "ssdp.server",
    [EMB_FIELD_SSDP_LOCATION] = "ssdp.location",
    [EMB_FIELD_ONVIF_SCOPE] = "onvif.scope",
    [EMB_FIELD_ONVIF_DEVICE] = "onvif.device",
    [EMB_FIELD_SADP_DEVICE] = "sadp.device",
    [EMB_FIELD_DHIP_DEVICE] = "dhip.device",
    [EMB_FIELD_SNMP_SYSDESCR] = "snmp.sysdescr",
    [EMB_FIELD_SNMP_SYSOBJECTID] = "snmp.sysobjectid",
    [EMB_FIELD_CWMP_MANUFACTURER] = "cwmp.manufacturer",
    [EMB_FIELD_CWMP_OUI] = "cwmp.oui",
    [EMB_FIELD_DHCP_VENDOR_CLASS] = "dhcp.vendor_class",
    [EMB_FIELD_DHCP_HOSTNAME] = "dhcp.hostname",
    [EMB_FIELD_MAC] = "mac",
    [EMB_EV_IP] = "ip",
    [EMB_EV_PORT] = "port",
    [EMB_EV_DNS_ATTRIBUTION] = "dns.attribution",
};

const char *emb__evidence_name(emb_evidence_t ev) {
    return (unsigned)ev < EMB_EV__COUNT ? evidence_names[ev] : "unknown";
}

const char *emb__field_name(emb_field_t f) {
    return (unsigned)f < EMB_FIELD__COUNT ? evidence_names[f] : "unknown";
}

bool emb__key_feeds_field(emb_key_t key, emb_field_t f) {
    switch (key) {
    case EMB_K_DOMAIN:
        return f == EMB_FIELD_DNS_QUERY || f == EMB_FIELD_TLS_SNI || f == EMB_FIELD_HTTP_HOST ||
               f == EMB_FIELD_QUIC_SNI || f == EMB_FIELD_TLS_CERT_NAME;
    case EMB_K_DNS_QUERY: return f == EMB_FIELD_DNS_QUERY;
    case EMB_K_TLS_SNI: return f == EMB_FIELD_TLS_SNI;
    case EMB_K_TLS_CERT_SUBJECT: return f == EMB_FIELD_TLS_CERT_SUBJECT;
    case EMB_K_TLS_CERT_ISSUER: return f == EMB_FIELD_TLS_CERT_ISSUER;
    case EMB_K_HTTP_HOST: return f == EMB_FIELD_HTTP_HOST;
    case EMB_K_HTTP_URI: return f == EMB_FIELD_HTTP_URI;
    case EMB_K_HTTP_USER_AGENT: return f == EMB_FIELD_HTTP_USER_AGENT;
    case EMB_K_QUIC_SNI: return f == EMB_FIELD_QUIC_SNI;
    case EMB_K_JA4: return f == EMB_FIELD_JA4;
    case EMB_K_PAYLOAD: return f == EMB_FIELD_PAYLOAD;
    default: break;
    }
    /* Device keys feed the field of the same position, one each. */
    if (key >= EMB_K_HTTP_SERVER && key <= EMB_K_MAC)
        return (int)f - EMB_FIELD_HTTP_SERVER == (int)key - EMB_K_HTTP_SERVER;
    return false;
}

bool emb__field_is_device(emb_field_t f) {
    return f >= EMB_FIELD_HTTP_SERVER && f <= EMB_FIELD_MAC;
}
