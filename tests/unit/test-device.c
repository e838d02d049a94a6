/*
 * Unit tests for device.c and the device side of http.c: what devices say
 * of themselves.
 *
 * Covered: SNMPv1/v2c messages (sysDescr and sysObjectID found among other
 * variables, in any order; a GetRequest's NULL values; v3 refused; lengths that
 * run past the message; long-form lengths; OID arcs over 127), DHCP options
 * (pad, end, cut options, a BOOTREPLY, no magic cookie), DHIP (magic, body
 * that is not JSON), the XML lookups (namespace prefixes, a longer element
 * of the same prefix, an empty element, a cut end tag), the JSON lookup (a key
 * as a value, escapes), RTSP and SIP heads with Server, User-Agent and
 * Location, and MAC prefixes in rule files.
 */
#include "pack/pack.h"
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static bool slice_is(const uint8_t *p, size_t n, const char *want) {
    return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- SNMP ----------------------------------------------------------------- */

/* An SNMPv2c GetResponse (RFC 3416 section 3; BER as X.690): community
 * "public", request-id 7, then sysUpTime.0 = 42, sysObjectID.0 =
 * 1.3.6.1.4.1.2011.2.239 (arc 2011 needs two bytes, 239 two), sysDescr.0. */
static const uint8_t snmp_response[] = {
    0x30, 0x4c,                                                    /* message */
    0x02, 0x01, 0x01,                                              /* version 1: v2c */
    0x04, 0x06, 'p',  'u',  'b',  'l',  'i',  'c',                 /* community */
    0xa2, 0x3f,                                                    /* GetResponse */
    0x02, 0x01, 0x07, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,          /* id, status, index */
    0x30, 0x34,                                                    /* bindings */
    0x30, 0x0d, 0x06, 0x08, 0x2b, 6,    1,    2,    1,    1, 3, 0, /* sysUpTime.0 */
    0x43, 0x01, 42,                                                /* TimeTicks */
    0x30, 0x13, 0x06, 0x08, 0x2b, 6,    1,    2,    1,    1, 2, 0, /* sysObjectID.0 */
    0x06, 0x07, 0x2b, 6,    1,    4,    1,    0x8f, 0x5b,          /* 1.3.6.1.4.1.2011 */
    0x30, 0x0e, 0x06, 0x08, 0x2b, 6,    1,    2,    1,    1, 1, 0, /* sysDescr.0 */
    0x04, 0x02, 'V',  'R',                                         /* "VR" */
};

Test(snmp, response_with_sysdescr_and_sysobjectid) {
    emb_snmp_t sn;
    cr_assert_eq(emb__snmp_parse(snmp_response, sizeof(snmp_response), &sn), EMB_X_OK);
    cr_assert_eq(sn.version, 2);
    cr_assert_eq(sn.pdu, 0xa2);
    cr_assert_eq(sn.request_id, 7);
    cr_assert(slice_is(sn.community, sn.community_len, "public"));
    cr_assert(slice_is(sn.sysdescr, sn.sysdescr_len, "VR"));
    cr_assert_str_eq(sn.sysobjectid, "1.3.6.1.4.1.2011");
    cr_assert_eq(sn.nvars, 3);
    cr_assert_str_eq(sn.vars[0], "1.3.6.1.2.1.1.3.0");
    cr_assert_str_eq(emb__snmp_pdu_name(sn.pdu), "response");
}

Test(snmp, every_cut_of_the_response_is_refused_or_partial) {
    /* A message cut anywhere: never a sysDescr read past the cut. */
    for (size_t n = 0; n < sizeof(snmp_response); n++) {
        emb_snmp_t sn;
        emb_x_result_t x = emb__snmp_parse(snmp_response, n, &sn);
        cr_assert_neq(x, EMB_X_OK, "a cut at %zu parsed", n);
        cr_assert_null(sn.sysdescr);
    }
}

Test(snmp, get_request_has_no_values) {
    /* GetRequest of sysDescr.0: the value is NULL (05 00), not an OCTET STRING. */
    static const uint8_t get[] = {0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p',  'u',  'b',
                                  'l',  'i',  'c',  0xa0, 0x19, 0x02, 0x01, 0x01, 0x02, 0x01,
                                  0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08,
                                  0x2b, 6,    1,    2,    1,    1,    1,    0,    0x05, 0x00};
    emb_snmp_t sn;
    cr_assert_eq(emb__snmp_parse(get, sizeof(get), &sn), EMB_X_OK);
    cr_assert_eq(sn.version, 1);
    cr_assert_eq(sn.pdu, 0xa0);
    cr_assert_null(sn.sysdescr);
    cr_assert_eq(sn.sysobjectid_len, 0);
}

Test(snmp, v3_and_other_bytes_are_not_snmp) {
    static const uint8_t v3[] = {0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00};
    emb_snmp_t sn;
    cr_assert_eq(emb__snmp_parse(v3, sizeof(v3), &sn), EMB_X_NONE);
    cr_assert_eq(emb__snmp_parse(S("GET / HTTP/1.1\r\n"), &sn), EMB_X_NONE);
    /* A length that runs past the message. */
    static const uint8_t longer[] = {0x30, 0x7f, 0x02, 0x01, 0x01};
    cr_assert_eq(emb__snmp_parse(longer, sizeof(longer), &sn), EMB_X_TRUNCATED);
    /* Indefinite and huge long-form lengths. */
    static const uint8_t indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00};
    cr_assert_neq(emb__snmp_parse(indefinite, sizeof(indefinite), &sn), EMB_X_OK);
    static const uint8_t huge[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02};
    cr_assert_neq(emb__snmp_parse(huge, sizeof(huge), &sn), EMB_X_OK);
}

