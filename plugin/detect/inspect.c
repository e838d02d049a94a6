/*
 * Application-layer inspection: what to scan in each message, and when a
 * message is complete.
 *
 * TCP data goes through reassembly first (packet/stream.c); each time a direction's
 * in-order prefix grows, its new bytes are scanned for payload patterns and
 * the flow's parser looks again: TLS handshake messages are gathered from
 * records (a ClientHello or a Certificate may span several records and
 * segments), HTTP/1.x requests and responses are walked one after the other
 * (keep-alive) using Content-Length, DNS over TCP is split on its length
 * prefix. When a stream cannot be kept (beyond the depth, or the memory cap
 * refused it), single packets are inspected as they come.
 *
 * The protocol of a TCP flow is decided from its first bytes, not its port:
 * a TLS record header, an HTTP method or status line, port 53 for DNS, or the
 * greeting or opening of a plaintext protocol that can switch to TLS (FTP,
 * SMTP, IMAP, POP3, XMPP, LDAP, PostgreSQL, MySQL). The last are followed in
 * both directions (protocols/starttls.c) until the client's upgrade request
 * and the server's positive answer are both there; from then on each
 * direction's bytes from where its TLS begins go through the TLS handshake
 * parser as a direct TLS flow's would.
 */
#include "detect/inspect.h"
#include "detect/devices.h"
#include "detect/round.h"

#include "common/names.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_HS_SERVER_HELLO_DONE 14

/* ---- orientation -------------------------------------------------------- */

/*
 * The first message of a flow whose sides were guessed from its ports says
 * who sent it (docs/flows.md, "Client and server"): when it disagrees with
 * the guess, the flow is re-oriented before the message is inspected, and
 * the ip/port rules are checked again with the new server port.
 */
static int orient(emb_engine_t *e, bool sender_is_client) {
    emb_flow_t *f = e->cur.flow;
    if (f->oriented)
        return 0;
    if (sender_is_client == e->cur.to_server) {
        f->oriented = true;
        return 0;
    }
    emb__flow_reorient(e->flows, f);
    e->cur.to_server = !e->cur.to_server;
    return emb__round_flow_rules(e);
}

/* ---- DNS --------------------------------------------------------------- */

/*
 * Remembers, for each rule of the round raised by a DNS name, the addresses
 * `addrs` of a response to `client` give (those of `family`). Every address
 * is also noted with the name asked (`asked`, normalised), so that an
 * address that answers for unrelated domains (a CDN edge) is known to be
 * shared.
 */
static void attribute_answers(emb_engine_t *e, uint8_t family, const uint8_t *client,
                              const char *asked, size_t asked_len, const emb_dns_addr_t *addrs,
                              size_t naddrs, int64_t ts_sec, int64_t now_us) {
    uint32_t vendor_tag = 0;
    for (size_t c = 0; c < e->ncands && vendor_tag == 0; c++)
        if (e->cands[c].ev == emb__field_evidence(EMB_FIELD_DNS_QUERY))
            vendor_tag = e->rules->rules[e->cands[c].rule].vendor + 1;
    for (size_t i = 0; i < naddrs; i++) {
        if (addrs[i].family != family)
            continue;
        emb__engine_attrib_turn(e, family, client, addrs[i].addr);
        emb__attrib_note(e->attrib, family, addrs[i].addr, asked, asked_len, vendor_tag,
                         addrs[i].ttl, ts_sec, now_us);
        for (size_t c = 0; c < e->ncands; c++) {
            const emb_cand_t *cand = &e->cands[c];
            if (cand->ev == emb__field_evidence(EMB_FIELD_DNS_QUERY))
                emb__attrib_add(e->attrib, family, client, addrs[i].addr, cand->rule, cand->value,
                                cand->value_len, addrs[i].ttl, ts_sec, now_us);
        }
    }
}

/* The answer records of e->app (section 1) that carry an address. */
static size_t answer_addrs(const emb_app_info_t *app, size_t from, size_t to, emb_dns_addr_t *out) {
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        const emb_dns_rr_t *rr = &app->rrs[i];
        if (rr->section == 1 && rr->family != 0) {
            out[n] = (emb_dns_addr_t){.family = rr->family, .ttl = rr->ttl};
            memcpy(out[n++].addr, rr->addr, 16);
        }
    }
    return n;
}

/*
 * Attribution from the parsed response in e->app (emb__dns_parse and
 * emb__dns_parse_records): the name asked is its first question's; a
 * response without a question notes each answer with its own name.
 */
