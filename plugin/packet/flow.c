/*
 * The flow table: a chained hash over a fixed pool, with an LRU list by time
 * of last packet. Expired flows are reaped from the cold end as packets
 * arrive (a couple per packet, so the cost is spread evenly); when the pool
 * is empty the coldest flow is evicted even if it has not expired.
 *
 * Who is client and who server, and when a packet on the tuple of a flow
 * starts a new connection, follow docs/flows.md: the handshake, else the
 * first message (emb__flow_reorient, called by inspection), else the ports.
 * A new connection on an old tuple (TCP session reuse) takes over the flow's
 * slot with a new flow_id. flow_id is a bijective mix of the number of the packet that created the
 * flow (or of a creation counter when the host numbers no packets): unique
 * in a run (below 2^51 packets), identical between runs and between engines
 * sharing one capture, and below 2^53 so every JSON reader keeps it exact.
 */
#include "packet/flow.h"

#include "common/util.h"

#include "embargo/embargo.h"

#include <stdlib.h>
#include <string.h>

#define REAP_PER_PACKET 2
/* A SYN this far from the highest sequence number its side sent is a new
 * connection (session reuse), not a late or early segment of the old one. */
#define REUSE_WINDOW (1u << 20)

struct emb_flow_table {
    emb_flow_t *pool;
    emb_flow_t *free_list; /* released flows, through hnext */
    size_t pool_next;      /* pool[pool_next..] were never used */
    emb_flow_t **buckets;
    size_t nbuckets; /* a power of two */
    size_t max;
    emb_flow_t *lru_head, *lru_tail; /* head: most recent */
    uint32_t tcp_timeout, udp_timeout;
    uint64_t created, evicted, seq, reused, reoriented, midstream;
    uint64_t id_hint;
    emb_clock_t clock; /* expiry runs on it (packet/clock.h) */
    emb_flow_release_fn on_release;
    void *release_ctx;
};

