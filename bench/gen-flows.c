/*
 * gen-flows: writes a pcap with many distinct flows, to load the flow table,
 * reassembly and DNS paths the way a busy sensor would.
 *
 *     gen-flows -n FLOWS -o OUT.pcap [-s SEED]
 *
 * Flows alternate between a TCP connection (SYN, then a TLS ClientHello
 * with a benign SNI split over two segments, so reassembly buffers are
 * used) and a UDP DNS query. Addresses and ports come from a seeded
 * generator: the same arguments give the same bytes.
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
static uint32_t ts_sec = 1727697600, ts_usec;

static void write_packet(const uint8_t *frame, size_t len) {
    uint32_t hdr[4] = {ts_sec, ts_usec, (uint32_t)len, (uint32_t)len};
    if (++ts_usec == 1000000) {
        ts_usec = 0;
        ts_sec++;
    }
    if (fwrite(hdr, sizeof(hdr), 1, out) != 1 || fwrite(frame, len, 1, out) != 1) {
        fprintf(stderr, "gen-flows: write failed: %s\n", strerror(errno));
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

int main(int argc, char **argv) {
    unsigned long flows = 0;
    const char *path = NULL;
    unsigned long seed = 1;
    int c;
    while ((c = getopt(argc, argv, "n:o:s:")) != -1) {
        switch (c) {
        case 'n': flows = strtoul(optarg, NULL, 10); break;
        case 'o': path = optarg; break;
        case 's': seed = strtoul(optarg, NULL, 10); break;
        default: goto usage;
        }
    }
    if (flows == 0 || path == NULL)
        goto usage;
    rng_state = seed;
    out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "gen-flows: %s: %s\n", path, strerror(errno));
        return 2;
    }
    /* pcap file header: magic, version 2.4, snaplen 65535, Ethernet */
    uint32_t fh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(fh, sizeof(fh), 1, out);

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
    if (fclose(out) != 0) {
        fprintf(stderr, "gen-flows: %s: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
usage:
    fprintf(stderr, "usage: gen-flows -n FLOWS -o OUT.pcap [-s SEED]\n");
    return 2;
}
