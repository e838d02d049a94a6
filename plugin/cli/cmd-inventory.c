/*
 * `embargo inventory add --db DB [--sensor NAME] EVE...`: the alerts of eve.json
 * files (embargo's or Suricata's with the plugin) into the inventory database,
 * each file from where its last ingestion stopped, so cron can run it on a
 * growing, rotated eve.json. `embargo inventory prune --db DB --older-than
 * DAYSd`: forget alerts older than that. docs/inventory.md.
 *
 * Exit status: 0 done, 2 an error (a file that could not be read is named and
 * the others are still ingested).
 */
#include "cli.h"
#include "inventory/inventory.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The sensor's name when --sensor is not given: the host name. */
const char *default_sensor(void) {
    static char host[256];
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "sensor");
    return host;
}

/* Opens the inventory `db`, or says why not. */
static inv_t *open_db(const char *db) {
    char err[512];
    inv_t *inv = inv_open(db, err, sizeof(err));
    if (inv == NULL)
        fprintf(stderr, "%s: %s: %s\n", prog, db, err);
    return inv;
}

static int inventory_add(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"sensor", required_argument, NULL, 's'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *sensor = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 's': sensor = optarg; break;
        case 'q': quiet = true; break;
        default: usage_inventory(stderr); return EXIT_ERROR;
        }
    }
    if (db == NULL || optind >= argc) {
        fprintf(stderr, "%s: inventory add: want --db DB and EVE files\n", prog);
        return EXIT_ERROR;
    }
    if (sensor == NULL)
        sensor = default_sensor();
    char err[512];
    inv_t *inv = open_db(db);
    if (inv == NULL)
        return EXIT_ERROR;
    int status = EXIT_CLEAN;
    for (int i = optind; i < argc; i++) {
        inv_ingest_t st;
        if (inv_ingest_file(inv, sensor, argv[i], &st, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, argv[i], err);
            status = EXIT_ERROR;
            continue;
        }
        if (!quiet)
            fprintf(stderr,
                    "%s: %s: %" PRIu64 " lines read%s, %" PRIu64 " alerts, %" PRIu64
                    " new, %" PRIu64 " stats records, %" PRIu64 " not JSON; sensor %s, %s %s\n",
                    prog, argv[i], st.lines, st.restarted ? " from the start" : "", st.alerts,
                    st.added, st.coverage, st.bad, sensor, inv->kind, db);
    }
    inv_close(inv);
    return status;
}

static int inventory_prune(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"older-than", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *age = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'o': age = optarg; break;
        default: usage_inventory(stderr); return EXIT_ERROR;
        }
    }
    char *end = NULL;
    long days = age ? strtol(age, &end, 10) : -1;
    if (db == NULL || days < 1 || days > 36500 || end == NULL || (*end != 'd' && *end != '\0') ||
        (*end == 'd' && end[1] != '\0') || optind != argc) {
        fprintf(stderr,
                "%s: inventory prune: want --db DB --older-than DAYSd (1d to 36500d, e.g. 400d)\n",
                prog);
        return EXIT_ERROR;
    }
    inv_t *inv = open_db(db);
    if (inv == NULL)
        return EXIT_ERROR;
    int64_t before = ((int64_t)time(NULL) - (int64_t)days * 86400) * 1000000;
    uint64_t removed = 0;
    int status = EXIT_CLEAN;
    if (inv_prune(inv, before, &removed) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, db, inv_error(inv));
        status = EXIT_ERROR;
    } else {
        printf("%" PRIu64 " alerts older than %ld days removed\n", removed, days);
    }
    inv_close(inv);
    return status;
}

/* One sensor's coverage, day by day, as the records go by. */
typedef struct {
    char sensor[256], day[16];
    uint64_t records;
    int64_t first, last, packets, drops;
    bool capture;
    uint64_t days;
} cov_t;

static const char *hms(int64_t us, char buf[40]) {
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 40, "%H:%M:%S", &tm);
    return buf;
}

