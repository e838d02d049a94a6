/*
 * The engine: decode -> (defrag) -> flow -> reassembly -> inspectors ->
 * match -> alert, one packet at a time.
 *
 * Matching works in rounds, one per message (a DNS message, a TLS
 * handshake message, an HTTP request, a stretch of stream bytes): each field
 * of the message is scanned in its own Hyperscan database, each hit marks
 * one condition of one alternative, and an alternative whose content
 * conditions were all marked in the round, and whose ip/port conditions hold
 * for the flow, raises its rule. Alternatives made only of ip/port conditions
 * are checked once, on the flow's first packet. The marks live in a
 * per-alternative array stamped with the round number, so nothing is cleared
 * between rounds.
 */
#include "detect/inspect.h"
#include "detect/round.h"

#include "common/names.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void emb_config_init(emb_config_t *cfg) {
    cfg->max_flows = 65536;
    cfg->tcp_timeout_s = 3600;
    cfg->udp_timeout_s = 120;
    cfg->stream_depth = 16384;
    cfg->udp_payload_packets = 32;
    cfg->stream_memcap = 64u << 20;
    cfg->defrag_max = 1024;
    cfg->defrag_memcap = 16u << 20;
    cfg->defrag_timeout_s = 30;
    cfg->attrib_max = 16384;
    cfg->attrib_ttl_floor_s = 60;
    cfg->attrib_ttl_ceiling_s = 86400;
    cfg->attrib_grace_ms = 0;
    cfg->cache_dir = NULL;
    cfg->shared = NULL;
}

static void on_flow_release(emb_flow_t *f, void *ctx) {
    emb_engine_t *e = ctx;
    emb__stream_close(&e->streams, &f->dir[0].stream);
    emb__stream_close(&e->streams, &f->dir[1].stream);
}

/* Longest payload indicator, to re-scan across stream growth (regexes: 256). */
static uint32_t payload_overlap(const emb_rules_t *r) {
    size_t longest = 1;
    for (size_t i = 0; i < r->ninds; i++) {
        const emb_indicator_t *ind = &r->inds[i];
        if (ind->key != EMB_K_PAYLOAD)
            continue;
        size_t n = ind->kind == EMB_PAT_REGEX ? 256 : ind->len;
        if (n > longest)
            longest = n;
    }
    return (uint32_t)(longest > 4096 ? 4096 : longest) - 1;
}

/* What kinds of indicator the pack has: inspectors with nothing to find skip. */
static void note_rule_kinds(emb_engine_t *e, const emb_rules_t *rules) {
    e->payload_overlap = payload_overlap(rules);
    e->has_payload_rules = false;
    e->device_keys = 0;
    for (size_t i = 0; i < rules->ninds; i++) {
        emb_key_t k = rules->inds[i].key;
        e->has_payload_rules |= k == EMB_K_PAYLOAD;
        if (k >= EMB_K_HTTP_SERVER && k <= EMB_K_MAC)
            e->device_keys |= 1u << (k - EMB_K_HTTP_SERVER);
    }
}

/* A new engine; with a parent, a feeder of it (emb_engine_feed): the parent's
 * rules, settings, matcher and attribution table, its own flows. */
