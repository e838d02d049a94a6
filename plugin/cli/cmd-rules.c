/*
 * `embargo rules check [RULES]`: validate a pack, compile it, and summarise
 * it (vendors, rules per channel, indicators per field).
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

int cmd_rules(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return cmd_rules_check(argc - 2, argv + 2);
    fprintf(stderr, "%s: rules: unknown action (want: rules check [RULES])\n", prog);
    return EXIT_ERROR;
}
