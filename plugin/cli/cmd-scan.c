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
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

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
/* SIGINT/SIGTERM: stop reading, then finish as after the last packet. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
    stop_signal = sig;
}

static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The progress line on a terminal: where the file is, the rate, the alerts. */
typedef struct {
    bool on;
    double start, last;
    uint64_t packets;
} progress_t;

static void progress_show(progress_t *p, const char *path, FILE *f, long long total,
                          uint64_t alerts, bool final) {
    double t = now_s();
    if (!final && t - p->last < 0.5)
        return;
    p->last = t;
    long long pos = f ? ftello(f) : -1;
    double el = t - p->start > 1e-6 ? t - p->start : 1e-6;
    double mb = pos > 0 ? (double)pos / 1048576.0 : 0;
    char eta[32] = "";
    if (pos > 0 && total > pos)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", el * (double)(total - pos) / (double)pos);
    fprintf(stderr,
            "\r\033[K%s: %.1f/%.1f MiB, %" PRIu64 " packets, %.2f Mpps%s, %" PRIu64 " alerts%s",
            path, mb, (double)total / 1048576.0, p->packets, (double)p->packets / el / 1e6, eta,
            alerts, final ? "\n" : "");
}

static int scan_file(emb_engine_t *engine, const char *path, uint64_t *pcap_cnt, scan_state_t *st,
                     bool *canceled, progress_t *prog_line, int64_t *last_ts) {
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
    struct stat sb;
    long long total = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
    FILE *f = pcap_file(pc);
    while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
        in_file++;
        if (stop_signal) {
            *canceled = true;
            break;
        }
        *last_ts = hdr->ts.tv_sec;
        if (prog_line->on && (++prog_line->packets & 0xFFF) == 0)
            progress_show(prog_line, path, f, total, st->written, false);
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
    if (prog_line->on)
        progress_show(prog_line, path, f, total, st->written, true);
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
                                         {"no-cache", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    emb_config_t cfg;
    emb_config_init(&cfg);
    unsigned long long num;
    catch_stop_signals();
    const char *rules_path = NULL, *out_path = "eve.json";
    bool append = false, quiet = false, use_cache = true;
    int show_progress = -1; /* -1: on a terminal, unless --quiet */
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
        case 'C': use_cache = false; break;
        case 'P': show_progress = 1; break;
        case 'N': show_progress = 0; break;
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
    if (use_cache)
        cfg.cache_dir = default_cache_dir();

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
    int64_t last_ts = 0;
    progress_t prog_line = {.on = show_progress == 1 ||
                                  (show_progress == -1 && !quiet && isatty(STDERR_FILENO)),
                            .start = now_s()};
    for (int i = optind; i < argc && !canceled; i++) {
        if (scan_file(engine, argv[i], &pcap_cnt, &st, &canceled, &prog_line, &last_ts) != 0)
            status = EXIT_ERROR;
        else
            files_ok++;
    }
    if (stop_signal)
        fprintf(stderr, "%s: stopped by signal %d after %" PRIu64 " packets\n", prog,
                (int)stop_signal, pcap_cnt);

    /* The last line: the counters, so a reader can tell nothing was lost
     * (detect.alert equals the alert lines above it). */
    if (!st.write_failed) {
        char *stats = emb_engine_stats_json(engine, last_ts ? last_ts : (int64_t)time(NULL), 0,
                                            (uint64_t)(now_s() - prog_line.start));
        if (stats == NULL || fputs(stats, st.out) == EOF || fputc('\n', st.out) == EOF ||
            fflush(st.out) != 0) {
            st.write_failed = true;
            st.write_errno = errno;
        }
        free(stats);
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