static int engine_new(const emb_rules_t *rules, const emb_config_t *cfg, emb_engine_t *parent,
                      emb_engine_t **out, emb_diags_t **diags) {
    if (diags)
        *diags = NULL;
    *out = NULL;
    if (rules == NULL)
        return EMB_EINVAL;
    emb_engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return EMB_ENOMEM;
    e->rules = rules;
    if (cfg)
        e->cfg = *cfg;
    else
        emb_config_init(&e->cfg);
    if (e->cfg.stream_depth < 64)
        e->cfg.stream_depth = 64;

    int rc = 0;
    if (parent) {
        e->borrowed = e->mute = true;
        e->matcher = parent->matcher;
    } else if ((rc = emb__matcher_new(rules, e->cfg.cache_dir, &e->matcher, diags)) != 0) {
        goto fail;
    }
    rc = emb__flow_table_new(e->cfg.max_flows, e->cfg.tcp_timeout_s, e->cfg.udp_timeout_s,
                             &e->flows);
    if (rc != 0) {
        emb__diag_add(diags, NULL, 0, 0, "cannot allocate a flow table of %zu flows",
                      e->cfg.max_flows);
        goto fail;
    }
    emb__flow_table_on_release(e->flows, on_flow_release, e);
    rc = emb__defrag_new(e->cfg.defrag_max, e->cfg.defrag_memcap, e->cfg.defrag_timeout_s,
                         &e->defrag);
    if (rc != 0)
        goto fail;
    if (parent)
        e->attrib = parent->attrib;
    else if (e->cfg.shared != NULL)
        e->attrib = emb__shared_attrib(e->cfg.shared); /* owned by the shared state */
    else
        rc = emb__attrib_new(e->cfg.attrib_max, e->cfg.attrib_ttl_floor_s,
                             e->cfg.attrib_ttl_ceiling_s, &e->attrib);
    if (rc != 0) {
        emb__diag_add(diags, NULL, 0, 0, "bad DNS attribution settings");
        goto fail;
    }
    e->streams.depth = e->cfg.stream_depth;
    e->streams.memcap = e->cfg.stream_memcap;
    note_rule_kinds(e, rules);
    e->quic = emb__quic_ctx_new();
    e->hs = malloc(e->cfg.stream_depth);
    e->alt_state = calloc(rules->nalts ? rules->nalts : 1, sizeof(emb_alt_state_t));
    if (e->quic == NULL || e->hs == NULL || e->alt_state == NULL) {
        rc = EMB_ENOMEM;
        goto fail;
    }
    *out = e;
    return 0;
fail:
    emb_engine_free(e);
    return rc;
}

int emb_engine_new(const emb_rules_t *rules, const emb_config_t *cfg, emb_engine_t **out,
                   emb_diags_t **diags) {
    return engine_new(rules, cfg, NULL, out, diags);
}

void emb_engine_free(emb_engine_t *e) {
    if (e == NULL)
        return;
    emb_engine_free(e->feeder);
    emb__flow_table_free(e->flows); /* releases the flows' streams first */
    emb__stream_pool_free(&e->streams);
    if (!e->borrowed)
        emb__matcher_free(e->matcher);
    emb__defrag_free(e->defrag);
    if (e->cfg.shared == NULL && !e->borrowed)
        emb__attrib_free(e->attrib);
    emb__quic_ctx_free(e->quic);
    free(e->hs);
    free(e->alt_state);
    free(e->exception_expired);
    emb__eve_buf_free(&e->eve);
    for (size_t i = 0; e->alert_tmpl != NULL && i < e->rules->nrules * 2; i++)
        emb__eve_alert_tmpl_free(&e->alert_tmpl[i]);
    free(e->alert_tmpl);
    free(e);
}

int emb_engine_set_exceptions(emb_engine_t *e, const emb_exceptions_t *x) {
    if (e == NULL)
        return EMB_EINVAL;
    uint64_t *counts = NULL;
    if (x != NULL && x->n > 0 && (counts = calloc(x->n, sizeof(*counts))) == NULL)
        return EMB_ENOMEM;
    free(e->exception_expired);
    e->exception_expired = counts;
    e->exceptions = x;
    return 0;
}

uint64_t emb_engine_exception_expired(const emb_engine_t *e, size_t i) {
    if (e == NULL || e->exceptions == NULL || i >= e->exceptions->n)
        return 0;
    return e->exception_expired[i];
}

void emb_engine_stats(const emb_engine_t *e, emb_stats_t *out) {
    *out = e->stats;
    out->flows = emb__flow_created(e->flows);
    out->flows_evicted = emb__flow_evicted(e->flows);
    out->flows_reused = emb__flow_reused(e->flows);
    out->flows_reoriented = emb__flow_reoriented(e->flows);
    out->tcp_midstream = emb__flow_midstream(e->flows);
    const emb_defrag_stats_t *ds = emb__defrag_stats(e->defrag);
    out->reassembled = ds->reassembled;
    /* Unfinished ones still held count too: whether a datagram was reaped
     * before the end depends on which other fragments came, not on it. */
    out->defrag_dropped =
        ds->timeouts + ds->evicted + ds->invalid + ds->memcap_refused + ds->pending;
    out->tcp_segments = e->streams.stats.segments;
    out->stream_gaps = e->streams.stats.out_of_order;
    out->stream_overlaps = e->streams.stats.overlaps;
    out->stream_memcap_refused = e->streams.stats.memcap_refused;
    out->stream_mem_peak = e->streams.stats.mem_peak;
}

