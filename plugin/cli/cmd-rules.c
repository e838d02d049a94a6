/*
 * `embargo rules check [--strict] [RULES]`: validate a pack, compile it, lint
 * it, and summarise it (vendors, rules per channel, indicators per field).
 * `embargo rules export --format suricata|zeek-intel [RULES]`: the pack in
 * another tool's language on standard output, what it cannot say on stderr.
 * `embargo rules export --format suricata-plugin [--action alert|drop] [RULES]`:
 * Suricata 8 rules for embargo.so's `embargo` keyword, one per pack rule.
 * manifest, verify, update, rollback and diff: cmd-pack.c.
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
    bool strict = false;
    if (argc > 0 && strcmp(argv[0], "--strict") == 0) {
        strict = true;
        argc--;
        argv++;
    }
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
    /* With a manifest (a published pack): its files and hashes must agree. */
    struct stat st;
    char *mpath = malloc(strlen(path) + 16);
    if (mpath)
        sprintf(mpath, "%s/pack.yaml", path);
    if (mpath && stat(mpath, &st) == 0) {
        emb_manifest_t *m = NULL;
        emb_diags_t *md = NULL;
        int mrc = emb_manifest_load(path, &m, &md);
        if (mrc == 0)
            mrc = emb_manifest_check_files(m, path, &md);
        print_diags(md);
        emb_diags_free(md);
        if (mrc != 0) {
            fprintf(stderr, "%s: %s: the manifest does not match the pack\n", prog, mpath);
            emb_manifest_free(m);
            free(mpath);
            emb_engine_free(engine);
            emb_rules_free(rules);
            return EXIT_ERROR;
        }
        emb_manifest_info_t mi;
        emb_manifest_info(m, &mi);
        printf("manifest: %s %s, released %s, expires %s, needs engine %s; %zu files match\n",
               mi.name, mi.version, mi.released, mi.expires, mi.min_engine, mi.nfiles);
        emb_manifest_free(m);
    }
    free(mpath);
    printf("rules: %zu (%zu alternatives)\n", s.rules, s.alternatives);
    printf("rules per channel:\n");
    for (int c = 0; c < EMB_CH__COUNT; c++)
        printf("  %-16s %zu\n", emb_channel_name((emb_channel_t)c), s.rules_per_channel[c]);
    printf("indicators per field:\n");
    for (int k = 0; k < EMB_K__COUNT; k++)
        if (s.indicators_per_key[k] > 0)
            printf("  %-16s %zu\n", emb_key_name((emb_key_t)k), s.indicators_per_key[k]);

    emb_diags_t *warnings = NULL;
    int rc = emb_rules_lint(rules, &warnings);
    size_t nwarn = print_diags(warnings);
    emb_diags_free(warnings);
    emb_engine_free(engine);
    emb_rules_free(rules);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot lint %s: %s\n", prog, path, emb_strerror(rc));
        return EXIT_ERROR;
    }
    if (nwarn == 0) {
        printf("ok\n");
        return EXIT_CLEAN;
    }
    printf("%s, %zu warning%s\n", strict ? "failed (--strict)" : "ok", nwarn,
           nwarn == 1 ? "" : "s");
    return strict ? EXIT_ERROR : EXIT_CLEAN;
}

static int write_stdout(const char *buf, size_t len, void *ud) {
    (void)ud;
    return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int cmd_rules_export(int argc, char **argv) {
    const char *format = NULL, *path = NULL, *action = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            format = argv[i] + 9;
        else if (strcmp(argv[i], "--action") == 0 && i + 1 < argc)
            action = argv[++i];
        else if (strncmp(argv[i], "--action=", 9) == 0)
            action = argv[i] + 9;
        else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
            ban_option(OPT_SCOPE, argv[++i]);
        else if (strcmp(argv[i], "--restricts") == 0 && i + 1 < argc)
            ban_option(OPT_RESTRICTS, argv[++i]);
        else if (strcmp(argv[i], "--proposed") == 0)
            ban_option(OPT_PROPOSED, NULL);
        else if (argv[i][0] == '-' || path != NULL) {
            usage(stderr);
            return EXIT_ERROR;
        } else
            path = argv[i];
    }
    emb_export_format_t fmt;
    if (format == NULL) {
        fprintf(stderr, "%s: rules export: --format suricata or --format zeek-intel is needed\n",
                prog);
        return EXIT_ERROR;
    } else if (strcmp(format, "suricata") == 0)
        fmt = EMB_EXPORT_SURICATA;
    else if (strcmp(format, "zeek-intel") == 0)
        fmt = EMB_EXPORT_ZEEK_INTEL;
    else if (strcmp(format, "suricata-plugin") == 0)
        fmt = EMB_EXPORT_SURICATA_PLUGIN;
    else {
        fprintf(stderr,
                "%s: rules export: unknown format '%s' (suricata, suricata-plugin or zeek-intel)\n",
                prog, format);
        return EXIT_ERROR;
    }
    /* --action alert|drop: the action of the suricata-plugin rules (drop for IPS) */
    if (action != NULL && fmt != EMB_EXPORT_SURICATA_PLUGIN) {
        fprintf(stderr, "%s: rules export: --action is for --format suricata-plugin\n", prog);
        return EXIT_ERROR;
    }
    if (action != NULL && strcmp(action, "drop") == 0)
        fmt = EMB_EXPORT_SURICATA_PLUGIN_DROP;
    else if (action != NULL && strcmp(action, "alert") != 0) {
        fprintf(stderr, "%s: rules export: unknown action '%s' (alert or drop)\n", prog, action);
        return EXIT_ERROR;
    }
    if (path == NULL)
        path = default_rules();
    emb_rules_t *rules = load_rules(path);
    if (rules == NULL)
        return EXIT_ERROR;
    emb_diags_t *notes = NULL;
    int rc = emb_rules_export(rules, fmt, write_stdout, NULL, &notes);
    print_diags(notes);
    emb_diags_free(notes);
    emb_rules_free(rules);
    if (rc == 0 && fflush(stdout) != 0)
        rc = EMB_EIO;
    if (rc != 0) {
        fprintf(stderr, "%s: rules export: %s\n", prog,
                rc == EMB_EIO ? strerror(errno) : emb_strerror(rc));
        return EXIT_ERROR;
    }
    return EXIT_CLEAN;
}

int cmd_rules(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return cmd_rules_check(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "export") == 0)
        return cmd_rules_export(argc - 2, argv + 2);
    int rc = argc >= 2 ? cmd_rules_pack(argv[1], argc - 1, argv + 1) : -1;
    if (rc >= 0)
        return rc;
    fprintf(stderr,
            "%s: rules: unknown action (want check, export, manifest, verify, update, rollback "
            "or diff; embargo rules --help)\n",
            prog);
    return EXIT_ERROR;
}
