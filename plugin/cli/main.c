/*
 * The `embargo` command: dispatch to the subcommands (cmd-*.c), whose help
 * texts are in usage.c.
 * Each subcommand is a thin host over the engine library.
 *
 * Exit status: 0 scanned and found nothing, 1 alerts written, 2 an error
 * (bad rules, unreadable input, a failed write), always with a one-line
 * message naming what and where.
 */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    char mpath[PATH_MAX];
    snprintf(mpath, sizeof(mpath), "%s/pack.yaml", path);
    if (access(mpath, F_OK) != 0)
        printf("The pack has no manifest: its version is derived, its rule count and the first\n"
               "12 hex digits of the SHA-256 of its files.\n");
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
        else if (strcmp(cmd, "inventory") == 0)
            usage_inventory(stdout);
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
    if (strcmp(cmd, "inventory") == 0)
        return cmd_inventory(argc - 1, argv + 1);
unknown:
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_ERROR;
}