/* ---- reload --------------------------------------------------------------- */

typedef struct {
    uint32_t sid, idx;
} sid_idx_t;

typedef struct {
    const emb_rules_t *from;
    sid_idx_t *by_sid; /* the new pack's rules, sorted by sid */
    size_t n;
} remap_t;

static int cmp_sid(const void *a, const void *b) {
    uint32_t x = ((const sid_idx_t *)a)->sid, y = ((const sid_idx_t *)b)->sid;
    return x < y ? -1 : x > y;
}

/* The index in the new pack of old rule `rule` (same sid), or UINT32_MAX. */
static uint32_t remap_rule(uint32_t rule, void *ctx) {
    const remap_t *m = ctx;
    sid_idx_t key = {m->from->rules[rule].sid, 0};
    const sid_idx_t *hit = bsearch(&key, m->by_sid, m->n, sizeof(*hit), cmp_sid);
    return hit ? hit->idx : UINT32_MAX;
}

static void remap_flow(emb_flow_t *f, void *ctx) {
    uint8_t keep = 0;
    for (uint8_t i = 0; i < f->nalerted; i++) {
        uint32_t r = remap_rule(f->alerted[i], ctx);
        if (r != UINT32_MAX)
            f->alerted[keep++] = r;
    }
    f->nalerted = keep;
}

int emb_engine_reload(emb_engine_t *e, const emb_rules_t *rules, emb_diags_t **diags) {
    if (diags)
        *diags = NULL;
    if (e == NULL || rules == NULL)
        return EMB_EINVAL;
    emb_matcher_t *m = NULL;
    int rc = emb__matcher_new(rules, e->cfg.cache_dir, &m, diags);
    if (rc != 0)
        return rc;
    emb_alt_state_t *st = calloc(rules->nalts ? rules->nalts : 1, sizeof(*st));
    remap_t map = {e->rules, malloc((rules->nrules ? rules->nrules : 1) * sizeof(sid_idx_t)),
                   rules->nrules};
    if (st == NULL || map.by_sid == NULL) {
        emb__matcher_free(m);
        free(st);
        free(map.by_sid);
        return EMB_ENOMEM;
    }
    for (uint32_t i = 0; i < rules->nrules; i++)
        map.by_sid[i] = (sid_idx_t){rules->rules[i].sid, i};
    qsort(map.by_sid, map.n, sizeof(sid_idx_t), cmp_sid);

    /* Everything that names a rule by index is renumbered by sid. */
    emb__flow_table_foreach(e->flows, remap_flow, &map);
    if (e->cfg.shared == NULL) {
        emb__attrib_remap(e->attrib, remap_rule, &map);
    } else if (emb__shared_first_for(e->cfg.shared, rules)) {
        emb__engine_attrib_done(e);
        emb__shared_lock_all(e->cfg.shared); /* other engines may be reading it */
        emb__attrib_remap(e->attrib, remap_rule, &map);
        emb__shared_unlock_all(e->cfg.shared);
    }
    free(map.by_sid);

    emb__matcher_free(e->matcher);
    free(e->alt_state);
    emb_engine_free(e->feeder); /* it borrowed the old matcher; made again when needed */
    e->feeder = NULL;
    e->matcher = m;
    e->alt_state = st;
    e->stamp = 0;
    e->rules = rules;
    note_rule_kinds(e, rules);
    return 0;
}

bool emb_engine_from_cache(const emb_engine_t *e) {
    return emb__matcher_from_cache(e->matcher);
}

char *emb_engine_stats_json(const emb_engine_t *e, int64_t ts_sec, uint32_t ts_usec,
                            uint64_t uptime_s) {
    emb_stats_t st;
    emb_engine_stats(e, &st);
    return emb__eve_stats(&st, ts_sec, ts_usec, uptime_s);
}

