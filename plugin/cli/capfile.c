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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HDR 24
#define REC_HDR 16
#define MAX_CAPLEN 262144 /* libpcap's largest snapshot length */
#define BUF_SIZE (4u << 20)

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

bool capfile_open(const char *path, capfile_t *cf) {
    memset(cf, 0, sizeof(*cf));
    /* O_NONBLOCK: opening a FIFO whose writer has gone would wait for another. */
    cf->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (cf->fd < 0)
        return false;
    /* A regular file only: a pipe or a terminal is read by libpcap alone (it
     * has already taken the start of the stream, and reading it twice would
     * lose bytes). The header is looked at before any large read. */
    struct stat st;
    uint8_t m[FILE_HDR];
    if (fstat(cf->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        pread(cf->fd, m, FILE_HDR, 0) != FILE_HDR)
        goto not_ours;
    uint32_t magic;
    memcpy(&magic, m, 4);
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
        cf->swapped = false;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
        cf->swapped = true;
    else
        goto not_ours;
    cf->nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    uint16_t major = (uint16_t)(cf->swapped ? (m[4] << 8 | m[5]) : (m[5] << 8 | m[4]));
    uint16_t minor = (uint16_t)(cf->swapped ? (m[6] << 8 | m[7]) : (m[7] << 8 | m[6]));
    cf->snaplen = rd32(m + 16, cf->swapped);
    if (major != 2 || minor != 4 || cf->snaplen == 0 || cf->snaplen > MAX_CAPLEN)
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

capfile_rc_t capfile_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    if (cf->end - cf->pos < REC_HDR && !cf->eof && !refill(cf))
        return CAPFILE_HAND_OVER;
    size_t have = cf->end - cf->pos;
    if (have == 0)
        return CAPFILE_END;
    if (have < REC_HDR)
        return CAPFILE_HAND_OVER; /* cut inside a record header */
    const uint8_t *r = cf->buf + cf->pos;
    uint32_t caplen = rd32(r + 8, cf->swapped), len = rd32(r + 12, cf->swapped);
    if (caplen > cf->snaplen || caplen > len)
        return CAPFILE_HAND_OVER;
    if (have < REC_HDR + (size_t)caplen) {
        if (cf->eof || !refill(cf))
            return CAPFILE_HAND_OVER; /* cut inside its data */
        if (cf->end - cf->pos < REC_HDR + (size_t)caplen)
            return CAPFILE_HAND_OVER;
        r = cf->buf + cf->pos;
    }
    uint32_t frac = rd32(r + 4, cf->swapped);
    /* Signed 32-bit fields, as libpcap reads them (a fuzzed time comes out
     * negative there too); nanoseconds cut to microseconds as libpcap does. */
    hdr->ts.tv_sec = (time_t)(int32_t)rd32(r, cf->swapped);
    hdr->ts.tv_usec = (suseconds_t)((int32_t)frac / (cf->nano ? 1000 : 1));
    hdr->caplen = caplen;
    hdr->len = len;
    *data = r + REC_HDR;
    cf->pos += REC_HDR + caplen;
    cf->records++;
    return CAPFILE_OK;
}

long long capfile_tell(const capfile_t *cf) {
    return (long long)(cf->offset - (cf->end - cf->pos));
}

void capfile_close(capfile_t *cf) {
    if (cf->fd >= 0)
        close(cf->fd);
    free(cf->buf);
    memset(cf, 0, sizeof(*cf));
    cf->fd = -1;
}
