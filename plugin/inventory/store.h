/*
 * What an inventory store is (inventory.h says what the inventory is): the
 * table of operations SQLite's and PostgreSQL's stores each fill in, and what
 * they share. The stores depend on this header only.
 */
#ifndef EMB_INVENTORY_STORE_H
#define EMB_INVENTORY_STORE_H

#include "report/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define INV_SCHEMA_VERSION 1
#define INV_BATCH 1000        /* alerts per transaction */
#define INV_BATCH_LINES 20000 /* or lines read, whichever comes first */

/* Where reading a file stopped: its identity, its first line's hash, the offset. */
typedef struct {
    char ident[64], head[32];
    char tail[32]; /* a hash of the bytes just before pos: a file rewritten in place
                      (same inode, same first line) does not have them there */
    int64_t pos;
} inv_source_t;

/* A sensor's stats record: that it was watching, and what it saw. */
typedef struct {
    int64_t ts;                           /* microseconds since the epoch */
    int64_t uptime;                       /* seconds */
    int64_t packets, alerts;              /* decoder.pkts, detect.alert */
    int64_t kernel_packets, kernel_drops; /* stats.capture; -1 when absent (a scan) */
} inv_coverage_t;

/* A store's operations; `h` is its handle. Each returns 0 or -1 (inv_error says why). */
typedef struct {
    int (*exec)(void *h, const char *sql); /* BEGIN, COMMIT, ROLLBACK */
    int (*sensor)(void *h, const char *name, int64_t *id);
    int (*get_source)(void *h, int64_t sensor, const char *path, inv_source_t *out, bool *found);
    int (*put_source)(void *h, int64_t sensor, const char *path, const inv_source_t *src);
    int (*add)(void *h, int64_t sensor, const report_fact_t *f, bool *added);
    /* every alert (of `sensor` when not NULL, from `since` on), in time order */
    int (*each)(void *h, const char *sensor, int64_t since,
                int (*cb)(const report_fact_t *f, const char *sensor, void *ud), void *ud);
    int (*prune)(void *h, int64_t before, uint64_t *removed);
    int (*add_coverage)(void *h, int64_t sensor, const inv_coverage_t *c);
    /* every stats record (of `sensor` when not NULL), by sensor and time */
    int (*each_coverage)(void *h, const char *sensor,
                         int (*cb)(const inv_coverage_t *c, const char *sensor, void *ud),
                         void *ud);
    const char *(*error)(void *h);
    void (*close)(void *h);
} inv_ops_t;

/* The two stores (store-sqlite.c, store-pg.c). */
void *inv__sqlite_open(const char *path, char *err, size_t errlen);
extern const inv_ops_t inv__sqlite_ops;
void *inv__pg_open(const char *conninfo, char *err, size_t errlen);
extern const inv_ops_t inv__pg_ops;

/* The day of `ts` (microseconds since the epoch, UTC) as YYYY-MM-DD; "-" for none. */
static inline void inv__day(int64_t ts, char out[16]) {
    if (ts == INT64_MIN) {
        snprintf(out, 16, "-");
        return;
    }
    time_t t = (time_t)(ts / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

#endif
