/*
 * Reading Suricata 8's transactions for the transactions mode: the fields of
 * its DNS, TLS, HTTP/1 and QUIC transactions (detect-sc8-read.h), through
 * Suricata's exported accessors, and whether the transaction names its
 * server (an SNI that is not ECH's outer name, a Host that is not an
 * address: DNS attribution is made only for connections that do not).
 */
#include "suricata-common.h"

#include "app-layer-htp.h"
#include "app-layer-parser.h"
#include "app-layer-ssl.h"
#include "decode.h"
#include "rust-bindings.h"
#include "util-streaming-buffer.h"

#include <embargo/embargo.h>

#include <string.h>

#include "detect-sc8-read.h"
#include "sc8-state.h"

/* Suricata 8's HTTP/1 parser (rust/htp) exports a C API whose header is not
 * installed with Suricata's: these are its signatures (rust/htp/src/c_api). */
typedef struct EmbargoHtpTx EmbargoHtpTx;
typedef struct EmbargoBstr EmbargoBstr;
typedef struct EmbargoHtpHeader EmbargoHtpHeader;
const EmbargoBstr *htp_tx_request_hostname(const EmbargoHtpTx *tx);
const EmbargoBstr *htp_tx_request_uri(const EmbargoHtpTx *tx);
const EmbargoHtpHeader *htp_tx_request_header(const EmbargoHtpTx *tx, const char *name);
const EmbargoHtpHeader *htp_tx_response_header(const EmbargoHtpTx *tx, const char *name);
const uint8_t *htp_header_value_ptr(const EmbargoHtpHeader *h);
size_t htp_header_value_len(const EmbargoHtpHeader *h);
unsigned char *bstr_ptr(const EmbargoBstr *b);
size_t bstr_len(const EmbargoBstr *b);
void *htp_tx_get_user_data(const EmbargoHtpTx *tx);
int htp_tx_request_progress(const EmbargoHtpTx *tx);
int htp_tx_response_progress(const EmbargoHtpTx *tx);
int htp_tx_response_status_number(const EmbargoHtpTx *tx);
/* libhtp's progress: request and response headers are complete from BODY on
 * (rust/htp/src/transaction.rs, HtpRequestProgress, HtpResponseProgress). */
#define EMBARGO_HTP_PROGRESS_BODY 3

static void Add(EmbargoSc8Facts *fa, emb_field_t field, const void *v, size_t len) {
    if (v != NULL && len > 0 && fa->n < MAX_FACTS)
        fa->facts[fa->n++] = (emb_fact_t){field, v, len};
}

static void ReadDns(const void *tx, uint8_t dir, EmbargoSc8Facts *fa) {
    const uint8_t *b;
    uint32_t n;
    for (uint32_t i = 0; i < MAX_FACTS && SCDnsTxGetQueryName(NULL, tx, dir, i, &b, &n); i++)
        Add(fa, EMB_FIELD_DNS_QUERY, b, n);
    if (dir != STREAM_TOCLIENT)
        return;
    /* Answer names and the names they point to: a vendor may show only in a CNAME chain. */
    for (uint32_t i = 0; i < MAX_FACTS; i++) {
        bool any = false;
        if (SCDnsTxGetAnswerName(NULL, tx, dir, i, &b, &n)) {
            Add(fa, EMB_FIELD_DNS_QUERY, b, n);
            any = true;
        }
        if (SCDnsTxGetAnswerRdata((void *)tx, i, &b, &n)) {
            Add(fa, EMB_FIELD_DNS_QUERY, b, n);
            any = true;
        }
        if (!any)
            break;
    }
}

/* The CN of a subject as Suricata writes it ("C=US, O=X, CN=name"). */
static void AddCommonName(EmbargoSc8Facts *fa, const uint8_t *subj, size_t len) {
    for (size_t i = 0; i + 3 <= len; i++) {
        if ((i == 0 || subj[i - 1] == ' ' || subj[i - 1] == ',') &&
            memcmp(subj + i, "CN=", 3) == 0) {
            size_t s = i + 3, e = s;
            while (e < len && subj[e] != ',')
                e++;
            Add(fa, EMB_FIELD_TLS_CERT_NAME, subj + s, e - s);
            return;
        }
    }
}

/* Whether the JSON `jb` holds (after SCJbClose) the token `tok` with one of
 * `before` just before it (NULL: anything) and one of `after` just after. */
