/*
 * `embargo scan --evidence DIR`: the packets behind each alert, as a pcap per
 * flow that Wireshark opens.
 *
 * During the scan each worker notes, for every alert, the flow_id of the
 * packet that raised it and that packet's number (pcap_cnt); per flow the
 * highest number is kept: the evidence ends at the flow's last alerting
 * packet. After the scan a second pass reads the same captures with a fresh
 * engine, single-threaded: flow ids derive from the number of the packet that
 * created the flow, so they are the ids written in EVE whatever -j was. Each
 * packet of a noted flow, up to its last alerting packet, is appended to
 * DIR/<flow_id>.pcap.
 *
 * Bounds: EVIDENCE_MAX_PACKETS per flow and EVIDENCE_MAX_BYTES of files in
 * total; a flow keeps the link type of its first capture, and its packets in
 * captures of another link type are left out. What was left out is counted
 * and said on stderr in one line.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EVIDENCE_MAX_PACKETS 10000
#define EVIDENCE_MAX_BYTES (256ull << 20)
#define EVIDENCE_MAX_OPEN 128 /* dumpers open at once; the others reopen to append */
#define PCAP_FILE_HEADER 24
#define PCAP_RECORD_HEADER 16

typedef struct {
    uint64_t flow_id; /* 0: a free slot */
    uint64_t last;    /* pcap_cnt of the flow's last alerting packet */
    uint64_t packets; /* written to its file */
    int dlt;          /* of its file; -1 before the file exists */
    pcap_dumper_t *dumper;
} ev_flow_t;

struct evidence {
    ev_flow_t *slots;
    size_t cap, used;
};

evidence_t *evidence_new(void) {
    evidence_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return NULL;
    ev->cap = 64;
    ev->slots = calloc(ev->cap, sizeof(ev_flow_t));
    if (ev->slots == NULL) {
        free(ev);
        return NULL;
    }
    return ev;
}

void evidence_free(evidence_t *ev) {
    if (ev == NULL)
        return;
    free(ev->slots);
    free(ev);
}

static size_t slot_of(const evidence_t *ev, uint64_t flow_id) {
    size_t i = (size_t)((flow_id * 0x9E3779B97F4A7C15ull) >> 7) & (ev->cap - 1);
    while (ev->slots[i].flow_id != 0 && ev->slots[i].flow_id != flow_id)
        i = (i + 1) & (ev->cap - 1);
    return i;
}

static ev_flow_t *find(const evidence_t *ev, uint64_t flow_id) {
    ev_flow_t *f = &ev->slots[slot_of(ev, flow_id)];
    return f->flow_id == flow_id ? f : NULL;
}

bool evidence_note(evidence_t *ev, uint64_t flow_id, uint64_t pcap_cnt) {
    if (flow_id == 0)
        return true;
    if ((ev->used + 1) * 2 > ev->cap) {
        evidence_t bigger = {calloc(ev->cap * 2, sizeof(ev_flow_t)), ev->cap * 2, 0};
        if (bigger.slots == NULL)
            return false;
        for (size_t i = 0; i < ev->cap; i++)
            if (ev->slots[i].flow_id != 0)
                bigger.slots[slot_of(&bigger, ev->slots[i].flow_id)] = ev->slots[i];
        free(ev->slots);
        ev->slots = bigger.slots;
        ev->cap = bigger.cap;
    }
    ev_flow_t *f = &ev->slots[slot_of(ev, flow_id)];
    if (f->flow_id == 0) {
        *f = (ev_flow_t){.flow_id = flow_id, .last = pcap_cnt, .dlt = -1};
        ev->used++;
    } else if (pcap_cnt > f->last) {
        f->last = pcap_cnt;
    }
    return true;
}

bool evidence_merge(evidence_t *dst, const evidence_t *src) {
    for (size_t i = 0; i < src->cap; i++)
        if (src->slots[i].flow_id != 0 &&
            !evidence_note(dst, src->slots[i].flow_id, src->slots[i].last))
            return false;
    return true;
}

size_t evidence_flows(const evidence_t *ev) {
    return ev->used;
}

int evidence_prepare_dir(const char *dir) {
    struct stat sb;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s: cannot create the evidence directory: %s\n", prog, dir,
                strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "%s: %s: not a directory\n", prog, dir);
        return -1;
    }
    return 0;
}

/* What the second pass carries from packet to packet. */
typedef struct {
    evidence_t *ev;
    const char *dir;
    size_t open;
    uint64_t bytes, packets, files, left_out;
    uint64_t end; /* the highest last alerting packet of all flows */
} pass_t;

static void ev_path(const pass_t *p, const ev_flow_t *f, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%" PRIu64 ".pcap", p->dir, f->flow_id);
}

/* Flushes and closes a flow's file; -1 (after printing why) when the flush failed. */
static int ev_close(pass_t *p, ev_flow_t *f) {
    if (f->dumper == NULL)
        return 0;
    int rc = pcap_dump_flush(f->dumper);
    int err = errno;
    pcap_dump_close(f->dumper);
    f->dumper = NULL;
    p->open--;
    if (rc != 0) {
        char path[4200];
        ev_path(p, f, path, sizeof(path));
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, path, strerror(err));
        return -1;
    }
    return 0;
}