char *emb_stats_json(const emb_stats_t *st, int64_t ts_sec, uint32_t ts_usec, uint64_t uptime_s) {
    return emb__eve_stats(st, ts_sec, ts_usec, uptime_s);
}

void emb_stats_add(emb_stats_t *d, const emb_stats_t *s) {
#define ADD(f) d->f += s->f
    ADD(packets);
    ADD(bytes);
    ADD(truncated);
    ADD(invalid);
    ADD(unsupported);
    ADD(fragments);
    ADD(reassembled);
    ADD(defrag_dropped);
    ADD(tunnels);
    ADD(tcp_segments);
    ADD(stream_gaps);
    ADD(stream_overlaps);
    ADD(stream_memcap_refused);
    ADD(stream_mem_peak);
    ADD(quic_initials);
    ADD(tls_certificates);
    ADD(http_responses);
    ADD(device_messages);
    ADD(attributions);
    ADD(flows);
    ADD(flows_evicted);
    ADD(flows_reused);
    ADD(flows_reoriented);
    ADD(tcp_midstream);
    ADD(dns_parsed);
    ADD(tls_client_hellos);
    ADD(http_requests);
    ADD(alerts);
    ADD(alerts_suppressed);
    ADD(alerts_excepted);
    ADD(kernel_packets);
    ADD(kernel_drops);
    ADD(kernel_ifdrops);
#undef ADD
    d->live_capture = d->live_capture || s->live_capture;
}

/* The two addresses in a fixed order, so both directions hash alike; no
 * ports, so that a fragment (which has none) goes where its flow goes. */
static uint32_t shard_of(const emb_decoded_t *d) {
    const uint8_t *lo = d->src, *hi = d->dst;
    if (memcmp(lo, hi, 16) > 0) {
        lo = d->dst;
        hi = d->src;
    }
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ lo[i]) * 16777619u;
    for (int i = 0; i < 16; i++)
        h = (h ^ hi[i]) * 16777619u;
    h ^= h >> 16; /* the low bits pick the worker: fold the high ones in */
    return h ? h : 1;
}

void emb_packet_place(const emb_packet_t *pkt, emb_place_t *out) {
    emb_decoded_t d;
    out->shard = 0;
    out->dns = false;
    if (pkt == NULL || pkt->data == NULL)
        return;
    emb_dec_result_t r = emb__decode(pkt->linktype, pkt->data, pkt->caplen, &d);
    if (r != EMB_DEC_OK && r != EMB_DEC_FRAGMENT)
        return;
    out->shard = shard_of(&d);
    out->dns = r == EMB_DEC_FRAGMENT ||
               ((d.proto == 6 || d.proto == 17) && (d.sport == 53 || d.dport == 53));
}

uint32_t emb_packet_shard(const emb_packet_t *pkt) {
    emb_place_t p;
    emb_packet_place(pkt, &p);
    return p.shard;
}

/*
 * DNS attribution (docs/flows.md): on a flow's first message from its client,
 * the rules whose names resolved to the server's address for this client,
 * unless the flow already raised them by name. Only a flow that named no
 * server is attributed: one that carries its own SNI or Host is judged by that
 * name, so a shared CDN address is never blamed on a vendor whose name also
 * resolved to it. An attribution is reported with confidence low unless the
 * address is also in the vendor's own ranges.
 */
