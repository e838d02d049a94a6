/*
 * What a message's sender says it is: the device keys (docs/rules.md,
 * "Devices"). inspect.c hands over the messages that can carry them: HTTP,
 * RTSP and SIP responses and requests, datagrams, and each direction's first
 * Ethernet header; here their fields are scanned in rounds whose alerts name
 * the sender as the device (alert.context.embargo.device).
 */
#include "detect/devices.h"
#include "detect/round.h"

#include "common/names.h"

#include <stdio.h>
#include <string.h>

/* Starts a round whose fields a device gave of itself: the sender of the
 * message is the device (docs/rules.md, "Devices"). */
static void device_begin(emb_engine_t *e, const char *proto) {
    emb__round_begin(e);
    e->app.dev_proto = proto;
    e->stats.device_messages++;
}

/* A SIP message (RFC 3261 section 20.41 User-Agent, 20.35 Server): a phone,
 * door station or gateway names its make in either. */
int emb__device_sip(emb_engine_t *e, const uint8_t *p, const emb_http_request_t *req,
                    const emb_http_response_t *resp) {
    device_begin(e, "sip");
    e->app.app = EMB_APP_SIP;
    const uint8_t *ua = NULL, *server = NULL;
    size_t ua_len = 0, server_len = 0;
    if (resp) {
        e->app.resp = resp;
        e->app.resp_line = p;
        ua = resp->user_agent, ua_len = resp->user_agent_len;
        server = resp->server, server_len = resp->server_len;
    } else if (req != NULL) {
        e->app.http = *req;
        e->app.req_line = p;
        ua = req->user_agent, ua_len = req->user_agent_len;
        server = req->server, server_len = req->server_len;
    }
    int rc = emb__round_scan_device(e, EMB_FIELD_SIP_USER_AGENT, "user_agent", ua, ua_len);
    if (rc == 0)
        rc = emb__round_scan_device(e, EMB_FIELD_SIP_USER_AGENT, "server", server, server_len);
    return rc != 0 ? rc : emb__round_end(e);
}

/* The first bytes of a body: past the first chunk-size line when chunked
 * (RFC 9112 section 7.1; leading zeros and extensions allowed), and no
 * further than that chunk; at most EMB_BODY_HEAD. */
static const uint8_t *body_head(const uint8_t *b, size_t n, bool chunked, size_t *len) {
    *len = n > EMB_BODY_HEAD ? EMB_BODY_HEAD : n;
    if (!chunked)
        return b;
    size_t i = 0, size = 0;
    while (i < n && emb__hexval(b[i]) >= 0) {
        size = size > EMB_BODY_HEAD ? size : size * 16 + (size_t)emb__hexval(b[i]);
        i++;
    }
    const uint8_t *nl = i > 0 ? memchr(b + i, '\n', n - i) : NULL;
    if (nl == NULL) {
        *len = 0;
        return b;
    }
    size_t skip = (size_t)(nl - b) + 1;
    *len = n - skip < size ? n - skip : size;
    if (*len > EMB_BODY_HEAD)
        *len = EMB_BODY_HEAD;
    return b + skip;
}

bool emb__device_body_ready(const uint8_t *b, size_t n, int64_t body, bool chunked) {
    if (chunked) /* its size line (a long one is not waited for) */
        return memchr(b, '\n', n < 32 ? n : 32) != NULL || n >= 32;
    if (body < 0) /* read until the connection closes: the first segment will do */
        return n > 0;
    return n >= (size_t)(body < EMB_BODY_HEAD ? body : EMB_BODY_HEAD);
}

/*
 * A response's head: the Server header of HTTP (http.server) or RTSP
 * (rtsp.server), or a SIP response's User-Agent and Server.
 */
int emb__device_response(emb_engine_t *e, const uint8_t *p) {
    const emb_http_response_t *r = &e->resp;
    if (r->proto == EMB_MSG_SIP)
        return emb__device_sip(e, p, NULL, r);
    bool rtsp = r->proto == EMB_MSG_RTSP;
    device_begin(e, rtsp ? "rtsp" : "http");
    e->app.resp = r;
    e->app.resp_line = p;
    if (!rtsp) {
        e->app.app = EMB_APP_HTTP;
        e->app.http_status = r->status;
    }
    int rc = emb__round_scan_device(e, rtsp ? EMB_FIELD_RTSP_SERVER : EMB_FIELD_HTTP_SERVER,
                                    "server", r->server, r->server_len);
    return rc != 0 ? rc : emb__round_end(e);
}

/*
 * An HTTP response body's first bytes (http.response_body), and an ONVIF
 * GetDeviceInformation answer in them (ONVIF Device Management Service
 * Specification, section 8.3.1: Manufacturer, Model).
 */