static int close_all(pass_t *p) {
    int rc = 0;
    for (size_t i = 0; i < p->ev->cap; i++)
        if (p->ev->slots[i].dumper && ev_close(p, &p->ev->slots[i]) != 0)
            rc = -1;
    return rc;
}

/* Appends one packet to the flow's file; -1 (after printing why) on error. */
static int ev_write(pass_t *p, ev_flow_t *f, int dlt, const struct pcap_pkthdr *h,
                    const u_char *data) {
    if (f->dlt >= 0 && f->dlt != dlt) {
        p->left_out++; /* the flow keeps the link type of its first capture */
        return 0;
    }
    uint64_t need = PCAP_RECORD_HEADER + h->caplen + (f->dlt < 0 ? PCAP_FILE_HEADER : 0);
    if (f->packets >= EVIDENCE_MAX_PACKETS || p->bytes + need > EVIDENCE_MAX_BYTES) {
        p->left_out++;
        return 0;
    }
    char path[4200];
    ev_path(p, f, path, sizeof(path));
    if (f->dumper == NULL) {
        if (p->open >= EVIDENCE_MAX_OPEN && close_all(p) != 0)
            return -1;
        pcap_t *dead = pcap_open_dead(dlt, 262144);
        if (dead == NULL) {
            fprintf(stderr, "%s: %s: out of memory\n", prog, path);
            return -1;
        }
        f->dumper = f->dlt < 0 ? pcap_dump_open(dead, path) : pcap_dump_open_append(dead, path);
        if (f->dumper == NULL) {
            fprintf(stderr, "%s: %s: cannot write evidence: %s\n", prog, path, pcap_geterr(dead));
            pcap_close(dead);
            return -1;
        }
        pcap_close(dead);
        p->open++;
        if (f->dlt < 0)
            p->files++;
        f->dlt = dlt;
    }
    pcap_dump((u_char *)f->dumper, h, data);
    if (ferror(pcap_dump_file(f->dumper))) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, path, strerror(errno));
        return -1;
    }
    f->packets++;
    p->packets++;
    p->bytes += need;
    return 0;
}

/* One capture of the second pass; -1 on a write error. Unreadable captures
 * were reported by the scan: skipped here, as the scan skipped them. */
static int pass_file(pass_t *p, emb_engine_t *e, const char *path, uint64_t *pcap_cnt) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (pc == NULL)
        return 0;
    int dlt = pcap_datalink(pc);
    int link = linktype_from_dlt(dlt);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = 0;
    while (link >= 0 && *pcap_cnt < p->end && pcap_next_ex(pc, &h, &data) == 1) {
        emb_packet_t pkt = {.ts_sec = h->ts.tv_sec,
                            .ts_usec = (uint32_t)h->ts.tv_usec,
                            .linktype = link,
                            .data = data,
                            .caplen = h->caplen,
                            .len = h->len,
                            .pcap_cnt = ++*pcap_cnt};
        if (emb_engine_process(e, &pkt, NULL, NULL) != 0)
            continue;
        uint64_t id = emb_engine_last_flow_id(e);
        ev_flow_t *f = id ? find(p->ev, id) : NULL;
        if (f == NULL || pkt.pcap_cnt > f->last)
            continue;
        if (ev_write(p, f, dlt, h, data) != 0 || (pkt.pcap_cnt == f->last && ev_close(p, f) != 0)) {
            rc = -1;
            break;
        }
    }
    pcap_close(pc);
    return rc;
}

int evidence_write(evidence_t *ev, const char *dir, char **files, int nfiles,
                   const emb_rules_t *rules, const emb_config_t *cfg, const char *rules_path,
                   bool quiet) {
    pass_t p = {.ev = ev, .dir = dir};
    for (size_t i = 0; i < ev->cap; i++)
        if (ev->slots[i].flow_id != 0 && ev->slots[i].last > p.end)
            p.end = ev->slots[i].last;
    int rc = 0;
    if (ev->used > 0) {
        emb_engine_t *e = build_engine(rules, cfg, rules_path);
        if (e == NULL)
            return -1;
        uint64_t pcap_cnt = 0;
        for (int i = 0; i < nfiles && rc == 0; i++)
            rc = pass_file(&p, e, files[i], &pcap_cnt);
        emb_engine_free(e);
    }
    if (close_all(&p) != 0)
        rc = -1;
    if (p.left_out > 0)
        fprintf(stderr,
                "%s: evidence: %" PRIu64
                " packets left out (at most %d per flow and %llu MiB in total, one link type "
                "per flow)\n",
                prog, p.left_out, EVIDENCE_MAX_PACKETS, EVIDENCE_MAX_BYTES >> 20);
    if (rc == 0 && !quiet)
        fprintf(stderr, "%s: evidence: %" PRIu64 " flows, %" PRIu64 " packets written to %s\n",
                prog, p.files, p.packets, dir);
    return rc;
}
