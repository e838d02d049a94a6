/*
 * libFuzzer target: the whole pipeline. The input is a capture file (pcap or
 * pcapng), read by libpcap from memory (fmemopen + pcap_fopen_offline) as the
 * `embargo` command reads a file, and every packet goes through one engine
 * built once from the shipped rule pack (EMBARGO_RULES_DIR). Alerts are
 * rendered and discarded. The engine keeps its flows between inputs, as a
 * long capture would; its tables are made small so that eviction and
 * timeouts are exercised too. Every packet is also fed to a second engine
 * (emb_engine_feed), as another worker's DNS is in `embargo live -j N` and
 * in Suricata 8's transactions mode: its feeder parses what it can; and its
 * bytes past the first 42 (Ethernet, IPv4, UDP) are handed to that engine as
 * a host's datagram (emb_engine_match_datagram), on a port of each device
 * protocol in turn, as Suricata 8's packet prefilter hands them, and as the
 * next stretch of a TCP stream (emb_engine_match_stream) with overlaps and
 * gaps, as a TCP segment that may begin an RTSP or SIP head
 * (emb_engine_match_segment), and as the body of an HTTP request or response
 * (emb_engine_match_http_body), as Suricata 8's HTTP parser keeps one.
 */
#include <embargo/embargo.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static emb_rules_t *rules;
static emb_engine_t *engine;
static emb_engine_t *other; /* fed every packet */

static int on_alert(const emb_alert_t *a, void *userdata) {
    size_t *n = userdata;
    /* The record must be one line of the length it claims. */
    if (a->eve == NULL || a->eve_len == 0 || memchr(a->eve, '\n', a->eve_len) != NULL)
        abort();
    (*n)++;
    return 0;
}

/* A datagram's match names its device. */
static int on_device(const emb_match_t *m, void *userdata) {
    (void)userdata;
    if (m->device_protocol == NULL || m->device_host == NULL || m->field == NULL ||
        (m->value_len > 0 && m->value == NULL) || (m->ndevice_values > 0 && !m->device_values))
        abort();
    for (size_t i = 0; i < m->ndevice_values; i++) {
        const emb_device_value_t *v = &m->device_values[i];
        char json[64];
        if (v->name == NULL || (v->len > 0 && v->value == NULL) ||
            emb_json_string(v->value, v->len, json, sizeof(json)) < 2)
            abort();
    }
    return 0;
}

/* A stream's match is a payload pattern's. */
static int on_match(const emb_match_t *m, void *userdata) {
    (void)userdata;
    if (m->field == NULL || strcmp(m->field, "payload") != 0 ||
        (m->value_len > 0 && m->value == NULL))
        abort();
    return 0;
}

static void setup(void) {
    emb_diags_t *diags = NULL;
    if (emb_rules_load(EMBARGO_RULES_DIR, &rules, &diags) != 0) {
        fprintf(stderr, "fuzz-pipeline: cannot load %s\n", EMBARGO_RULES_DIR);
        abort();
    }
    emb_config_t cfg;
    emb_config_init(&cfg);
    cfg.max_flows = 512;
    cfg.stream_memcap = 1u << 20;
    cfg.defrag_max = 32;
    cfg.defrag_memcap = 256u << 10;
    cfg.attrib_max = 256;
    if (emb_engine_new(rules, &cfg, &engine, &diags) != 0 ||
        emb_engine_new(rules, &cfg, &other, &diags) != 0) {
        fprintf(stderr, "fuzz-pipeline: cannot build the engine\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (engine == NULL)
        setup();
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (f == NULL)
        return 0;
    char errbuf[PCAP_ERRBUF_SIZE];
    /* pcap_close closes f; when the open fails, f is still ours. */
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (pc == NULL) {
        fclose(f);
        return 0;
    }
    int link = pcap_datalink(pc);
    struct pcap_pkthdr *hdr;
    const u_char *pkt;
    uint64_t cnt = 0;
    size_t alerts = 0;
    while (pcap_next_ex(pc, &hdr, &pkt) == 1) {
        emb_packet_t p = {.ts_sec = hdr->ts.tv_sec,
                          .ts_usec = (uint32_t)hdr->ts.tv_usec,
                          .linktype = link,
                          .data = pkt,
                          .caplen = hdr->caplen,
                          .len = hdr->len,
                          .pcap_cnt = ++cnt};
        int rc = emb_engine_process(engine, &p, on_alert, &alerts);
        if (rc != 0 && rc != EMB_ENOMEM)
            abort();
        rc = emb_engine_feed(other, &p);
        if (rc != 0 && rc != EMB_ENOMEM)
            abort();
        static const uint16_t ports[] = {1900, 3702, 5060, 161, 68, 37020, 37810, 9999};
        emb_facts_t dg = {.family = 4,
                          .proto = 17,
                          .client = {192, 0, 2, 1},
                          .server = {192, 0, 2, 2},
                          .client_port = ports[cnt % 8],
                          .server_port = ports[(cnt / 8) % 8]};
        size_t off = hdr->caplen < 42 ? hdr->caplen : 42;
        rc = emb_engine_match_datagram(other, &dg, (cnt & 1) != 0, pkt + off, hdr->caplen - off,
                                       on_device, NULL);
        if (rc != 0)
            abort();
        /* The same bytes as the next stretch of a TCP stream (emb_engine_match_stream, as
         * Suricata 8's raw stream hands them): given again from up to past the lookback
         * before where the last one ended, or after a gap; a new stream every 64 packets. */
        static emb_stream_scan_t st;
        if (cnt % 64 == 1)
            st = (emb_stream_scan_t){0};
        uint64_t back = (cnt * 37) % (emb_engine_stream_lookback(other) + 64);
        uint64_t at =
            cnt % 16 == 0 ? st.scanned + 100 : st.scanned - (back < st.scanned ? back : st.scanned);
        dg.proto = 6;
        rc = emb_engine_match_stream(other, &dg, &st, pkt + off, hdr->caplen - off, at, on_match,
                                     NULL);
        if (rc != 0)
            abort();
        rc = emb_engine_match_segment(other, &dg, (cnt & 2) != 0, pkt + off, hdr->caplen - off,
                                      on_device, NULL);
        if (rc != 0)
            abort();
        rc = emb_engine_match_http_body(other, &dg, (cnt & 4) != 0, (int)(cnt % 600), pkt + off,
                                        hdr->caplen - off, on_device, NULL);
        if (rc != 0)
            abort();
    }
    pcap_close(pc);
    emb_stats_t st;
    emb_engine_stats(engine, &st);
    return 0;
}
