/*
 * Payload patterns on Suricata's own reassembled TCP stream, in the
 * transactions mode of the Suricata 8 `embargo` keyword (docs/suricata.md,
 * "Payload patterns"). Suricata keeps a "raw" stream per direction for its
 * payload rules; the keyword's packet prefilter reads it as Suricata's own
 * stream prefilter does (StreamReassembleRaw, from where the last detection
 * left it) and hands each stretch to emb_engine_match_stream: the first
 * stream-depth bytes of each direction, as `embargo scan` reads them, with
 * no second reassembly. A pattern may span two stretches: the last bytes of
 * each direction scanned (the engine's lookback, a few hundred) are kept in
 * flow storage and put in front of the next stretch.
 */
#include "suricata-common.h"

#include "app-layer-protos.h"
#include "app-layer-ssl.h"
#include "decode.h"
#include "detect.h"
#include "flow-storage.h"
#include "flow.h"
#include "stream-tcp-private.h"
#include "stream-tcp.h"
#include "thread-storage.h"
#include "threadvars.h"
#include "util-debug.h"

#include "detect-sc8-stream.h"
#include "sc8-state.h"

/* One direction: how far it was scanned, and its last bytes. */
typedef struct {
    emb_stream_scan_t st;
    uint64_t saved_from; /* stream offset of saved[0] */
    uint32_t nsaved;
    uint8_t *saved; /* lookback bytes; NULL once the direction is done */
} StreamDir;

typedef struct {
    StreamDir dir[2]; /* 0: to the server (the client's stream), 1: to the client */
    bool reversed;    /* the flow's FLOW_DIR_REVERSED when dir[] was last read */
} StreamState;

static struct {
    bool on;
    bool any_port;            /* a payload pattern holds on every port */
    uint8_t ports[65536 / 8]; /* else the server ports they name, a bit each */
    uint64_t depth;           /* bytes of each direction scanned (engine's stream_depth) */
    FlowStorageId flow_id;
    ThreadStorageId thread_id; /* a worker's scratch: lookback + stretch */
} S = {.flow_id = {.id = -1}, .thread_id = {.id = -1}};

typedef struct {
    uint8_t *buf;
    size_t cap;
} Scratch;

static void StateFree(void *ptr) {
    StreamState *s = ptr;
    if (s == NULL)
        return;
    SCFree(s->dir[0].saved);
    SCFree(s->dir[1].saved);
    SCFree(s);
}

static void ScratchFree(void *ptr) {
    Scratch *sc = ptr;
    if (sc != NULL)
        SCFree(sc->buf);
    SCFree(sc);
}

bool EmbargoSc8StreamInit(const uint8_t tcp_ports[65536 / 8], bool any_port, uint64_t depth) {
    S.on = true;
    S.any_port = any_port;
    memcpy(S.ports, tcp_ports, sizeof(S.ports));
    S.depth = depth;
    S.flow_id = FlowStorageRegister("embargo.stream", sizeof(void *), NULL, StateFree);
    S.thread_id = ThreadStorageRegister("embargo.stream", sizeof(void *), NULL, ScratchFree);
    return S.flow_id.id >= 0 && S.thread_id.id >= 0;
}

bool EmbargoSc8StreamEnabled(void) {
    return S.on;
}

static bool OnPort(const Flow *f) {
    return S.any_port || EmbargoSc8PortIn(S.ports, f->dp) || EmbargoSc8PortIn(S.ports, f->sp);
}

/* A TLS direction past its ChangeCipherSpec: encrypted from there on, so its
 * payload is not read (as `embargo scan` stops at the handshake's end). */
static bool Encrypted(const Flow *f, bool to_server) {
    if (f->alproto != ALPROTO_TLS || f->alstate == NULL)
        return false;
    const SSLState *ssl = f->alstate;
    return (ssl->flags & (to_server ? SSL_AL_FLAG_CLIENT_CHANGE_CIPHER_SPEC
                                    : SSL_AL_FLAG_SERVER_CHANGE_CIPHER_SPEC)) != 0;
}

static bool DirDone(const Flow *f, const StreamState *s, const TcpStream *stream, int d) {
    return (s != NULL && s->dir[d].st.done) ||
           (stream->flags &
            (STREAMTCP_STREAM_FLAG_NOREASSEMBLY | STREAMTCP_STREAM_FLAG_DISABLE_RAW)) != 0 ||
           Encrypted(f, d == 0);
}

bool EmbargoSc8StreamPending(const Flow *f) {
    if (!S.on || f->proto != IPPROTO_TCP || f->protoctx == NULL || !OnPort(f))
        return false;
    const TcpSession *ssn = f->protoctx;
    const StreamState *s = f->storage[S.flow_id.id].ptr;
    return !DirDone(f, s, &ssn->client, 0) || !DirDone(f, s, &ssn->server, 1);
}

typedef struct {
    emb_engine_t *e;
    const emb_facts_t *facts;
    StreamDir *d;
    Scratch *sc;
    size_t lookback;
    emb_match_cb cb;
    void *userdata;
} ChunkCtx;

/* Keeps the last bytes of what was just scanned, view[0..n) at stream offset
 * `at`, for the next stretch. */
