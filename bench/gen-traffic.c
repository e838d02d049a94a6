/*
 * gen-traffic: writes deterministic captures for the benchmarks.
 *
 *     gen-traffic -n FLOWS -o OUT.pcap [-s SEED]
 *         many distinct short flows: a TCP connection whose TLS ClientHello
 *         (benign SNI) is split over two segments, or a UDP DNS query;
 *         loads the flow table, reassembly and DNS paths
 *     gen-traffic -m MIB -o OUT.pcap [-v PERCENT] [-s SEED]
 *         a realistic mix of about MIB mebibytes: DNS lookups and answers,
 *         TLS handshakes followed by encrypted bulk, HTTP requests with
 *         responses, QUIC-looking UDP, bulk TCP transfers and UDP media;
 *         PERCENT of the named flows (default 2) go to banned vendors' hosts
 *
 * Addresses, ports and payloads come from a seeded generator: the same
 * arguments give the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

static uint32_t rng(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static FILE *out;
static uint64_t bytes_out;
static uint32_t ts_sec = 1727697600, ts_usec;

static void write_packet(const uint8_t *frame, size_t len) {
    uint32_t hdr[4] = {ts_sec, ts_usec, (uint32_t)len, (uint32_t)len};
    if (++ts_usec == 1000000) {
        ts_usec = 0;
        ts_sec++;
    }
    bytes_out += 16 + len;
    if (fwrite(hdr, sizeof(hdr), 1, out) != 1 || fwrite(frame, len, 1, out) != 1) {
        fprintf(stderr, "gen-traffic: write failed: %s\n", strerror(errno));
        exit(2);
    }
}

/* Ethernet + IPv4 + L4 header into f; returns the offset of the L4 payload. */
static size_t headers(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                      uint16_t dport, uint32_t seq, uint8_t flags, size_t payload) {
    static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
    memcpy(f, eth, 14);
    uint8_t *ip = f + 14;
    size_t l4 = proto == 6 ? 20 : 8;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4 + payload));
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    uint8_t *t = ip + 20;
    memset(t, 0, l4);
    put16(t, sport);
    put16(t + 2, dport);
    if (proto == 6) {
        put32(t + 4, seq);
        t[12] = 0x50;
        t[13] = flags;
        put16(t + 14, 65535);
    } else {
        put16(t + 4, (uint16_t)(8 + payload));
    }
    return 14 + 20 + l4;
}

/* A TLS 1.2 ClientHello record carrying `sni`; returns its length. */
static size_t client_hello(uint8_t *p, const char *sni) {
    size_t n = strlen(sni);
    size_t ext = 9 + n; /* server_name extension */
    size_t body = 2 + 32 + 1 + 4 + 2 + 2 + ext;
    p[0] = 0x16;
    put16(p + 1, 0x0301);
    put16(p + 3, (uint16_t)(4 + body));
    p[5] = 1;
    p[6] = 0;
    put16(p + 7, (uint16_t)body);
    uint8_t *b = p + 9;
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        b[2 + i] = (uint8_t)rng();
    b[34] = 0;        /* session id */
    put16(b + 35, 2); /* cipher suites */
    put16(b + 37, 0xc02f);
    b[39] = 1; /* compression: null */
    b[40] = 0;
    put16(b + 41, (uint16_t)ext); /* extensions */
    put16(b + 43, 0);             /* server_name */
    put16(b + 45, (uint16_t)(5 + n));
    put16(b + 47, (uint16_t)(3 + n));
    b[49] = 0;
    put16(b + 50, (uint16_t)n);
    memcpy(b + 52, sni, n);
    return 9 + body;
}

