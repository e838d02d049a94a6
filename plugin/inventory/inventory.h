/*
 * The inventory that remembers (docs/inventory.md): every embargo alert seen
 * by every sensor, kept in a database, so that "which hosts, which vendor,
 * since when" is answered over months and across sensors, not only for the
 * eve.json files still on disk.
 *
 * One small interface over two stores: SQLite (a file, the embedded default)
 * and PostgreSQL (the store many sensors share). An alert is one row, keyed by
 * (sensor, time, flow_id, sid), so ingesting the same eve.json twice, in any
 * order, adds nothing the second time; each file's read position is saved in
 * the same transaction as the alerts before it, so a crash loses at most the
 * batch in flight and a resumed ingestion starts where the last commit left.
 * Only what alerts already carry is stored: no packet, no payload.
 */
#ifndef EMB_INVENTORY_H
#define EMB_INVENTORY_H

#include "inventory/store.h"
#include "report/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inv {
    const inv_ops_t *ops;
    void *h;
    const char *kind; /* "sqlite" or "postgresql" */
} inv_t;

/*
 * Opens (creating and migrating the schema) the inventory `db`: a PostgreSQL
 * connection string ("postgresql://...", "postgres://..." or "key=value ...")
 * or else a SQLite file. NULL with a message in `err` on failure.
 */
inv_t *inv_open(const char *db, char *err, size_t errlen);
void inv_close(inv_t *inv);
const char *inv_error(const inv_t *inv);

typedef struct {
    uint64_t lines, alerts, added, bad, coverage;
    bool restarted; /* the file was new, rotated or cut: read from its start */
} inv_ingest_t;

/*
 * Adds the alerts of eve.json `path` that `sensor` has not yet ingested: from
 * where the last ingestion of that path stopped, unless the file is another one
 * now (rotated: another inode or first line) or shorter (cut), then from its
 * start. A last line without its newline (being written) is left for next time.
 */
int inv_ingest_file(inv_t *inv, const char *sensor, const char *path, inv_ingest_t *out, char *err,
                    size_t errlen);

/*
 * A live sensor's alerts into the inventory as they are written: each EVE line
 * (alerts and stats records) is queued at once (a copy, never blocking on the
 * database; threads may add concurrently), and inv_writer_flush writes the
 * queue in one transaction (live: every second, from its main thread). A
 * failed write is tried again at the next flush; lines past a bound of
 * 100,000 waiting are dropped and counted (eve.json still holds them).
 */
typedef struct inv_writer inv_writer_t;
inv_writer_t *inv_writer_open(const char *db, const char *sensor, char *err, size_t errlen);
int inv_writer_add(inv_writer_t *w, const char *eve, size_t len, char *err, size_t errlen);
/* 0, or -1 with a message in `err` (the batch waits for the next flush). */
int inv_writer_flush(inv_writer_t *w, char *err, size_t errlen);
/* Lines dropped for want of room. */
uint64_t inv_writer_dropped(inv_writer_t *w);
int inv_writer_close(inv_writer_t *w, char *err, size_t errlen);

/* Feeds every stored alert (of `sensor`, from `since`) to the report. */
int inv_report(inv_t *inv, const char *sensor, int64_t since, report_t *r);

/* Every stats record kept (of `sensor` when not NULL), by sensor and time. */
int inv_coverage(inv_t *inv, const char *sensor,
                 int (*cb)(const inv_coverage_t *c, const char *sensor, void *ud), void *ud);

/* Removes the alerts older than `before` (microseconds since the epoch). */
int inv_prune(inv_t *inv, int64_t before, uint64_t *removed);

#endif