static bool JsonHasToken(SCJsonBuilder *jb, const char *tok, const char *before,
                         const char *after) {
    if (!SCJbClose(jb))
        return false;
    const char *text = (const char *)SCJbPtr(jb);
    size_t len = SCJbLen(jb), n = strlen(tok);
    for (const char *at = memmem(text, len, tok, n); at != NULL;
         at = memmem(at + 1, len - (size_t)(at + 1 - text), tok, n)) {
        size_t off = (size_t)(at - text);
        if ((before == NULL || (off > 0 && memchr(before, at[-1], strlen(before)) != NULL)) &&
            off + n < len && memchr(after, at[n], strlen(after)) != NULL)
            return true;
    }
    return false;
}

/* True when the ClientHello offered Encrypted Client Hello (extension 0xfe0d):
 * its SNI is then the outer, public name, not the server's. Suricata keeps
 * the extension list only for logging: it is read as its JSON, an array of
 * numbers. */
static bool OffersEch(const HandshakeParams *hs, SCJsonBuilder *jb) {
    if (jb == NULL)
        return false;
    SCJbReset(jb);
    return SCTLSHandshakeLogExtensions(hs, jb) && JsonHasToken(jb, "65037", "[,", "],");
}

/* The same for a QUIC client's Initial: its extensions are in the "quic"
 * object Suricata logs (SCQuicLogJson), as {"type":65037,...}. */
static bool QuicOffersEch(const void *tx, SCJsonBuilder *jb) {
    if (jb == NULL)
        return false;
    SCJbReset(jb);
    return SCQuicLogJson((void *)tx, jb) && JsonHasToken(jb, "\"type\":65037", NULL, ",}");
}

/* Whether the ClientHello's SNI may be an Encrypted Client Hello's outer
 * name. That only matters for an attribution: when every worker has read
 * past this message and no answer learned gave the server to the client,
 * there is none to make, and Suricata's extension list is not rendered. */
static bool SniMayBeOuter(const EmbargoSc8Facts *fa, const HandshakeParams *hs) {
    if (!EmbargoSc8MayAttribute(fa->e, fa->flow, fa->now_us))
        return false;
    return OffersEch(hs, fa->jb);
}

static void ReadTls(const void *tx, uint8_t dir, EmbargoSc8Facts *fa) {
    const SSLState *ssl = tx; /* TLS has one transaction: the state */
    if (dir == STREAM_TOSERVER) {
        const SSLStateConnp *c = &ssl->client_connp;
        Add(fa, EMB_FIELD_TLS_SNI, c->sni, c->sni_len);
        /* as the engine's own inspection: ECH's outer SNI does not name the server */
        fa->named =
            c->sni != NULL && c->sni_len > 0 && (c->hs == NULL || !SniMayBeOuter(fa, c->hs));
        if (c->hs != NULL && SSLJA4IsEnabled()) {
            static _Thread_local uint8_t ja4[JA4_HEX_LEN];
            SCJA4GetHash(c->hs, (uint8_t(*)[JA4_HEX_LEN])ja4);
            Add(fa, EMB_FIELD_JA4, ja4, JA4_HEX_LEN);
        }
        return;
    }
    const SSLStateConnp *s = &ssl->server_connp;
    Add(fa, EMB_FIELD_TLS_CERT_SUBJECT, s->cert0_subject, s->cert0_subject_len);
    Add(fa, EMB_FIELD_TLS_CERT_ISSUER, s->cert0_issuerdn, s->cert0_issuerdn_len);
    if (s->cert0_subject != NULL)
        AddCommonName(fa, s->cert0_subject, s->cert0_subject_len);
    for (uint16_t i = 0; i < s->cert0_sans_num && s->cert0_sans != NULL; i++)
        Add(fa, EMB_FIELD_TLS_CERT_NAME, s->cert0_sans[i].san, s->cert0_sans[i].san_len);
}

static void AddBstr(EmbargoSc8Facts *fa, emb_field_t field, const EmbargoBstr *b) {
    if (b != NULL)
        Add(fa, field, bstr_ptr(b), bstr_len(b));
}

static void AddHeader(EmbargoSc8Facts *fa, emb_field_t field, const EmbargoHtpHeader *h) {
    if (h != NULL && htp_header_value_ptr(h) != NULL)
        Add(fa, field, htp_header_value_ptr(h), htp_header_value_len(h));
}

