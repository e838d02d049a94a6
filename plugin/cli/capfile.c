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
 * slots holds the blocks some worker still needs. Every worker walks every
 * block in order (each takes every record, to keep the packet numbers and the
 * clocks every worker agrees on); each block is read from the file once, by
 * the worker it falls to (block b to worker b mod N, a few blocks ahead of
 * where that worker is, so reading overlaps the others' walking) or by
 * whoever needs it first when its slot is free and nobody reads it yet. A slot
 * is reused once every worker is past the block it holds; need[w] is the
 * lowest block worker w may still look at (UINT64_MAX: it is gone from this
 * file). One mutex and one condition for the whole set: they are taken once
 * per block, not per record.
 *
 * No worker waits for ever: the worker with the lowest need always finds its
 * block loaded or its slot free (a slot is reused only when everybody is past
 * its block), and the slots number more than two per worker, so a record that
 * spans two blocks never holds up a third.
 */
typedef enum { SLOT_EMPTY, SLOT_LOADING, SLOT_READY } slot_state_t;

typedef struct {
    uint8_t *buf;
    uint64_t block; /* which block it holds (SLOT_LOADING: is being read) */
    size_t len;     /* less than BLOCK_SIZE: the file ends in this block */
    bool failed;    /* read() failed: libpcap takes over and says why */
    slot_state_t state;
} slot_t;

struct capshare {
    int file, fd;
    capfile_t proto; /* the header's byte order, precision and snapshot length */
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
    for (unsigned i = 0; sh->slots && i < sh->nslots; i++)
        free(sh->slots[i].buf);
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
static capshare_t *share_new(capset_t *set, int file, const char *path) {
    capshare_t *sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return NULL;
    sh->file = file;
    sh->last = UINT64_MAX;
    sh->nslots = 2 * set->n + 2;
    sh->fd = open_file(path);
    sh->slots = calloc(sh->nslots, sizeof(slot_t));
    sh->need = calloc(set->n, sizeof(uint64_t));
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

/* Moves worker cf->worker to block b: reads ahead the blocks that fall to it,
 * then waits for b (or reads it). False when b could not be read. */
static bool acquire(capfile_t *cf, uint64_t b) {
    capset_t *set = cf->set;
    capshare_t *sh = cf->share;
    unsigned w = cf->worker;
    pthread_mutex_lock(&set->mu);
    sh->need[w] = b;
    pthread_cond_broadcast(&set->cv); /* the block before may be free now */
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
    cf->buf = slot->buf;
    cf->pos = 0;
    cf->end = slot->len;
    cf->eof = slot->len < BLOCK_SIZE;
    return !slot->failed;
}

bool capfile_open_shared(capset_t *set, int file, const char *path, unsigned worker,
                         capfile_t *cf) {
    memset(cf, 0, sizeof(*cf));
    cf->fd = -1;
    pthread_mutex_lock(&set->mu);
    while (set->opened <= file) { /* the first worker there opens it */
        capshare_t *sh = set->opened == file ? share_new(set, file, path) : NULL;
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
    if (!acquire(cf, 0) || cf->end < FILE_HDR) {
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
        if (cf->eof || !acquire(cf, cf->block + 1) || cf->end == 0)
            return NULL;
        size_t k = n - got < cf->end ? n - got : cf->end;
        memcpy(dst + got, cf->buf, k);
        got += k;
        cf->pos = k;
    }
    return dst;
}

static capfile_rc_t shared_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    if (cf->pos == cf->end) {
        if (cf->eof)
            return CAPFILE_END;
        if (!acquire(cf, cf->block + 1))
            return CAPFILE_HAND_OVER;
        if (cf->end == 0)
            return CAPFILE_END;
    }
    uint8_t rh[REC_HDR];
    const uint8_t *r = take(cf, REC_HDR, rh);
    if (r == NULL || !record_header(cf, r, hdr))
        return CAPFILE_HAND_OVER;
    if (cf->end - cf->pos < hdr->caplen && cf->scratch == NULL &&
        (cf->scratch = malloc(MAX_CAPLEN)) == NULL)
        return CAPFILE_HAND_OVER;
    if ((*data = take(cf, hdr->caplen, cf->scratch)) == NULL)
        return CAPFILE_HAND_OVER;
    cf->records++;
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