static void record_attribution(emb_engine_t *e, uint8_t family, const uint8_t *client,
                               int64_t ts_sec, int64_t now_us) {
    const emb_app_info_t *app = &e->app;
    emb_dns_addr_t addrs[EMB_DNS_MAX_RECORDS];
    char asked[EMB_NAME_BUF]; /* the name asked: normalised once for every answer */
    if (app->nquestions > 0) {
        size_t n = emb__normalize_name((const uint8_t *)app->questions[0].name,
                                       app->questions[0].name_len, asked, sizeof(asked));
        size_t k = answer_addrs(app, 0, app->nrrs, addrs);
        attribute_answers(e, family, client, asked, n, addrs, k, ts_sec, now_us);
        return;
    }
    for (size_t i = 0; i < app->nrrs; i++) {
        size_t k = answer_addrs(app, i, i + 1, addrs);
        if (k == 0)
            continue;
        size_t n = emb__normalize_name((const uint8_t *)app->rrs[i].name, app->rrs[i].name_len,
                                       asked, sizeof(asked));
        attribute_answers(e, family, client, asked, n, addrs, k, ts_sec, now_us);
    }
}

int emb__learn_dns_response(emb_engine_t *e, uint8_t family, const uint8_t *client,
                            const char *asked, size_t asked_len, const uint8_t *msg, size_t len,
                            int64_t ts_sec, uint32_t ts_usec) {
    int64_t now_us = emb__time_us(ts_sec, ts_usec);
    if (len < 12 || (msg[2] & 0x80) == 0 || ((msg[2] >> 3) & 0x0f) > 6)
        return 0; /* not a response, or an opcode emb__dns_parse refuses */
    if (asked == NULL || (msg[4] == 0 && msg[5] == 0)) {
        /* No name from the caller, or no question (each answer's own name is
         * then the name asked): the message is parsed as emb__inspect_dns
         * parses it. Rare. */
        emb_app_info_t *app = &e->app;
        if (emb__dns_parse(msg, len, &app->dns, app->questions, EMB_DNS_MAX_QUESTIONS,
                           &app->nquestions) != EMB_X_OK)
            return 0;
        emb__dns_parse_records(msg, len, app->rrs, EMB_DNS_MAX_RECORDS, &app->nrrs);
        record_attribution(e, family, client, ts_sec, now_us);
        return 0;
    }
    emb_dns_addr_t addrs[EMB_DNS_MAX_RECORDS];
    size_t n;
    if (emb__dns_answer_addrs(msg, len, addrs, &n) != EMB_X_OK || n == 0)
        return 0;
    attribute_answers(e, family, client, asked, asked_len, addrs, n, ts_sec, now_us);
    return 0;
}

int emb__inspect_dns(emb_engine_t *e, const uint8_t *msg, size_t len) {
    emb__round_begin(e);
    emb_app_info_t *app = &e->app;
    emb_x_result_t x = emb__dns_parse(msg, len, &app->dns, app->questions, EMB_DNS_MAX_QUESTIONS,
                                      &app->nquestions);
    if (x != EMB_X_OK) {
        if (x == EMB_X_TRUNCATED)
            e->stats.truncated++;
        else if (x == EMB_X_INVALID)
            e->stats.invalid++;
        return 0;
    }
    e->stats.dns_parsed++;
    app->app = EMB_APP_DNS;
    if (app->dns.qr)
        emb__dns_parse_records(msg, len, app->rrs, EMB_DNS_MAX_RECORDS, &app->nrrs);

    int rc = 0;
    for (size_t i = 0; i < app->nquestions && rc == 0; i++)
        rc = emb__round_scan_name(e, EMB_FIELD_DNS_QUERY, app->questions[i].name,
                                  app->questions[i].name_len, false);
    /* Answer names and the names they point to: a vendor name may show only
     * in a CNAME chain. */
    for (size_t i = 0; i < app->nrrs && rc == 0; i++) {
        const emb_dns_rr_t *rr = &app->rrs[i];
        rc = emb__round_scan_name(e, EMB_FIELD_DNS_QUERY, rr->name, rr->name_len, false);
        if (rc == 0 && rr->target_len > 0)
            rc = emb__round_scan_name(e, EMB_FIELD_DNS_QUERY, rr->target, rr->target_len, false);
    }
    if (rc != 0)
        return rc;
    emb__round_collect(e);
    if (app->dns.qr)
        record_attribution(e, e->cur.flow->family, e->cur.d->dst, e->cur.pkt->ts_sec,
                           emb__time_us(e->cur.pkt->ts_sec, e->cur.pkt->ts_usec));
    return emb__round_emit(e);
}

/* ---- TLS --------------------------------------------------------------- */