static void cov_print(const cov_t *c) {
    char a[40], b[40];
    if (c->records == 0)
        return;
    printf("%-16s %s  %4" PRIu64 " records  %s .. %s  %12" PRId64 " packets", c->sensor, c->day,
           c->records, hms(c->first, a), hms(c->last, b), c->packets);
    if (c->capture)
        printf("  %10" PRId64 " kernel drops", c->drops);
    putchar('\n');
}

static int cov_row(const inv_coverage_t *r, const char *sensor, void *ud) {
    cov_t *c = ud;
    char day[16];
    time_t t = (time_t)(r->ts / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    if (strcmp(c->sensor, sensor) != 0 || strcmp(c->day, day) != 0) {
        cov_print(c);
        if (strcmp(c->sensor, sensor) != 0)
            c->days = 0;
        snprintf(c->sensor, sizeof(c->sensor), "%s", sensor);
        snprintf(c->day, sizeof(c->day), "%s", day);
        c->records = 0;
        c->first = r->ts;
        c->packets = c->drops = 0;
        c->capture = false;
        c->days++;
    }
    c->records++;
    c->last = r->ts;
    /* counters are cumulative since the sensor started: the day's largest */
    if (r->packets > c->packets)
        c->packets = r->packets;
    if (r->kernel_drops >= 0) {
        c->capture = true;
        if (r->kernel_drops > c->drops)
            c->drops = r->kernel_drops;
    }
    return 0;
}

static int inventory_coverage(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"sensor", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *sensor = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 's': sensor = optarg; break;
        default: usage_inventory(stderr); return EXIT_ERROR;
        }
    }
    if (db == NULL || optind != argc) {
        fprintf(stderr, "%s: inventory coverage: want --db DB [--sensor NAME]\n", prog);
        return EXIT_ERROR;
    }
    inv_t *inv = open_db(db);
    if (inv == NULL)
        return EXIT_ERROR;
    printf("%-16s %-10s  what the sensor's stats records say it watched (a day without a\n"
           "%-16s %-10s  record is a day it cannot vouch for: not the same as nothing found)\n",
           "sensor", "day", "", "");
    cov_t cv;
    memset(&cv, 0, sizeof(cv));
    int rc = inv_coverage(inv, sensor, cov_row, &cv);
    cov_print(&cv);
    if (rc != 0)
        fprintf(stderr, "%s: %s: %s\n", prog, db, inv_error(inv));
    inv_close(inv);
    return rc == 0 ? EXIT_CLEAN : EXIT_ERROR;
}

int cmd_inventory(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "coverage") == 0)
        return inventory_coverage(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return inventory_add(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return inventory_prune(argc - 1, argv + 1);
    fprintf(
        stderr,
        "%s: inventory: unknown action (want add, coverage or prune; embargo inventory --help)\n",
        prog);
    return EXIT_ERROR;
}

int report_from_db(report_t *r, const char *db, const char *sensor, int64_t since) {
    inv_t *inv = open_db(db);
    if (inv == NULL)
        return -1;
    char name[600];
    snprintf(name, sizeof(name), "%s (%s inventory)", db, inv->kind);
    int rc = report_add_source(r, name) == 0 ? inv_report(inv, sensor, since, r) : -1;
    if (rc != 0)
        fprintf(stderr, "%s: %s: %s\n", prog, db, inv_error(inv));
    inv_close(inv);
    return rc;
}

int inventory_ingest(const char *db, const char *sensor, const char *path, bool quiet) {
    char err[512];
    if (sensor == NULL)
        sensor = default_sensor();
    inv_t *inv = open_db(db);
    if (inv == NULL)
        return -1;
    inv_ingest_t st;
    int rc = inv_ingest_file(inv, sensor, path, &st, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s: %s: inventory %s: %s\n", prog, path, db, err);
    else if (!quiet && st.added > 0)
        fprintf(stderr, "%s: %" PRIu64 " new alerts into the inventory %s (sensor %s)\n", prog,
                st.added, db, sensor);
    inv_close(inv);
    return rc;
}
