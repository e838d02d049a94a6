/*
 * `embargo live -i IFACE`: a thin host over the engine for a live interface.
 * libpcap captures (immediate mode, a large kernel buffer, an optional BPF
 * filter), every packet goes to the same engine as `scan`, alerts go to the
 * EVE file line by line, each flushed.
 *
 * Signals only set flags and call pcap_breakloop(); the capture loop acts on
 * them between batches, so nothing unsafe runs in a handler:
 *   SIGINT, SIGTERM  stop: statistics, close the EVE file, exit as scan does
 *   SIGUSR1          statistics on standard error, keep capturing
 *   SIGHUP           reload the rules: the new pack is loaded and compiled
 *                    first; if that fails the old one keeps running. The
 *                    engine swaps the pack in place (emb_engine_reload):
 *                    flows, reassembly and what each flow already raised
 *                    (by sid) are kept.
 * Like scan, the EVE file ends with a `stats` record (summed over reloads).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/pcap.h>

#define LIVE_SNAPLEN 65535
#define LIVE_BUFFER_MIB 64
#define LIVE_TIMEOUT_MS 100

static pcap_t *live_pcap;
static volatile sig_atomic_t want_stop, want_stats, want_reload;

static void on_signal(int sig) {
    switch (sig) {
    case SIGINT:
    case SIGTERM: want_stop = sig; break;
    case SIGUSR1: want_stats = 1; break;
    case SIGHUP: want_reload = 1; break;
    default: break;
    }
    if (live_pcap != NULL)
        pcap_breakloop(live_pcap);
}

typedef struct {
    emb_engine_t *engine;
    emb_rules_t *rules;
    int link;
    uint64_t pcap_cnt;
    time_t started;
    uint64_t reloads;
    eve_out_t eve;
    int error;                    /* an engine error that stops the capture */
    emb_exceptions_t *exceptions; /* --exceptions; NULL: none */
} live_t;

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data) {
    live_t *lv = (live_t *)user;
    emb_packet_t pkt = {
        .ts_sec = hdr->ts.tv_sec,
        .ts_usec = (uint32_t)hdr->ts.tv_usec,
        .linktype = lv->link,
        .data = data,
        .caplen = hdr->caplen,
        .len = hdr->len,
        .pcap_cnt = ++lv->pcap_cnt,
    };
    int rc = emb_engine_process(lv->engine, &pkt, eve_out_alert, &lv->eve);
    if (rc != 0 && lv->error == 0) {
        lv->error = rc;
        pcap_breakloop(live_pcap);
    }
}

static void print_stats(const live_t *lv, const char *iface, const char *when) {
    struct pcap_stat ps;
    emb_stats_t s;
    emb_engine_stats(lv->engine, &s);
    if (pcap_stats(live_pcap, &ps) == 0)
        fprintf(stderr,
                "%s: %s: %s: %u packets received, %u dropped by the kernel, %u dropped by the "
                "interface\n",
                prog, iface, when, ps.ps_recv, ps.ps_drop, ps.ps_ifdrop);
    else
        fprintf(stderr, "%s: %s: %s: no capture statistics: %s\n", prog, iface, when,
                pcap_geterr(live_pcap));
    fprintf(stderr,
            "%s: %s: %s: %" PRIu64 " packets inspected, %" PRIu64 " flows, %" PRIu64
            " alerts written to %s, %" PRIu64 " rule reload%s\n",
            prog, iface, when, lv->pcap_cnt, s.flows, lv->eve.written, lv->eve.name, lv->reloads,
            lv->reloads == 1 ? "" : "s");
    if (lv->exceptions)
        fprintf(stderr, "%s: %s: %s: %" PRIu64 " alerts excepted\n", prog, iface, when,
                s.alerts_excepted);
    eve_out_print_tally(&lv->eve, stderr);
}

