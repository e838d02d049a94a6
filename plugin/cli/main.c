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

void usage(FILE *f) {
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
               "      --no-cache     compile the rules even if a cached copy is there\n"
               "\n"
               "Exit status: 0 nothing found, 1 alerts written, 2 error.\n"
               "Environment: EMBARGO_RULES overrides the default rule pack location;\n"
               "EMBARGO_CACHE_DIR (default ~/.cache/embargo) holds compiled rule databases.\n");
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
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_ERROR;
}