int emb__device_response_body(emb_engine_t *e, const uint8_t *body, size_t body_len) {
    const emb_http_response_t *r = &e->resp;
    size_t n;
    const uint8_t *b = body_head(body, body_len, r->chunked, &n);
    if (n == 0)
        return 0;
    bool onvif = emb__xml_has(b, n, "GetDeviceInformationResponse");
    device_begin(e, onvif ? "onvif" : "http");
    e->app.app = EMB_APP_HTTP;
    e->app.http_status = r->status;
    e->app.resp = r;
    e->app.body = b;
    e->app.body_len = n;
    int rc = emb__round_scan(e, EMB_FIELD_HTTP_RESPONSE_BODY, b, n);
    const uint8_t *v;
    size_t vn;
    if (rc == 0 && onvif && emb__xml_text(b, n, "Manufacturer", &v, &vn))
        rc = emb__round_scan_device(e, EMB_FIELD_ONVIF_DEVICE, "manufacturer", v, vn);
    if (rc == 0 && onvif && emb__xml_text(b, n, "Model", &v, &vn))
        rc = emb__round_scan_device(e, EMB_FIELD_ONVIF_DEVICE, "model", v, vn);
    return rc != 0 ? rc : emb__round_end(e);
}

/*
 * A request body: a TR-069 Inform (CWMP, TR-069 Amendment 6 section A.3.3.1)
 * names the CPE in its DeviceId: Manufacturer, OUI, ProductClass.
 */
int emb__device_request_body(emb_engine_t *e, const emb_http_request_t *req, const uint8_t *body,
                             size_t body_len) {
    size_t n;
    const uint8_t *b = body_head(body, body_len, req->chunked, &n);
    if (n == 0 || !emb__xml_has(b, n, "Inform") || !emb__xml_has(b, n, "DeviceId"))
        return 0;
    device_begin(e, "cwmp");
    e->app.app = EMB_APP_HTTP;
    e->app.http = *req;
    e->app.have_request = true;
    const uint8_t *v;
    size_t vn;
    int rc = 0;
    if (emb__xml_text(b, n, "Manufacturer", &v, &vn))
        rc = emb__round_scan_device(e, EMB_FIELD_CWMP_MANUFACTURER, "manufacturer", v, vn);
    if (rc == 0 && emb__xml_text(b, n, "ProductClass", &v, &vn))
        rc = emb__round_scan_device(e, EMB_FIELD_CWMP_MANUFACTURER, "product_class", v, vn);
    if (rc == 0 && emb__xml_text(b, n, "OUI", &v, &vn))
        rc = emb__round_scan_device(e, EMB_FIELD_CWMP_OUI, "oui", v, vn);
    return rc != 0 ? rc : emb__round_end(e);
}

/*
 * A round of `field` over the values `get` finds in p under each of `names`
 * (the first of each); none found, no round.
 */
static int scan_values(emb_engine_t *e, const char *proto, emb_field_t field, const uint8_t *p,
                       size_t len, const char *const *names, size_t n,
                       bool (*get)(const uint8_t *, size_t, const char *, const uint8_t **,
                                   size_t *)) {
    const uint8_t *v;
    size_t vn;
    bool begun = false;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!get(p, len, names[i], &v, &vn))
            continue;
        if (!begun)
            device_begin(e, proto);
        begun = true;
        rc = emb__round_scan_device(e, field, names[i], v, vn);
    }
    return rc != 0 || !begun ? rc : emb__round_end(e);
}

/* Splits a WS-Discovery Scopes list (white-space separated URIs) and scans
 * each: "onvif://www.onvif.org/name/..." and ".../hardware/...". */
static int scan_scopes(emb_engine_t *e, const uint8_t *v, size_t n) {
    size_t i = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
            i++;
        size_t s = i;
        while (i < n && v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
            i++;
        if (i > s)
            rc = emb__round_scan_device(e, EMB_FIELD_ONVIF_SCOPE, "scope", v + s, i - s);
    }
    return rc;
}

/*
 * An XML datagram: a WS-Discovery ProbeMatches or Hello (the OASIS WS-DD 1.1
 * and 2005/04 drafts, as ONVIF Core section 7.3 uses them; a Probe is a
 * question and is not read), or a Hikvision SADP ProbeMatch (UDP 37020).
 */