/* Loads and compiles the pack again; on any error the running engine stays. */
static void reload(live_t *lv, const char *rules_path) {
    fprintf(stderr, "%s: SIGHUP: reloading rules from %s\n", prog, rules_path);
    emb_rules_t *rules = load_rules(rules_path);
    emb_diags_t *diags = NULL;
    int rc = rules ? emb_engine_reload(lv->engine, rules, &diags) : EMB_ERULES;
    if (rc != 0) {
        for (size_t i = 0; i < emb_diags_count(diags); i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        emb_diags_free(diags);
        emb_rules_free(rules);
        fprintf(stderr, "%s: reload failed: still running with the rules loaded before\n", prog);
        return;
    }
    emb_rules_free(lv->rules);
    lv->rules = rules;
    lv->reloads++;
    emb_stats_t s;
    emb_engine_stats(lv->engine, &s);
    emb_rules_summary_t sum;
    emb_rules_summary(rules, &sum);
    fprintf(stderr,
            "%s: rules reloaded from %s: %zu rules of %zu vendors; %" PRIu64 " flows kept\n", prog,
            rules_path, sum.rules, sum.vendors, s.flows - s.flows_evicted);
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
    pcap_set_immediate_mode(pc, 1);
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

int cmd_live(int argc, char **argv) {
    static const struct option opts[] = {{"interface", required_argument, NULL, 'i'},
                                         {"rules", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"filter", required_argument, NULL, 'f'},
                                         {"append", no_argument, NULL, 'a'},
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"max-flows", required_argument, NULL, 'F'},
                                         {"stream-depth", required_argument, NULL, 'D'},
                                         {"stream-memcap", required_argument, NULL, 'M'},
                                         {"exceptions", required_argument, NULL, OPT_EXCEPTIONS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    emb_config_t cfg;
    emb_config_init(&cfg);
    const char *iface = NULL, *rules_path = NULL, *out_path = "eve.json", *bpf = NULL;
    const char *exceptions_path = NULL;
    out_mode_t out_mode = OUT_KEEP;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:r:o:f:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': iface = optarg; break;
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

    live_t lv = {0};
    int status = EXIT_ERROR;
    if (exceptions_path && (lv.exceptions = load_exceptions(exceptions_path)) == NULL)
        return EXIT_ERROR;
    lv.rules = load_rules(rules_path);
    if (lv.rules == NULL)
        goto out_rules;
    lv.engine = build_engine(lv.rules, &cfg, rules_path);
    if (lv.engine == NULL)
        goto out_rules;
    /* kept across rule reloads: the exceptions are the site's, not the pack's */
    if (emb_engine_set_exceptions(lv.engine, lv.exceptions) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out_engine;
    }
    live_pcap = open_live(iface, bpf);
    if (live_pcap == NULL)
        goto out_engine;
    int dlt = pcap_datalink(live_pcap);
    lv.link = linktype_from_dlt(dlt);
    if (lv.link < 0) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "%s: %s: unsupported link type %d (%s)\n", prog, iface, dlt,
                name ? name : "unknown");
        goto out_pcap;
    }
    if (eve_out_open(&lv.eve, out_path, out_mode) != 0)
        goto out_pcap;

    /* No SA_RESTART: a signal wakes the poll inside libpcap, which then sees the break. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);

    if (!quiet)
        fprintf(stderr,
                "%s: listening on %s (%s%s%s), rules %s, alerts to %s; SIGUSR1 prints "
                "statistics, SIGHUP reloads the rules, SIGINT stops\n",
                prog, iface, pcap_datalink_val_to_name(dlt), bpf ? ", filter " : "", bpf ? bpf : "",
                rules_path, lv.eve.name);

    status = EXIT_CLEAN;
    lv.started = time(NULL);
    while (!want_stop) {
        int rc = pcap_dispatch(live_pcap, -1, on_packet, (u_char *)&lv);
        if (lv.error != 0) {
            if (lv.error == EMB_ECANCELED)
                break; /* the EVE write failed: eve_out_close says so */
            fprintf(stderr, "%s: %s: packet %" PRIu64 ": %s\n", prog, iface, lv.pcap_cnt,
                    emb_strerror(lv.error));
            status = EXIT_ERROR;
            break;
        }
        if (rc == PCAP_ERROR) {
            fprintf(stderr, "%s: %s: capture failed: %s\n", prog, iface, pcap_geterr(live_pcap));
            status = EXIT_ERROR;
            break;
        }
        if (want_stats) {
            want_stats = 0;
            print_stats(&lv, iface, "SIGUSR1");
        }
        if (want_reload) {
            want_reload = 0;
            reload(&lv, rules_path);
        }
    }
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);

    if (!quiet || status != EXIT_CLEAN)
        print_stats(&lv, iface,
                    want_stop == SIGINT    ? "SIGINT, stopping"
                    : want_stop == SIGTERM ? "SIGTERM, stopping"
                                           : "stopping");
    /* eve.json ends with a stats record, as scan writes it (reloads keep the engine) */
    emb_stats_t total;
    emb_engine_stats(lv.engine, &total);
    time_t now = time(NULL);
    char *stats = emb_stats_json(&total, (int64_t)now, 0, (uint64_t)(now - lv.started));
    if (stats == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EXIT_ERROR;
    } else if (!lv.eve.write_failed &&
               (fputs(stats, lv.eve.out) == EOF || fputc('\n', lv.eve.out) == EOF)) {
        lv.eve.write_failed = true;
        lv.eve.write_errno = errno;
    }
    free(stats);
    if (lv.exceptions) {
        size_t nx = emb_exceptions_count(lv.exceptions);
        uint64_t *expired = calloc(nx + 1, sizeof(*expired));
        for (size_t i = 0; expired && i < nx; i++)
            expired[i] = emb_engine_exception_expired(lv.engine, i);
        if (expired)
            print_expired_exceptions(lv.exceptions, expired);
        free(expired);
    }
    if (eve_out_close(&lv.eve) != 0)
        status = EXIT_ERROR;
    if (status == EXIT_CLEAN && lv.eve.written > 0)
        status = EXIT_ALERTS;
out_pcap:
    pcap_close(live_pcap);
    live_pcap = NULL;
out_engine:
    emb_engine_free(lv.engine);
out_rules:
    emb_rules_free(lv.rules);
    emb_exceptions_free(lv.exceptions);
    return status;
}