static int check_attribution(emb_engine_t *e) {
    emb_flow_t *f = e->cur.flow;
    int64_t now_us = emb__time_us(e->cur.pkt->ts_sec, e->cur.pkt->ts_usec);
    int64_t before_us = INT64_MAX; /* answers seen up to then count */
    if (f->attrib_checked) {
        /* Workers that see packets out of order across threads (live -j N):
         * an answer another worker had not yet passed on when this flow's
         * first client message was read still counts if it came before it. */
        if (!f->attrib_retry || !e->cur.to_server)
            return 0; /* looked up again at the client's next packets */
        if (f->named || ++f->attrib_retries > 8 ||
            now_us - f->attrib_first_us > (int64_t)e->cfg.attrib_grace_ms * 1000) {
            f->attrib_retry = false;
            return 0;
        }
        before_us = f->attrib_first_us;
    } else {
        if (!e->cur.to_server || f->app_proto == EMB_AP_DNS || f->srv_port == 53 ||
            e->cur.d->payload_len == 0)
            return 0;
        /* Wait until the client's first message was read: a name in it (an SNI
         * split over segments, say) speaks for the flow better than the lookup. */
        if (f->proto == 6 && !f->client_spoke)
            return 0;
        f->attrib_checked = true;
        if (f->named)
            return 0; /* its own name speaks for it */
        f->attrib_first_us = now_us;
        f->attrib_retry = e->cfg.attrib_grace_ms > 0;
    }
    emb__engine_attrib_turn(e, f->family, f->cli, f->srv);
    if (emb__attrib_shared(e->attrib, f->family, f->srv, e->cur.pkt->ts_sec, before_us))
        return 0; /* a shared edge speaks for nobody */
    const emb_attrib_entry_t *found[8], *hits[8];
    size_t nf =
        emb__attrib_lookup(e->attrib, f->family, f->cli, f->srv, e->cur.pkt->ts_sec, found, 8);
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        if (found[i]->seen_us <= before_us)
            hits[n++] = found[i];
    if (n == 0)
        return 0;
    f->attrib_retry = false;
    emb__round_begin(e);
    for (size_t i = 0; i < n; i++) {
        size_t before = e->ncands;
        emb__round_add_candidate(e, hits[i]->rule, EMB_EV_DNS_ATTRIBUTION, hits[i]->name,
                                 hits[i]->name_len, 0);
        if (e->ncands > before)
            e->cands[before].low = !emb__round_vendor_owns(
                e->rules, e->rules->rules[hits[i]->rule].vendor, f->family, f->srv);
    }
    emb__round_precedence(e);
    return emb__round_emit(e);
}

/*
 * The ip/port-only rules of a flow, once it is a conversation (docs/flows.md):
 * a completed handshake, payload both ways, or TCP payload one way (a one-way
 * SPAN) that is reported as such. An unanswered SYN or datagram never gets
 * here. Counted after inspection, when the flow's sides are final.
 */
static int check_flow_rules(emb_engine_t *e) {
    emb_flow_t *f = e->cur.flow;
    if (e->cur.d->payload_len > 0) {
        uint16_t *n = &f->data_pkts[e->cur.to_server ? 0 : 1];
        if (*n < UINT16_MAX)
            (*n)++;
    }
    if (f->evidence != EMB_EVIDENCE_NONE)
        return 0;
    f->evidence = (uint8_t)emb__flow_evidence(f);
    return f->evidence != EMB_EVIDENCE_NONE ? emb__round_flow_rules(e) : 0;
}

/* ---- the packet pipeline ------------------------------------------------ */

/* Counts a decode result that ends the packet's journey; true if it does. */
static bool count_result(emb_engine_t *e, emb_dec_result_t r) {
    switch (r) {
    case EMB_DEC_OK: return false;
    case EMB_DEC_OTHER: return true;
    case EMB_DEC_FRAGMENT: return false;
    case EMB_DEC_TRUNCATED: e->stats.truncated++; return true;
    case EMB_DEC_INVALID: e->stats.invalid++; return true;
    case EMB_DEC_UNSUPPORTED: e->stats.unsupported++; return true;
    }
    return true;
}

/* Every packet of the stream tells the engine the time, inspected here or not,
 * decodable or not: flows and fragments expire on it (packet/clock.h), the
 * feeder's as well. */
static void tell_time(emb_engine_t *e, int64_t sec) {
    emb__flow_table_clock(e->flows, sec);
    emb__defrag_clock(e->defrag, sec);
    if (e->feeder)
        tell_time(e->feeder, sec);
}

void emb_engine_skip(emb_engine_t *e, const emb_packet_t *pkt) {
    if (e == NULL || pkt == NULL)
        return;
    tell_time(e, pkt->ts_sec);
}

