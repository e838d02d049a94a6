/*
 * A host's UDP datagrams read for what a device says of itself
 * (emb_engine_match_datagram, detect/hosted.c), and the heads of RTSP and SIP
 * messages that begin its TCP segments (emb_engine_match_segment): the rules
 * of device keys they raise, each with its device, as `embargo scan` names
 * it; nothing from a question, from a datagram that is no announcement, from
 * a head cut short or an HTTP response, nor from the rules of addresses and
 * ports. And the bodies of HTTP messages a host parsed
 * (emb_engine_match_http_body): a TR-069 Inform, an ONVIF device's answer.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static emb_rules_t *rules;
static emb_engine_t *engine;

static const char *pack =
    "vendor: acme\nname: Acme\n"
    "bans: [{authority: Test ban, effective: 2024-01-01, reference: https://example.org}]\n"
    "rules:\n"
    "  - {sid: 20, msg: gateway, channel: device, match: [{ssdp.server: Acme-IGD}]}\n"
    "  - {sid: 21, msg: phone, channel: device, match: [{sip.user_agent: 're:^AcmePhone/'}]}\n"
    "  - {sid: 22, msg: handset, channel: device, match: [{dhcp.vendor_class: 'ACME:android'}]}\n"
    "  - {sid: 23, msg: net, channel: cloud, match: [{ip: 192.0.2.0/24}]}\n"
    "  - {sid: 24, msg: update, channel: update, match: [{domain: upd.acme.example}]}\n"
    "  - {sid: 25, msg: interface, channel: device, match: [{mac: '44:19:B6'}]}\n"
    "  - {sid: 26, msg: p2p, channel: cloud, match: [{payload: 're:^DH(GET|POST) /', port: "
    "8800/udp}]}\n"
    "  - {sid: 27, msg: body, channel: update, match: [{payload: KLZF}]}\n"
    "  - {sid: 28, msg: tcp, channel: cloud, match: [{payload: ACMEHELLO, port: 9000/tcp}]}\n"
    "  - {sid: 29, msg: camera, channel: device, match: [{rtsp.server: 're:^Acme Rtsp'}]}\n"
    "  - {sid: 30, msg: cpe, channel: device, match: [{cwmp.manufacturer: 're:^(?i:acme)'}]}\n"
    "  - {sid: 31, msg: onvif, channel: device, match: [{onvif.device: 're:^(?i:acme)$'}]}\n"
    "  - {sid: 32, msg: page, channel: device, match: [{http.response_body: ACME-FIRMWARE}]}\n";

static void setup(void) {
    emb_diags_t *d = NULL;
    rules = test_load_text(pack, &d);
    test_print_diags(d);
    cr_assert_not_null(rules);
    cr_assert_eq(emb_engine_new(rules, NULL, &engine, NULL), 0);
}

static void teardown(void) {
    emb_engine_free(engine);
    emb_rules_free(rules);
}

TestSuite(hosted_devices, .init = setup, .fini = teardown);

typedef struct {
    int n;
    uint32_t sid;
    char field[32], value[64], protocol[16], host[48], key[24];
    char values[160]; /* the device's values, "name=value;..." (emb_match_t.device_values) */
} got_t;

static void copy(char *out, size_t cap, const char *s) {
    snprintf(out, cap, "%s", s != NULL ? s : "(null)");
}

static int on_match(const emb_match_t *m, void *ud) {
    got_t *g = ud;
    g->n++;
    g->sid = m->sid;
    copy(g->field, sizeof(g->field), m->field);
    snprintf(g->value, sizeof(g->value), "%.*s", (int)m->value_len, m->value);
    copy(g->protocol, sizeof(g->protocol), m->device_protocol);
    copy(g->host, sizeof(g->host), m->device_host);
    copy(g->key, sizeof(g->key), m->device_key);
    size_t n = 0;
    g->values[0] = '\0';
    for (size_t i = 0; i < m->ndevice_values && n < sizeof(g->values); i++)
        n += (size_t)snprintf(g->values + n, sizeof(g->values) - n, "%s=%.*s;",
                              m->device_values[i].name, (int)m->device_values[i].len,
                              (const char *)m->device_values[i].value);
    return 0;
}

