/*
 * `embargo live -i IFACE`: a thin host over the engine for a live interface.
 * libpcap captures (TPACKET_V3 blocks, a large kernel buffer, an optional BPF
 * filter), every packet goes to the same engine as `scan`, alerts go to the
 * EVE file line by line, each flushed.
 *
 * Signals only set flags and call pcap_breakloop(); the capture loop acts on
 * them between batches, so nothing unsafe runs in a handler:
 *   SIGINT, SIGTERM  stop: statistics, close the EVE file, exit as scan does
 *   SIGUSR1          statistics on standard error, keep capturing
 *   SIGUSR2          reload the rules (as Suricata does): the new pack is
 *                    loaded and compiled first; if that fails the old one
 *                    keeps running. The engine swaps the pack in place
 *                    (emb_engine_reload): flows, reassembly and what each
 *                    flow already raised (by sid) are kept.
 *   SIGHUP           reopen the EVE file (logrotate's postrotate, as Suricata)
 * Like scan, the EVE file ends with a `stats` record (summed over reloads).
 *
 * With -j N (N > 1), N workers each open the interface and join one
 * PACKET_FANOUT group in hash mode, so the kernel spreads the packets over
 * their rings by flow (both directions of a connection alike; fragments
 * reassembled first with PACKET_FANOUT_FLAG_DEFRAG), as Suricata's af-packet
 * workers do. Each worker has its engine; the engines share one DNS
 * attribution table under a lock (emb_shared_new), and alerts go to the EVE
 * file under a lock, a line at a time. Signals are taken by the main thread
 * alone: for statistics or a reload it parks every worker between batches,
 * does the work, and lets them go on. Kernel drops are summed over the rings.
 */
#include "cli.h"
#include "inventory/inventory.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#endif

#define LIVE_SNAPLEN 65535
#define LIVE_BUFFER_MIB 64
#define LIVE_TIMEOUT_MS 10
#define MAX_LIVE_WORKERS 64

/* The capture handles, for the signal handler's pcap_breakloop. */
static pcap_t *live_pcaps[MAX_LIVE_WORKERS];
static int nlive_pcaps;
static volatile sig_atomic_t want_stop, want_stats, want_reload, want_reopen;

static void break_all(void) {
    for (int i = 0; i < nlive_pcaps; i++)
        if (live_pcaps[i] != NULL)
            pcap_breakloop(live_pcaps[i]);
}

static void on_signal(int sig) {
    switch (sig) {
    case SIGINT:
    case SIGTERM: want_stop = sig; break;
    case SIGUSR1: want_stats = 1; break;
    case SIGUSR2: want_reload = 1; break;
    case SIGHUP: want_reopen = 1; break;
    default: break;
    }
    break_all();
}

typedef struct live live_t;

/* One capture ring and the engine that inspects what it brings. */
typedef struct {
    live_t *lv;
    int id;
    pcap_t *pc;
    emb_engine_t *engine;
    uint64_t pcap_cnt; /* id + 1, then N more each time: unique over the workers */
    uint64_t packets;
    int error; /* an engine or capture error that stops the capture */
    bool capture_failed;
    pthread_t tid;
} lworker_t;

struct live {
    emb_rules_t *rules;
    emb_rules_t *stale_rules; /* a pack a failed reload left in use: freed at the end */
    int link, n;
    time_t started;
    uint64_t reloads;
    eve_out_t eve;
    emb_exceptions_t *exceptions; /* --exceptions; NULL: none */
    emb_shared_t *shared;         /* with several workers: their attribution table */
    lworker_t w[MAX_LIVE_WORKERS];
    /* Several workers: the EVE file is written under `lock`; a worker sees
     * `pause` between batches and parks until the main thread is done. */
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool pause, stop;
    int parked, exited;
    /* --inventory: each alert also goes into the inventory, committed every
     * second (and every INV_BATCH alerts) */
    inv_writer_t *inv;
    bool inv_failed;
    time_t last_flush;
    unsigned stats_interval; /* seconds; 0: a stats record at the end only */
    time_t last_stats;
};

/* Time for a periodic stats record. */
static bool stats_due(const live_t *lv) {
    return lv->stats_interval > 0 && time(NULL) - lv->last_stats >= (time_t)lv->stats_interval;
}

