/*
 * Classic pcap files read in place: the file is memory-mapped and its record
 * headers walked once to check that libpcap would read it to the end without
 * a complaint; then each record is handed out as a pointer into the mapping,
 * with no copy and no read call. Anything else (pcapng, a cut-off or odd file)
 * is left to libpcap, so its messages and its handling of damage stay the
 * same. With -j N every worker maps the same file (one copy in the page
 * cache) and walks it cheaply instead of paying libpcap's read N times.
 *
 * Layout (the pcap file format, draft-ietf-opsawg-pcap): a 24-byte header
 * (magic a1b2c3d4 for microseconds or a1b23c4d for nanoseconds, in the
 * writer's byte order; version 2.4; snaplen; link type), then records of a
 * 16-byte header (seconds, microseconds or nanoseconds, captured length,
 * original length) and the captured bytes.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HDR 24
#define REC_HDR 16
#define MAX_CAPLEN 262144 /* libpcap's largest snapshot length */

static uint32_t rd32(const uint8_t *p, bool swapped) {
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

bool capfile_open(const char *path, capfile_t *cf) {
    memset(cf, 0, sizeof(*cf));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < FILE_HDR) {
        close(fd);
        return false;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return false;
    cf->map = m;
    cf->size = size;
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
    uint32_t snaplen = rd32(m + 16, cf->swapped);
    if (major != 2 || minor != 4 || snaplen == 0 || snaplen > MAX_CAPLEN)
        goto not_ours;
    /* Every record whole, none longer than the snapshot length or than it was
     * on the wire: what libpcap reads without a word. */
    madvise((void *)m, size, MADV_SEQUENTIAL);
    for (size_t off = FILE_HDR; off < size;) {
        if (size - off < REC_HDR)
            goto not_ours;
        uint32_t caplen = rd32(m + off + 8, cf->swapped);
        uint32_t len = rd32(m + off + 12, cf->swapped);
        if (caplen > snaplen || caplen > len || size - off - REC_HDR < caplen)
            goto not_ours;
        off += REC_HDR + caplen;
    }
    cf->off = FILE_HDR;
    return true;
not_ours:
    capfile_close(cf);
    return false;
}

bool capfile_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data) {
    if (cf->off >= cf->size)
        return false;
    const uint8_t *r = cf->map + cf->off;
    uint32_t frac = rd32(r + 4, cf->swapped);
    /* Signed 32-bit fields, as libpcap reads them (a time past 2038 or a
     * fuzzed one comes out negative there too). */
    hdr->ts.tv_sec = (time_t)(int32_t)rd32(r, cf->swapped);
    hdr->ts.tv_usec = (suseconds_t)((int32_t)frac / (cf->nano ? 1000 : 1));
    hdr->caplen = rd32(r + 8, cf->swapped);
    hdr->len = rd32(r + 12, cf->swapped);
    *data = r + REC_HDR;
    cf->off += REC_HDR + hdr->caplen;
    return true;
}

void capfile_close(capfile_t *cf) {
    if (cf->map != NULL)
        munmap((void *)cf->map, cf->size);
    memset(cf, 0, sizeof(*cf));
}