void emb__flow_table_on_release(emb_flow_table_t *t, emb_flow_release_fn fn, void *ctx) {
    t->on_release = fn;
    t->release_ctx = ctx;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/*
 * A bijection on 51-bit numbers (xor-shifts and odd multipliers modulo 2^51),
 * so distinct creation numbers give distinct, well-spread flow ids.
 */
static uint64_t flow_id_of(uint64_t seq) {
    const uint64_t m = (1ULL << 51) - 1;
    uint64_t x = seq & m;
    x ^= x >> 26;
    x = (x * 0x5bd1e9955bd1e995ULL) & m;
    x ^= x >> 23;
    x = (x * 0x2127599bf4325c37ULL) & m;
    x ^= x >> 27;
    return x;
}

/* A hash that is the same for both directions of a flow. */
/* One side's address and port as a 64-bit value (the decoder zeroes the
 * unused bytes of an IPv4 address, so all 16 can be read). */
static uint64_t side_hash(const uint8_t addr[16], uint16_t port) {
    uint64_t w0, w1;
    memcpy(&w0, addr, 8);
    memcpy(&w1, addr + 8, 8);
    return mix64(w0 ^ mix64(w1 ^ ((uint64_t)port << 48)));
}

static uint32_t tuple_hash(const emb_decoded_t *d) {
    uint64_t ha = side_hash(d->src, d->sport), hb = side_hash(d->dst, d->dport);
    return (uint32_t)mix64((ha ^ hb) + (ha + hb) * 3 + d->proto);
}

int emb__flow_table_new(size_t max_flows, uint32_t tcp_timeout, uint32_t udp_timeout,
                        emb_flow_table_t **out) {
    *out = NULL;
    if (max_flows == 0 || max_flows > (1u << 26))
        return EMB_EINVAL;
    emb_flow_table_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return EMB_ENOMEM;
    t->max = max_flows;
    t->nbuckets = 1;
    while (t->nbuckets < max_flows)
        t->nbuckets <<= 1;
    t->pool = emb__big_alloc(max_flows * sizeof(emb_flow_t));
    t->buckets = emb__big_alloc(t->nbuckets * sizeof(emb_flow_t *));
    if (t->pool == NULL || t->buckets == NULL) {
        emb__flow_table_free(t);
        return EMB_ENOMEM;
    }
    /* The pool is handed out in order (pool_next) before the free list is
     * used, so pages of a large table are touched only as flows arrive. */
    t->tcp_timeout = tcp_timeout;
    t->udp_timeout = udp_timeout;
    *out = t;
    return 0;
}

void emb__flow_table_free(emb_flow_table_t *t) {
    if (t == NULL)
        return;
    if (t->on_release)
        for (emb_flow_t *f = t->lru_head; f; f = f->lru_next)
            t->on_release(f, t->release_ctx);
    emb__big_free(t->pool, t->max * sizeof(emb_flow_t));
    emb__big_free(t->buckets, t->nbuckets * sizeof(emb_flow_t *));
    free(t);
}

static void lru_unlink(emb_flow_table_t *t, emb_flow_t *f) {
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(emb_flow_table_t *t, emb_flow_t *f) {
    f->lru_prev = NULL;
    f->lru_next = t->lru_head;
    if (t->lru_head)
        t->lru_head->lru_prev = f;
    t->lru_head = f;
    if (t->lru_tail == NULL)
        t->lru_tail = f;
}

static void release(emb_flow_table_t *t, emb_flow_t *f) {
    if (t->on_release)
        t->on_release(f, t->release_ctx);
    emb_flow_t **pp = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(t, f);
    f->hnext = t->free_list;
    t->free_list = f;
}

/* Judged by the table's clock, not by the packet's own time, so that whether
 * an idle flow was reaped or not never changes what its next packet finds:
 * the same with one engine and with several (docs/flows.md). */
static bool expired(const emb_flow_table_t *t, const emb_flow_t *f) {
    return emb__clock_past(&t->clock, f->epoch, f->last_sec,
                           f->proto == 6 ? t->tcp_timeout : t->udp_timeout);
}

void emb__flow_table_clock(emb_flow_table_t *t, int64_t sec) {
    emb__clock_tick(&t->clock, sec);
}

/* Follows one TCP direction's sequence numbers and FIN/RST, for reuse. */
static void track_tcp(emb_flow_t *f, const emb_decoded_t *d, bool to_server) {
    emb_flow_dir_t *fd = &f->dir[to_server ? 0 : 1];
    bool syn = d->tcp_flags & EMB_TCP_SYN, fin = d->tcp_flags & EMB_TCP_FIN;
    uint32_t end = d->tcp_seq + (uint32_t)d->payload_len + syn + fin;
    if (syn && !fd->isn_set) {
        fd->isn = d->tcp_seq;
        fd->isn_set = true;
    }
    if (!fd->seq_set || (int32_t)(end - fd->next_seq) > 0) {
        fd->next_seq = end;
        fd->seq_set = true;
    }
    fd->fin |= fin;
    f->rst |= (d->tcp_flags & EMB_TCP_RST) != 0;
    uint8_t fl = d->tcp_flags & (EMB_TCP_SYN | EMB_TCP_ACK | EMB_TCP_RST);
    if (to_server && fl == EMB_TCP_SYN && f->handshake == 0)
        f->handshake = 1;
    else if (!to_server && fl == (EMB_TCP_SYN | EMB_TCP_ACK) && f->handshake == 1)
        f->handshake = 2;
    else if (to_server && fl == EMB_TCP_ACK && f->handshake == 2)
        f->handshake = 3; /* a SYN scan answers the SYN+ACK with RST instead */
}

emb_flow_evidence_t emb__flow_evidence(const emb_flow_t *f) {
    if (f->proto == 6 && f->handshake == 3)
        return EMB_EVIDENCE_HANDSHAKE;
    if (f->data_pkts[0] > 0 && f->data_pkts[1] > 0)
        return EMB_EVIDENCE_BOTH;
    if (f->proto == 6 && (f->data_pkts[0] >= 3 || f->data_pkts[1] >= 3))
        return EMB_EVIDENCE_ONE_WAY;
    return EMB_EVIDENCE_NONE;
}

/* True when this SYN starts a new connection on the flow's tuple: a new
 * sequence number after the old connection closed, or one outside the
 * window of the side that sends it (docs/flows.md, "Identity"). */
static bool syn_starts_connection(const emb_flow_t *f, const emb_decoded_t *d, bool to_server) {
    if ((d->tcp_flags & (EMB_TCP_SYN | EMB_TCP_ACK)) != EMB_TCP_SYN)
        return false;
    const emb_flow_dir_t *fd = &f->dir[to_server ? 0 : 1];
    if (fd->isn_set && d->tcp_seq == fd->isn)
        return false; /* the same SYN again */
    if (f->rst || (f->dir[0].fin && f->dir[1].fin) || !fd->seq_set)
        return true;
    uint32_t ahead = d->tcp_seq - fd->next_seq, behind = fd->next_seq - d->tcp_seq;
    return ahead > REUSE_WINDOW && behind > REUSE_WINDOW;
}

/*
 * Sets up `f` for the connection that packet `d` opens: sides, times, id.
 * Returns true when `d` comes from the server.
 */
static bool init_flow(emb_flow_table_t *t, emb_flow_t *f, const emb_decoded_t *d, uint32_t h,
                      int64_t sec, uint32_t usec) {
    size_t alen = d->family == 4 ? 4 : 16;
    f->hash = h;
    f->family = d->family;
    f->proto = d->proto;
    uint8_t hs = d->proto == 6 ? d->tcp_flags & (EMB_TCP_SYN | EMB_TCP_ACK) : 0;
    bool from_server;
    if (hs == EMB_TCP_SYN || hs == (EMB_TCP_SYN | EMB_TCP_ACK)) {
        /* The handshake says it; a SYN+ACK first means we missed the SYN. */
        from_server = hs != EMB_TCP_SYN;
        f->oriented = true;
    } else if (d->proto == 17 && d->sport == 53 && d->dport != 53) {
        from_server = true; /* a DNS answer whose query we did not see */
    } else if ((d->sport < 1024) != (d->dport < 1024)) {
        from_server = d->sport < 1024; /* one well-known port: the server's */
    } else {
        /* TCP picked up mid-stream: the lower port is the server's. UDP: the
         * first datagram seen is the client's. A message may say otherwise
         * (emb__flow_reorient). */
        from_server = d->proto == 6 && d->sport < d->dport;
    }
    if (d->proto == 6 && !(hs & EMB_TCP_SYN))
        t->midstream++;
    if (from_server) {
        memcpy(f->cli, d->dst, alen);
        memcpy(f->srv, d->src, alen);
        f->cli_port = d->dport;
        f->srv_port = d->sport;
    } else {
        memcpy(f->cli, d->src, alen);
        memcpy(f->srv, d->dst, alen);
        f->cli_port = d->sport;
        f->srv_port = d->dport;
    }
    f->start_sec = f->last_sec = sec;
    f->start_usec = usec;
    f->epoch = t->clock.epoch;
    f->flow_id = flow_id_of(t->id_hint ? t->id_hint : ++t->seq);
    if (d->proto == 6)
        track_tcp(f, d, !from_server);
    return from_server;
}

static bool same_dir(const emb_flow_t *f, const emb_decoded_t *d, size_t alen) {
    return f->cli_port == d->sport && f->srv_port == d->dport &&
           memcmp(f->cli, d->src, alen) == 0 && memcmp(f->srv, d->dst, alen) == 0;
}

static bool reverse_dir(const emb_flow_t *f, const emb_decoded_t *d, size_t alen) {
    return f->cli_port == d->dport && f->srv_port == d->sport &&
           memcmp(f->cli, d->dst, alen) == 0 && memcmp(f->srv, d->src, alen) == 0;
}

emb_flow_t *emb__flow_get(emb_flow_table_t *t, const emb_decoded_t *d, int64_t sec, uint32_t usec,
                          bool *to_server, bool *is_new) {
    emb__flow_table_clock(t, sec);
    for (int i = 0; i < REAP_PER_PACKET && t->lru_tail && expired(t, t->lru_tail); i++)
        release(t, t->lru_tail);

    size_t alen = d->family == 4 ? 4 : 16;
    uint32_t h = tuple_hash(d);
    for (emb_flow_t *f = t->buckets[h & (t->nbuckets - 1)]; f; f = f->hnext) {
        if (f->hash != h || f->family != d->family || f->proto != d->proto)
            continue;
        bool fwd = same_dir(f, d, alen);
        if (!fwd && !reverse_dir(f, d, alen))
            continue;
        if (expired(t, f)) {
            release(t, f); /* a new conversation on an old tuple */
            break;
        }
        if (t->lru_head != f) {
            lru_unlink(t, f);
            lru_push_head(t, f);
        }
        if (f->proto == 6 && syn_starts_connection(f, d, fwd)) {
            /* Session reuse: the old connection's state goes, its slot,
             * hash chain and LRU place stay. */
            if (t->on_release)
                t->on_release(f, t->release_ctx);
            emb_flow_t *hnext = f->hnext, *prev = f->lru_prev, *next = f->lru_next;
            memset(f, 0, sizeof(*f));
            f->hnext = hnext;
            f->lru_prev = prev;
            f->lru_next = next;
            *to_server = !init_flow(t, f, d, h, sec, usec);
            *is_new = true;
            t->created++;
            t->reused++;
            return f;
        }
        *to_server = fwd;
        *is_new = false;
        if (sec > f->last_sec)
            f->last_sec = sec;
        if (f->proto == 6)
            track_tcp(f, d, fwd);
        return f;
    }

    if (t->free_list == NULL && t->pool_next == t->max) {
        release(t, t->lru_tail);
        t->evicted++;
    }
    emb_flow_t *f;
    if (t->free_list) {
        f = t->free_list;
        t->free_list = f->hnext;
    } else {
        f = &t->pool[t->pool_next++];
    }
    memset(f, 0, sizeof(*f));
    bool from_server = init_flow(t, f, d, h, sec, usec);

    emb_flow_t **bucket = &t->buckets[h & (t->nbuckets - 1)];
    f->hnext = *bucket;
    *bucket = f;
    lru_push_head(t, f);
    t->created++;
    *to_server = !from_server;
    *is_new = true;
    return f;
}

void emb__flow_table_id_hint(emb_flow_table_t *t, uint64_t n) {
    t->id_hint = n;
}

uint64_t emb__flow_evicted(const emb_flow_table_t *t) {
    return t->evicted;
}
uint64_t emb__flow_created(const emb_flow_table_t *t) {
    return t->created;
}
uint64_t emb__flow_reused(const emb_flow_table_t *t) {
    return t->reused;
}
uint64_t emb__flow_reoriented(const emb_flow_table_t *t) {
    return t->reoriented;
}
uint64_t emb__flow_midstream(const emb_flow_table_t *t) {
    return t->midstream;
}

#define SWAP(a, b)                                                                                 \
    do {                                                                                           \
        __typeof__(a) tmp_ = (a);                                                                  \
        (a) = (b);                                                                                 \
        (b) = tmp_;                                                                                \
    } while (0)

void emb__flow_reorient(emb_flow_table_t *t, emb_flow_t *f) {
    uint8_t addr[16];
    memcpy(addr, f->cli, 16);
    memcpy(f->cli, f->srv, 16);
    memcpy(f->srv, addr, 16);
    SWAP(f->cli_port, f->srv_port);
    SWAP(f->dir[0], f->dir[1]);
    SWAP(f->pkts_toserver, f->pkts_toclient);
    SWAP(f->bytes_toserver, f->bytes_toclient);
    SWAP(f->data_pkts[0], f->data_pkts[1]);
    f->oriented = true;
    f->reoriented = true;
    t->reoriented++;
}

int emb__flow_message_side(const uint8_t *p, size_t n) {
    /* TLS: a handshake record (22, version 3.x) whose first message is a
     * ClientHello (1) or a ServerHello (2). */
    if (n >= 6 && p[0] == 22 && p[1] == 3)
        return p[5] == 1 ? 1 : p[5] == 2 ? -1 : 0;
    if (n >= 7 && memcmp(p, "HTTP/1.", 7) == 0)
        return -1;
    /* An HTTP request line: a method of capitals, a space, then a target
     * starting with '/' (origin form) or a letter (absolute or authority). */
    size_t i = 0;
    while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    if (i >= 3 && i + 1 < n && p[i] == ' ' &&
        (p[i + 1] == '/' || p[i + 1] == '*' ||
         ((p[i + 1] | 0x20) >= 'a' && (p[i + 1] | 0x20) <= 'z')))
        return 1;
    return 0;
}

void emb__flow_table_foreach(emb_flow_table_t *t, void (*fn)(emb_flow_t *f, void *ctx), void *ctx) {
    for (emb_flow_t *f = t->lru_head; f; f = f->lru_next)
        fn(f, ctx);
}
