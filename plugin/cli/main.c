/*
 * The `embargo` command: usage and dispatch to the subcommands (cmd-*.c).
 * Each subcommand is a thin host over the engine library.
 *
 * Exit status: 0 scanned and found nothing, 1 alerts written, 2 an error
 * (bad rules, unreadable input, a failed write), always with a one-line
 * message naming what and where.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

const char *prog = "embargo";

static const char synopsis[] =
    "usage: embargo scan [-r RULES] [-o EVE] [--append] [-q] [--max-flows N] PCAP...\n"
    "       embargo live -i IFACE [-r RULES] [-o EVE] [-f BPF] [--append] [-q] [--max-flows N]\n"
    "       embargo report [--format text|json|csv|html] [-o OUT] [-q] EVE...\n"
    "       embargo rules check [--strict] [RULES]\n"
    "       embargo rules export --format suricata|suricata-plugin|zeek-intel\n"
    "                            [--action alert|drop] [RULES]\n"
    "       embargo --version | --help (-h) | COMMAND --help\n";

static const char engine_opts[] =
    "  -r, --rules RULES  rule file or directory of *.yaml (default: the shipped pack)\n"
    "  -o, --output EVE   where alerts go; '-' for standard output (default: eve.json)\n"
    "      --append       append to EVE instead of replacing it\n"
    "  -q, --quiet        no summary on standard error\n"
    "      --max-flows N  flows tracked at once (default 65536); the oldest is evicted\n"
    "      --stream-depth BYTES  bytes reassembled per TCP direction (default 16384)\n"
    "      --stream-memcap MIB   memory for all reassembly buffers (default 64)\n";

static const char footer[] =
    "\n"
    "Exit status: 0 nothing found, 1 alerts written (report: alerts listed), 2 error.\n"
    "Environment: EMBARGO_RULES overrides the default rule pack location;\n"
    "EMBARGO_CACHE_DIR (default ~/.cache/embargo) holds compiled rule databases.\n"
    "See embargo(1).\n";

static void scan_opts(FILE *f) {
    fprintf(f,
            "scan: read pcap/pcapng files, write one EVE alert line per rule and flow.\n"
            "%s"
            "  -j, --threads N    worker threads, each inspecting its share of the flows;\n"
            "                     the output is the same for every N\n"
            "      --no-cache     compile the rules even if a cached copy is there\n"
            "      --progress, --no-progress  progress line on a terminal (default: on a "
            "terminal)\n",
            engine_opts);
}

static void live_opts(FILE *f) {
    fprintf(f,
            "live: capture on an interface with libpcap and alert as scan does.\n"
            "  -i, --interface IFACE  the interface to capture on (required)\n"
            "  -f, --filter BPF   a capture filter in tcpdump syntax, e.g. 'not port 22'\n"
            "%s"
            "  Signals: SIGUSR1 prints capture and engine statistics; SIGHUP reloads the\n"
            "  rules (kept as they were if the new pack has errors); SIGINT or SIGTERM\n"
            "  stops, prints statistics and closes EVE.\n",
            engine_opts);
}

static void report_opts(FILE *f) {
    fprintf(f, "report: the compliance inventory from eve.json files ('-': standard input).\n"
               "  -f, --format FMT   text (default), json, csv or html (one self-contained page)\n"
               "  -o, --output OUT   where the report goes (default: standard output)\n"
               "  -q, --quiet        no summary on standard error\n"
               "  Reads embargo's alerts (alert.metadata.vendor or alert.context.embargo) from\n"
               "  embargo scan, embargo live or Suricata with the plugin; other records are\n"
               "  skipped, lines that are not JSON are counted and named as file:line.\n");
}

static void rules_opts(FILE *f) {
    fprintf(f, "rules check: validate and compile a pack (default: the shipped pack) and\n"
               "  print its vendors, rules per channel and indicators per field.\n");
}

void usage(FILE *f) {
    fputs(synopsis, f);
    fputs("\nFinds traffic of banned vendors' software and devices (Kaspersky, ...) in\n"
          "packet captures or on an interface, writes Suricata EVE JSON alerts, and builds\n"
          "a compliance inventory from them.\n\n",
          f);
    scan_opts(f);
    fputc('\n', f);
    live_opts(f);
    fputc('\n', f);
    report_opts(f);
    fputc('\n', f);
    rules_opts(f);
    fputs(footer, f);
}

void usage_scan(FILE *f) {
    fputs("usage: embargo scan [-r RULES] [-o EVE] [--append] [-q] [--max-flows N] PCAP...\n\n", f);
    scan_opts(f);
    fputs(footer, f);
}

void usage_live(FILE *f) {
    fputs("usage: embargo live -i IFACE [-r RULES] [-o EVE] [-f BPF] [--append] [-q]\n"
          "                    [--max-flows N]\n\n",
          f);
    live_opts(f);
    fputs(footer, f);
}

void usage_report(FILE *f) {
    fputs("usage: embargo report [--format text|json|csv|html] [-o OUT] [-q] EVE...\n\n", f);
    report_opts(f);
    fputs(footer, f);
}

void usage_rules(FILE *f) {
    fputs("usage: embargo rules check [RULES]\n\n", f);
    rules_opts(f);
    fputs(footer, f);
}

/* `--version`: the program, Hyperscan, and the default pack's derived version. */
static int version(void) {
    printf("embargo %s (Hyperscan %s)\n", EMB_VERSION_STRING, emb_hyperscan_version());
    const char *path = default_rules();
    char v[128];
    size_t nrules = 0, nfiles = 0;
    if (rules_pack_version(path, v, sizeof(v), &nrules, &nfiles) == 0)
        printf("rule pack %s (%zu rules in %zu file%s): %s\n", v, nrules, nfiles,
               nfiles == 1 ? "" : "s", path);
    else
        printf("rule pack: %s %s\n", path, v);
    printf("The pack version is derived: its rule count and the first 12 hex digits of the\n"
           "SHA-256 of its files.\n");
    return EXIT_CLEAN;
}

/* `COMMAND --help` for every command, whatever the command's own parser does. */
static bool wants_help(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        (strcmp(cmd, "help") == 0 && argc == 2)) {
        usage(stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return version();
    if (strcmp(cmd, "help") == 0 && argc > 2) {
        cmd = argv[2];
        argc = 3;
        argv[2] = "--help";
    }
    if (wants_help(argc, argv)) {
        if (strcmp(cmd, "scan") == 0)
            usage_scan(stdout);
        else if (strcmp(cmd, "live") == 0)
            usage_live(stdout);
        else if (strcmp(cmd, "report") == 0)
            usage_report(stdout);
        else if (strcmp(cmd, "rules") == 0)
            usage_rules(stdout);
        else
            goto unknown;
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "live") == 0)
        return cmd_live(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
unknown:
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_ERROR;
}