/* EVE, then the inventory's queue (which never waits for the database). */
static int live_alert(const emb_alert_t *a, void *ud) {
    live_t *lv = ud;
    int rc = eve_out_alert(a, &lv->eve);
    if (rc == 0 && lv->inv)
        (void)inv_writer_add(lv->inv, a->eve, a->eve_len, NULL, 0);
    return rc;
}

/* Writes the inventory's queue once a second (`now`: at once), from the main
 * thread. A failure is said once, and the batch waits for the next try; eve.json
 * holds every alert meanwhile. */
static void flush_inventory(live_t *lv, bool now) {
    time_t t = time(NULL);
    if (lv->inv == NULL || (!now && t == lv->last_flush))
        return;
    lv->last_flush = t;
    char err[512];
    if (inv_writer_flush(lv->inv, err, sizeof(err)) != 0) {
        if (!lv->inv_failed)
            fprintf(stderr, "%s: inventory: %s; trying again each second, alerts go on to %s\n",
                    prog, err, lv->eve.name);
        lv->inv_failed = true;
    } else if (lv->inv_failed) {
        fprintf(stderr, "%s: inventory: written again\n", prog);
        lv->inv_failed = false;
    }
}

/* The alert callback of several workers: one line at a time. */
static int locked_alert(const emb_alert_t *a, void *ud) {
    live_t *lv = ud;
    pthread_mutex_lock(&lv->lock);
    int rc = live_alert(a, lv);
    pthread_mutex_unlock(&lv->lock);
    return rc;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data) {
    lworker_t *w = (lworker_t *)user;
    live_t *lv = w->lv;
    emb_packet_t pkt = {
        .ts_sec = hdr->ts.tv_sec,
        .ts_usec = (uint32_t)hdr->ts.tv_usec,
        .linktype = lv->link,
        .data = data,
        .caplen = hdr->caplen,
        .len = hdr->len,
        .pcap_cnt = w->pcap_cnt,
    };
    w->pcap_cnt += (uint64_t)lv->n;
    w->packets++;
    int rc = emb_engine_process(w->engine, &pkt, lv->n > 1 ? locked_alert : live_alert, lv);
    if (rc != 0 && w->error == 0) {
        w->error = rc;
        pcap_breakloop(w->pc);
    }
}

/* The engines' counters summed, with the rings' capture counters (workers
 * parked, or one worker: pcap_stats is not for a handle another thread reads).
 * Returns the first ring that gave no capture counters, or -1. */
static int collect_stats(const live_t *lv, emb_stats_t *s) {
    emb_stats_t one;
    struct pcap_stat ps;
    int failed = -1; /* the first ring without capture counters */
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < lv->n; i++) {
        emb_engine_stats(lv->w[i].engine, &one);
        emb_stats_add(s, &one);
        if (pcap_stats(lv->w[i].pc, &ps) == 0) {
            s->kernel_packets += ps.ps_recv;
            s->kernel_drops += ps.ps_drop;
            s->kernel_ifdrops += ps.ps_ifdrop;
        } else if (failed < 0) {
            failed = i;
        }
    }
    s->live_capture = failed < 0;
    return failed;
}

/* A stats record in EVE (and the inventory): every --stats-interval, and at
 * the end, so that a reader can tell a sensor that watched and found nothing
 * from one that was not watching. */
static bool write_stats_record(live_t *lv) {
    emb_stats_t total;
    collect_stats(lv, &total);
    time_t now = time(NULL);
    char *stats = emb_stats_json(&total, (int64_t)now, 0, (uint64_t)(now - lv->started));
    if (stats == NULL)
        return false;
    if (!lv->eve.write_failed && (fputs(stats, lv->eve.out) == EOF ||
                                  fputc('\n', lv->eve.out) == EOF || fflush(lv->eve.out) != 0)) {
        lv->eve.write_failed = true;
        lv->eve.write_errno = errno;
    }
    if (lv->inv)
        (void)inv_writer_add(lv->inv, stats, strlen(stats), NULL, 0);
    free(stats);
    return true;
}