Test(snmp, binding_longer_than_its_list_is_invalid) {
    uint8_t m[sizeof(snmp_response)];
    memcpy(m, snmp_response, sizeof(m));
    m[27] = 0x7f; /* the first binding claims more than the list holds */
    emb_snmp_t sn;
    cr_assert_eq(emb__snmp_parse(m, sizeof(m), &sn), EMB_X_INVALID);
}

/* ---- DHCP ----------------------------------------------------------------- */

/* A DHCPREQUEST (RFC 2131 section 2) with options 53, 50, 60, 12, a pad, end. */
static size_t dhcp_request(uint8_t *m, size_t cap, bool end) {
    memset(m, 0, cap);
    m[0] = 1; /* BOOTREQUEST */
    m[1] = 1; /* Ethernet */
    m[2] = 6;
    m[4] = 0x39, m[5] = 0x03, m[6] = 0xf3, m[7] = 0x26;
    static const uint8_t mac[6] = {0x00, 0xe0, 0xfc, 0x01, 0x02, 0x03};
    memcpy(m + 28, mac, 6);
    static const uint8_t opts[] = {99, 130, 83,  99,  53,  1,   3,   50, 4,  192, 0,   2,   76, 60,
                                   6,  'H', 'U', 'A', 'W', 'E', 'I', 0,  12, 3,   'P', '3', '0'};
    memcpy(m + 236, opts, sizeof(opts));
    size_t n = 236 + sizeof(opts);
    if (end)
        m[n++] = 255;
    return n;
}

Test(dhcp, request_options) {
    uint8_t m[400];
    size_t n = dhcp_request(m, sizeof(m), true);
    emb_dhcp_t dh;
    cr_assert_eq(emb__dhcp_parse(m, n, &dh), EMB_X_OK);
    cr_assert_eq(dh.op, 1);
    cr_assert_eq(dh.xid, 0x3903f326);
    cr_assert_eq(dh.msg_type, 3);
    cr_assert_str_eq(emb__dhcp_type_name(dh.msg_type), "request");
    cr_assert(dh.has_requested);
    cr_assert_eq(dh.requested[3], 76);
    cr_assert(slice_is(dh.vendor_class, dh.vendor_class_len, "HUAWEI"));
    cr_assert(slice_is(dh.hostname, dh.hostname_len, "P30"));
    cr_assert_eq(dh.chaddr[2], 0xfc);
}

