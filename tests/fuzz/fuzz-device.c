/*
 * libFuzzer target: what devices say of themselves (protocols/device.c).
 * The first byte picks the parser: 0 SNMP, 1 DHCP, 2 DHIP (and the JSON
 * lookups of its body), 3 the XML lookups of WS-Discovery, SADP, ONVIF and
 * TR-069, 4 the HTTP/RTSP/SIP heads with Server and Location; the rest is the
 * message.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1, *v;
    size_t n = size - 1, vn;
    switch (data[0] % 5) {
    case 0: {
        emb_snmp_t sn;
        (void)emb__snmp_parse(p, n, &sn);
        break;
    }
    case 1: {
        emb_dhcp_t dh;
        (void)emb__dhcp_parse(p, n, &dh);
        break;
    }
    case 2: {
        const uint8_t *body;
        size_t bn;
        if (emb__dhip_body(p, n, &body, &bn) == EMB_X_OK) {
            (void)emb__json_str(body, bn, "DeviceType", &v, &vn);
            (void)emb__json_str(body, bn, "Vendor", &v, &vn);
        }
        (void)emb__json_str(p, n, "DeviceType", &v, &vn);
        break;
    }
    case 3: {
        static const char *const names[] = {
            "Envelope",     "ProbeMatches", "Hello",  "Scopes",   "ProbeMatch", "DeviceDescription",
            "Manufacturer", "Model",        "Inform", "DeviceId", "OUI"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            (void)emb__xml_has(p, n, names[i]);
            (void)emb__xml_text(p, n, names[i], &v, &vn);
        }
        break;
    }
    default: {
        emb_http_request_t req;
        emb_http_response_t resp;
        (void)emb__http_parse_request(p, n, &req);
        (void)emb__http_parse_response(p, n, &resp);
        break;
    }
    }
    return 0;
}
