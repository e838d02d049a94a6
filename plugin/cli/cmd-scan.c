/*
 * `embargo scan`: a thin host over the engine library. It reads pcap and
 * pcapng files with libpcap, feeds every packet to the engine, writes the
 * EVE lines the engine renders, and prints a human summary on stderr.
 *
 * With -j N, N workers each walk every file (read once, a block at a time,
 * the reading shared between them: capfile.c) and inspect the packets of
 * their shard (emb_packet_place: by the pair of addresses, so a flow and
 * its fragments meet in one engine); each worker's engine is also fed the
 * other workers' DNS packets, so that every worker's attribution table learns
 * every answer in packet order, as one engine's would, and no worker ever
 * waits for another (docs/flows.md, section 4). Each
 * worker writes its alerts, tagged with the packet number, to a temporary
 * file in packet order; at the end the files are merged by packet number,
 * so the output is the same whatever N is. With one worker alerts go
 * straight to the output, flushed line by line.
 *
 * Exit status: 0 scanned and found nothing, 1 alerts written, 2 an error
 * (bad rules, unreadable input, a failed write), always with a one-line
 * message naming what and where. eve.json ends with a stats record.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TALLY 256
#define MAX_WORKERS 64

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

/* `pos`: where in the file reading is, or -1 to ask `f`. */
static void progress_show(progress_t *p, const char *path, FILE *f, long long pos, long long total,
                          uint64_t alerts, bool final) {
    double t = now_s();
    if (!final && t - p->last < 0.5)
        return;
    p->last = t;
    if (pos < 0)
        pos = f ? ftello(f) : -1;
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

typedef struct {
    const char *vendor, *channel; /* live as long as the rules */
    uint64_t n, excepted;
} tally_t;

/* One worker: its engine, its shard, where its alerts go, what happened. */
typedef struct {
    int id, n;
    emb_engine_t *engine;
    capset_t *capset; /* with several workers: the files, read once for all */
    FILE *out;        /* the output (one worker) or this worker's temporary file */
    bool tagged;      /* lines carry "PCAPCNT SEQ\t" for the merge */
    uint64_t pcap_cnt;
    uint32_t seq;
    bool write_failed;
    int write_errno;
    uint64_t written;
    tally_t tally[MAX_TALLY];
    size_t ntally;
    char **files;
    int nfiles;
    size_t files_ok;
    bool failed;   /* some file could not be read */
    bool canceled; /* the callback or a signal stopped it */
    int64_t last_ts;
    progress_t *progress; /* worker 0 only */
    evidence_t *evidence; /* --evidence: the flows that alerted, where */
    bool evidence_failed; /* out of memory noting one */
} worker_t;

static void count(worker_t *w, const emb_alert_t *a) {
    size_t i;
    for (i = 0; i < w->ntally; i++)
        if (strcmp(w->tally[i].vendor, a->vendor) == 0 &&
            strcmp(w->tally[i].channel, a->channel) == 0)
            break;
    if (i == w->ntally && w->ntally < MAX_TALLY)
        w->tally[w->ntally++] = (tally_t){a->vendor, a->channel, 0, 0};
    if (i < w->ntally) {
        w->tally[i].n++;
        w->tally[i].excepted += a->excepted;
    }
}

static int on_alert(const emb_alert_t *a, void *ud) {
    worker_t *w = ud;
    bool ok = true;
    if (w->tagged)
        ok = fprintf(w->out, "%020" PRIu64 " %010" PRIu32 "\t", w->pcap_cnt, w->seq++) > 0;
    ok = ok && fwrite(a->eve, 1, a->eve_len, w->out) == a->eve_len && fputc('\n', w->out) != EOF;
    if (ok && !w->tagged)
        ok = fflush(w->out) == 0; /* one worker: nothing found is held back */
    if (!ok) {
        w->write_failed = true;
        w->write_errno = errno;
        return 1;
    }
    w->written++;
    count(w, a);
    if (w->evidence && !evidence_note(w->evidence, emb_engine_last_flow_id(w->engine), w->pcap_cnt))
        w->evidence_failed = true;
    return 0;
}

/* Scans one file. Returns 0, or -1 after printing (worker 0) why it could not. */
static int scan_file(worker_t *w, int file, const char *path) {
    char errbuf[PCAP_ERRBUF_SIZE];
    bool speak = w->id == 0;
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (pc == NULL) {
        if (speak)
            fprintf(stderr, "%s: %s: cannot read capture: %s\n", prog, path, errbuf);
        return -1;
    }
    int dlt = pcap_datalink(pc);
    int link = linktype_from_dlt(dlt);
    if (link < 0) {
        const char *name = pcap_datalink_val_to_name(dlt);
        if (speak)
            fprintf(stderr, "%s: %s: unsupported link type %d (%s)\n", prog, path, dlt,
                    name ? name : "unknown");
        pcap_close(pc);
        return -1;
    }

    /* A classic pcap is read in large blocks (capfile.c); libpcap takes over
     * at a record it would complain about, after skipping what was read. */
    capfile_t cf;
    bool mapped = w->capset ? capfile_open_shared(w->capset, file, path, link, (unsigned)w->id, &cf)
                            : capfile_open(path, &cf);
    struct pcap_pkthdr *hdr, mhdr;
    const u_char *data;
    uint64_t in_file = 0;
    int rc = 0;
    struct stat sb;
    long long total = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
    FILE *f = pcap_file(pc);
    progress_t *prog_line = w->progress;
    for (;;) {
        if (mapped) {
            capfile_rc_t crc = capfile_next(&cf, &mhdr, &data);
            if (crc == CAPFILE_END)
                break;
            if (crc == CAPFILE_HAND_OVER) {
                uint64_t done = cf.records;
                capfile_close(&cf);
                mapped = false;
                for (uint64_t i = 0; i < done && rc == 0 && !stop_signal; i++)
                    if (pcap_next_ex(pc, &hdr, &data) != 1)
                        rc = PCAP_ERROR; /* not what was read: cannot happen */
                if (rc != 0)
                    break;
                continue;
            }
            hdr = &mhdr;
        } else if ((rc = pcap_next_ex(pc, &hdr, &data)) != 1) {
            break;
        }
        in_file++;
        if (stop_signal) {
            w->canceled = true;
            break;
        }
        emb_packet_t pkt = {
            .ts_sec = hdr->ts.tv_sec,
            .ts_usec = (uint32_t)hdr->ts.tv_usec,
            .linktype = link,
            .data = data,
            .caplen = hdr->caplen,
            .len = hdr->len,
            .pcap_cnt = ++w->pcap_cnt,
        };
        w->last_ts = hdr->ts.tv_sec;
        if (w->n > 1) {
            emb_place_t place;
            if (mapped && data == NULL) { /* another worker's (capfile placed it) */
                emb_engine_skip(w->engine, &pkt);
                continue;
            }
            if (mapped)
                place = cf.place;
            else
                emb_packet_place(&pkt, &place);
            if (place.shard % (uint32_t)w->n != (uint32_t)w->id) {
                /* Another worker's: its DNS answers still teach this worker's
                 * attribution table, its time still counts. */
                int frc = place.dns ? emb_engine_feed(w->engine, &pkt) : 0;
                if (!place.dns)
                    emb_engine_skip(w->engine, &pkt);
                if (frc != 0) {
                    if (speak)
                        fprintf(stderr, "%s: %s: packet %" PRIu64 ": %s\n", prog, path, in_file,
                                emb_strerror(frc));
                    if (mapped)
                        capfile_close(&cf);
                    pcap_close(pc);
                    return -1;
                }
                continue;
            }
        }
        w->seq = 0;
        if (prog_line && prog_line->on && (++prog_line->packets & 0xFFF) == 0)
            progress_show(prog_line, path, f, mapped ? capfile_tell(&cf) : -1, total, w->written,
                          false);
        int prc = emb_engine_process(w->engine, &pkt, on_alert, w);
        if (prc == EMB_ECANCELED) {
            w->canceled = true;
            break;
        }
        if (prc != 0) {
            if (speak)
                fprintf(stderr, "%s: %s: packet %" PRIu64 ": %s\n", prog, path, in_file,
                        emb_strerror(prc));
            if (mapped)
                capfile_close(&cf);
            pcap_close(pc);
            return -1;
        }
    }
    if (mapped)
        capfile_close(&cf);
    if (prog_line && prog_line->on)
        progress_show(prog_line, path, f, mapped ? total : -1, total, w->written, true);
    if (rc == PCAP_ERROR && in_file == 0) {
        /* Not one packet could be read (a pcapng whose interfaces disagree on the
         * link type, say): an unreadable input, not an empty one. */
        if (speak)
            fprintf(stderr, "%s: %s: cannot read capture: %s\n", prog, path, pcap_geterr(pc));
        pcap_close(pc);
        return -1;
    }
    if (rc == PCAP_ERROR && speak) {
        /* libpcap says this for a cut-off file: keep what was read, warn where it ends. */
        fprintf(stderr, "%s: %s: warning: capture ends early after packet %" PRIu64 ": %s\n", prog,
                path, in_file, pcap_geterr(pc));
    }
    pcap_close(pc);
    return 0;
}

static void *run_worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < w->nfiles && !w->canceled; i++) {
        if (scan_file(w, i, w->files[i]) != 0)
            w->failed = true;
        else
            w->files_ok++;
        capset_pass(w->capset, (unsigned)w->id, i);
    }
    capset_leave(w->capset, (unsigned)w->id);
    return NULL;
}