Test(dhcp, cut_options_keep_what_came_before) {
    uint8_t m[400];
    size_t n = dhcp_request(m, sizeof(m), false);
    emb_dhcp_t dh;
    /* No end option: what was read stands. */
    cr_assert_eq(emb__dhcp_parse(m, n, &dh), EMB_X_OK);
    /* Cut inside option 12's value: truncated, option 60 kept, 12 not. */
    cr_assert_eq(emb__dhcp_parse(m, n - 1, &dh), EMB_X_TRUNCATED);
    cr_assert(slice_is(dh.vendor_class, dh.vendor_class_len, "HUAWEI"));
    cr_assert_null(dh.hostname);
    /* Every cut: never a value read past it. */
    for (size_t k = 0; k < n; k++) {
        emb_x_result_t x = emb__dhcp_parse(m, k, &dh);
        if (dh.hostname)
            cr_assert_leq((size_t)(dh.hostname - m) + dh.hostname_len, k);
        (void)x;
    }
}

Test(dhcp, not_dhcp) {
    uint8_t m[400];
    size_t n = dhcp_request(m, sizeof(m), true);
    emb_dhcp_t dh;
    m[236] = 98; /* no magic cookie: plain BOOTP */
    cr_assert_eq(emb__dhcp_parse(m, n, &dh), EMB_X_NONE);
    cr_assert_eq(emb__dhcp_parse(S("hello"), &dh), EMB_X_NONE);
}

/* ---- DHIP, JSON ------------------------------------------------------------ */

Test(dhip, body_after_the_header) {
    uint8_t m[96] = {0x20, 0, 0, 0, 'D', 'H', 'I', 'P'};
    static const char body[] = "{\"method\":\"client.notifyDevInfo\",\"params\":{\"deviceInfo\":"
                               "{\"DeviceType\" : \"IPC-HFW\\\"X\"}}}";
    uint8_t buf[160];
    memcpy(buf, m, 32);
    memcpy(buf + 32, body, sizeof(body) - 1);
    const uint8_t *b, *v;
    size_t bn, vn;
    cr_assert_eq(emb__dhip_body(buf, 32 + sizeof(body) - 1, &b, &bn), EMB_X_OK);
    cr_assert(emb__json_str(b, bn, "DeviceType", &v, &vn));
    cr_assert(slice_is(v, vn, "IPC-HFW\\\"X")); /* escapes left as written */
    cr_assert_not(emb__json_str(b, bn, "Vendor", &v, &vn));
    cr_assert_eq(emb__dhip_body(buf, 32, &b, &bn), EMB_X_TRUNCATED);
    buf[32] = '[';
    cr_assert_eq(emb__dhip_body(buf, 40, &b, &bn), EMB_X_INVALID);
    cr_assert_eq(emb__dhip_body(S("\x20\0\0\0DHIX"), &b, &bn), EMB_X_NONE);
}

Test(json, key_as_a_value_is_not_the_key) {
    const uint8_t *v;
    size_t vn;
    cr_assert(emb__json_str(S("{\"a\":\"Vendor\",\"Vendor\":\"Dahua\"}"), "Vendor", &v, &vn));
    cr_assert(slice_is(v, vn, "Dahua"));
    cr_assert_not(emb__json_str(S("{\"Vendor\": 3}"), "Vendor", &v, &vn));
    cr_assert_not(emb__json_str(S("{\"Vendor\":\"unterminated"), "Vendor", &v, &vn));
    cr_assert_not(emb__json_str(S("{\"Vendor\":\"\"}"), "Vendor", &v, &vn));
}

/* ---- XML --------------------------------------------------------------------- */

Test(xml, prefixes_and_lookalikes) {
    static const char doc[] = "<env:Body><tds:ManufacturerName>no</tds:ManufacturerName>"
                              "<tds:Manufacturer>\r\n HIKVISION </tds:Manufacturer>"
                              "<Model/><Model>DS-2CD</Model></env:Body>";
    const uint8_t *v;
    size_t vn;
    cr_assert(emb__xml_text(S(doc), "Manufacturer", &v, &vn));
    cr_assert(slice_is(v, vn, "HIKVISION"));
    cr_assert(emb__xml_text(S(doc), "Model", &v, &vn), "the empty <Model/> is skipped");
    cr_assert(slice_is(v, vn, "DS-2CD"));
    cr_assert(emb__xml_has(S(doc), "Body"));
    cr_assert_not(emb__xml_has(S(doc), "Env"));
    /* An end tag cut off: no text. */
    cr_assert_not(emb__xml_text(S("<a:Scopes>onvif://x"), "Scopes", &v, &vn));
    /* A name inside text or an attribute is not an element. */
    cr_assert_not(emb__xml_has(S("<a x=\"Hello\">Hello</a>"), "Hello"));
}

