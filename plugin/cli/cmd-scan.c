/*
 * `embargo scan`: a thin host over the engine library. It reads pcap
 * and pcapng files with libpcap, feeds every packet to the engine, writes the
 * EVE lines the engine renders, and prints a human summary on stderr.
 *
 * Exit status: 0 scanned and found nothing, 1 alerts written, 2 an error
 * (bad rules, unreadable input, a failed write), always with a one-line
 * message naming what and where. Each alert line is flushed as it is
 * written, so an error later in the run loses nothing already found.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <sys/resource.h>

#define MAX_TALLY 256

typedef struct {
    FILE *out;
    const char *out_name;
    bool write_failed;
    int write_errno;
    uint64_t written;
    struct {
        const char *vendor, *channel;
        uint64_t n;
    } tally[MAX_TALLY];
    size_t ntally;
} scan_state_t;

static int on_alert(const emb_alert_t *a, void *ud) {
    scan_state_t *st = ud;
    if (fwrite(a->eve, 1, a->eve_len, st->out) != a->eve_len || fputc('\n', st->out) == EOF ||
        fflush(st->out) != 0) {
        st->write_failed = true;
        st->write_errno = errno;
        return 1;
    }
    st->written++;
    size_t i;
    for (i = 0; i < st->ntally; i++)
        if (strcmp(st->tally[i].vendor, a->vendor) == 0 &&
            strcmp(st->tally[i].channel, a->channel) == 0)
            break;
    if (i == st->ntally && st->ntally < MAX_TALLY) {
        /* vendor and channel strings live as long as the rules */
        st->tally[i].vendor = a->vendor;
        st->tally[i].channel = a->channel;
        st->tally[i].n = 0;
        st->ntally++;
    }
    if (i < st->ntally)
        st->tally[i].n++;
    return 0;
}

static int to_emb_linktype(int dlt) {
    switch (dlt) {
    case DLT_NULL: return EMB_LINK_NULL;
    case DLT_EN10MB: return EMB_LINK_ETHERNET;
#ifdef DLT_LOOP
    case DLT_LOOP: return EMB_LINK_LOOP;
#endif
    case DLT_LINUX_SLL: return EMB_LINK_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: return EMB_LINK_LINUX_SLL2;
#endif
#ifdef DLT_IPV4
    case DLT_IPV4: return EMB_LINK_IPV4;
    case DLT_IPV6: return EMB_LINK_IPV6;
#endif
    default:
        if (dlt == DLT_RAW || dlt == 12 || dlt == 14 || dlt == 101)
            return EMB_LINK_RAW;
        return -1;
    }
}

/* Scans one file. Returns 0, or -1 after printing why it could not. */
static int scan_file(emb_engine_t *engine, const char *path, uint64_t *pcap_cnt, scan_state_t *st,
                     bool *canceled) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (pc == NULL) {
        fprintf(stderr, "%s: %s: cannot read capture: %s\n", prog, path, errbuf);
        return -1;
    }
    int dlt = pcap_datalink(pc);
    int link = to_emb_linktype(dlt);
    if (link < 0) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "%s: %s: unsupported link type %d (%s)\n", prog, path, dlt,
                name ? name : "unknown");
        pcap_close(pc);
        return -1;
    }

    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t in_file = 0;
    int rc;
    while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
        in_file++;
        emb_packet_t pkt = {
            .ts_sec = hdr->ts.tv_sec,
            .ts_usec = (uint32_t)hdr->ts.tv_usec,
            .linktype = link,
            .data = data,
            .caplen = hdr->caplen,
            .len = hdr->len,
            .pcap_cnt = ++*pcap_cnt,
        };
        int prc = emb_engine_process(engine, &pkt, on_alert, st);
        if (prc == EMB_ECANCELED) {
            *canceled = true;
            break;
        }
        if (prc != 0) {
            fprintf(stderr, "%s: %s: packet %" PRIu64 ": %s\n", prog, path, in_file,
                    emb_strerror(prc));
            pcap_close(pc);
            return -1;
        }
    }
    if (rc == PCAP_ERROR) {
        /* libpcap says this for a cut-off file: keep what was read, warn where it ends. */
        fprintf(stderr, "%s: %s: warning: capture ends early after packet %" PRIu64 ": %s\n", prog,
                path, in_file, pcap_geterr(pc));
    }
    pcap_close(pc);
    return 0;
}