/* A DNS query for `name` (dotted); returns its length. */
static size_t dns_query(uint8_t *p, const char *name) {
    put16(p, (uint16_t)rng());
    put16(p + 2, 0x0100);
    put16(p + 4, 1);
    memset(p + 6, 0, 6);
    size_t n = 12;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        p[n++] = (uint8_t)l;
        memcpy(p + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    put16(p + n, 1);
    put16(p + n + 2, 1);
    return n + 4;
}

/* Names the mix looks up and connects to: mostly benign, some vendors'. */
static const char *const vendor_names[] = {"s01.upd.kaspersky.com",
                                           "dc1.ksn.kaspersky-labs.com",
                                           "activation-v2.kaspersky.com",
                                           "metrics1.data.hicloud.com",
                                           "api.hik-connect.com",
                                           "openapi.easy4ip.com",
                                           "log16-normal-c-useast1a.tiktokv.com",
                                           "mydjiflight.dji.com"};

static void name_for(char *buf, size_t cap, unsigned vendor_pct) {
    if (rng() % 100 < vendor_pct)
        snprintf(buf, cap, "%s",
                 vendor_names[rng() % (sizeof(vendor_names) / sizeof(*vendor_names))]);
    else
        snprintf(buf, cap, "www%u.site%u.example.com", rng() % 50, rng() % 5000);
}

/* A TCP flow: handshake, `req` from the client, then `resp_bytes` from the
 * server in full-size segments, and the client's ACKs every other one. */
static void tcp_flow(uint32_t cli, uint32_t srv, uint16_t sport, uint16_t dport, const uint8_t *req,
                     size_t req_len, size_t resp_bytes) {
    uint8_t frame[2048], body[1448];
    uint32_t cseq = rng(), sseq = rng();
    size_t off = headers(frame, cli, srv, 6, sport, dport, cseq, 0x02, 0);
    write_packet(frame, off);
    off = headers(frame, srv, cli, 6, dport, sport, sseq, 0x12, 0);
    write_packet(frame, off);
    cseq++;
    sseq++;
    off = headers(frame, cli, srv, 6, sport, dport, cseq, 0x10, 0);
    write_packet(frame, off);
    if (req_len) {
        off = headers(frame, cli, srv, 6, sport, dport, cseq, 0x18, req_len);
        memcpy(frame + off, req, req_len);
        write_packet(frame, off + req_len);
        cseq += (uint32_t)req_len;
    }
    for (size_t sent = 0, n = 0; sent < resp_bytes; n++) {
        size_t len = resp_bytes - sent < sizeof(body) ? resp_bytes - sent : sizeof(body);
        for (size_t k = 0; k < len; k += 4) {
            uint32_t r = rng();
            memcpy(body + k, &r, len - k < 4 ? len - k : 4);
        }
        if (n == 0 && dport == 80) /* an HTTP response header first */
        {
            static const char hdr[] =
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
            memcpy(body, hdr, sizeof(hdr) - 1);
        }
        off = headers(frame, srv, cli, 6, dport, sport, sseq, 0x10, len);
        memcpy(frame + off, body, len);
        write_packet(frame, off + len);
        sseq += (uint32_t)len;
        sent += len;
        if (n % 2 == 1) {
            off = headers(frame, cli, srv, 6, sport, dport, cseq, 0x10, 0);
            write_packet(frame, off);
        }
    }
    off = headers(frame, cli, srv, 6, sport, dport, cseq, 0x11, 0);
    write_packet(frame, off);
}

static void udp_packets(uint32_t a, uint32_t b, uint16_t sport, uint16_t dport, size_t n,
                        size_t len, uint8_t first) {
    uint8_t frame[2048];
    for (size_t i = 0; i < n; i++) {
        size_t off = headers(frame, a, b, 17, sport, dport, 0, 0, len);
        for (size_t k = 0; k < len; k++)
            frame[off + k] = (uint8_t)rng();
        frame[off] = first;
        write_packet(frame, off + len);
    }
}

static void mix(uint64_t target, unsigned vendor_pct) {
    uint8_t msg[1024];
    char name[96];
    while (bytes_out < target) {
        uint32_t cli = 0x0a000000u | (rng() & 0x0000ffffu); /* 10.0.0.0/16: 65k hosts */
        uint32_t srv = 0xc6120000u | (rng() & 0x0001ffffu); /* 198.18.0.0/15 */
        uint16_t sport = (uint16_t)(1024 + rng() % 64000);
        unsigned kind = rng() % 100;
        if (kind < 30) { /* DNS lookup and its answer */
            name_for(name, sizeof(name), vendor_pct);
            size_t n = dns_query(msg, name);
            uint8_t frame[2048];
            size_t off = headers(frame, cli, 0x08080808u, 17, sport, 53, 0, 0, n);
            memcpy(frame + off, msg, n);
            write_packet(frame, off + n);
            msg[2] = 0x81; /* response, RD RA */
            msg[3] = 0x80;
            static const uint8_t answer[16] = {0xc0, 0x0c, 0, 1, 0,   1,  0, 0,
                                               1,    0x2c, 0, 4, 198, 18, 0, 1};
            msg[7] = 1; /* ANCOUNT */
            memcpy(msg + n, answer, sizeof(answer));
            off = headers(frame, 0x08080808u, cli, 17, 53, sport, 0, 0, n + sizeof(answer));
            memcpy(frame + off, msg, n + sizeof(answer));
            write_packet(frame, off + n + sizeof(answer));
        } else if (kind < 55) { /* TLS: ClientHello, then encrypted bulk */
            name_for(name, sizeof(name), vendor_pct);
            size_t n = client_hello(msg, name);
            tcp_flow(cli, srv, sport, 443, msg, n, 4000 + rng() % 60000);
        } else if (kind < 70) { /* HTTP request and response */
            name_for(name, sizeof(name), vendor_pct);
            int n = snprintf((char *)msg, sizeof(msg),
                             "GET /files/%u/data.bin HTTP/1.1\r\nHost: %s\r\n"
                             "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\n\r\n",
                             rng() % 100000, name);
            tcp_flow(cli, srv, sport, 80, msg, (size_t)n, 2000 + rng() % 40000);
        } else if (kind < 78) { /* QUIC-looking long-header datagrams on 443 */
            udp_packets(cli, srv, sport, 443, 3 + rng() % 10, 1200, 0xc3);
        } else if (kind < 90) { /* bulk TCP (file transfer) */
            tcp_flow(cli, srv, sport, 445, NULL, 0, 50000 + rng() % 200000);
        } else { /* UDP media */
            udp_packets(cli, srv, sport, 5004, 20 + rng() % 60, 200 + rng() % 1000, 0x80);
        }
    }
}

static void short_flows(unsigned long flows) {
    uint8_t frame[2048], hello[512], msg[512];
    char name[64];
    for (unsigned long i = 0; i < flows; i++) {
        uint32_t client = 0x0a000000u | (rng() & 0x00ffffffu); /* 10.0.0.0/8 */
        uint32_t server = 0xc6120000u | (rng() & 0x0001ffffu); /* 198.18.0.0/15 */
        uint16_t sport = (uint16_t)(1024 + rng() % 64000);
        snprintf(name, sizeof(name), "h%lu.example.net", i);
        if (i % 2 == 0) {
            uint32_t isn = rng();
            size_t off = headers(frame, client, server, 6, sport, 443, isn, 0x02, 0);
            write_packet(frame, off);
            size_t n = client_hello(hello, name);
            size_t half = n / 2;
            off = headers(frame, client, server, 6, sport, 443, isn + 1, 0x18, half);
            memcpy(frame + off, hello, half);
            write_packet(frame, off + half);
            off = headers(frame, client, server, 6, sport, 443, isn + 1 + (uint32_t)half, 0x18,
                          n - half);
            memcpy(frame + off, hello + half, n - half);
            write_packet(frame, off + n - half);
        } else {
            size_t n = dns_query(msg, name);
            size_t off = headers(frame, client, server, 17, sport, 53, 0, 0, n);
            memcpy(frame + off, msg, n);
            write_packet(frame, off + n);
        }
    }
}

int main(int argc, char **argv) {
    unsigned long flows = 0, mib = 0, vendor_pct = 2;
    const char *path = NULL;
    unsigned long seed = 1;
    int c;
    while ((c = getopt(argc, argv, "n:m:v:o:s:")) != -1) {
        switch (c) {
        case 'n': flows = strtoul(optarg, NULL, 10); break;
        case 'm': mib = strtoul(optarg, NULL, 10); break;
        case 'v': vendor_pct = strtoul(optarg, NULL, 10); break;
        case 'o': path = optarg; break;
        case 's': seed = strtoul(optarg, NULL, 10); break;
        default: goto usage;
        }
    }
    if ((flows == 0) == (mib == 0) || path == NULL || vendor_pct > 100)
        goto usage;
    rng_state = seed;
    out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "gen-traffic: %s: %s\n", path, strerror(errno));
        return 2;
    }
    /* pcap file header: magic, version 2.4, snaplen 65535, Ethernet */
    uint32_t fh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(fh, sizeof(fh), 1, out);
    if (mib)
        mix((uint64_t)mib << 20, (unsigned)vendor_pct);
    else
        short_flows(flows);
    if (fclose(out) != 0) {
        fprintf(stderr, "gen-traffic: %s: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
usage:
    fprintf(stderr, "usage: gen-traffic -n FLOWS -o OUT.pcap [-s SEED]\n"
                    "       gen-traffic -m MIB -o OUT.pcap [-v VENDOR_PERCENT] [-s SEED]\n");
    return 2;
}