static void Save(StreamDir *d, const uint8_t *view, size_t n, uint64_t at, size_t lookback) {
    size_t k = n < lookback ? n : lookback;
    if (d->saved == NULL && (d->saved = SCMalloc(lookback)) == NULL) {
        d->nsaved = 0;
        return; /* no lookback: a pattern across two stretches is missed */
    }
    memmove(d->saved, view + (n - k), k);
    d->saved_from = at + n - k;
    d->nsaved = (uint32_t)k;
}

/* One stretch of raw stream (StreamReassembleRawFunc): 1 stops the walk. */
static int Chunk(void *cb_data, const uint8_t *data, const uint32_t data_len,
                 const uint64_t offset) {
    ChunkCtx *c = cb_data;
    StreamDir *d = c->d;
    if (d->st.done)
        return 1;
    const uint8_t *view = data;
    uint64_t at = offset;
    size_t n = data_len;
    if (offset >= S.depth)
        n = 0;
    else if (offset + n > S.depth)
        n = (size_t)(S.depth - offset);
    if (d->nsaved > 0 && offset > d->saved_from && offset <= d->saved_from + d->nsaved) {
        /* the lookback in front: the saved bytes up to where the stretch begins */
        size_t keep = (size_t)(offset - d->saved_from);
        if (c->sc->cap < keep + n) {
            uint8_t *b = SCRealloc(c->sc->buf, keep + n);
            if (b == NULL)
                goto alone;
            c->sc->buf = b;
            c->sc->cap = keep + n;
        }
        memcpy(c->sc->buf, d->saved, keep);
        memcpy(c->sc->buf + keep, data, n);
        view = c->sc->buf;
        at = d->saved_from;
        n += keep;
    }
alone:;
    const uint64_t before = d->st.scanned;
    emb_engine_match_stream(c->e, c->facts, &d->st, view, n, at, c->cb, c->userdata);
    if (d->st.done) {
        SCFree(d->saved);
        d->saved = NULL;
        d->nsaved = 0;
        return 1;
    }
    /* the lookback must end where the scan did: bytes handed over again change nothing */
    if (d->st.scanned > before && d->st.scanned == at + n)
        Save(d, view, n, at, c->lookback);
    return 0;
}

void EmbargoSc8StreamScan(DetectEngineThreadCtx *det_ctx, Packet *p, emb_engine_t *e,
                          const emb_facts_t *facts, bool only_ours, emb_match_cb cb,
                          void *userdata) {
    Flow *f = p->flow;
    TcpSession *ssn = f->protoctx;
    if (!S.on || ssn == NULL)
        return;
    if (!OnPort(f)) {
        /* no payload pattern holds on this flow's ports */
        if (only_ours)
            EmbargoSc8StreamRelease(f);
        return;
    }
    const bool to_server = (p->flowflags & FLOW_PKT_TOSERVER) != 0;
    TcpStream *stream = to_server ? &ssn->client : &ssn->server;
    StreamState *s = f->storage[S.flow_id.id].ptr;
    if (s == NULL) {
        if ((s = SCCalloc(1, sizeof(*s))) == NULL)
            return;
        s->reversed = (f->flags & FLOW_DIR_REVERSED) != 0;
        FlowSetStorageById(f, S.flow_id, s);
    }
    if (s->reversed != ((f->flags & FLOW_DIR_REVERSED) != 0)) {
        /* Suricata turned the flow around (a pickup whose first data was the
         * server's: FlowSwap), and its client and server streams with it */
        StreamDir t = s->dir[0];
        s->dir[0] = s->dir[1];
        s->dir[1] = t;
        s->reversed = !s->reversed;
    }
    StreamDir *d = &s->dir[to_server ? 0 : 1];
    Scratch *sc = ThreadGetStorageById(det_ctx->tv, S.thread_id);
    if (sc == NULL) {
        if ((sc = SCCalloc(1, sizeof(*sc))) == NULL)
            return;
        ThreadSetStorageById(det_ctx->tv, S.thread_id, sc);
    }
    if (!d->st.done && !Encrypted(f, to_server)) {
        ChunkCtx c = {e, facts, d, sc, emb_engine_stream_lookback(e), cb, userdata};
        uint64_t progress = 0;
        StreamReassembleRaw(ssn, p, Chunk, &c, &progress, false);
        /* detect.c moves the raw stream past what detection read (DetectRunCleanup) */
        if (progress > det_ctx->raw_stream_progress)
            det_ctx->raw_stream_progress = progress;
    }
    /* With embargo's rules alone nothing else reads this direction's raw stream
     * again: Suricata stops keeping it, as for a rule group that needs none. */
    if (only_ours && (d->st.done || Encrypted(f, to_server)))
        stream->flags |= STREAMTCP_STREAM_FLAG_DISABLE_RAW;
}

void EmbargoSc8StreamRelease(Flow *f) {
    TcpSession *ssn = f->proto == IPPROTO_TCP ? f->protoctx : NULL;
    if (!S.on || ssn == NULL)
        return;
    ssn->client.flags |= STREAMTCP_STREAM_FLAG_DISABLE_RAW;
    ssn->server.flags |= STREAMTCP_STREAM_FLAG_DISABLE_RAW;
}

void EmbargoSc8StreamGroup(SigGroupHead *sgh) {
    if (S.on)
        sgh->flags |= SIG_GROUP_HEAD_HAVERAWSTREAM;
}
