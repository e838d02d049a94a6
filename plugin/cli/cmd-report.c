/*
 * `embargo report`: reads eve.json files (from embargo scan, embargo live, or
 * Suricata with the embargo plugin) and writes the compliance inventory
 * (report/) as text, JSON, CSV or one self-contained HTML page.
 *
 * With --from DB the alerts come from the inventory database (docs/inventory.md),
 * all of them or those of one sensor (--sensor) from a day on (--since).
 * Reading is tolerant: records of other types are skipped and lines that are
 * not JSON are counted and named (file:line) on standard error, because an
 * eve.json cut by a rotation or a full disk still holds a useful inventory.
 * Exit status follows scan: 0 nothing found, 1 the inventory lists alerts,
 * 2 an error (an unreadable input, a failed write).
 */
#include "cli.h"
#include "report/report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_SHOWN 10

/* Reads every line of `path` ("-": standard input) into the inventory. */
static int read_eve(report_t *r, const char *path, uint64_t *bad_shown) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: cannot read: %s\n", prog, path, strerror(errno));
        return -1;
    }
    const char *name = f == stdin ? "standard input" : path;
    if (report_add_source(r, name) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto fail;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        int rc = report_add_line(r, lineno, line, (size_t)n);
        if (rc < 0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            free(line);
            goto fail;
        }
        if (rc == REPORT_LINE_BAD && (*bad_shown)++ < BAD_SHOWN)
            fprintf(stderr, "%s: %s:%zu: not a JSON record, skipped\n", prog, name, lineno);
    }
    free(line);
    if (ferror(f)) {
        fprintf(stderr, "%s: %s: read failed after line %zu: %s\n", prog, name, lineno,
                strerror(errno));
        goto fail;
    }
    if (f != stdin)
        fclose(f);
    return 0;
fail:
    if (f != stdin)
        fclose(f);
    return -1;
}

int cmd_report(int argc, char **argv) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'F'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"from", required_argument, NULL, 'D'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"sensor", required_argument, NULL, 'N'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *sensor = NULL;
    int64_t since = INT64_MIN;
    report_format_t fmt = REPORT_TEXT;
    const char *out_path = "-";
    bool quiet = false;
    out_mode_t out_mode = OUT_KEEP;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:F:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
        case 'F':
            if (!report_format_parse(optarg, &fmt)) {
                fprintf(stderr, "%s: report: --format wants text, json, csv or html, not '%s'\n",
                        prog, optarg);
                return EXIT_ERROR;
            }
            break;
        case 'o': out_path = optarg; break;
        case 'D': db = optarg; break;
        case 'N': sensor = optarg; break;
        case 'S': {
            char day[40];
            snprintf(day, sizeof(day), "%sT00:00:00.000000+0000", optarg);
            if (strlen(optarg) != 10 || !report_parse_time(day, &since)) {
                fprintf(stderr, "%s: report: --since wants a day, YYYY-MM-DD, not '%s'\n", prog,
                        optarg);
                return EXIT_ERROR;
            }
            break;
        }
        case OPT_FORCE: out_mode = OUT_REPLACE; break;
        case 'q': quiet = true; break;
        case 'h': usage_report(stdout); return EXIT_CLEAN;
        default: usage_report(stderr); return EXIT_ERROR;
        }
    }
    if ((sensor || since != INT64_MIN) && db == NULL) {
        fprintf(stderr, "%s: report: --since and --sensor read a database (--from DB)\n", prog);
        return EXIT_ERROR;
    }
    if (optind >= argc && db == NULL) {
        fprintf(stderr, "%s: report: no EVE files given (or --from DB)\n", prog);
        usage_report(stderr);
        return EXIT_ERROR;
    }

    report_t *r = report_new();
    if (r == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_ERROR;
    }
    int status = EXIT_CLEAN;
    uint64_t bad_shown = 0;
    if (db && report_from_db(r, db, sensor, since) != 0)
        status = EXIT_ERROR;
    for (int i = optind; i < argc; i++)
        if (read_eve(r, argv[i], &bad_shown) != 0)
            status = EXIT_ERROR;

    report_totals_t t;
    report_totals(r, &t);
    if (t.bad > BAD_SHOWN)
        fprintf(stderr, "%s: %" PRIu64 " lines in all were not JSON records and were skipped\n",
                prog, t.bad);

    const char *out_name = strcmp(out_path, "-") == 0 ? "standard output" : out_path;
    FILE *out = open_output(out_path, out_mode, "--force replaces it");
    if (out == NULL) {
        report_free(r);
        return EXIT_ERROR;
    }
    int wrc = report_write(r, fmt, out);
    int werr = errno;
    if (out != stdout && fclose(out) != 0 && wrc == 0) {
        wrc = -1;
        werr = errno;
    }
    if (wrc != 0) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, out_name, strerror(werr));
        status = EXIT_ERROR;
    }
    if (!quiet && out != stdout && wrc == 0)
        fprintf(stderr,
                "%s: %" PRIu64 " alerts from %zu hosts and %zu vendors in %" PRIu64
                " records; report written to %s\n",
                prog, t.alerts, t.hosts, t.vendors, t.lines, out_name);
    if (status == EXIT_CLEAN && t.alerts > 0)
        status = EXIT_ALERTS;
    report_free(r);
    return status;
}