/* One rule raised, `sid`, with its field and value and the device it names. */
static void expect_device(const got_t *g, uint32_t sid, const char *field, const char *value,
                          const char *protocol, const char *host, const char *key) {
    cr_assert_eq(g->n, 1, "rules raised: %d", g->n);
    cr_assert_eq(g->sid, sid);
    cr_assert_str_eq(g->field, field);
    cr_assert_str_eq(g->value, value);
    cr_assert_str_eq(g->protocol, protocol);
    cr_assert_str_eq(g->host, host);
    cr_assert_str_eq(g->key, key);
}

/* 192.0.2.<client>:<cport> <-> <server>:<sport>, UDP. */
static emb_facts_t udp(uint8_t client, uint16_t cport, const uint8_t server[4], uint16_t sport) {
    emb_facts_t f = {.family = 4, .proto = 17, .client_port = cport, .server_port = sport};
    static const uint8_t net[3] = {192, 0, 2};
    memcpy(f.client, net, 3);
    f.client[3] = client;
    memcpy(f.server, server, 4);
    return f;
}

/* The same endpoints over TCP. */
static emb_facts_t tcp(uint8_t client, uint16_t cport, const uint8_t server[4], uint16_t sport) {
    emb_facts_t f = udp(client, cport, server, sport);
    f.proto = 6;
    return f;
}

typedef int (*message_fn)(emb_engine_t *, const emb_facts_t *, bool, const uint8_t *, size_t,
                          emb_match_cb, void *);

/* `text` handed over as a datagram or a segment (`fn`): what it raised. */
static got_t message(message_fn fn, const emb_facts_t *f, bool from_client, const char *text) {
    got_t g = {0};
    cr_assert_eq(fn(engine, f, from_client, (const uint8_t *)text, strlen(text), on_match, &g), 0);
    return g;
}

static got_t datagram(const emb_facts_t *f, bool from_client, const char *text) {
    return message(emb_engine_match_datagram, f, from_client, text);
}

static got_t segment(const emb_facts_t *f, bool from_client, const char *text) {
    return message(emb_engine_match_segment, f, from_client, text);
}

static const uint8_t ssdp_group[4] = {239, 255, 255, 250};

/* An SSDP announcement (UPnP Device Architecture 2.0 section 1.2.2): the
 * sender, the flow's client here, is the device. */
Test(hosted_devices, an_ssdp_announcement_names_its_sender) {
    emb_facts_t f = udp(70, 1900, ssdp_group, 1900);
    got_t g = datagram(&f, true,
                       "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                       "SERVER: Linux UPnP/1.0 Acme-IGD\r\n"
                       "LOCATION: http://192.0.2.70:80/desc.xml\r\nNTS: ssdp:alive\r\n\r\n");
    expect_device(&g, 20, "ssdp.server", "Linux UPnP/1.0 Acme-IGD", "ssdp", "192.0.2.70", "server");
}

/* An M-SEARCH asks; it says nothing of its sender. Neither does a datagram
 * that is no announcement, nor an empty one; and the address rule (sid 23),
 * which these endpoints would raise, is never reported here. */