static void print_stats(const live_t *lv, const char *iface, const char *when) {
    emb_stats_t s;
    int failed = collect_stats(lv, &s);
    uint64_t packets = 0;
    for (int i = 0; i < lv->n; i++)
        packets += lv->w[i].packets;
    if (failed >= 0)
        fprintf(stderr, "%s: %s: %s: no capture statistics: %s\n", prog, iface, when,
                pcap_geterr(lv->w[failed].pc));
    else
        fprintf(stderr,
                "%s: %s: %s: %" PRIu64 " packets received, %" PRIu64
                " dropped by the kernel, %" PRIu64 " dropped by the interface\n",
                prog, iface, when, s.kernel_packets, s.kernel_drops, s.kernel_ifdrops);
    fprintf(stderr,
            "%s: %s: %s: %" PRIu64 " packets inspected, %" PRIu64 " flows, %" PRIu64
            " alerts written to %s, %" PRIu64 " rule reload%s\n",
            prog, iface, when, packets, s.flows, lv->eve.written, lv->eve.name, lv->reloads,
            lv->reloads == 1 ? "" : "s");
    if (lv->exceptions)
        fprintf(stderr, "%s: %s: %s: %" PRIu64 " alerts excepted\n", prog, iface, when,
                s.alerts_excepted);
    eve_out_print_tally(&lv->eve, stderr);
}

/* Loads and compiles the pack again; on any error the running engines stay.
 * With several workers, they are all parked meanwhile. */
