/*
 * The `embargo` command: a thin host over the engine library. It reads pcap
 * and pcapng files with libpcap, feeds every packet to the engine, writes the
 * EVE lines the engine renders, and prints a human summary on stderr.
 *
 * Exit status: 0 scanned and found nothing, 1 alerts written, 2 an error
 * (bad rules, unreadable input, a failed write), always with a one-line
 * message naming what and where. Each alert line is flushed as it is
 * written, so an error later in the run loses nothing already found.
 */
#include "embargo/embargo.h"

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_CLEAN 0
#define EXIT_ALERTS 1
#define EXIT_ERROR 2

static const char *prog = "embargo";

static void usage(FILE *f) {
    fprintf(f, "usage: embargo scan [-r RULES] [-o EVE] [--append] [-q] PCAP...\n"
               "       embargo rules check [RULES]\n"
               "       embargo --version | --help\n"
               "\n"
               "Finds traffic of banned vendors' software and devices (Kaspersky, ...) in\n"
               "packet captures and writes Suricata EVE JSON alerts.\n"
               "\n"
               "scan options:\n"
               "  -r, --rules RULES  rule file or directory of *.yaml (default: the shipped pack)\n"
               "  -o, --output EVE   where alerts go; '-' for standard output (default: eve.json)\n"
               "      --append       append to EVE instead of replacing it\n"
               "  -j, --threads N    worker threads (this version runs one)\n"
               "  -q, --quiet        no summary on standard error\n"
               "      --max-flows N  flows tracked at once (default 65536); the oldest is evicted\n"
               "      --stream-depth BYTES  bytes reassembled per TCP direction (default 16384)\n"
               "      --stream-memcap MIB   memory for all reassembly buffers (default 64)\n"
               "\n"
               "Exit status: 0 nothing found, 1 alerts written, 2 error.\n"
               "Environment: EMBARGO_RULES overrides the default rule pack location.\n");
}

/* ---- default rule pack ------------------------------------------------- */

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Where the shipped pack is: $EMBARGO_RULES; the source tree when running from
 * the build tree; next to an installed binary (../share/embargo/rules); the
 * configured install location.
 */
static const char *default_rules(void) {
    static char buf[PATH_MAX + 32];
    const char *env = getenv("EMBARGO_RULES");
    if (env && *env)
        return env;

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        char build[PATH_MAX];
        if (realpath(EMBARGO_BINARY_DIR, build) && strcmp(build, exe) == 0 &&
            is_dir(EMBARGO_SOURCE_RULES_DIR))
            return EMBARGO_SOURCE_RULES_DIR;
        snprintf(buf, sizeof(buf), "%s/../share/embargo/rules", exe);
        if (is_dir(buf))
            return buf;
    }
    if (is_dir(EMBARGO_INSTALL_RULES_DIR))
        return EMBARGO_INSTALL_RULES_DIR;
    return EMBARGO_SOURCE_RULES_DIR;
}

static emb_rules_t *load_rules(const char *path) {
    emb_rules_t *rules = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_rules_load(path, &rules, &diags);
    if (rc != 0) {
        size_t n = emb_diags_count(diags);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        if (n == 0)
            fprintf(stderr, "%s: %s: %s\n", prog, path, emb_strerror(rc));
        else
            fprintf(stderr, "%s: %zu error%s in %s\n", prog, n, n == 1 ? "" : "s", path);
        emb_diags_free(diags);
        return NULL;
    }
    return rules;
}

/* Parses a whole number in [min, max] for option `opt`; prints why not. */
static bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                         unsigned long long *out, const char *opt) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min || v > max) {
        fprintf(stderr, "%s: %s wants a whole number from %llu to %llu, not '%s'\n", prog, opt, min,
                max, s);
        return false;
    }
    *out = v;
    return true;
}

static emb_engine_t *build_engine(const emb_rules_t *rules, const emb_config_t *cfg,
                                  const char *path) {
    emb_engine_t *engine = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_engine_new(rules, cfg, &engine, &diags);
    if (rc != 0) {
        for (size_t i = 0; i < emb_diags_count(diags); i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        fprintf(stderr, "%s: cannot build the engine from %s: %s\n", prog, path, emb_strerror(rc));
        emb_diags_free(diags);
        return NULL;
    }
    return engine;
}

/* ---- rules check ------------------------------------------------------- */

static int cmd_rules_check(int argc, char **argv) {
    const char *path = argc > 0 ? argv[0] : default_rules();
    if (argc > 1) {
        usage(stderr);
        return EXIT_ERROR;
    }
    emb_rules_t *rules = load_rules(path);
    if (rules == NULL)
        return EXIT_ERROR;
    emb_engine_t *engine = build_engine(rules, NULL, path);
    if (engine == NULL) {
        emb_rules_free(rules);
        return EXIT_ERROR;
    }

    emb_rules_summary_t s;
    emb_rules_summary(rules, &s);
    printf("rules: %s (%zu file%s)\n", path, s.files, s.files == 1 ? "" : "s");
    printf("vendors: %zu\n", s.vendors);
    for (size_t i = 0; i < s.vendors; i++) {
        const char *id, *name;
        size_t nrules;
        emb_rules_vendor(rules, i, &id, &name, &nrules);
        printf("  %-16s %-32s %zu rules\n", id, name, nrules);
    }
    printf("rules: %zu (%zu alternatives)\n", s.rules, s.alternatives);
    printf("rules per channel:\n");
    for (int c = 0; c < EMB_CH__COUNT; c++)
        printf("  %-16s %zu\n", emb_channel_name((emb_channel_t)c), s.rules_per_channel[c]);
    printf("indicators per field:\n");
    for (int k = 0; k < EMB_K__COUNT; k++)
        if (s.indicators_per_key[k] > 0)
            printf("  %-16s %zu\n", emb_key_name((emb_key_t)k), s.indicators_per_key[k]);
    printf("ok\n");
    emb_engine_free(engine);
    emb_rules_free(rules);
    return EXIT_CLEAN;
}

/* ---- scan -------------------------------------------------------------- */

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

static int cmd_scan(int argc, char **argv) {
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

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("embargo %s (Hyperscan %s)\n", EMB_VERSION_STRING, emb_hyperscan_version());
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0) {
        if (argc >= 3 && strcmp(argv[2], "check") == 0)
            return cmd_rules_check(argc - 3, argv + 3);
        fprintf(stderr, "%s: rules: unknown action (want: rules check [RULES])\n", prog);
        return EXIT_ERROR;
    }
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_ERROR;
}