static int tls_client_hello(emb_engine_t *e, const uint8_t *body, size_t len, bool quic) {
    emb_tls_hello_t *h = &e->hello;
    emb_x_result_t x = emb__tls_client_hello(body, len, quic, h);
    if (x != EMB_X_OK && h->sni == NULL) {
        if (x == EMB_X_INVALID)
            e->stats.invalid++;
        return 0;
    }
    e->stats.tls_client_hellos++;
    if (h->sni && !h->has_ech)
        e->cur.flow->named = true; /* ECH's outer SNI is a public name, not the server's */
    emb__round_begin(e);
    e->app.app = quic ? EMB_APP_QUIC : EMB_APP_TLS;
    e->app.sni = h->sni;
    e->app.sni_len = h->sni_len;
    e->app.ja4 = h->ja4;
    int rc = 0;
    if (h->sni)
        rc = emb__round_scan_name(e, quic ? EMB_FIELD_QUIC_SNI : EMB_FIELD_TLS_SNI, h->sni,
                                  h->sni_len, false);
    if (rc == 0 && h->ja4[0])
        rc = emb__round_scan(e, EMB_FIELD_JA4, h->ja4, strlen(h->ja4));
    return rc != 0 ? rc : emb__round_end(e);
}

static int tls_certificate(emb_engine_t *e, const uint8_t *body, size_t len) {
    emb_tls_cert_t *c = &e->cert;
    if (emb__tls_certificate(body, len, c) != EMB_X_OK)
        return 0;
    e->stats.tls_certificates++;
    emb__round_begin(e);
    e->app.app = EMB_APP_TLS;
    e->app.cert = c;
    int rc = emb__round_scan(e, EMB_FIELD_TLS_CERT_SUBJECT, c->subject, c->subject_len);
    if (rc == 0)
        rc = emb__round_scan(e, EMB_FIELD_TLS_CERT_ISSUER, c->issuer, c->issuer_len);
    if (rc == 0 && c->cn)
        rc = emb__round_scan_name(e, EMB_FIELD_TLS_CERT_NAME, c->cn, c->cn_len, false);
    for (size_t i = 0; i < c->san_n && rc == 0; i++)
        rc = emb__round_scan_name(e, EMB_FIELD_TLS_CERT_NAME, c->san[i], c->san_len[i], false);
    return rc != 0 ? rc : emb__round_end(e);
}

/*
 * Gathers the handshake bytes of the records in buf[0, have) into e->hs and
 * inspects the complete messages: the ClientHello of the client, the
 * Certificate of the server. Sets *done when nothing more can come.
 */
static int tls_stream(emb_engine_t *e, const uint8_t *buf, uint32_t have, bool to_server,
                      bool closed, bool *done) {
    size_t off = 0, hs_len = 0;
    bool more_records = true;
    while (off + 5 <= have) {
        uint16_t rec_len = (uint16_t)(buf[off + 3] << 8 | buf[off + 4]);
        if (buf[off] != TLS_CONTENT_HANDSHAKE || buf[off + 1] != 3) {
            more_records = false; /* ChangeCipherSpec, Alert, data: the handshake is over */
            break;
        }
        if (off + 5 + rec_len > have)
            break;
        size_t take = rec_len;
        if (hs_len + take > e->cfg.stream_depth)
            take = e->cfg.stream_depth - hs_len;
        memcpy(e->hs + hs_len, buf + off + 5, take);
        hs_len += take;
        off += 5 + (size_t)rec_len;
    }

    size_t m = 0;
    while (m + 4 <= hs_len) {
        uint8_t type = e->hs[m];
        size_t mlen = (size_t)e->hs[m + 1] << 16 | (size_t)e->hs[m + 2] << 8 | e->hs[m + 3];
        if (m + 4 + mlen > hs_len)
            break; /* the rest of this message is still to come */
        const uint8_t *body = e->hs + m + 4;
        if (to_server && type == TLS_HS_CLIENT_HELLO) {
            *done = true;
            return tls_client_hello(e, body, mlen, false);
        }
        if (!to_server && type == TLS_HS_CERTIFICATE) {
            *done = true;
            return tls_certificate(e, body, mlen);
        }
        if (!to_server && type == TLS_HS_SERVER_HELLO_DONE) {
            *done = true;
            return 0;
        }
        m += 4 + mlen;
    }
    if (!more_records || closed || have >= e->cfg.stream_depth)
        *done = true;
    return 0;
}

/* ---- HTTP -------------------------------------------------------------- */

/* True when an HTTP Host value is an address literal (no name): digits and
 * dots, or a bracketed IPv6 address, with or without a port. */