Test(xml, probe_match_is_not_probe_matches) {
    cr_assert(emb__xml_has(S("<d:ProbeMatches><d:ProbeMatch>"), "ProbeMatch"));
    cr_assert_not(emb__xml_has(S("<d:ProbeMatches></d:ProbeMatches>"), "ProbeMatch"));
    cr_assert_not(emb__xml_has(S("<d:Probe><d:Scopes/></d:Probe>"), "ProbeMatches"));
}

/* ---- HTTP's syntax: RTSP and SIP ---------------------------------------------- */

Test(http_device, rtsp_and_sip_responses) {
    emb_http_response_t r;
    cr_assert_eq(emb__http_parse_response(
                     S("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Dahua Rtsp Server\r\n\r\n"), &r),
                 EMB_X_OK);
    cr_assert_eq(r.proto, EMB_MSG_RTSP);
    cr_assert(slice_is(r.server, r.server_len, "Dahua Rtsp Server"));
    cr_assert_eq(
        emb__http_parse_response(
            S("SIP/2.0 401 Unauthorized\r\nUser-Agent: a\r\nServer: Huawei SoftX3000\r\n"), &r),
        EMB_X_OK);
    cr_assert_eq(r.proto, EMB_MSG_SIP);
    cr_assert_eq(r.status, 401);
    cr_assert_eq(r.line_len, strlen("SIP/2.0 401 Unauthorized"));
    cr_assert(slice_is(r.user_agent, r.user_agent_len, "a"));
    cr_assert(slice_is(r.server, r.server_len, "Huawei SoftX3000"));
    cr_assert_eq(emb__http_parse_response(S("SIP/3.0 200 OK\r\n"), &r), EMB_X_NONE);
    cr_assert_eq(emb__http_parse_response(S("SIP/2"), &r), EMB_X_TRUNCATED);
}

Test(http_device, ssdp_notify_and_sip_request) {
    emb_http_request_t q;
    cr_assert_eq(emb__http_parse_request(S("NOTIFY * HTTP/1.1\r\nLOCATION:http://a/\r\n"
                                           "SERVER:Linux UPnP/1.0 Huawei-ATP-IGD\r\n\r\n"),
                                         &q),
                 EMB_X_OK);
    cr_assert_eq(q.proto, EMB_MSG_HTTP);
    cr_assert(slice_is(q.server, q.server_len, "Linux UPnP/1.0 Huawei-ATP-IGD"));
    cr_assert(slice_is(q.location, q.location_len, "http://a/"));
    cr_assert_eq(
        emb__http_parse_request(S("REGISTER sip:x SIP/2.0\r\nUser-Agent: ZXHN\r\n\r\n"), &q),
        EMB_X_OK);
    cr_assert_eq(q.proto, EMB_MSG_SIP);
    cr_assert(slice_is(q.user_agent, q.user_agent_len, "ZXHN"));
    cr_assert_eq(emb__http_parse_request(S("OPTIONS rtsp://c/ RTSP/1.0\r\n\r\n"), &q), EMB_X_OK);
    cr_assert_eq(q.proto, EMB_MSG_RTSP);
}

/* ---- MAC prefixes in rule files --------------------------------------------- */

Test(mac_prefix, forms) {
    emb_indicator_t ind;
    char err[160];
    cr_assert_eq(emb__indicator_parse(EMB_K_MAC, "44:19:b6", &ind, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(ind.text, "44:19:B6");
    free(ind.text);
    cr_assert_eq(emb__indicator_parse(EMB_K_MAC, "EC-5B-CD-E", &ind, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(ind.text, "EC:5B:CD:E");
    free(ind.text);
    cr_assert_eq(emb__indicator_parse(EMB_K_MAC, "00:11:22:33:44:55", &ind, err, sizeof(err)), 0);
    free(ind.text);
    static const char *const bad[] = {
        "44:19", "44:19:B6:", "4419B6", "44:19:G6", "00:11:22:33:44:55:66", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(emb__indicator_parse(EMB_K_MAC, bad[i], &ind, err, sizeof(err)), EMB_EINVAL,
                     "'%s' was taken", bad[i]);
        cr_assert(strstr(err, "bad MAC prefix") != NULL, "%s", err);
    }
}