int cmd_scan(int argc, char **argv) {
    static const struct option opts[] = {{"rules", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"append", no_argument, NULL, 'a'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"progress", no_argument, NULL, 'P'},
                                         {"no-progress", no_argument, NULL, 'N'},
                                         {"max-flows", required_argument, NULL, 'F'},
                                         {"stream-depth", required_argument, NULL, 'D'},
                                         {"stream-memcap", required_argument, NULL, 'M'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    emb_config_t cfg;
    emb_config_init(&cfg);
    unsigned long long num;
    const char *rules_path = NULL, *out_path = "eve.json";
    bool append = false, quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rules_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 1 || n > 256) {
                fprintf(stderr, "%s: -j wants a number of threads from 1 to 256\n", prog);
                return EXIT_ERROR;
            }
            break;
        }
        case 'a': append = true; break;
        case 'F':
            if (!parse_number(optarg, 1, 1ULL << 26, &num, "--max-flows"))
                return EXIT_ERROR;
            cfg.max_flows = (size_t)num;
            break;
        case 'D':
            if (!parse_number(optarg, 64, 1ULL << 24, &num, "--stream-depth"))
                return EXIT_ERROR;
            cfg.stream_depth = (uint32_t)num;
            break;
        case 'M':
            if (!parse_number(optarg, 0, 1ULL << 20, &num, "--stream-memcap"))
                return EXIT_ERROR;
            cfg.stream_memcap = (size_t)num << 20;
            break;
        case 'q': quiet = true; break;
        case 'P':
        case 'N': break; /* progress display comes with a later version */
        case 'h': usage(stdout); return EXIT_CLEAN;
        default: usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: scan: no capture files given\n", prog);
        usage(stderr);
        return EXIT_ERROR;
    }
    if (rules_path == NULL)
        rules_path = default_rules();

    emb_rules_t *rules = load_rules(rules_path);
    if (rules == NULL)
        return EXIT_ERROR;
    emb_engine_t *engine = build_engine(rules, &cfg, rules_path);
    if (engine == NULL) {
        emb_rules_free(rules);
        return EXIT_ERROR;
    }

    scan_state_t st = {.out_name = out_path};
    if (strcmp(out_path, "-") == 0) {
        st.out = stdout;
        st.out_name = "standard output";
    } else {
        st.out = fopen(out_path, append ? "a" : "w");
        if (st.out == NULL) {
            fprintf(stderr, "%s: %s: cannot open for writing: %s\n", prog, out_path,
                    strerror(errno));
            emb_engine_free(engine);
            emb_rules_free(rules);
            return EXIT_ERROR;
        }
    }

    int status = EXIT_CLEAN;
    uint64_t pcap_cnt = 0;
    size_t files_ok = 0;
    bool canceled = false;
    for (int i = optind; i < argc && !canceled; i++) {
        if (scan_file(engine, argv[i], &pcap_cnt, &st, &canceled) != 0)
            status = EXIT_ERROR;
        else
            files_ok++;
    }
    if (st.write_failed) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, st.out_name, strerror(st.write_errno));
        status = EXIT_ERROR;
    }
    if (st.out != stdout && fclose(st.out) != 0 && !st.write_failed) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, st.out_name, strerror(errno));
        status = EXIT_ERROR;
    }

    emb_stats_t s;
    emb_engine_stats(engine, &s);
    if (!quiet && files_ok > 0) {
        fprintf(stderr,
                "%s: %zu file%s, %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
                " alerts written to %s\n",
                prog, files_ok, files_ok == 1 ? "" : "s", s.packets, s.flows, st.written,
                st.out_name);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr,
                "%s: decode: %" PRIu64 " truncated, %" PRIu64 " invalid, %" PRIu64
                " unsupported; %" PRIu64 " tunnelled; %" PRIu64 " fragments, %" PRIu64
                " datagrams reassembled, %" PRIu64 " dropped\n",
                prog, s.truncated, s.invalid, s.unsupported, s.tunnels, s.fragments, s.reassembled,
                s.defrag_dropped);
        fprintf(stderr,
                "%s: flows: %" PRIu64 " evicted; streams: %" PRIu64 " segments, %" PRIu64
                " out of order, %" PRIu64 " overlaps, %" PRIu64
                " refused for memory, peak %zu KiB; peak RSS %ld KiB\n",
                prog, s.flows_evicted, s.tcp_segments, s.stream_gaps, s.stream_overlaps,
                s.stream_memcap_refused, s.stream_mem_peak / 1024, ru.ru_maxrss);
        for (size_t i = 0; i < st.ntally; i++)
            fprintf(stderr, "  %-16s %-12s %" PRIu64 "\n", st.tally[i].vendor, st.tally[i].channel,
                    st.tally[i].n);
    }
    if (status == EXIT_CLEAN && st.written > 0)
        status = EXIT_ALERTS;

    emb_engine_free(engine);
    emb_rules_free(rules);
    return status;
}