Test(hosted_devices, a_question_or_other_datagram_raises_nothing) {
    emb_facts_t f = udp(70, 1900, ssdp_group, 1900);
    got_t g = datagram(&f, true,
                       "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                       "MAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: 2\r\n\r\n");
    cr_assert_eq(g.n, 0);
    g = datagram(&f, true, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00upd.acme.example");
    cr_assert_eq(g.n, 0);
    got_t none = {0};
    cr_assert_eq(emb_engine_match_datagram(engine, &f, true, NULL, 0, on_match, &none), 0);
    cr_assert_eq(none.n, 0);
}

/* A SIP answer from the server side: the device is the flow's server. */
Test(hosted_devices, a_sip_answer_names_the_server) {
    static const uint8_t pbx[4] = {198, 51, 100, 78};
    emb_facts_t f = udp(10, 5060, pbx, 5060);
    got_t g = datagram(&f, false,
                       "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n"
                       "From: <sip:a@example.org>;tag=1\r\nTo: <sip:a@example.org>;tag=2\r\n"
                       "Call-ID: 1@192.0.2.10\r\nCSeq: 1 REGISTER\r\n"
                       "Server: AcmePhone/2.1\r\nContent-Length: 0\r\n\r\n");
    expect_device(&g, 21, "sip.user_agent", "AcmePhone/2.1", "sip", "198.51.100.78", "server");
    /* the same message the other way names the other end */
    g = datagram(&f, true,
                 "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nServer: AcmePhone/2.1\r\n"
                 "Content-Length: 0\r\n\r\n");
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.host, "192.0.2.10");
}

/* An RTSP answer (RFC 2326 section 12.36, Server) begins the camera's first
 * data segment: the device is the flow's server. Its request names nothing;
 * a head not whole in the segment is not read, nor is an HTTP answer's
 * Server (a host reads HTTP itself), nor the same bytes over UDP. */
Test(hosted_devices, an_rtsp_answer_names_the_camera) {
    static const uint8_t cam[4] = {198, 51, 100, 62};
    emb_facts_t f = tcp(11, 50000, cam, 554);
    const char *answer = "RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Acme Rtsp Server\r\n"
                         "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n";
    got_t g = segment(&f, false, answer);
    expect_device(&g, 29, "rtsp.server", "Acme Rtsp Server", "rtsp", "198.51.100.62", "server");
    g = segment(&f, true, "OPTIONS rtsp://198.51.100.62:554/ RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    cr_assert_eq(g.n, 0);
    g = segment(&f, false, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Acme Rtsp Server\r\n");
    cr_assert_eq(g.n, 0, "a head without its empty line");
    g = segment(&f, false, "HTTP/1.1 200 OK\r\nServer: Acme Rtsp Server\r\n\r\n");
    cr_assert_eq(g.n, 0);
    g = datagram(&f, false, answer);
    cr_assert_eq(g.n, 0);
}

/* SIP over TCP (RFC 3261 section 18): a REGISTER's User-Agent names the
 * client; a response's Server names the server. */
Test(hosted_devices, a_sip_message_over_tcp_names_its_sender) {
    static const uint8_t pbx[4] = {198, 51, 100, 78};
    emb_facts_t f = tcp(12, 50600, pbx, 5060);
    got_t g = segment(&f, true,
                      "REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.12:50600\r\n"
                      "CSeq: 1 REGISTER\r\nUser-Agent: AcmePhone/3.0\r\nContent-Length: 0\r\n\r\n");
    expect_device(&g, 21, "sip.user_agent", "AcmePhone/3.0", "sip", "192.0.2.12", "user_agent");
    g = segment(&f, false,
                "SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\nServer: AcmePhone/2.1\r\n"
                "Content-Length: 0\r\n\r\n");
    expect_device(&g, 21, "sip.user_agent", "AcmePhone/2.1", "sip", "198.51.100.78", "server");
    got_t none = {0};
    cr_assert_eq(emb_engine_match_segment(engine, &f, true, NULL, 0, on_match, &none), 0);
    cr_assert_eq(emb_engine_match_segment(NULL, &f, true, (const uint8_t *)"x", 1, on_match, NULL),
                 EMB_EINVAL);
    cr_assert_eq(none.n, 0);
}

/* A DHCP request (RFC 2131, options of RFC 2132): the client has no address
 * yet; the device is the one it asks for (option 50). */
Test(hosted_devices, a_dhcp_request_names_the_address_it_asks_for) {
    uint8_t b[300] = {0};
    b[0] = 1; /* BOOTREQUEST */
    b[1] = 1;
    b[2] = 6;
    static const uint8_t mac[6] = {0x00, 0xe0, 0xfc, 0x12, 0x34, 0x56};
    memcpy(b + 28, mac, 6);
    static const uint8_t cookie[4] = {99, 130, 83, 99};
    memcpy(b + 236, cookie, 4);
    size_t n = 240;
    static const uint8_t type[3] = {53, 1, 3}, asked[6] = {50, 4, 192, 0, 2, 76};
    memcpy(b + n, type, 3);
    n += 3;
    memcpy(b + n, asked, 6);
    n += 6;
    static const char vc[] = "ACME:android:X1";
    b[n++] = 60;
    b[n++] = (uint8_t)(sizeof(vc) - 1);
    memcpy(b + n, vc, sizeof(vc) - 1);
    n += sizeof(vc) - 1;
    b[n++] = 255;
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    emb_facts_t f = udp(0, 68, bcast, 67);
    memset(f.client, 0, 4); /* 0.0.0.0:68 -> 255.255.255.255:67 */
    got_t g = {0};
    cr_assert_eq(emb_engine_match_datagram(engine, &f, true, b, n, on_match, &g), 0);
    expect_device(&g, 22, "dhcp.vendor_class", "ACME:android:X1", "dhcp", "192.0.2.76",
                  "vendor_class");
}

/* A match of facts after a datagram's is no device's, and the facts API
 * still raises what it did. */
Test(hosted_devices, other_matches_carry_no_device) {
    emb_facts_t f = udp(70, 1900, ssdp_group, 1900);
    got_t g = datagram(&f, true, "NOTIFY * HTTP/1.1\r\nSERVER: Acme-IGD\r\n\r\n");
    cr_assert_eq(g.n, 1);
    static const uint8_t edge[4] = {203, 0, 113, 7};
    emb_facts_t c = udp(10, 50000, edge, 53);
    emb_fact_t name = {EMB_FIELD_DNS_QUERY, "s1.upd.acme.example", 19};
    c.facts = &name;
    c.nfacts = 1;
    c.fields_only = true;
    got_t m = {0};
    cr_assert_eq(emb_engine_match(engine, &c, on_match, &m), 0);
    cr_assert_eq(m.n, 1);
    cr_assert_eq(m.sid, 24);
    cr_assert_str_eq(m.protocol, "(null)");
    cr_assert_str_eq(m.host, "(null)");
}

/* An Ethernet source under the rule's IEEE prefix names its interface; another
 * does not. */
Test(hosted_devices, a_mac_prefix_names_the_interface) {
    static const uint8_t server[4] = {198, 51, 100, 9};
    emb_facts_t f = udp(90, 57001, server, 443);
    static const uint8_t ours[6] = {0x44, 0x19, 0xb6, 0x00, 0x00, 0x90};
    got_t g = {0};
    cr_assert_eq(emb_engine_match_mac(engine, &f, ours, on_match, &g), 0);
    expect_device(&g, 25, "mac", "44:19:B6:00:00:90", "ethernet", "44:19:B6:00:00:90", "mac");
    static const uint8_t other[6] = {0x44, 0x19, 0xb7, 0x00, 0x00, 0x90};
    got_t none = {0};
    cr_assert_eq(emb_engine_match_mac(engine, &f, other, on_match, &none), 0);
    cr_assert_eq(none.n, 0);
    cr_assert_eq(emb_engine_match_mac(engine, &f, NULL, on_match, &none), EMB_EINVAL);
}

Test(hosted_devices, bad_arguments) {
    emb_facts_t f = udp(70, 1900, ssdp_group, 1900);
    cr_assert_eq(emb_engine_match_datagram(NULL, &f, true, (const uint8_t *)"x", 1, on_match, NULL),
                 EMB_EINVAL);
    cr_assert_eq(
        emb_engine_match_datagram(engine, NULL, true, (const uint8_t *)"x", 1, on_match, NULL),
        EMB_EINVAL);
    cr_assert_eq(emb_engine_match_datagram(engine, &f, true, NULL, 5, on_match, NULL), EMB_EINVAL);
}

/* A datagram's payload as a fact (what the Suricata 8 transactions mode scans
 * on the ports emb_rules_payload_ports gives): a pattern's port condition
 * holds on the flow's server port, `^` is the datagram's first byte. */
Test(hosted_devices, datagram_payload_patterns_and_their_ports) {
    static uint8_t bits[65536 / 8];
    memset(bits, 0, sizeof(bits));
    cr_assert_eq(emb_rules_payload_ports(rules, SIZE_MAX, 17, bits), 1, "sid 27 holds anywhere");
    for (unsigned p = 0; p < 65536; p++)
        cr_assert_eq((bits[p / 8] >> (p % 8)) & 1, p == 8800, "port %u", p);
    memset(bits, 0, sizeof(bits));
    cr_assert_eq(emb_rules_payload_ports(rules, SIZE_MAX, 6, bits), 1);
    cr_assert_eq((bits[9000 / 8] >> (9000 % 8)) & 1, 1, "9000/tcp over TCP");
    cr_assert_eq((bits[8800 / 8] >> (8800 % 8)) & 1, 0, "8800/udp not over TCP");

    static const uint8_t cloud[4] = {198, 51, 100, 7};
    emb_facts_t f = udp(10, 40000, cloud, 8800);
    const char *text = "DHGET /probe/p2psrv HTTP/1.1\r\n\r\n";
    emb_fact_t bytes = {EMB_FIELD_PAYLOAD, text, strlen(text)};
    f.facts = &bytes;
    f.nfacts = 1;
    f.fields_only = true;
    got_t g = {0};
    cr_assert_eq(emb_engine_match(engine, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sid, 26);
    cr_assert_str_eq(g.field, "payload");

    f.server_port = 8801;
    g = (got_t){0};
    cr_assert_eq(emb_engine_match(engine, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 0, "another port: the condition fails");

    f.server_port = 8800;
    const char *late = "xDHPOST /relay/agent";
    bytes = (emb_fact_t){EMB_FIELD_PAYLOAD, late, strlen(late)};
    g = (got_t){0};
    cr_assert_eq(emb_engine_match(engine, &f, on_match, &g), 0);
    cr_assert_eq(g.n, 0, "the method must begin the datagram");
}

/* An HTTP body the host decoded: `text` as a request's or a response's. */
static got_t http_body(const emb_facts_t *f, bool request, int status, const char *text) {
    got_t g = {0};
    cr_assert_eq(emb_engine_match_http_body(engine, f, request, status, (const uint8_t *)text,
                                            strlen(text), on_match, &g),
                 0);
    return g;
}

/* A TR-069 Inform (TR-069 Amendment 6, A.3.3.1) posted by the CPE, the
 * flow's client, to its ACS: DeviceId's Manufacturer names the device. The
 * same body as a response's, or an Inform without DeviceId, names nothing. */
Test(hosted_devices, a_tr069_inform_names_the_cpe) {
    static const uint8_t acs[4] = {198, 51, 100, 90};
    emb_facts_t f = tcp(14, 51000, acs, 7547);
    const char *inform =
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><soap:Body><cwmp:Inform><DeviceId>"
        "<Manufacturer>Acme Networks</Manufacturer><OUI>00E0FC</OUI>"
        "<ProductClass>HG1</ProductClass><SerialNumber>1</SerialNumber></DeviceId>"
        "</cwmp:Inform></soap:Body></soap:Envelope>";
    got_t g = http_body(&f, true, 0, inform);
    expect_device(&g, 30, "cwmp.manufacturer", "Acme Networks", "cwmp", "192.0.2.14",
                  "manufacturer");
    /* all the Inform said of the CPE, as `embargo scan` lists it in the alert's device */
    cr_assert_str_eq(g.values, "manufacturer=Acme Networks;product_class=HG1;oui=00E0FC;");
    g = http_body(&f, false, 200, inform);
    cr_assert_eq(g.n, 0, "a response's body is no Inform");
    g = http_body(&f, true, 0,
                  "<cwmp:Inform><Event><Manufacturer>Acme</Manufacturer></Event></cwmp:Inform>");
    cr_assert_eq(g.n, 0, "no DeviceId");
}

/* An ONVIF GetDeviceInformationResponse (ONVIF Device Management Service
 * Specification 8.3.1) from the camera, the flow's server; a response body
 * the pack names (http.response_body) with its sender too. Past the first
 * 4,096 bytes nothing is read, as by `embargo scan`. */
Test(hosted_devices, an_onvif_answer_and_a_response_body_name_the_server) {
    static const uint8_t cam[4] = {198, 51, 100, 64};
    emb_facts_t f = tcp(15, 52000, cam, 80);
    const char *answer =
        "<?xml version=\"1.0\"?><env:Envelope><env:Body><tds:GetDeviceInformationResponse>"
        "<tds:Manufacturer>ACME</tds:Manufacturer><tds:Model>CAM-1</tds:Model>"
        "</tds:GetDeviceInformationResponse></env:Body></env:Envelope>";
    got_t g = http_body(&f, false, 200, answer);
    expect_device(&g, 31, "onvif.device", "ACME", "onvif", "198.51.100.64", "manufacturer");
    cr_assert_str_eq(g.values, "manufacturer=ACME;model=CAM-1;");
    g = http_body(&f, true, 0, answer);
    cr_assert_eq(g.n, 0, "a request's body is no answer");

    g = http_body(&f, false, 200, "<html>ACME-FIRMWARE 2.1</html>");
    expect_device(&g, 32, "http.response_body", "<html>ACME-FIRMWARE 2.1</html>", "http",
                  "198.51.100.64", "response_body");
    static char late[4200];
    memset(late, ' ', sizeof(late) - 1);
    memcpy(late + 4096, "ACME-FIRMWARE", 13);
    g = http_body(&f, false, 200, late);
    cr_assert_eq(g.n, 0, "past the body's first 4,096 bytes");
    g = http_body(&f, false, 200, "");
    cr_assert_eq(g.n, 0);
    cr_assert_eq(
        emb_engine_match_http_body(NULL, &f, false, 200, (const uint8_t *)"x", 1, on_match, NULL),
        EMB_EINVAL);
}