static int process(emb_engine_t *e, const emb_packet_t *pkt, emb_alert_cb cb, void *userdata);

int emb_engine_process(emb_engine_t *e, const emb_packet_t *pkt, emb_alert_cb cb, void *userdata) {
    int rc = process(e, pkt, cb, userdata);
    emb__engine_attrib_done(e);
    return rc;
}

int emb_engine_feed(emb_engine_t *e, const emb_packet_t *pkt) {
    if (e == NULL || pkt == NULL)
        return EMB_EINVAL;
    if (e->feeder == NULL) {
        int rc = engine_new(e->rules, &e->cfg, e, &e->feeder, NULL);
        if (rc != 0)
            return rc;
    }
    /* The feeder hears the time through this engine (tell_time), once. */
    emb__flow_table_clock(e->flows, pkt->ts_sec);
    emb__defrag_clock(e->defrag, pkt->ts_sec);
    return emb_engine_process(e->feeder, pkt, NULL, NULL);
}

static int process(emb_engine_t *e, const emb_packet_t *pkt, emb_alert_cb cb, void *userdata) {
    emb_decoded_t d, whole;
    const emb_decoded_t *dp = &d;
    e->stats.packets++;
    e->stats.bytes += pkt->len;
    e->last_flow_id = 0;
    if (pkt->data == NULL)
        return EMB_EINVAL;
    tell_time(e, pkt->ts_sec);

    emb_dec_result_t r = emb__decode(pkt->linktype, pkt->data, pkt->caplen, &d);
    /* Decapsulated, whether or not what came out is inspected (ARP, ICMP, ...). */
    if (d.tunnels && (r == EMB_DEC_OK || r == EMB_DEC_FRAGMENT || r == EMB_DEC_OTHER))
        e->stats.tunnels++;
    if (count_result(e, r))
        return 0;
    if (r == EMB_DEC_FRAGMENT) {
        const uint8_t *data;
        size_t len;
        e->stats.fragments++;
        if (!emb__defrag_add(e->defrag, &d, pkt->ts_sec, &data, &len))
            return 0;
        r = emb__decode_datagram(&d, data, len, &whole);
        if (r == EMB_DEC_FRAGMENT)
            r = EMB_DEC_INVALID; /* a fragment inside a reassembled datagram */
        if (count_result(e, r))
            return 0;
        dp = &whole;
    }
    if (dp->truncated)
        e->stats.truncated++;

    bool to_server, is_new;
    emb__flow_table_id_hint(e->flows, pkt->pcap_cnt);
    emb_flow_t *flow = emb__flow_get(e->flows, dp, pkt->ts_sec, pkt->ts_usec, &to_server, &is_new);
    if (to_server) {
        flow->pkts_toserver++;
        flow->bytes_toserver += pkt->len;
    } else {
        flow->pkts_toclient++;
        flow->bytes_toclient += pkt->len;
    }
    e->cur = (emb_pkt_ctx_t){pkt, dp, flow, to_server, cb, userdata, NULL};
    e->last_flow_id = flow->flow_id;

    int rc = 0;
    if (e->mute) {
        /* A feeder (emb_engine_feed) learns DNS answers for attribution and
         * says nothing: no device, payload, address or port rule is read,
         * nothing is attributed. TCP goes through the stream (DNS over TCP). */
        if (dp->proto == 6)
            return emb__inspect_tcp(e);
        return dp->payload_len > 0 && dp->sport == 53
                   ? emb__inspect_dns(e, dp->payload, dp->payload_len)
                   : 0;
    }
    /* Rules that say `established: false` hold on any packet: the first one. */
    if (is_new && (rc = emb__round_flow_rules(e)) != 0)
        return rc;
    if (dp->proto == 6)
        rc = emb__inspect_tcp(e);
    else if (dp->payload_len > 0)
        rc = emb__inspect_udp(e);
    if (rc == 0 && (dp->payload_len > 0 || flow->attrib_retry))
        rc = check_attribution(e);
    if (rc == 0)
        rc = check_flow_rules(e);
    return rc;
}

uint64_t emb_engine_last_flow_id(const emb_engine_t *e) {
    return e ? e->last_flow_id : 0;
}
