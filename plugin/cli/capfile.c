/*
 * Classic pcap files read with large read() calls into one buffer, records
 * handed out in place: one copy from the page cache, no per-record call into
 * libpcap. Anything this reader does not take whole (pcapng, another version
 * or magic, a snapshot length libpcap would adjust) is left to libpcap from
 * the start; a record that libpcap would complain about (cut short, longer
 * than the snapshot length or than on the wire) stops this reader, and the
 * caller goes on with libpcap from that record, so libpcap's message about it,
 * and its handling of what follows, stay what they were.
 *
 * Layout (the pcap file format, draft-ietf-opsawg-pcap): a 24-byte header
 * (magic a1b2c3d4 for microseconds or a1b23c4d for nanoseconds, in the
 * writer's byte order; version 2.4; snaplen; link type), then records of a
 * 16-byte header (seconds, microseconds or nanoseconds, captured length,
 * original length) and the captured bytes.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HDR 24
#define REC_HDR 16
#define MAX_CAPLEN 262144 /* libpcap's largest snapshot length */
#define BUF_SIZE (4u << 20)
/* Shared reading: more than the largest record, so a record spans at most two
 * blocks. */
#define BLOCK_SIZE (1u << 20)

static uint32_t rd32(const uint8_t *p, bool swapped) {
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* Moves what is left to the front and reads more; false on error. */
static bool refill(capfile_t *cf) {
    size_t left = cf->end - cf->pos;
    memmove(cf->buf, cf->buf + cf->pos, left);
    cf->pos = 0;
    cf->end = left;
    while (!cf->eof && cf->end < BUF_SIZE) {
        ssize_t n = read(cf->fd, cf->buf + cf->end, BUF_SIZE - cf->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            cf->eof = true;
        cf->end += (size_t)n;
        cf->offset += (size_t)n;
    }
    return true;
}

/* Checks the file header; false when this reader does not take the file. */
static bool read_header(int fd, capfile_t *cf) {
    /* A regular file only: a pipe or a terminal is read by libpcap alone (it
     * has already taken the start of the stream, and reading it twice would
     * lose bytes). The header is looked at before any large read. */
    struct stat st;
    uint8_t m[FILE_HDR];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || pread(fd, m, FILE_HDR, 0) != FILE_HDR)
        return false;
    uint32_t magic;
    memcpy(&magic, m, 4);
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
        cf->swapped = false;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
        cf->swapped = true;
    else
        return false;
    cf->nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    uint16_t major = (uint16_t)(cf->swapped ? (m[4] << 8 | m[5]) : (m[5] << 8 | m[4]));
    uint16_t minor = (uint16_t)(cf->swapped ? (m[6] << 8 | m[7]) : (m[7] << 8 | m[6]));
    cf->snaplen = rd32(m + 16, cf->swapped);
    return major == 2 && minor == 4 && cf->snaplen != 0 && cf->snaplen <= MAX_CAPLEN;
}

/* O_NONBLOCK: opening a FIFO whose writer has gone would wait for another. */
static int open_file(const char *path) {
    return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

bool capfile_open(const char *path, capfile_t *cf) {
    memset(cf, 0, sizeof(*cf));
    cf->fd = open_file(path);
    if (cf->fd < 0)
        return false;
    if (!read_header(cf->fd, cf))
        goto not_ours;
    cf->buf = malloc(BUF_SIZE);
    if (cf->buf == NULL || !refill(cf) || cf->end < FILE_HDR)
        goto not_ours;
    cf->pos = FILE_HDR;
    (void)posix_fadvise(cf->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return true;
not_ours:
    capfile_close(cf);
    return false;
}

/* The record header at `r` into libpcap's terms; false when libpcap would
 * complain about it. */
static bool record_header(const capfile_t *cf, const uint8_t *r, struct pcap_pkthdr *hdr) {
    uint32_t caplen = rd32(r + 8, cf->swapped), len = rd32(r + 12, cf->swapped);
    if (caplen > cf->snaplen || caplen > len)
        return false;
    uint32_t frac = rd32(r + 4, cf->swapped);
    /* Signed 32-bit fields, as libpcap reads them (a fuzzed time comes out
     * negative there too); nanoseconds cut to microseconds as libpcap does. */
    hdr->ts.tv_sec = (time_t)(int32_t)rd32(r, cf->swapped);
    hdr->ts.tv_usec = (suseconds_t)((int32_t)frac / (cf->nano ? 1000 : 1));
    hdr->caplen = caplen;
    hdr->len = len;
    return true;
}

static capfile_rc_t shared_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data);

capfile_rc_t capfile_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    if (cf->share != NULL)
        return shared_next(cf, hdr, data);
    if (cf->end - cf->pos < REC_HDR && !cf->eof && !refill(cf))
        return CAPFILE_HAND_OVER;
    size_t have = cf->end - cf->pos;
    if (have == 0)
        return CAPFILE_END;
    if (have < REC_HDR)
        return CAPFILE_HAND_OVER; /* cut inside a record header */
    const uint8_t *r = cf->buf + cf->pos;
    if (!record_header(cf, r, hdr))
        return CAPFILE_HAND_OVER;
    size_t caplen = hdr->caplen;
    if (have < REC_HDR + caplen) {
        if (cf->eof || !refill(cf))
            return CAPFILE_HAND_OVER; /* cut inside its data */
        if (cf->end - cf->pos < REC_HDR + caplen)
            return CAPFILE_HAND_OVER;
        r = cf->buf + cf->pos;
    }
    *data = r + REC_HDR;
    cf->pos += REC_HDR + caplen;
    cf->records++;
    return CAPFILE_OK;
}

/*
 * Shared reading. The file is cut into blocks of BLOCK_SIZE bytes; a ring of
 * slots holds the blocks some worker still needs. Each block is read from the
 * file once, by the worker it falls to (block b to worker b mod N, a few
 * blocks ahead of where that worker is, so reading overlaps the others'
 * work) or by whoever needs it first when its slot is free and nobody reads
 * it yet. The first worker to reach a block indexes it: it walks the record
 * headers once and notes for each record where it starts, its time and its
 * placement (emb_packet_place). The others read the index and touch only
 * the records they inspect: the one look at every header that placement
 * needs is shared out too, and falls to whichever worker is ahead. A record
 * that runs on into the next block is noted as such, and every worker reads
 * it whole (copied) and places it itself; where it ends is where the next
 * block's first record starts.
 *
 * A slot is reused once every worker is past the block it holds; need[w] is
 * the lowest block worker w may still look at (UINT64_MAX: it is gone from
 * this file). One mutex and one condition for the whole set, taken once or
 * twice per block, never per record. No worker waits for ever: the worker
 * with the lowest need always finds its block loaded or its slot free (a
 * slot is reused only when everybody is past its block), indexing a block
 * needs nothing but the block, and the slots number more than two per
 * worker, so a record across two blocks never holds up a third.
 */
enum { REC_DNS = 1, REC_STRADDLE = 2, REC_STOP = 4 };

typedef struct {
    uint32_t off;   /* where its header starts in the block */
    uint32_t shard; /* emb_place_t.shard */
    int32_t sec;    /* its time, as libpcap reads it: all a record skipped needs */
    uint8_t flags;  /* REC_* */
} rec_t;

typedef enum { SLOT_EMPTY, SLOT_LOADING, SLOT_READY } slot_state_t;
typedef enum { INDEX_NONE, INDEX_BUILDING, INDEX_DONE } index_state_t;

typedef struct capslot {
    uint8_t *buf;
    uint64_t block; /* which block it holds (SLOT_LOADING: is being read) */
    size_t len;     /* less than BLOCK_SIZE: the file ends in this block */
    bool failed;    /* read() failed: libpcap takes over and says why */
    slot_state_t state;
    index_state_t index;
    rec_t *recs; /* the records that start in the block */
    size_t nrecs, cap;
} slot_t;

struct capshare {
    int file, fd;
    capfile_t proto; /* the header's byte order, precision and snapshot length */
    int link;        /* EMB_LINK_*, to place the records */
    unsigned nslots, departed;
    slot_t *slots;
    uint64_t *need;
    uint64_t last; /* the block where the file ends, once read */
    capshare_t *next;
};

struct capset {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n;
    int *passed;      /* per worker: the files below this are behind it */
    int opened;       /* the files below this have been opened (or refused) */
    capshare_t *live; /* the files being read */
};

capset_t *capset_new(unsigned nworkers) {
    capset_t *set = calloc(1, sizeof(*set));
    if (set == NULL || (set->passed = calloc(nworkers, sizeof(int))) == NULL) {
        free(set);
        return NULL;
    }
    set->n = nworkers;
    pthread_mutex_init(&set->mu, NULL);
    pthread_cond_init(&set->cv, NULL);
    return set;
}

static void share_free(capshare_t *sh) {
    if (sh->fd >= 0)
        close(sh->fd);
    for (unsigned i = 0; sh->slots && i < sh->nslots; i++) {
        free(sh->slots[i].buf);
        free(sh->slots[i].recs);
    }
    free(sh->slots);
    free(sh->need);
    free(sh);
}

void capset_free(capset_t *set) {
    if (set == NULL)
        return;
    while (set->live) {
        capshare_t *sh = set->live;
        set->live = sh->next;
        share_free(sh);
    }
    pthread_mutex_destroy(&set->mu);
    pthread_cond_destroy(&set->cv);
    free(set->passed);
    free(set);
}

/* Worker w is done with sh; the last to go frees it. Under the mutex. */
static void depart(capset_t *set, capshare_t *sh, unsigned w) {
    if (sh->need[w] == UINT64_MAX)
        return;
    sh->need[w] = UINT64_MAX;
    pthread_cond_broadcast(&set->cv);
    if (++sh->departed < set->n)
        return;
    for (capshare_t **p = &set->live; *p; p = &(*p)->next)
        if (*p == sh) {
            *p = sh->next;
            break;
        }
    share_free(sh);
}

void capset_pass(capset_t *set, unsigned worker, int file) {
    if (set == NULL)
        return;
    pthread_mutex_lock(&set->mu);
    if (set->passed[worker] < file + 1)
        set->passed[worker] = file + 1;
    for (capshare_t *sh = set->live, *next; sh; sh = next) {
        next = sh->next;
        if (sh->file <= file)
            depart(set, sh, worker);
    }
    pthread_mutex_unlock(&set->mu);
}

void capset_leave(capset_t *set, unsigned worker) {
    capset_pass(set, worker, INT32_MAX - 1);
}

/* Makes the share of `file`, or none when this reader does not take it. */
static capshare_t *share_new(capset_t *set, int file, const char *path, int link) {
    capshare_t *sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return NULL;
    sh->file = file;
    sh->last = UINT64_MAX;
    sh->nslots = 2 * set->n + 2;
    sh->fd = open_file(path);
    sh->slots = calloc(sh->nslots, sizeof(slot_t));
    sh->need = calloc(set->n, sizeof(uint64_t));
    sh->link = link;
    if (sh->fd < 0 || sh->slots == NULL || sh->need == NULL || !read_header(sh->fd, &sh->proto)) {
        share_free(sh);
        return NULL;
    }
    (void)posix_fadvise(sh->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (unsigned w = 0; w < set->n; w++)
        if (set->passed[w] > file) { /* already past it: gone without a word */
            sh->need[w] = UINT64_MAX;
            sh->departed++;
        }
    return sh;
}

static bool slot_free(const capshare_t *sh, const slot_t *slot, unsigned n) {
    if (slot->state == SLOT_EMPTY)
        return true;
    if (slot->state == SLOT_LOADING)
        return false;
    for (unsigned w = 0; w < n; w++)
        if (sh->need[w] <= slot->block)
            return false;
    return true;
}

/* Reads block b into its slot. Called and returns with the mutex held. */
static void load(capset_t *set, capshare_t *sh, uint64_t b) {
    slot_t *slot = &sh->slots[b % sh->nslots];
    slot->state = SLOT_LOADING;
    slot->block = b;
    slot->index = INDEX_NONE;
    slot->nrecs = 0;
    pthread_mutex_unlock(&set->mu);
    size_t len = 0;
    bool failed = slot->buf == NULL && (slot->buf = malloc(BLOCK_SIZE)) == NULL;
    while (!failed && len < BLOCK_SIZE) {
        ssize_t n = pread(sh->fd, slot->buf + len, BLOCK_SIZE - len, (off_t)(b * BLOCK_SIZE + len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            failed = n < 0;
            break;
        }
        len += (size_t)n;
    }
    pthread_mutex_lock(&set->mu);
    slot->len = len;
    slot->failed = failed;
    slot->state = SLOT_READY;
    if (len < BLOCK_SIZE && b < sh->last)
        sh->last = b;
    pthread_cond_broadcast(&set->cv);
}

/* Worker cf->worker moves to block b (with `move`; else it only looks ahead
 * into it, still holding the block before): reads ahead the blocks that fall
 * to it, then waits for b (or reads it). False when b could not be read. */
static bool acquire(capfile_t *cf, uint64_t b, bool move) {
    capset_t *set = cf->set;
    capshare_t *sh = cf->share;
    unsigned w = cf->worker;
    pthread_mutex_lock(&set->mu);
    if (move) {
        sh->need[w] = b;
        pthread_cond_broadcast(&set->cv); /* the block before may be free now */
    }
    for (uint64_t c = b; c < b + sh->nslots && c <= sh->last; c++) {
        slot_t *slot = &sh->slots[c % sh->nslots];
        if (c % set->n == w && !(slot->state != SLOT_EMPTY && slot->block == c) &&
            slot_free(sh, slot, set->n))
            load(set, sh, c);
    }
    slot_t *slot = &sh->slots[b % sh->nslots];
    while (!(slot->state == SLOT_READY && slot->block == b)) {
        if (slot_free(sh, slot, set->n)) /* empty, or holds a block all are past */
            load(set, sh, b);
        else
            pthread_cond_wait(&set->cv, &set->mu);
    }
    pthread_mutex_unlock(&set->mu);
    cf->block = b;
    cf->slot = slot;
    cf->buf = slot->buf;
    cf->pos = 0;
    cf->end = slot->len;
    cf->eof = slot->len < BLOCK_SIZE;
    cf->next_rec = 0;
    cf->fresh = true;
    return !slot->failed;
}

static bool note(slot_t *slot, rec_t r) {
    if (slot->nrecs == slot->cap) {
        size_t ncap = slot->cap ? 2 * slot->cap : 1024;
        rec_t *nr = realloc(slot->recs, ncap * sizeof(rec_t));
        if (nr == NULL)
            return false;
        slot->recs = nr;
        slot->cap = ncap;
    }
    slot->recs[slot->nrecs++] = r;
    return true;
}

/* The records that start in the block from `pos` on (where this worker, the
 * first to get here, found the first one). Ends at the first record libpcap
 * would complain about (REC_STOP) or one that runs on (REC_STRADDLE). */
static void build_index(const capshare_t *sh, slot_t *slot, size_t pos) {
    const capfile_t *cf = &sh->proto;
    size_t len = slot->len;
    bool last = len < BLOCK_SIZE;
    while (pos < len) {
        rec_t r = {(uint32_t)pos, 0, 0, 0};
        const uint8_t *h = slot->buf + pos;
        struct pcap_pkthdr hdr = {0};
        if (len - pos < REC_HDR) {
            r.flags = last ? REC_STOP : REC_STRADDLE; /* the header itself runs on */
        } else if (!record_header(cf, h, &hdr)) {
            r.flags = REC_STOP;
        } else {
            r.sec = (int32_t)hdr.ts.tv_sec;
            if (len - pos - REC_HDR < hdr.caplen) {
                r.flags = last ? REC_STOP : REC_STRADDLE;
            } else {
                emb_packet_t pkt = {
                    .linktype = sh->link, .data = h + REC_HDR, .caplen = hdr.caplen};
                emb_place_t place;
                emb_packet_place(&pkt, &place);
                r.shard = place.shard;
                r.flags = place.dns ? REC_DNS : 0;
            }
        }
        if (!note(slot, r)) {
            slot->nrecs = 0; /* out of memory: from here, libpcap */
            r.flags = REC_STOP;
            (void)note(slot, r);
        }
        if (r.flags & (REC_STOP | REC_STRADDLE))
            return;
        pos += REC_HDR + hdr.caplen;
    }
}

/* The block's index, built here (from cf->pos) by the first worker to need
 * it, or waited for. */
static void index_block(capfile_t *cf) {
    capset_t *set = cf->set;
    slot_t *slot = cf->slot;
    cf->fresh = false;
    pthread_mutex_lock(&set->mu);
    while (slot->index == INDEX_BUILDING)
        pthread_cond_wait(&set->cv, &set->mu);
    if (slot->index == INDEX_DONE) {
        pthread_mutex_unlock(&set->mu);
        return;
    }
    slot->index = INDEX_BUILDING;
    pthread_mutex_unlock(&set->mu);
    build_index(cf->share, slot, cf->pos);
    pthread_mutex_lock(&set->mu);
    slot->index = INDEX_DONE;
    pthread_cond_broadcast(&set->cv);
    pthread_mutex_unlock(&set->mu);
}

bool capfile_open_shared(capset_t *set, int file, const char *path, int link, unsigned worker,
                         capfile_t *cf) {
    memset(cf, 0, sizeof(*cf));
    cf->fd = -1;
    pthread_mutex_lock(&set->mu);
    while (set->opened <= file) { /* the first worker there opens it */
        capshare_t *sh = set->opened == file ? share_new(set, file, path, link) : NULL;
        if (sh) {
            sh->next = set->live;
            set->live = sh;
        }
        set->opened++;
    }
    capshare_t *sh = set->live;
    while (sh && sh->file != file)
        sh = sh->next;
    if (sh == NULL || sh->need[worker] == UINT64_MAX) {
        pthread_mutex_unlock(&set->mu);
        return false;
    }
    pthread_mutex_unlock(&set->mu);
    cf->set = set;
    cf->share = sh;
    cf->worker = worker;
    cf->swapped = sh->proto.swapped;
    cf->nano = sh->proto.nano;
    cf->snaplen = sh->proto.snaplen;
    if (!acquire(cf, 0, true) || cf->end < FILE_HDR) {
        capfile_close(cf);
        return false;
    }
    cf->pos = FILE_HDR;
    return true;
}

/* The next n bytes, in place or copied into dst when they run on into the
 * next block; NULL when the file ends or a block cannot be read first. */
static const uint8_t *take(capfile_t *cf, size_t n, uint8_t *dst) {
    if (cf->end - cf->pos >= n) {
        const uint8_t *p = cf->buf + cf->pos;
        cf->pos += n;
        return p;
    }
    size_t got = cf->end - cf->pos;
    memcpy(dst, cf->buf + cf->pos, got);
    cf->pos = cf->end;
    while (got < n) {
        if (cf->eof || !acquire(cf, cf->block + 1, true) || cf->end == 0)
            return NULL;
        size_t k = n - got < cf->end ? n - got : cf->end;
        memcpy(dst + got, cf->buf, k);
        got += k;
        cf->pos = k;
    }
    return dst;
}

/* A record that runs on into the next block: read whole, placed here. */
static capfile_rc_t straddling(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    uint8_t rh[REC_HDR];
    const uint8_t *r = take(cf, REC_HDR, rh);
    if (r == NULL || !record_header(cf, r, hdr))
        return CAPFILE_HAND_OVER;
    if (cf->scratch == NULL && (cf->scratch = malloc(MAX_CAPLEN)) == NULL)
        return CAPFILE_HAND_OVER;
    if ((*data = take(cf, hdr->caplen, cf->scratch)) == NULL)
        return CAPFILE_HAND_OVER;
    emb_packet_t pkt = {.linktype = cf->share->link, .data = *data, .caplen = hdr->caplen};
    emb_packet_place(&pkt, &cf->place);
    cf->records++;
    return CAPFILE_OK;
}

static capfile_rc_t shared_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    if (cf->fresh)
        index_block(cf);
    const slot_t *slot = cf->slot;
    if (cf->next_rec == slot->nrecs) {
        if (cf->eof || cf->end == 0)
            return CAPFILE_END;
        if (!acquire(cf, cf->block + 1, true))
            return CAPFILE_HAND_OVER;
        index_block(cf);
        slot = cf->slot;
        if (slot->nrecs == 0)
            return CAPFILE_END; /* the file ended with the block before */
    }
    const rec_t *r = &slot->recs[cf->next_rec++];
    if (r->flags & REC_STOP)
        return CAPFILE_HAND_OVER;
    cf->pos = r->off;
    if (r->flags & REC_STRADDLE)
        return straddling(cf, hdr, data);
    bool mine = r->shard % cf->set->n == cf->worker || (r->flags & REC_DNS);
    cf->records++;
    cf->place.shard = r->shard;
    cf->place.dns = (r->flags & REC_DNS) != 0;
    if (!mine) {
        /* another worker's, no DNS in it: its time is all this one needs */
        hdr->ts.tv_sec = r->sec;
        hdr->ts.tv_usec = 0;
        hdr->caplen = hdr->len = 0;
        *data = NULL;
        return CAPFILE_OK;
    }
    const uint8_t *h = cf->buf + r->off;
    (void)record_header(cf, h, hdr); /* checked when indexed */
    *data = h + REC_HDR;
    cf->pos = r->off + REC_HDR + hdr->caplen;
    return CAPFILE_OK;
}

long long capfile_tell(const capfile_t *cf) {
    if (cf->share)
        return (long long)(cf->block * BLOCK_SIZE + cf->pos);
    return (long long)(cf->offset - (cf->end - cf->pos));
}

void capfile_close(capfile_t *cf) {
    if (cf->share) {
        pthread_mutex_lock(&cf->set->mu);
        depart(cf->set, cf->share, cf->worker);
        pthread_mutex_unlock(&cf->set->mu);
        cf->buf = NULL; /* the share's */
    }
    if (cf->fd >= 0)
        close(cf->fd);
    free(cf->buf);
    free(cf->scratch);
    memset(cf, 0, sizeof(*cf));
    cf->fd = -1;
}