/* An address as the Host ("192.0.2.1", "[2001:db8::1]") names no server. */
static bool HostIsAddress(const uint8_t *p, size_t len) {
    if (len > 0 && p[0] == '[')
        return true;
    for (size_t i = 0; i < len && p[i] != ':'; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return false;
    return len > 0;
}

static void ReadHttp(const void *tx, uint8_t dir, EmbargoSc8Facts *fa) {
    const EmbargoHtpTx *h = tx;
    if (dir == STREAM_TOSERVER) {
        const EmbargoBstr *host = htp_tx_request_hostname(h);
        AddBstr(fa, EMB_FIELD_HTTP_HOST, host);
        fa->named =
            host != NULL && bstr_len(host) > 0 && !HostIsAddress(bstr_ptr(host), bstr_len(host));
        AddBstr(fa, EMB_FIELD_HTTP_URI, htp_tx_request_uri(h));
        AddHeader(fa, EMB_FIELD_HTTP_USER_AGENT, htp_tx_request_header(h, "User-Agent"));
        return;
    }
    AddHeader(fa, EMB_FIELD_HTTP_SERVER, htp_tx_response_header(h, "Server"));
}

/*
 * The first bytes of an HTTP body, as Suricata's HTTP parser decoded them
 * (no chunk framing) and keeps them in its body buffers: once
 * EMB_HTTP_BODY_HEAD bytes have come or the body ended, which is before
 * Suricata prunes its start (app-layer-htp-body.c, HtpBodyPrune: not before
 * an inspection window of tens of KiB has passed). Suricata keeps them when a
 * rule asks (EmbargoSc8TxRegister does, for the rules of body keys). 1 when
 * *body and *len hold them (and *status the response's status), -1 when too
 * little has come yet, 0 when there is none to read (no body, or not kept, or
 * its start gone).
 */
static int HttpBodyHead(const void *tx, bool request, const uint8_t **body, size_t *len,
                        int *status) {
    const EmbargoHtpTx *h = tx;
    int progress = request ? htp_tx_request_progress(h) : htp_tx_response_progress(h);
    if (progress < EMBARGO_HTP_PROGRESS_BODY)
        return -1; /* its head is still coming */
    const HtpTxUserData *ud = htp_tx_get_user_data(h);
    if (ud == NULL)
        return 0;
    const HtpBody *b = request ? &ud->request_body : &ud->response_body;
    if (b->content_len_so_far < EMB_HTTP_BODY_HEAD && progress == EMBARGO_HTP_PROGRESS_BODY)
        return -1;
    const uint8_t *data = NULL;
    uint32_t n = 0;
    if (b->sb == NULL || !StreamingBufferGetDataAtOffset(b->sb, &data, &n, 0) || n == 0)
        return 0; /* no body, or its start is gone */
    *body = data;
    *len = n < EMB_HTTP_BODY_HEAD ? n : EMB_HTTP_BODY_HEAD;
    *status = request ? 0 : htp_tx_response_status_number(h);
    return 1;
}

/*
 * The HTTP transactions of `f` whose body's start can be read at packet `p`
 * (HttpBodyHead): requests' on a packet to the server and responses' on one
 * to the client, as Suricata's own engines of those directions would see
 * them, and both at a flow's end. Each direction's mark in the flow's state
 * moves past the transactions read (or that have none to read), and stops at
 * the first whose body is still coming. Suricata keeps a transaction until
 * detection has seen it complete, so none is freed before it was looked at
 * here (one freed, NULL, is passed over).
 */
int EmbargoSc8HttpBodies(const Packet *p, Flow *f, bool requests, bool responses,
                         EmbargoSc8Body out[EMBARGO_SC8_MAX_BODIES]) {
    int n = 0;
    const bool end = PKT_IS_PSEUDOPKT(p);
    for (int r = 0; r < 2; r++) {
        const bool request = r == 0;
        if (!(request ? requests : responses) ||
            (!end && ((p->flowflags & FLOW_PKT_TOSERVER) != 0) != request))
            continue;
        uint64_t *next = EmbargoSc8FlowBodyNext(f, request);
        if (next == NULL)
            continue;
        const uint64_t count = AppLayerParserGetTxCnt(f, f->alstate);
        while (*next < count && n < EMBARGO_SC8_MAX_BODIES) {
            void *tx = AppLayerParserGetTx(IPPROTO_TCP, ALPROTO_HTTP1, f->alstate, *next);
            int got = tx != NULL
                          ? HttpBodyHead(tx, request, &out[n].body, &out[n].len, &out[n].status)
                          : 0;
            if (got < 0)
                break;
            if (got > 0)
                out[n++].request = request;
            ++*next;
        }
    }
    return n;
}

/* Whether a DNS message over UDP can give addresses: a response with answers
 * to an A, AAAA or ANY question (RFC 1035 4.1; only the answer section's
 * A/AAAA records are learned). Others (PTR, HTTPS, errors) cost the engine a
 * parse for nothing. */
bool EmbargoSc8DnsMayGiveAddresses(const uint8_t *m, uint32_t len) {
    if (len < 12 || (m[2] & 0x80) == 0 || (m[6] | m[7]) == 0)
        return false;
    if ((m[4] | m[5]) == 0)
        return true; /* no question: let the engine judge */
    uint32_t at = 12;
    while (at < len && m[at] != 0) {
        if ((m[at] & 0xc0) != 0)
            return true; /* compressed in a question: unusual, let the engine judge */
        at += 1u + m[at];
    }
    if (at + 3 > len)
        return false;
    uint16_t qtype = (uint16_t)(m[at + 1] << 8 | m[at + 2]);
    return qtype == 1 || qtype == 28 || qtype == 255;
}

/*
 * A client's Initial. Its JA4 is there only in the transaction of its whole
 * ClientHello (a CRYPTO frame, reassembled when it came over two Initials),
 * and Suricata's parser reads none of the client's packets after that one
 * (rust/src/quic/quic.rs, QuicState::parse: hello_ts): `last`. Google QUIC's
 * SNI tags (a STREAM frame) give no JA4, nor does a Suricata built without
 * ja4: such a flow is read to its end.
 */
static void ReadQuic(const void *tx, uint8_t dir, EmbargoSc8Facts *fa) {
    const uint8_t *b;
    uint32_t n;
    if (dir != STREAM_TOSERVER)
        return;
    if (SCQuicTxGetSni(tx, &b, &n)) {
        Add(fa, EMB_FIELD_QUIC_SNI, b, n);
        /* ECH's outer SNI does not name the server, as over TLS (SniMayBeOuter) */
        fa->named = n > 0 && !(EmbargoSc8MayAttribute(fa->e, fa->flow, fa->now_us) &&
                               QuicOffersEch(tx, fa->jb));
    }
    if (SCQuicTxGetJa4(tx, &b, &n)) {
        Add(fa, EMB_FIELD_JA4, b, n);
        fa->last = true;
    }
}

const EmbargoSc8Reader EmbargoSc8Readers[] = {
    {ALPROTO_DNS, STREAM_TOSERVER, 1, false, ReadDns, "embargo:dns:request"},
    {ALPROTO_DNS, STREAM_TOCLIENT, 1, false, ReadDns, "embargo:dns:response"},
    {ALPROTO_TLS, STREAM_TOSERVER, TLS_STATE_CLIENT_HELLO_DONE, true, ReadTls,
     "embargo:tls:client_hello"},
    {ALPROTO_TLS, STREAM_TOCLIENT, TLS_STATE_SERVER_CERT_DONE, false, ReadTls,
     "embargo:tls:certificate"},
    {ALPROTO_HTTP1, STREAM_TOSERVER, EMBARGO_HTP_PROGRESS_BODY, true, ReadHttp,
     "embargo:http:request"},
    {ALPROTO_HTTP1, STREAM_TOCLIENT, EMBARGO_HTP_PROGRESS_BODY, false, ReadHttp,
     "embargo:http:response"},
    {ALPROTO_QUIC, STREAM_TOSERVER, 1, true, ReadQuic, "embargo:quic:initial"},
};
_Static_assert(EMBARGO_SC8_NREADERS <= EMBARGO_READERS, "sc8-state.h keeps a scan mark per reader");
_Static_assert(sizeof(EmbargoSc8Readers) / sizeof(EmbargoSc8Readers[0]) == EMBARGO_SC8_NREADERS,
               "detect-sc8-read.h says how many readers there are");

bool EmbargoSc8SegmentHeadLine(const uint8_t *b, size_t len) {
    if (memcmp(b, "RTSP/1.", 7) == 0 || memcmp(b, "SIP/2.0 ", 8) == 0)
        return true;
    const uint8_t *nl = memchr(b, '\n', len < 512 ? len : 512);
    size_t e = nl != NULL ? (size_t)(nl - b) : 0;
    if (e > 0 && b[e - 1] == '\r')
        e--;
    return e > 8 && memcmp(b + e - 8, " SIP/2.0", 8) == 0;
}