static int xml_datagram(emb_engine_t *e, const uint8_t *p, size_t len) {
    const uint8_t *v;
    size_t n;
    int rc = 0;
    if (emb__xml_has(p, len, "Envelope")) {
        /* The message is what the Body holds first: a Probe carrying an element
         * named Hello elsewhere is still a question. */
        size_t at;
        if (!emb__xml_first_child(p, len, "Body", "ProbeMatches", &at) &&
            !emb__xml_first_child(p, len, "Body", "Hello", &at))
            return 0;
        if (!emb__xml_text(p + at, len - at, "Scopes", &v, &n))
            return 0;
        device_begin(e, "ws-discovery");
        rc = scan_scopes(e, v, n);
        return rc != 0 ? rc : emb__round_end(e);
    }
    /* SADP answers on its own port (UniversalScanner, Hikvision.cs). */
    if (e->cur.d->sport != 37020 && e->cur.d->dport != 37020)
        return 0;
    if (!emb__xml_has(p, len, "ProbeMatch"))
        return 0;
    static const char *const sadp[] = {"DeviceDescription", "DeviceSN", "DeviceType"};
    return scan_values(e, "sadp", EMB_FIELD_SADP_DEVICE, p, len, sadp, 3, emb__xml_text);
}

/* A DHCP client's message: its host name (option 12) and vendor class (60). */
static int dhcp_round(emb_engine_t *e, const uint8_t *p, size_t len) {
    emb_dhcp_t *dh = &e->dhcp;
    emb_x_result_t x = emb__dhcp_parse(p, len, dh);
    if ((x != EMB_X_OK && x != EMB_X_TRUNCATED) || dh->op != 1 ||
        (dh->hostname == NULL && dh->vendor_class == NULL))
        return 0;
    device_begin(e, "dhcp");
    e->app.app = EMB_APP_DHCP;
    e->app.dhcp = dh;
    /* The client often has no address yet: the one it asks for, or its MAC. */
    const uint8_t *a = dh->ciaddr[0] || dh->ciaddr[1] || dh->ciaddr[2] || dh->ciaddr[3] ? dh->ciaddr
                       : dh->has_requested ? dh->requested
                                           : NULL;
    if (a)
        snprintf(e->app.dev_host, sizeof(e->app.dev_host), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    else
        emb__mac_text(dh->chaddr, e->app.dev_host);
    int rc = emb__round_scan_device(e, EMB_FIELD_DHCP_HOSTNAME, "hostname", dh->hostname,
                                    dh->hostname_len);
    if (rc == 0)
        rc = emb__round_scan_device(e, EMB_FIELD_DHCP_VENDOR_CLASS, "vendor_class",
                                    dh->vendor_class, dh->vendor_class_len);
    return rc != 0 ? rc : emb__round_end(e);
}

/* An SNMP Response, InformRequest or v2 Trap: sysDescr.0 and sysObjectID.0. */
static int snmp_round(emb_engine_t *e, const uint8_t *p, size_t len) {
    emb_snmp_t *sn = &e->snmp;
    if (emb__snmp_parse(p, len, sn) != EMB_X_OK ||
        (sn->pdu != 0xA2 && sn->pdu != 0xA6 && sn->pdu != 0xA7) ||
        (sn->sysdescr == NULL && sn->sysobjectid_len == 0))
        return 0;
    device_begin(e, "snmp");
    e->app.app = EMB_APP_SNMP;
    e->app.snmp = sn;
    int rc = emb__round_scan_device(e, EMB_FIELD_SNMP_SYSDESCR, "sysdescr", sn->sysdescr,
                                    sn->sysdescr_len);
    if (rc == 0)
        rc = emb__round_scan_device(e, EMB_FIELD_SNMP_SYSOBJECTID, "sysobjectid", sn->sysobjectid,
                                    sn->sysobjectid_len);
    return rc != 0 ? rc : emb__round_end(e);
}

/* A Dahua DHIP discovery answer: the JSON names the Vendor and DeviceType. */
static int dhip_round(emb_engine_t *e, const uint8_t *p, size_t len) {
    const uint8_t *body;
    size_t n;
    if (emb__dhip_body(p, len, &body, &n) != EMB_X_OK)
        return 0;
    static const char *const keys[] = {"DeviceType", "deviceType", "Vendor"};
    return scan_values(e, "dhip", EMB_FIELD_DHIP_DEVICE, body, n, keys, 3, emb__json_str);
}

/*
 * What a datagram may say of its sender: DHCP (by port), SNMP (a BER
 * SEQUENCE), DHIP (its magic), SIP and SSDP (HTTP's syntax over UDP: SSDP is
 * HTTPU, UPnP Device Architecture 2.0 section 1), WS-Discovery and SADP (XML).
 */
int emb__device_datagram(emb_engine_t *e, const uint8_t *p, size_t len) {
    const emb_decoded_t *d = e->cur.d;
    if (len < 8)
        return 0;
        /* Each protocol is read only when the pack has a key it feeds. */
#define HAS(k) emb__engine_has_key(e, EMB_K_##k)
    if (d->sport == 67 || d->sport == 68 || d->dport == 67 || d->dport == 68)
        return HAS(DHCP_VENDOR_CLASS) || HAS(DHCP_HOSTNAME) ? dhcp_round(e, p, len) : 0;
    if (p[0] == 0x30)
        return HAS(SNMP_SYSDESCR) || HAS(SNMP_SYSOBJECTID) ? snmp_round(e, p, len) : 0;
    if (memcmp(p + 4, "DHIP", 4) == 0)
        return HAS(DHIP_DEVICE) ? dhip_round(e, p, len) : 0;
    if (p[0] == '<')
        return HAS(ONVIF_SCOPE) || HAS(SADP_DEVICE) ? xml_datagram(e, p, len) : 0;
    if (!HAS(SSDP_SERVER) && !HAS(SSDP_LOCATION) && !HAS(SIP_USER_AGENT))
        return 0;
#undef HAS
    emb_http_response_t *r = &e->resp;
    if (emb__http_parse_response(p, len, r) == EMB_X_OK) {
        if (r->proto == EMB_MSG_SIP)
            return emb__device_sip(e, p, NULL, r);
        if (r->proto != EMB_MSG_HTTP)
            return 0;
        device_begin(e, "ssdp");
    } else {
        emb_http_request_t *req = &e->app.http;
        if (emb__http_parse_request(p, len, req) != EMB_X_OK)
            return 0;
        if (req->proto == EMB_MSG_SIP)
            return emb__device_sip(e, p, req, NULL);
        if (req->proto != EMB_MSG_HTTP || req->server == NULL)
            return 0; /* an M-SEARCH asks; a NOTIFY announces (with SERVER) */
        emb_http_request_t copy = *req;
        device_begin(e, "ssdp");
        r->server = copy.server;
        r->server_len = copy.server_len;
        r->location = copy.location;
        r->location_len = copy.location_len;
    }
    int rc = emb__round_scan_device(e, EMB_FIELD_SSDP_SERVER, "server", r->server, r->server_len);
    if (rc == 0)
        rc = emb__round_scan_device(e, EMB_FIELD_SSDP_LOCATION, "location", r->location,
                                    r->location_len);
    return rc != 0 ? rc : emb__round_end(e);
}

/*
 * The head of a message that begins a TCP segment, for a host that hands
 * over segments rather than a stream (Suricata 8 parses no RTSP, and gives a
 * plugin no SIP header): an RTSP response's Server (rtsp.server), a SIP
 * request's or response's User-Agent and Server, as the engine's own flows
 * read them at a message's start (inspect.c, http_stream). The head must be
 * whole in these bytes. Not HTTP: such a host parses HTTP itself.
 */
int emb__device_segment(emb_engine_t *e, const uint8_t *p, size_t len) {
    if (!emb__engine_has_key(e, EMB_K_RTSP_SERVER) && !emb__engine_has_key(e, EMB_K_SIP_USER_AGENT))
        return 0;
    size_t hdr = emb__http_header_end(p, len);
    if (hdr == 0)
        return 0;
    emb_http_response_t *r = &e->resp;
    if (emb__http_parse_response(p, hdr, r) == EMB_X_OK)
        return r->proto == EMB_MSG_HTTP ? 0 : emb__device_response(e, p);
    emb_http_request_t *req = &e->app.http;
    /* an RTSP request names nothing a device key reads; a SIP one is handed over
     * as emb__device_datagram hands it */
    if (emb__http_parse_request(p, hdr, req) != EMB_X_OK || req->proto != EMB_MSG_SIP)
        return 0;
    return emb__device_sip(e, p, req, NULL);
}

/*
 * The Ethernet source of each direction of the flow, on its first packet: an
 * IEEE OUI names the maker of the interface (and only on the local segment:
 * past a router it is the router's). Like every rule, once per flow: a table
 * of addresses already reported would make the output depend on which worker
 * (scan -j, Suricata's threads) saw which flow.
 */
int emb__device_mac(emb_engine_t *e) {
    const emb_decoded_t *d = e->cur.d;
    emb_flow_dir_t *fd = &e->cur.flow->dir[e->cur.to_server ? 0 : 1];
    if (fd->mac_checked || !d->has_mac)
        return 0;
    fd->mac_checked = true;
    char text[18];
    emb__mac_text(d->src_mac, text);
    device_begin(e, "ethernet");
    e->app.mac = true;
    memcpy(e->app.dev_host, text, sizeof(text));
    int rc = emb__round_scan(e, EMB_FIELD_MAC, text, 17);
    /* the value scanned lives in `text`: emit before it goes */
    return rc != 0 ? rc : emb__round_end(e);
}