static void reload(live_t *lv, const char *rules_path) {
    fprintf(stderr, "%s: SIGUSR2: reloading rules from %s\n", prog, rules_path);
    emb_rules_t *rules = load_rules(rules_path);
    emb_diags_t *diags = NULL;
    int rc = rules ? emb_engine_reload(lv->w[0].engine, rules, &diags) : EMB_ERULES;
    if (rc != 0) {
        for (size_t i = 0; i < emb_diags_count(diags); i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        emb_diags_free(diags);
        emb_rules_free(rules);
        fprintf(stderr, "%s: reload failed: still running with the rules loaded before\n", prog);
        return;
    }
    /* The first compiled the pack (and cached it): the others load it. A
     * worker that cannot still runs on the old pack and the shared table now
     * numbers the new one's rules: the capture stops (its error is set before
     * any worker runs again), and the old pack is kept until the end. */
    bool all = true;
    for (int i = 1; i < lv->n; i++)
        if ((rc = emb_engine_reload(lv->w[i].engine, rules, NULL)) != 0) {
            fprintf(stderr, "%s: reload: worker %d: %s; stopping\n", prog, i, emb_strerror(rc));
            lv->w[i].error = rc;
            all = false;
        }
    if (all)
        emb_rules_free(lv->rules);
    else
        lv->stale_rules = lv->rules; /* still referenced: freed at the end */
    lv->rules = rules;
    lv->reloads++;
    emb_stats_t s;
    collect_stats(lv, &s);
    emb_rules_summary_t sum;
    emb_rules_summary(rules, &sum);
    fprintf(stderr,
            "%s: rules reloaded from %s: %zu rules of %zu vendors; %" PRIu64 " flows kept\n", prog,
            rules_path, sum.rules, sum.vendors, s.flows - s.flows_evicted);
}

/*
 * Joins the capture to the fanout group `group` in hash mode: the kernel
 * gives each packet to one of the group's sockets by a hash of its flow
 * (fragments reassembled first, so they follow their flow). Linux only.
 */
static bool join_fanout(pcap_t *pc, const char *iface, int group) {
#if defined(__linux__) && defined(PACKET_FANOUT)
    /* the group id in the low 16 bits, the mode and flags in the high ones */
    uint32_t arg = ((uint32_t)group & 0xffffu) |
                   ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
    if (setsockopt(pcap_fileno(pc), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == 0)
        return true;
    fprintf(stderr, "%s: %s: cannot spread the capture over threads (PACKET_FANOUT): %s\n", prog,
            iface, strerror(errno));
#else
    (void)pc;
    (void)group;
    fprintf(stderr, "%s: %s: -j needs Linux (PACKET_FANOUT)\n", prog, iface);
#endif
    return false;
}

/* Opens and activates the interface; prints why not and returns NULL. */
static pcap_t *open_live(const char *iface, const char *bpf) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_create(iface, errbuf);
    if (pc == NULL) {
        fprintf(stderr, "%s: %s: cannot capture: %s\n", prog, iface, errbuf);
        return NULL;
    }
    pcap_set_snaplen(pc, LIVE_SNAPLEN);
    pcap_set_promisc(pc, 1);
    pcap_set_timeout(pc, LIVE_TIMEOUT_MS);
    /* Not immediate mode: libpcap would fall back to TPACKET_V2 and a wake-up per
     * packet. TPACKET_V3 hands over blocks of packets, at most LIVE_TIMEOUT_MS
     * late. */
    pcap_set_buffer_size(pc, LIVE_BUFFER_MIB << 20);
    int rc = pcap_activate(pc);
    if (rc < 0) {
        const char *why = rc == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface"
                          : rc == PCAP_ERROR_PERM_DENIED  ? "permission denied (run as root "
                                                            "or with CAP_NET_RAW)"
                                                          : pcap_statustostr(rc);
        const char *detail = pcap_geterr(pc);
        fprintf(stderr, "%s: %s: cannot capture: %s%s%s\n", prog, iface, why,
                detail && *detail ? ": " : "", detail ? detail : "");
        pcap_close(pc);
        return NULL;
    }
    if (rc > 0)
        fprintf(stderr, "%s: %s: warning: %s: %s\n", prog, iface, pcap_statustostr(rc),
                pcap_geterr(pc));
    if (bpf != NULL) {
        struct bpf_program prog_bpf;
        if (pcap_compile(pc, &prog_bpf, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            fprintf(stderr, "%s: -f '%s': %s\n", prog, bpf, pcap_geterr(pc));
            pcap_close(pc);
            return NULL;
        }
        rc = pcap_setfilter(pc, &prog_bpf);
        pcap_freecode(&prog_bpf);
        if (rc != 0) {
            fprintf(stderr, "%s: %s: cannot set filter: %s\n", prog, iface, pcap_geterr(pc));
            pcap_close(pc);
            return NULL;
        }
    }
    return pc;
}

/* SIGHUP: the EVE file again, after logrotate moved it. */
static void reopen(live_t *lv) {
    if (eve_out_reopen(&lv->eve) == 0)
        fprintf(stderr, "%s: SIGHUP: %s reopened\n", prog, lv->eve.name);
}

/* Says why a worker stopped; EXIT_ERROR, or EXIT_CLEAN for a failed EVE write
 * (eve_out_close says that one). */
static int worker_failure(const lworker_t *w, const char *iface) {
    if (w->error == EMB_ECANCELED)
        return EXIT_CLEAN;
    if (w->capture_failed)
        fprintf(stderr, "%s: %s: capture failed: %s\n", prog, iface, pcap_geterr(w->pc));
    else
        fprintf(stderr, "%s: %s: packet %" PRIu64 ": %s\n", prog, iface, w->packets,
                emb_strerror(w->error));
    return EXIT_ERROR;
}

/* What the signals asked for, and the periodic stats record: with one worker
 * between batches, with several while they are parked. */
static void serve_requests(live_t *lv, const char *iface, const char *rules_path, bool periodic) {
    if (want_stats) {
        want_stats = 0;
        print_stats(lv, iface, "SIGUSR1");
    }
    if (want_reload) {
        want_reload = 0;
        reload(lv, rules_path);
    }
    if (want_reopen) {
        want_reopen = 0;
        reopen(lv);
    }
    if (periodic) {
        lv->last_stats = time(NULL);
        write_stats_record(lv);
    }
}

/* One worker: the capture loop runs in the main thread, which acts on the
 * signals between batches. */
static int run_one(live_t *lv, const char *iface, const char *rules_path) {
    lworker_t *w = &lv->w[0];
    while (!want_stop) {
        int rc = pcap_dispatch(w->pc, -1, on_packet, (u_char *)w);
        if (rc == PCAP_ERROR)
            w->capture_failed = true;
        if (w->error != 0 || w->capture_failed)
            return worker_failure(w, iface);
        serve_requests(lv, iface, rules_path, stats_due(lv));
        flush_inventory(lv, false);
    }
    return EXIT_CLEAN;
}

static void *run_worker(void *arg) {
    lworker_t *w = arg;
    live_t *lv = w->lv;
    for (;;) {
        pthread_mutex_lock(&lv->lock);
        bool go = w->error == 0 && !lv->stop; /* a failed reload stops it before a packet */
        pthread_mutex_unlock(&lv->lock);
        if (!go) {
            pthread_mutex_lock(&lv->lock);
            break;
        }
        int rc = pcap_dispatch(w->pc, -1, on_packet, (u_char *)w);
        if (rc == PCAP_ERROR)
            w->capture_failed = true;
        pthread_mutex_lock(&lv->lock);
        if (w->error != 0 || w->capture_failed || lv->stop)
            break;
        if (lv->pause) { /* the main thread wants the engines still */
            lv->parked++;
            pthread_cond_broadcast(&lv->cv);
            while (lv->pause && !lv->stop)
                pthread_cond_wait(&lv->cv, &lv->lock);
            lv->parked--;
        }
        pthread_mutex_unlock(&lv->lock);
    }
    lv->exited++;
    pthread_cond_broadcast(&lv->cv);
    pthread_mutex_unlock(&lv->lock);
    return NULL;
}

/* Several workers: waits for a signal or a worker's failure; parks the workers
 * for statistics and reloads; stops them all and joins them. */
static int supervise(live_t *lv, const char *iface, const char *rules_path, int started,
                     int status) {
    int failed = -1;
    while (!want_stop && failed < 0) {
        struct timespec nap = {0, LIVE_TIMEOUT_MS * 1000000L};
        nanosleep(&nap, NULL);      /* a signal cuts it short */
        flush_inventory(lv, false); /* the writer has its own lock */
        pthread_mutex_lock(&lv->lock);
        if (lv->exited > 0)
            for (int i = 0; i < started && failed < 0; i++)
                if (lv->w[i].error != 0 || lv->w[i].capture_failed)
                    failed = i;
        pthread_mutex_unlock(&lv->lock);
        bool periodic = stats_due(lv);
        if (failed >= 0 || !(want_stats || want_reload || want_reopen || periodic))
            continue;
        pthread_mutex_lock(&lv->lock);
        lv->pause = true;
        pthread_mutex_unlock(&lv->lock);
        break_all();
        pthread_mutex_lock(&lv->lock);
        while (lv->parked + lv->exited < started)
            pthread_cond_wait(&lv->cv, &lv->lock);
        pthread_mutex_unlock(&lv->lock);
        serve_requests(lv, iface, rules_path, periodic);
        pthread_mutex_lock(&lv->lock);
        lv->pause = false;
        pthread_cond_broadcast(&lv->cv);
        pthread_mutex_unlock(&lv->lock);
    }
    pthread_mutex_lock(&lv->lock);
    lv->stop = true;
    pthread_cond_broadcast(&lv->cv);
    pthread_mutex_unlock(&lv->lock);
    break_all();
    for (int i = 0; i < started; i++)
        pthread_join(lv->w[i].tid, NULL);
    if (failed >= 0 && worker_failure(&lv->w[failed], iface) == EXIT_ERROR)
        return EXIT_ERROR;
    return status;
}

int cmd_live(int argc, char **argv) {
    static const struct option opts[] = {{"interface", required_argument, NULL, 'i'},
                                         {"rules", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"filter", required_argument, NULL, 'f'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"pid-file", required_argument, NULL, 'p'},
                                         {"inventory", required_argument, NULL, OPT_INVENTORY},
                                         {"sensor", required_argument, NULL, OPT_SENSOR},
                                         {"stats-interval", required_argument, NULL, 'S'},
                                         {"append", no_argument, NULL, 'a'},
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"max-flows", required_argument, NULL, 'F'},
                                         {"stream-depth", required_argument, NULL, 'D'},
                                         {"stream-memcap", required_argument, NULL, 'M'},
                                         {"exceptions", required_argument, NULL, OPT_EXCEPTIONS},
                                         BAN_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    emb_config_t cfg;
    emb_config_init(&cfg);
    const char *iface = NULL, *rules_path = NULL, *out_path = "eve.json", *bpf = NULL;
    const char *exceptions_path = NULL, *pid_file = NULL, *inventory_db = NULL, *sensor = NULL;
    out_mode_t out_mode = OUT_KEEP;
    bool quiet = false;
    int nworkers = 1;
    unsigned stats_interval = 60;
    unsigned long long num;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:r:o:f:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': iface = optarg; break;
        case 'p': pid_file = optarg; break;
        case OPT_INVENTORY: inventory_db = optarg; break;
        case OPT_SENSOR: sensor = optarg; break;
        case 'S':
            if (!parse_number(optarg, 0, 86400, &num, "--stats-interval"))
                return EXIT_ERROR;
            stats_interval = (unsigned)num;
            break;
        case 'j':
            if (!parse_number(optarg, 1, MAX_LIVE_WORKERS, &num, "-j"))
                return EXIT_ERROR;
            nworkers = (int)num;
            break;
        case 'r': rules_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'f': bpf = optarg; break;
        case 'a':
        case OPT_FORCE:
            if (!output_mode_option(c, &out_mode))
                return EXIT_ERROR;
            break;
        case 'q': quiet = true; break;
        case OPT_EXCEPTIONS: exceptions_path = optarg; break;
        case OPT_SCOPE:
        case OPT_RESTRICTS:
        case OPT_PROPOSED: ban_option(c, optarg); break;
        case 'F':
        case 'D':
        case 'M':
            if (engine_option(c, optarg, &cfg) < 0)
                return EXIT_ERROR;
            break;
        case 'h': usage_live(stdout); return EXIT_CLEAN;
        default: usage_live(stderr); return EXIT_ERROR;
        }
    }
    if (iface == NULL || optind < argc) {
        fprintf(stderr, "%s: live: %s\n", prog,
                iface == NULL ? "no interface given (-i IFACE)" : "unexpected argument");
        usage_live(stderr);
        return EXIT_ERROR;
    }
    if (rules_path == NULL)
        rules_path = default_rules();

    static live_t lv; /* large (the workers); one per process */
    memset(&lv, 0, sizeof(lv));
    lv.n = nworkers;

    int status = EXIT_ERROR;
    int started = 0;
    pthread_mutex_init(&lv.lock, NULL);
    pthread_cond_init(&lv.cv, NULL);
    if (exceptions_path && (lv.exceptions = load_exceptions(exceptions_path)) == NULL)
        return EXIT_ERROR;
    lv.rules = load_rules(rules_path);
    if (lv.rules == NULL)
        goto out;
    if (nworkers > 1 && emb_shared_new(&cfg, &lv.shared) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }
    cfg.shared = lv.shared;
    /* Rings are passed on a block at a time, each at most LIVE_TIMEOUT_MS late:
     * an answer may reach its worker after the connection it names reached
     * another one. */
    if (nworkers > 1)
        cfg.attrib_grace_ms = 2000;
    /* The first engine compiles (or loads the cache); the others load the cache. */
    for (int i = 0; i < nworkers; i++) {
        lworker_t *w = &lv.w[i];
        w->lv = &lv;
        w->id = i;
        w->pcap_cnt = (uint64_t)i + 1;
        if ((w->engine = build_engine(lv.rules, &cfg, rules_path)) == NULL)
            goto out;
        /* kept across rule reloads: the exceptions are the site's, not the pack's */
        if (emb_engine_set_exceptions(w->engine, lv.exceptions) != 0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            goto out;
        }
    }
    int group = (int)(getpid() & 0xffff);
    for (int i = 0; i < nworkers; i++) {
        if ((lv.w[i].pc = open_live(iface, bpf)) == NULL)
            goto out;
        live_pcaps[i] = lv.w[i].pc;
        nlive_pcaps = i + 1;
        if (nworkers > 1 && !join_fanout(lv.w[i].pc, iface, group))
            goto out;
    }
    int dlt = pcap_datalink(lv.w[0].pc);
    lv.link = linktype_from_dlt(dlt);
    if (lv.link < 0) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "%s: %s: unsupported link type %d (%s)\n", prog, iface, dlt,
                name ? name : "unknown");
        goto out;
    }
    if (eve_out_open(&lv.eve, out_path, out_mode) != 0)
        goto out;
    if (inventory_db) {
        char err[512];
        if ((lv.inv = inv_writer_open(inventory_db, sensor ? sensor : default_sensor(), err,
                                      sizeof(err))) == NULL) {
            fprintf(stderr, "%s: %s: %s\n", prog, inventory_db, err);
            eve_out_close(&lv.eve);
            goto out;
        }
    }

    /* No SA_RESTART: a signal wakes the poll inside libpcap, which then sees the break. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP};
    sigset_t block;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&block, sigs[i]);
    }
    /* The pid file, for `embargo rules update --reload` and logrotate: written
     * once the signals are handled, removed before they are not. */
    if (pid_file) {
        FILE *pf = fopen(pid_file, "w");
        if (pf == NULL || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
            fprintf(stderr, "%s: %s: cannot write the pid file: %s\n", prog, pid_file,
                    strerror(errno));
            eve_out_close(&lv.eve);
            inv_writer_close(lv.inv, NULL, 0);
            lv.inv = NULL;
            status = EXIT_ERROR;
            goto out;
        }
    }

    if (!quiet)
        fprintf(stderr,
                "%s: listening on %s (%s%s%s), rules %s, alerts to %s; SIGUSR1 prints "
                "statistics, SIGUSR2 reloads the rules, SIGHUP reopens the EVE file, SIGINT "
                "stops\n",
                prog, iface, pcap_datalink_val_to_name(dlt), bpf ? ", filter " : "", bpf ? bpf : "",
                rules_path, lv.eve.name);
    if (!quiet && nworkers > 1)
        fprintf(stderr, "%s: %s: %d capture threads, packets spread by flow (PACKET_FANOUT)\n",
                prog, iface, nworkers);

    status = EXIT_CLEAN;
    lv.started = lv.last_stats = time(NULL);
    lv.stats_interval = stats_interval;
    if (nworkers == 1) {
        status = run_one(&lv, iface, rules_path);
    } else {
        /* The workers never take the signals: the main thread does. */
        pthread_sigmask(SIG_BLOCK, &block, NULL);
        for (; started < nworkers; started++)
            if (pthread_create(&lv.w[started].tid, NULL, run_worker, &lv.w[started]) != 0)
                break;
        pthread_sigmask(SIG_UNBLOCK, &block, NULL);
        if (started < nworkers) {
            fprintf(stderr, "%s: cannot start %d threads\n", prog, nworkers);
            status = EXIT_ERROR;
            want_stop = SIGTERM;
        }
        status = supervise(&lv, iface, rules_path, started, status);
    }

    if (!quiet || status != EXIT_CLEAN)
        print_stats(&lv, iface,
                    want_stop == SIGINT    ? "SIGINT, stopping"
                    : want_stop == SIGTERM ? "SIGTERM, stopping"
                                           : "stopping");
    /* eve.json ends with a stats record, as scan writes it (reloads keep the
     * engines), with the capture's counters */
    if (!write_stats_record(&lv)) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EXIT_ERROR;
    }
    if (lv.exceptions) {
        size_t nx = emb_exceptions_count(lv.exceptions);
        uint64_t *expired = calloc(nx + 1, sizeof(*expired));
        for (size_t i = 0; expired && i < nx; i++)
            for (int k = 0; k < nworkers; k++)
                expired[i] += emb_engine_exception_expired(lv.w[k].engine, i);
        if (expired)
            print_expired_exceptions(lv.exceptions, expired);
        free(expired);
    }
    if (eve_out_close(&lv.eve) != 0)
        status = EXIT_ERROR;
    if (lv.inv) {
        char err[512];
        uint64_t dropped = inv_writer_dropped(lv.inv);
        if (inv_writer_close(lv.inv, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: inventory: %s; the alerts not written are in %s\n", prog, err,
                    lv.eve.name);
            status = EXIT_ERROR;
        } else if (dropped > 0) {
            fprintf(stderr,
                    "%s: inventory: %" PRIu64 " records dropped for want of room; they are in %s "
                    "(embargo inventory add reads them)\n",
                    prog, dropped, lv.eve.name);
        } else if (!quiet) {
            fprintf(stderr, "%s: alerts kept in the inventory %s\n", prog, inventory_db);
        }
        lv.inv = NULL;
    }

    if (status == EXIT_CLEAN && lv.eve.written > 0)
        status = EXIT_ALERTS;
    if (pid_file)
        unlink(pid_file);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
out:
    nlive_pcaps = 0;
    for (int i = 0; i < nworkers; i++) {
        live_pcaps[i] = NULL;
        if (lv.w[i].pc)
            pcap_close(lv.w[i].pc);
        emb_engine_free(lv.w[i].engine);
    }
    emb_shared_free(lv.shared);
    emb_rules_free(lv.rules);
    emb_rules_free(lv.stale_rules);
    emb_exceptions_free(lv.exceptions);
    pthread_mutex_destroy(&lv.lock);
    pthread_cond_destroy(&lv.cv);
    return status;
}