/*
 * Merges the workers' tagged files into `out` by packet number. Each file is
 * already in order, so this is a k-way merge holding one line per worker.
 */
static bool merge(worker_t *ws, int n, FILE *out) {
    char *line[MAX_WORKERS] = {0};
    size_t cap[MAX_WORKERS] = {0};
    bool have[MAX_WORKERS] = {0};
    bool ok = true;
    for (int i = 0; i < n; i++) {
        rewind(ws[i].out);
        have[i] = getline(&line[i], &cap[i], ws[i].out) > 0;
    }
    for (;;) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (have[i] && (best < 0 || strncmp(line[i], line[best], 31) < 0))
                best = i;
        if (best < 0)
            break;
        const char *text = strchr(line[best], '\t');
        if (text == NULL || fputs(text + 1, out) == EOF) {
            ok = false;
            break;
        }
        have[best] = getline(&line[best], &cap[best], ws[best].out) > 0;
    }
    for (int i = 0; i < n; i++)
        free(line[i]);
    return ok && fflush(out) == 0;
}

int cmd_scan(int argc, char **argv) {
    static const struct option opts[] = {{"rules", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"append", no_argument, NULL, 'a'},
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"progress", no_argument, NULL, 'P'},
                                         {"no-progress", no_argument, NULL, 'N'},
                                         {"max-flows", required_argument, NULL, 'F'},
                                         {"stream-depth", required_argument, NULL, 'D'},
                                         {"stream-memcap", required_argument, NULL, 'M'},
                                         {"no-cache", no_argument, NULL, 'C'},
                                         {"evidence", required_argument, NULL, 'E'},
                                         {"inventory", required_argument, NULL, OPT_INVENTORY},
                                         {"sensor", required_argument, NULL, OPT_SENSOR},
                                         {"exceptions", required_argument, NULL, OPT_EXCEPTIONS},
                                         BAN_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    emb_config_t cfg;
    emb_config_init(&cfg);
    unsigned long long num;
    catch_stop_signals();
    const char *rules_path = NULL, *out_path = "eve.json", *evidence_dir = NULL;
    const char *exceptions_path = NULL, *inventory_db = NULL, *sensor = NULL;
    out_mode_t out_mode = OUT_KEEP;
    bool quiet = false, use_cache = true;
    int show_progress = -1; /* -1: on a terminal, unless --quiet */
    int nworkers = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rules_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'j':
            if (!parse_number(optarg, 1, MAX_WORKERS, &num, "-j"))
                return EXIT_ERROR;
            nworkers = (int)num;
            break;
        case 'a':
        case OPT_FORCE:
            if (!output_mode_option(c, &out_mode))
                return EXIT_ERROR;
            break;
        case 'F':
        case 'D':
        case 'M':
            if (engine_option(c, optarg, &cfg) < 0)
                return EXIT_ERROR;
            break;
        case 'q': quiet = true; break;
        case 'C': use_cache = false; break;
        case 'E': evidence_dir = optarg; break;
        case OPT_INVENTORY: inventory_db = optarg; break;
        case OPT_SENSOR: sensor = optarg; break;
        case OPT_EXCEPTIONS: exceptions_path = optarg; break;
        case OPT_SCOPE:
        case OPT_RESTRICTS:
        case OPT_PROPOSED: ban_option(c, optarg); break;
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
    if (evidence_dir && evidence_prepare_dir(evidence_dir) != 0)
        return EXIT_ERROR;
    if (inventory_db && strcmp(out_path, "-") == 0) {
        fprintf(stderr, "%s: scan: --inventory reads the EVE file: give -o FILE\n", prog);
        return EXIT_ERROR;
    }
    if (rules_path == NULL)
        rules_path = default_rules();
    if (use_cache)
        cfg.cache_dir = default_cache_dir();

    int status = EXIT_CLEAN;
    emb_exceptions_t *exceptions = NULL;
    uint64_t *expired = NULL;
    if (exceptions_path) {
        if ((exceptions = load_exceptions(exceptions_path)) == NULL)
            return EXIT_ERROR;
        expired = calloc(emb_exceptions_count(exceptions) + 1, sizeof(*expired));
        if (expired == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            emb_exceptions_free(exceptions);
            return EXIT_ERROR;
        }
    }
    emb_rules_t *rules = load_rules(rules_path);
    if (rules == NULL) {
        emb_exceptions_free(exceptions);
        free(expired);
        return EXIT_ERROR;
    }
    FILE *out = NULL;
    const char *out_name = out_path;
    capset_t *capset = NULL;
    worker_t *ws = calloc((size_t)nworkers, sizeof(worker_t));
    progress_t prog_line = {.on = show_progress == 1 ||
                                  (show_progress == -1 && !quiet && isatty(STDERR_FILENO)),
                            .start = now_s()};
    if (ws == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EXIT_ERROR;
        goto done;
    }
    if (nworkers > 1 && (capset = capset_new((unsigned)nworkers)) == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EXIT_ERROR;
        goto done;
    }
    /* The first engine compiles (or loads the cache); the others load the cache. */
    for (int i = 0; i < nworkers; i++) {
        ws[i].engine = build_engine(rules, &cfg, rules_path);
        if (ws[i].engine == NULL) {
            status = EXIT_ERROR;
            goto done;
        }
        if (emb_engine_set_exceptions(ws[i].engine, exceptions) != 0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            status = EXIT_ERROR;
            goto done;
        }
    }
    if (strcmp(out_path, "-") == 0) {
        out = stdout;
        out_name = "standard output";
    } else if ((out = open_output(out_path, out_mode,
                                  "--append adds to it, --force replaces it")) == NULL) {
        status = EXIT_ERROR;
        goto done;
    }

    for (int i = 0; i < nworkers; i++) {
        worker_t *w = &ws[i];
        w->id = i;
        w->n = nworkers;
        w->capset = capset;
        w->files = argv + optind;
        w->nfiles = argc - optind;
        w->progress = i == 0 ? &prog_line : NULL;
        w->tagged = nworkers > 1;
        if (evidence_dir && (w->evidence = evidence_new()) == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            status = EXIT_ERROR;
            goto done;
        }
        w->out = nworkers > 1 ? tmpfile() : out;
        if (w->out == NULL) {
            fprintf(stderr, "%s: cannot create a temporary file: %s\n", prog, strerror(errno));
            status = EXIT_ERROR;
            goto done;
        }
    }
    if (nworkers == 1) {
        run_worker(&ws[0]);
    } else {
        pthread_t tid[MAX_WORKERS];
        int started = 0;
        for (; started < nworkers; started++)
            if (pthread_create(&tid[started], NULL, run_worker, &ws[started]) != 0)
                break;
        for (int i = started; i < nworkers; i++)
            capset_leave(capset, (unsigned)i); /* nobody waits for a thread never started */
        for (int i = 0; i < started; i++)
            pthread_join(tid[i], NULL);
        if (started < nworkers) {
            fprintf(stderr, "%s: cannot start %d threads\n", prog, nworkers);
            status = EXIT_ERROR;
            goto done;
        }
    }

    emb_stats_t total;
    memset(&total, 0, sizeof(total));
    uint64_t written = 0;
    bool write_failed = false;
    int write_errno = 0;
    for (int i = 0; i < nworkers; i++) {
        emb_stats_t s;
        emb_engine_stats(ws[i].engine, &s);
        emb_stats_add(&total, &s);
        for (size_t x = 0; x < emb_exceptions_count(exceptions); x++)
            expired[x] += emb_engine_exception_expired(ws[i].engine, x);
        written += ws[i].written;
        if (ws[i].write_failed && !write_failed) {
            write_failed = true;
            write_errno = ws[i].write_errno;
        }
    }
    if (nworkers > 1 && !write_failed && !merge(ws, nworkers, out)) {
        write_failed = true;
        write_errno = errno;
    }
    if (ws[0].failed)
        status = EXIT_ERROR;
    if (stop_signal)
        fprintf(stderr, "%s: stopped by signal %d after %" PRIu64 " packets\n", prog,
                (int)stop_signal, ws[0].pcap_cnt);

    /* The last line: the counters, so a reader can tell nothing was lost
     * (detect.alert equals the alert lines above it). */
    if (!write_failed) {
        char *stats = emb_stats_json(&total, ws[0].last_ts ? ws[0].last_ts : (int64_t)time(NULL), 0,
                                     (uint64_t)(now_s() - prog_line.start));
        if (stats == NULL || fputs(stats, out) == EOF || fputc('\n', out) == EOF ||
            fflush(out) != 0) {
            write_failed = true;
            write_errno = errno;
        }
        free(stats);
    }
    if (write_failed) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, out_name, strerror(write_errno));
        status = EXIT_ERROR;
    }
    if (out != stdout && fclose(out) != 0 && !write_failed) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, out_name, strerror(errno));
        status = EXIT_ERROR;
    }
    out = NULL;

    /* The alerts just written into the inventory (the same reader as
     * `embargo inventory add`: an EVE file appended to is read on). */
    if (inventory_db && !write_failed &&
        inventory_ingest(inventory_db, sensor, out_path, quiet) != 0)
        status = EXIT_ERROR;

    if (evidence_dir && !write_failed && !stop_signal) {
        for (int i = 1; i < nworkers; i++)
            if (!evidence_merge(ws[0].evidence, ws[i].evidence))
                ws[0].evidence_failed = true;
        for (int i = 0; i < nworkers; i++)
            if (ws[i].evidence_failed) {
                fprintf(stderr, "%s: %s: out of memory noting the alerting flows\n", prog,
                        evidence_dir);
                status = EXIT_ERROR;
                break;
            }
        if (status != EXIT_ERROR &&
            evidence_write(ws[0].evidence, evidence_dir, argv + optind, argc - optind, rules, &cfg,
                           rules_path, quiet) != 0)
            status = EXIT_ERROR;
    }

    if (!quiet && ws[0].files_ok > 0) {
        size_t files_ok = ws[0].files_ok;
        const emb_stats_t *s = &total;
        fprintf(stderr,
                "%s: %zu file%s, %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
                " alerts written to %s",
                prog, files_ok, files_ok == 1 ? "" : "s", s->packets, s->flows, written, out_name);
        if (exceptions)
            fprintf(stderr, ", %" PRIu64 " excepted", s->alerts_excepted);
        fputc('\n', stderr);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr,
                "%s: decode: %" PRIu64 " truncated, %" PRIu64 " invalid, %" PRIu64
                " unsupported; %" PRIu64 " tunnelled; %" PRIu64 " fragments, %" PRIu64
                " datagrams reassembled, %" PRIu64 " dropped\n",
                prog, s->truncated, s->invalid, s->unsupported, s->tunnels, s->fragments,
                s->reassembled, s->defrag_dropped);
        fprintf(stderr,
                "%s: flows: %" PRIu64 " evicted, %" PRIu64 " TCP reused, %" PRIu64
                " picked up mid-stream, %" PRIu64 " re-oriented; streams: %" PRIu64
                " segments, %" PRIu64 " out of order, %" PRIu64 " overlaps, %" PRIu64
                " refused for memory, peak %zu KiB; peak RSS %ld KiB\n",
                prog, s->flows_evicted, s->flows_reused, s->tcp_midstream, s->flows_reoriented,
                s->tcp_segments, s->stream_gaps, s->stream_overlaps, s->stream_memcap_refused,
                s->stream_mem_peak / 1024, ru.ru_maxrss);
        /* one line per vendor and channel, summed over the workers */
        tally_t sum[MAX_TALLY];
        size_t nsum = 0;
        for (int i = 0; i < nworkers; i++)
            for (size_t t = 0; t < ws[i].ntally; t++) {
                size_t k = 0;
                while (k < nsum && (strcmp(sum[k].vendor, ws[i].tally[t].vendor) != 0 ||
                                    strcmp(sum[k].channel, ws[i].tally[t].channel) != 0))
                    k++;
                if (k == nsum && nsum < MAX_TALLY)
                    sum[nsum++] = (tally_t){ws[i].tally[t].vendor, ws[i].tally[t].channel, 0, 0};
                if (k < nsum) {
                    sum[k].n += ws[i].tally[t].n;
                    sum[k].excepted += ws[i].tally[t].excepted;
                }
            }
        for (size_t k = 0; k < nsum; k++) {
            fprintf(stderr, "  %-16s %-12s %" PRIu64, sum[k].vendor, sum[k].channel, sum[k].n);
            if (sum[k].excepted)
                fprintf(stderr, ", %" PRIu64 " excepted", sum[k].excepted);
            fputc('\n', stderr);
        }
    }
    /* Expired exceptions that still matched: listed even with --quiet, once each. */
    if (exceptions)
        print_expired_exceptions(exceptions, expired);
    if (status == EXIT_CLEAN && written > 0)
        status = EXIT_ALERTS;

done:
    if (out && out != stdout)
        fclose(out);
    for (int i = 0; ws && i < nworkers; i++) {
        if (ws[i].out && ws[i].tagged)
            fclose(ws[i].out);
        emb_engine_free(ws[i].engine);
        evidence_free(ws[i].evidence);
    }
    free(ws);
    capset_free(capset);
    emb_rules_free(rules);
    emb_exceptions_free(exceptions);
    free(expired);
    return status;
}