static bool host_is_address(const uint8_t *p, size_t len) {
    size_t name_len, port;
    emb__host_split(p, len, &name_len, &port);
    if (name_len > 0 && p[0] == '[')
        return true;
    for (size_t i = 0; i < name_len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return false;
    return name_len > 0;
}

static int http_request(emb_engine_t *e, const uint8_t *p, size_t len) {
    emb__round_begin(e);
    emb_http_request_t *req = &e->app.http;
    if (emb__http_parse_request(p, len, req) != EMB_X_OK)
        return 0;
    if (req->proto == EMB_MSG_SIP) {
        e->cur.flow->client_spoke = true;
        emb_http_request_t copy = *req;
        return emb__device_sip(e, p, &copy, NULL);
    }
    if (req->proto == EMB_MSG_RTSP) {
        e->cur.flow->client_spoke = true; /* an RTSP request names nothing we match */
        return 0;
    }
    e->stats.http_requests++;
    if (req->host && !host_is_address(req->host, req->host_len))
        e->cur.flow->named = true;
    e->app.app = EMB_APP_HTTP;
    e->app.have_request = true;
    int rc = emb__round_scan(e, EMB_FIELD_HTTP_URI, req->uri, req->uri_len);
    if (rc == 0 && req->user_agent)
        rc = emb__round_scan(e, EMB_FIELD_HTTP_USER_AGENT, req->user_agent, req->user_agent_len);
    if (rc == 0 && req->host)
        rc = emb__round_scan_name(e, EMB_FIELD_HTTP_HOST, req->host, req->host_len, true);
    return rc != 0 ? rc : emb__round_end(e);
}

/* True when the first line of p ends with " SIP/2.0": a SIP request. */
static bool sip_request_line(const uint8_t *p, size_t n) {
    const uint8_t *nl = memchr(p, '\n', n);
    size_t e = nl ? (size_t)(nl - p) : 0;
    if (e > 0 && p[e - 1] == '\r')
        e--;
    return e > 8 && memcmp(p + e - 8, " SIP/2.0", 8) == 0;
}

/*
 * Walks HTTP messages from the direction's cursor: for requests, inspects
 * each; for responses, notes the status. Bodies are skipped by
 * Content-Length; a chunked or unsized body ends the walk (payload patterns
 * still see the bytes).
 */
static int http_stream(emb_engine_t *e, emb_flow_dir_t *fd, bool to_server, bool *done) {
    emb_stream_t *s = &fd->stream;
    while (s->cursor < s->have) {
        const uint8_t *p = s->buf + s->cursor;
        size_t avail = s->have - s->cursor;
        /* Resume the search for the empty line where the last one stopped
         * (less the 3 bytes a "\r\n\r\n" split across segments may leave). */
        size_t from = fd->searched > s->cursor + 3 ? fd->searched - 3 - s->cursor : 0;
        size_t end = emb__http_header_end(p + from, avail - from);
        size_t hdr = end ? from + end : 0;
        fd->searched = hdr ? 0 : s->have;
        if (hdr == 0) {
            if (s->cursor == 0 && s->have >= e->cfg.stream_depth) {
                *done = true; /* headers longer than the depth: take what is there */
                return to_server ? http_request(e, p, avail) : 0;
            }
            return 0;
        }
        int64_t body;
        bool chunked;
        /* Device fields look at a body's first bytes: wait for them while the
         * window can still grow (a sized body: up to EMB_BODY_HEAD of it;
         * chunked or unsized: whatever the first segment after the header
         * brings). */
        /* A message's head is inspected at once; device fields then look at its
         * body's first bytes (no further than the body), waited for while the
         * window can still grow (docs/flows.md, "Messages and depth"). */
        bool can_wait = s->have < e->cfg.stream_depth;
        size_t body_have = avail - hdr;
        bool look = false; /* the body's first bytes are read for device fields */
        /* SIP is peer to peer: either side sends requests and responses. */
        bool as_request = to_server;
        if (hdr >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
            as_request = false;
        else if (!to_server && sip_request_line(p, hdr))
            as_request = true;
        if (as_request) {
            emb_http_request_t req;
            if (emb__http_parse_request(p, hdr, &req) != EMB_X_OK) {
                *done = true;
                return 0;
            }
            if (!fd->head_done) {
                int rc = http_request(e, p, hdr);
                if (rc != 0)
                    return rc;
                fd->head_done = true;
            }
            body = req.content_length < 0 ? 0 : req.content_length; /* no body by default */
            chunked = req.chunked;
            look = (emb__engine_has_key(e, EMB_K_CWMP_MANUFACTURER) ||
                    emb__engine_has_key(e, EMB_K_CWMP_OUI)) &&
                   req.proto == EMB_MSG_HTTP && (chunked || body > 0);
            if (look && !emb__device_body_ready(p + hdr, body_have, body, chunked) && can_wait)
                return 0;
            if (look) {
                if (!chunked && (uint64_t)body_have > (uint64_t)body)
                    body_have = (size_t)body;
                int rc = emb__device_request_body(e, &req, p + hdr, body_have);
                if (rc != 0)
                    return rc;
            }
        } else {
            emb_http_response_t *resp = &e->resp;
            if (emb__http_parse_response(p, hdr, resp) != EMB_X_OK) {
                *done = true;
                return 0;
            }
            body = resp->content_length;
            chunked = resp->chunked;
            if (resp->status == 204 || resp->status == 304 ||
                (resp->status >= 100 && resp->status < 200))
                body = 0;
            else if (resp->proto != EMB_MSG_HTTP && body < 0)
                body = 0; /* RTSP and SIP: no body without a length */
            if (!fd->head_done) {
                e->stats.http_responses++;
                e->cur.flow->http_status = resp->status;
                bool head = emb__engine_has_key(e, EMB_K_HTTP_SERVER) ||
                            emb__engine_has_key(e, EMB_K_RTSP_SERVER) ||
                            emb__engine_has_key(e, EMB_K_SIP_USER_AGENT);
                int rc = head ? emb__device_response(e, p) : 0;
                if (rc != 0)
                    return rc;
                fd->head_done = true;
            }
            look = (emb__engine_has_key(e, EMB_K_HTTP_RESPONSE_BODY) ||
                    emb__engine_has_key(e, EMB_K_ONVIF_DEVICE)) &&
                   resp->proto == EMB_MSG_HTTP && (chunked || body != 0);
            if (look && !emb__device_body_ready(p + hdr, body_have, body, chunked) && can_wait)
                return 0;
            if (look) {
                if (!chunked && body >= 0 && (uint64_t)body_have > (uint64_t)body)
                    body_have = (size_t)body;
                int rc = emb__device_response_body(e, p + hdr, body_have);
                if (rc != 0)
                    return rc;
            }
        }
        fd->head_done = false;
        if (chunked || body < 0 || (uint64_t)body > UINT32_MAX - s->cursor - hdr) {
            *done = true;
            return 0;
        }
        s->cursor += (uint32_t)hdr + (uint32_t)body;
    }
    return 0;
}

/* ---- DNS over TCP ------------------------------------------------------ */

static int dns_stream(emb_engine_t *e, emb_stream_t *s, bool *done) {
    while (s->cursor + 2 <= s->have) {
        uint32_t mlen = (uint32_t)s->buf[s->cursor] << 8 | s->buf[s->cursor + 1];
        if (s->cursor + 2 + mlen > s->have) {
            if (2 + mlen > e->cfg.stream_depth)
                *done = true; /* a message longer than the window */
            return 0;
        }
        int rc = emb__inspect_dns(e, s->buf + s->cursor + 2, mlen);
        if (rc != 0)
            return rc;
        s->cursor += 2 + mlen;
    }
    return 0;
}

/* ---- TLS after a plaintext upgrade (STARTTLS) -------------------------- */

/*
 * A flow in a plaintext protocol that can switch to TLS. Until the switch
 * is confirmed or ruled out, both directions' bytes are walked again on each
 * growth (at most EMB_STARTTLS_WINDOW of each); once it is confirmed, this
 * direction's bytes from its TLS offset (kept in the stream cursor) are a
 * TLS stream. Ruled out, both directions are done.
 */
static int starttls_stream(emb_engine_t *e, emb_flow_t *f, bool to_server, bool full, bool *done) {
    if (f->app_proto == EMB_AP_STARTTLS) {
        const emb_stream_t *cs = &f->dir[0].stream, *ss = &f->dir[1].stream;
        emb_starttls_t st;
        emb_x_result_t x = EMB_X_NONE;
        /* A direction whose bytes were let go (memory, FIN) cannot be followed. */
        if (!cs->closed && !ss->closed)
            x = emb__starttls_find(cs->buf, cs->have, ss->buf, ss->have, &st);
        if (x == EMB_X_TRUNCATED && !full)
            return 0;
        if (x != EMB_X_OK) {
            f->app_proto = EMB_AP_PLAINTEXT;
            f->client_spoke = true; /* no ClientHello will come to wait for */
            *done = true;
            emb_flow_dir_t *other = &f->dir[to_server ? 1 : 0];
            other->done = true;
            if (!e->has_payload_rules && !other->stream.closed) {
                other->past_depth = true;
                emb__stream_close(&e->streams, &other->stream);
            }
            return 0;
        }
        f->app_proto = EMB_AP_STARTTLS_TLS;
        f->plain_proto = (uint8_t)st.proto;
        f->dir[0].stream.cursor = st.client_tls;
        f->dir[1].stream.cursor = st.server_tls;
    }
    const emb_stream_t *s = &f->dir[to_server ? 0 : 1].stream;
    return tls_stream(e, s->buf + s->cursor, s->have - s->cursor, to_server, full, done);
}

/* ---- TCP --------------------------------------------------------------- */

static bool looks_like_http_request(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    return i >= 3 && i < n && p[i] == ' ';
}

/* True while the first n bytes of a direction could still begin a TLS record
 * or (to the server) an HTTP request line or (to the client) a status line. */
static bool may_become_tls_or_http(const uint8_t *p, uint32_t n, bool to_server) {
    if (p[0] >= 20 && p[0] <= 23 && (n < 2 || p[1] == 3))
        return true;
    if (!to_server)
        return n < 7 && (memcmp(p, "HTTP/1.", n) == 0 || memcmp(p, "RTSP/1.", n) == 0 ||
                         memcmp(p, "SIP/2.0", n) == 0);
    uint32_t i = 0;
    while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    return i == n && n < 17; /* only capitals so far: a method may still end in ' ' */
}

bool emb__may_name_server(const uint8_t *p, size_t n) {
    if (n == 0)
        return true;
    uint32_t k = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return may_become_tls_or_http(p, k, true) || looks_like_http_request(p, n);
}

/* Decides a flow's protocol from the first bytes of one of its directions. */
static void detect(emb_flow_t *f, const uint8_t *p, uint32_t n, bool to_server, bool final) {
    bool more = false;
    /* Any TLS record (ChangeCipherSpec, Alert, Handshake, ApplicationData): a
     * flow picked up mid-stream may show its server's data first. */
    if (n >= 2 && p[0] >= 20 && p[0] <= 23 && p[1] == 3)
        f->app_proto = EMB_AP_TLS;
    else if (to_server && looks_like_http_request(p, n))
        f->app_proto = EMB_AP_HTTP;
    else if (!to_server && n >= 7 &&
             (memcmp(p, "HTTP/1.", 7) == 0 || memcmp(p, "RTSP/1.", 7) == 0 ||
              memcmp(p, "SIP/2.0", 7) == 0))
        f->app_proto = EMB_AP_HTTP; /* RTSP and SIP share its syntax (protocols/http.c) */
    else if (f->srv_port == 53)
        f->app_proto = EMB_AP_DNS;
    else if (emb__starttls_detect(p, n, to_server, &more) != EMB_STARTTLS_NONE)
        f->app_proto = EMB_AP_STARTTLS; /* a greeting such as "220 " may be 4 bytes */
    else if ((n >= 17 && !more) || final ||
             (to_server && !more && !may_become_tls_or_http(p, n, to_server)))
        f->app_proto = EMB_AP_OTHER; /* a client's short first message too: attribution runs */
}

/* Payload patterns over the new bytes of a stream, with some overlap; only
 * the first depth bytes of the stream (a sliding window goes on past them). */
static int scan_stream_payload(emb_engine_t *e, emb_flow_dir_t *fd, bool to_server) {
    emb_stream_t *s = &fd->stream;
    uint32_t from = fd->scanned > e->payload_overlap ? fd->scanned - e->payload_overlap : 0;
    uint32_t upto = s->offset < e->cfg.stream_depth ? e->cfg.stream_depth - s->offset : 0;
    if (upto > s->have)
        upto = s->have;
    fd->scanned = s->have;
    if (from >= upto)
        return 0;
    emb__round_begin(e);
    if (e->cur.flow->app_proto == EMB_AP_HTTP && !to_server && e->cur.flow->http_status) {
        e->app.app = EMB_APP_HTTP; /* a response body: say which status it came with */
        e->app.http_status = e->cur.flow->http_status;
    }
    /* `^` in a payload regex is the start of the stream direction: only a scan
     * from its first byte has it; a later, longer look at the start is made for
     * the anchored patterns alone while they could still span more. */
    emb_payload_at_t at = from == 0 && s->offset == 0 ? EMB_AT_START : EMB_AT_MIDDLE;
    int rc = emb__round_scan_payload(e, s->buf + from, upto - from, at);
    uint32_t width = emb__matcher_start_width(e->matcher);
    if (at == EMB_AT_START) {
        fd->start_scanned = upto;
    } else if (rc == 0 && s->offset == 0 && fd->start_scanned < width && fd->start_scanned < upto) {
        uint32_t n = upto < width ? upto : width;
        rc = emb__round_scan_payload(e, s->buf, n, EMB_AT_START_ONLY);
        fd->start_scanned = n;
    }
    return rc != 0 ? rc : emb__round_end(e);
}

/* What single packets show when their stream is not kept. A plaintext
 * protocol's flow that did not switch to TLS has no handshake to look for. */
static int inspect_packet(emb_engine_t *e, const uint8_t *p, size_t len, bool payload) {
    int rc = 0;
    uint8_t ap = e->cur.flow->app_proto;
    bool messages = ap != EMB_AP_STARTTLS && ap != EMB_AP_PLAINTEXT;
    if (messages && p[0] == TLS_CONTENT_HANDSHAKE) {
        const uint8_t *sni;
        size_t sni_len;
        if (emb__tls_client_hello_sni(p, len, &sni, &sni_len) == EMB_X_OK) {
            e->cur.flow->named = true;
            emb__round_begin(e);
            e->app.app = EMB_APP_TLS;
            e->app.sni = sni;
            e->app.sni_len = sni_len;
            rc = emb__round_scan_name(e, EMB_FIELD_TLS_SNI, sni, sni_len, false);
            if (rc == 0)
                rc = emb__round_end(e);
        }
    } else if (messages && looks_like_http_request(p, len)) {
        rc = http_request(e, p, len);
    }
    if (rc != 0 || !payload)
        return rc;
    emb__round_begin(e);
    rc = emb__round_scan_payload(e, p, len, EMB_AT_MIDDLE); /* not a stream's start */
    return rc != 0 ? rc : emb__round_end(e);
}

static int inspect_tcp_segment(emb_engine_t *e) {
    const emb_decoded_t *d = e->cur.d;
    emb_flow_t *f = e->cur.flow;
    if (!f->oriented && d->payload_len > 0 && !f->dir[e->cur.to_server ? 0 : 1].stream.base_set) {
        /* The first bytes of a direction of a flow picked up mid-stream. */
        int side = emb__flow_message_side(d->payload, d->payload_len);
        int rc = side != 0 ? orient(e, side > 0) : 0;
        if (rc != 0)
            return rc;
    }
    bool to_server = e->cur.to_server;
    emb_flow_dir_t *fd = &f->dir[to_server ? 0 : 1];
    emb_stream_t *s = &fd->stream;
    bool syn = (d->tcp_flags & EMB_TCP_SYN) != 0;

    if (s->closed) {
        if (to_server && d->payload_len > 0)
            f->client_spoke = true;
        /* Past the depth only request lines and handshakes are looked for:
         * payload patterns are for stream starts. A stream closed for want
         * of memory gets them per packet instead. */
        return d->payload_len > 0 ? inspect_packet(e, d->payload, d->payload_len, !fd->past_depth)
                                  : 0;
    }
    uint32_t offset = s->offset;
    uint32_t grew = emb__stream_add(&e->streams, s, d->tcp_seq, syn, d->payload, d->payload_len);
    if (s->offset != offset) {
        /* The window slid: positions into the buffer move back with it. */
        uint32_t slid = s->offset - offset;
        fd->scanned = fd->scanned > slid ? fd->scanned - slid : 0;
        fd->searched = fd->searched > slid ? fd->searched - slid : 0;
    }
    if (s->closed && d->payload_len > 0 && grew == 0 && s->buf == NULL) {
        f->client_spoke = f->client_spoke || to_server;
        return inspect_packet(e, d->payload, d->payload_len, true); /* refused just now */
    }
    if (grew == 0)
        return 0;

    int rc = 0;
    /* A full window is the end of the stream unless it can slide on. */
    bool full = s->have >= e->cfg.stream_depth && !(s->slide && s->cursor > 0);
    if (!fd->done) {
        if (f->app_proto == EMB_AP_UNKNOWN)
            detect(f, s->buf, s->have, to_server, full);
        bool done = false;
        switch (f->app_proto) {
        case EMB_AP_TLS: rc = tls_stream(e, s->buf, s->have, to_server, full, &done); break;
        case EMB_AP_HTTP: rc = http_stream(e, fd, to_server, &done); break;
        case EMB_AP_DNS: rc = dns_stream(e, s, &done); break;
        case EMB_AP_STARTTLS:
        case EMB_AP_STARTTLS_TLS: rc = starttls_stream(e, f, to_server, full, &done); break;
        case EMB_AP_OTHER:
        case EMB_AP_PLAINTEXT: done = true; break;
        default: break;
        }
        fd->done = done || full;
        /* HTTP and DNS frame their messages: their windows slide for the life
         * of the connection (docs/flows.md, "Messages and depth"). */
        s->slide = !fd->done && (f->app_proto == EMB_AP_HTTP || f->app_proto == EMB_AP_DNS);
    }
    if (to_server && (fd->done || e->app.app != EMB_APP_NONE))
        f->client_spoke = true;
    if (rc == 0)
        rc = scan_stream_payload(e, fd, to_server);
    /* Past the depth, or with nothing left to look for in the stream, the
     * buffer goes back; later packets are looked at one at a time. After a
     * TLS handshake the stream is encrypted records: no payload pattern is
     * looked for in them (as Suricata stops raw inspection there too). */
    bool encrypted = f->app_proto == EMB_AP_TLS || f->app_proto == EMB_AP_STARTTLS_TLS;
    if (full || (fd->done && (!e->has_payload_rules || encrypted))) {
        fd->past_depth = true;
        emb__stream_close(&e->streams, s);
    }
    return rc;
}

/* A direction that has ended (FIN, with nothing missing before it) or a flow
 * that was reset gives its buffers back now rather than at eviction. */
static void release_ended(emb_engine_t *e) {
    const emb_decoded_t *d = e->cur.d;
    emb_flow_t *f = e->cur.flow;
    for (int i = 0; i < 2; i++) {
        emb_flow_dir_t *fd = &f->dir[i];
        bool this_dir = (i == 0) == e->cur.to_server;
        bool ended = (d->tcp_flags & EMB_TCP_RST) ||
                     (this_dir && (d->tcp_flags & EMB_TCP_FIN) && fd->stream.nranges <= 1);
        if (ended && !fd->stream.closed) {
            fd->past_depth = true;
            emb__stream_close(&e->streams, &fd->stream);
        }
        /* A plaintext exchange that ended before any TLS: no ClientHello to
         * wait for (DNS attribution waits for the client's first message). */
        if (ended && i == 0 && f->app_proto == EMB_AP_STARTTLS)
            f->client_spoke = true;
    }
}

int emb__inspect_tcp(emb_engine_t *e) {
    int rc = emb__engine_has_key(e, EMB_K_MAC) ? emb__device_mac(e) : 0;
    if (rc == 0)
        rc = inspect_tcp_segment(e);
    if (e->cur.d->tcp_flags & (EMB_TCP_FIN | EMB_TCP_RST))
        release_ended(e);
    return rc;
}

/* ---- UDP --------------------------------------------------------------- */

/*
 * A client Initial: its CRYPTO frames go into the flow's to-server stream
 * (at their crypto-stream offsets); once the ClientHello is whole, it is
 * inspected like a TLS one.
 */
static int inspect_quic(emb_engine_t *e, const uint8_t *p, size_t len) {
    emb_flow_dir_t *fd = &e->cur.flow->dir[0];
    emb_stream_t *s = &fd->stream;
    /* From the side taken for the server only while the flow's sides are a
     * guess: a client Initial (only those decrypt with the client keys)
     * re-orients it. */
    if ((!e->cur.to_server && e->cur.flow->oriented) || (e->cur.to_server && fd->done))
        return 0;
    emb_quic_initial_t *ini = &e->quic_ini;
    if (emb__quic_initial(e->quic, p, len, ini, e->quic_plain, sizeof(e->quic_plain)) != EMB_X_OK)
        return 0;
    int rc = orient(e, true);
    if (rc != 0)
        return rc;
    fd = &e->cur.flow->dir[0];
    s = &fd->stream;
    if (fd->done)
        return 0;
    e->stats.quic_initials++;
    e->cur.flow->app_proto = EMB_AP_QUIC;
    if (!s->base_set) {
        s->base_set = true; /* CRYPTO offsets start at 0 */
        s->base = 0;
    }
    for (size_t i = 0; i < ini->crypto_count; i++) {
        const emb_quic_crypto_t *c = &ini->crypto[i];
        if (c->offset < e->cfg.stream_depth)
            emb__stream_add(&e->streams, s, (uint32_t)c->offset, false, c->data, c->len);
    }
    if (s->have < 4 || s->buf == NULL)
        return 0;
    size_t mlen = (size_t)s->buf[1] << 16 | (size_t)s->buf[2] << 8 | s->buf[3];
    if (s->buf[0] != TLS_HS_CLIENT_HELLO) {
        fd->done = true;
        return 0;
    }
    if (4 + mlen > s->have) {
        if (4 + mlen > e->cfg.stream_depth)
            fd->done = true;
        return 0;
    }
    fd->done = true;
    rc = tls_client_hello(e, s->buf + 4, mlen, true);
    emb__stream_close(&e->streams, s);
    return rc;
}

static bool looks_like_quic_long_header(const uint8_t *p, size_t n) {
    if (n < 5 || !(p[0] & 0x80))
        return false;
    uint32_t v = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    return v == EMB_QUIC_V1 || v == EMB_QUIC_V2;
}

int emb__inspect_udp(emb_engine_t *e) {
    const emb_decoded_t *d = e->cur.d;
    int rc = emb__engine_has_key(e, EMB_K_MAC) ? emb__device_mac(e) : 0;
    if (rc != 0)
        return rc;
    if (d->sport == 53 || d->dport == 53) {
        e->cur.flow->app_proto = EMB_AP_DNS;
        /* QR clear: a query, sent by the client. */
        if (d->payload_len >= 3 && (rc = orient(e, !(d->payload[2] & 0x80))) != 0)
            return rc;
        rc = emb__inspect_dns(e, d->payload, d->payload_len);
    } else if (looks_like_quic_long_header(d->payload, d->payload_len)) {
        rc = inspect_quic(e, d->payload, d->payload_len);
    } else if (emb__engine_has_message_keys(e) &&
               e->cur.flow->dir[e->cur.to_server ? 0 : 1].udp_scanned <
                   e->cfg.udp_payload_packets) {
        /* announcements and answers: the first datagrams of each direction, as payload */
        rc = emb__device_datagram(e, d->payload, d->payload_len);
    }
    if (rc != 0)
        return rc;
    /* Payload patterns look at the first packets of each direction: long
     * media or tunnel flows are not scanned to their end. */
    emb_flow_dir_t *fd = &e->cur.flow->dir[e->cur.to_server ? 0 : 1];
    if (fd->udp_scanned >= e->cfg.udp_payload_packets)
        return 0;
    fd->udp_scanned++;
    emb__round_begin(e);
    rc = emb__round_scan(e, EMB_FIELD_PAYLOAD, d->payload, d->payload_len);
    return rc != 0 ? rc : emb__round_end(e);
}
