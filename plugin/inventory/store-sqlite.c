/*
 * The inventory in a SQLite file: the embedded default, one file per sensor
 * or per site. Write-ahead logging, so a reader (a report) never blocks the
 * writer and a crash never corrupts the file; a busy timeout, so two
 * ingestions into one file take turns.
 */
#include "inventory/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *add, *get_src, *put_src, *sensor_ins, *sensor_get, *bans;
    char err[512];
} sq_t;

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS sources (sensor INTEGER NOT NULL, path TEXT NOT NULL,"
    "  ident TEXT NOT NULL, head TEXT NOT NULL, tail TEXT NOT NULL, pos INTEGER NOT NULL,"
    "  PRIMARY KEY (sensor, path));"
    "CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, sensor INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL, day TEXT NOT NULL, host TEXT NOT NULL, server TEXT NOT NULL,"
    "  name TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL, channel TEXT NOT NULL,"
    "  field TEXT NOT NULL, value TEXT NOT NULL, sid INTEGER NOT NULL, flow_id INTEGER NOT NULL,"
    "  excepted INTEGER NOT NULL, UNIQUE (sensor, ts, flow_id, sid));"
    "CREATE TABLE IF NOT EXISTS coverage (sensor INTEGER NOT NULL, ts INTEGER NOT NULL,"
    "  uptime INTEGER NOT NULL, packets INTEGER NOT NULL, alerts INTEGER NOT NULL,"
    "  kernel_packets INTEGER NOT NULL, kernel_drops INTEGER NOT NULL,"
    "  PRIMARY KEY (sensor, ts, uptime));"
    /* each vendor's bans in words (report_fact_t.bans), the latest an alert gave */
    "CREATE TABLE IF NOT EXISTS vendors (name TEXT PRIMARY KEY, bans TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alerts_host ON alerts (host, vendor);"
    "CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);";

static const char *sq_error(void *h) {
    sq_t *s = h;
    return s->err[0] ? s->err : sqlite3_errmsg(s->db);
}

static int sq_fail(sq_t *s) {
    snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
    return -1;
}

static void sq_close(void *h) {
    sq_t *s = h;
    if (s == NULL)
        return;
    sqlite3_finalize(s->add);
    sqlite3_finalize(s->get_src);
    sqlite3_finalize(s->put_src);
    sqlite3_finalize(s->sensor_ins);
    sqlite3_finalize(s->sensor_get);
    sqlite3_finalize(s->bans);
    sqlite3_close(s->db);
    free(s);
}

/* The schema version the file says, 0 for a new file; -1 on error. */
static int schema_version(sq_t *s) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) ==
        SQLITE_OK) {
        int rc = sqlite3_step(st);
        v = rc == SQLITE_ROW    ? atoi((const char *)sqlite3_column_text(st, 0))
            : rc == SQLITE_DONE ? 0
                                : -1;
    }
    sqlite3_finalize(st);
    return v;
}

void *inv__sqlite_open(const char *path, char *err, size_t errlen) {
    sq_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s", s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sq_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 30000);
    char *msg = NULL;
    /* WAL: a crash loses at most the transaction in flight, never the file. */
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        sq_close(s);
        return NULL;
    }
    int v = schema_version(s);
    if (v > INV_SCHEMA_VERSION || v < 0) {
        snprintf(err, errlen, "%s: schema version %d: this embargo knows up to %d", path, v,
                 INV_SCHEMA_VERSION);
        sq_close(s);
        return NULL;
    }
    /* Migrations from older versions go here, one step at a time. */
    if (sqlite3_exec(s->db,
                     "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', '1'); COMMIT",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot write the schema version");
        sqlite3_free(msg);
        sq_close(s);
        return NULL;
    }
    const char *q[] = {
        ("INSERT INTO alerts (sensor, ts, day, host, server, name, vendor, product, channel,"
         " field, value, sid, flow_id, excepted) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
         " ON CONFLICT DO NOTHING"),
        "SELECT ident, head, tail, pos FROM sources WHERE sensor = ? AND path = ?",
        ("INSERT OR REPLACE INTO sources (sensor, path, ident, head, tail, pos)"
         " VALUES (?,?,?,?,?,?)"),
        "INSERT OR IGNORE INTO sensors (name) VALUES (?)",
        "SELECT id FROM sensors WHERE name = ?",
        ("INSERT INTO vendors (name, bans) VALUES (?,?)"
         " ON CONFLICT (name) DO UPDATE SET bans = excluded.bans"),
    };
    sqlite3_stmt **dst[] = {&s->add,        &s->get_src,    &s->put_src,
                            &s->sensor_ins, &s->sensor_get, &s->bans};
    for (int i = 0; i < 6; i++)
        if (sqlite3_prepare_v2(s->db, q[i], -1, dst[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
            sq_close(s);
            return NULL;
        }
    return s;
}

static int sq_exec(void *h, const char *sql) {
    sq_t *s = h;
    /* BEGIN IMMEDIATE: the write lock at once, so two writers wait, not fail. */
    const char *q = strcmp(sql, "BEGIN") == 0 ? "BEGIN IMMEDIATE" : sql;
    return sqlite3_exec(s->db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 : sq_fail(s);
}

static int sq_sensor(void *h, const char *name, int64_t *id) {
    sq_t *s = h;
    sqlite3_reset(s->sensor_ins);
    sqlite3_bind_text(s->sensor_ins, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s->sensor_ins) != SQLITE_DONE)
        return sq_fail(s);
    sqlite3_reset(s->sensor_get);
    sqlite3_bind_text(s->sensor_get, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s->sensor_get) != SQLITE_ROW)
        return sq_fail(s);
    *id = sqlite3_column_int64(s->sensor_get, 0);
    sqlite3_reset(s->sensor_get);
    return 0;
}

static int sq_get_source(void *h, int64_t sensor, const char *path, inv_source_t *out,
                         bool *found) {
    sq_t *s = h;
    sqlite3_reset(s->get_src);
    sqlite3_bind_int64(s->get_src, 1, sensor);
    sqlite3_bind_text(s->get_src, 2, path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->get_src);
    *found = rc == SQLITE_ROW;
    if (*found) {
        snprintf(out->ident, sizeof(out->ident), "%s",
                 (const char *)sqlite3_column_text(s->get_src, 0));
        snprintf(out->head, sizeof(out->head), "%s",
                 (const char *)sqlite3_column_text(s->get_src, 1));
        snprintf(out->tail, sizeof(out->tail), "%s",
                 (const char *)sqlite3_column_text(s->get_src, 2));
        out->pos = sqlite3_column_int64(s->get_src, 3);
    }
    sqlite3_reset(s->get_src);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s);
}

static int sq_put_source(void *h, int64_t sensor, const char *path, const inv_source_t *src) {
    sq_t *s = h;
    sqlite3_reset(s->put_src);
    sqlite3_bind_int64(s->put_src, 1, sensor);
    sqlite3_bind_text(s->put_src, 2, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s->put_src, 3, src->ident, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s->put_src, 4, src->head, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s->put_src, 5, src->tail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s->put_src, 6, src->pos);
    return sqlite3_step(s->put_src) == SQLITE_DONE ? 0 : sq_fail(s);
}

static const char *or_empty(const char *s) {
    return s ? s : "";
}

static int sq_add(void *h, int64_t sensor, const report_fact_t *f, bool *added) {
    sq_t *s = h;
    char day[16];
    inv__day(f->ts, day);
    sqlite3_stmt *st = s->add;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, sensor);
    sqlite3_bind_int64(st, 2, f->ts);
    sqlite3_bind_text(st, 3, day, -1, SQLITE_TRANSIENT);
    const char *text[] = {f->client,  f->server,  f->name,  f->vendor,
                          f->product, f->channel, f->field, f->value};
    for (int i = 0; i < 8; i++)
        sqlite3_bind_text(st, 4 + i, or_empty(text[i]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 12, (int64_t)f->sid);
    sqlite3_bind_int64(st, 13, (int64_t)f->flow_id);
    sqlite3_bind_int(st, 14, f->excepted);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sq_fail(s);
    *added = sqlite3_changes(s->db) > 0;
    if (f->bans == NULL)
        return 0;
    sqlite3_reset(s->bans);
    sqlite3_bind_text(s->bans, 1, or_empty(f->vendor), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s->bans, 2, f->bans, -1, SQLITE_TRANSIENT);
    return sqlite3_step(s->bans) == SQLITE_DONE ? 0 : sq_fail(s);
}

static int sq_each(void *h, const char *sensor, int64_t since,
                   int (*cb)(const report_fact_t *, const char *, void *), void *ud) {
    sq_t *s = h;
    sqlite3_stmt *st = NULL;
    const char *q =
        "SELECT a.ts, a.host, a.server, a.name, a.vendor, a.product, a.channel, a.field,"
        " a.value, a.sid, a.flow_id, a.excepted, s.name, v.bans FROM alerts a JOIN sensors s"
        " ON s.id = a.sensor LEFT JOIN vendors v ON v.name = a.vendor"
        " WHERE (?1 IS NULL OR s.name = ?1) AND a.ts >= ?2"
        " ORDER BY a.ts, s.name, a.flow_id, a.sid";
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s);
    if (sensor)
        sqlite3_bind_text(st, 1, sensor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, since);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        report_fact_t f = {
            .ts = sqlite3_column_int64(st, 0),
            .client = (const char *)sqlite3_column_text(st, 1),
            .server = (const char *)sqlite3_column_text(st, 2),
            .name = (const char *)sqlite3_column_text(st, 3),
            .vendor = (const char *)sqlite3_column_text(st, 4),
            .product = (const char *)sqlite3_column_text(st, 5),
            .channel = (const char *)sqlite3_column_text(st, 6),
            .field = (const char *)sqlite3_column_text(st, 7),
            .value = (const char *)sqlite3_column_text(st, 8),
            .sid = (uint64_t)sqlite3_column_int64(st, 9),
            .flow_id = (uint64_t)sqlite3_column_int64(st, 10),
            .excepted = sqlite3_column_int(st, 11) != 0,
            .bans = (const char *)sqlite3_column_text(st, 13),
        };
        if (cb(&f, (const char *)sqlite3_column_text(st, 12), ud) != 0) {
            snprintf(s->err, sizeof(s->err), "out of memory");
            sqlite3_finalize(st);
            return -1;
        }
    }
    if (rc != SQLITE_DONE) {
        sq_fail(s);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int sq_prune(void *h, int64_t before, uint64_t *removed) {
    sq_t *s = h;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM alerts WHERE ts < ?", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s);
    sqlite3_bind_int64(st, 1, before);
    int rc = sqlite3_step(st);
    *removed = (uint64_t)sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s);
    /* the stats records of that time go too */
    if (sqlite3_prepare_v2(s->db, "DELETE FROM coverage WHERE ts < ?", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s);
    sqlite3_bind_int64(st, 1, before);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s);
}

static int sq_add_coverage(void *h, int64_t sensor, const inv_coverage_t *c) {
    sq_t *s = h;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO coverage (sensor, ts, uptime, packets, alerts,"
                           " kernel_packets, kernel_drops) VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s);
    int64_t v[] = {sensor,         c->ts, c->uptime, c->packets, c->alerts, c->kernel_packets,
                   c->kernel_drops};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s);
}

static int sq_each_coverage(void *h, const char *sensor,
                            int (*cb)(const inv_coverage_t *, const char *, void *), void *ud) {
    sq_t *s = h;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.ts, c.uptime, c.packets, c.alerts, c.kernel_packets,"
                           " c.kernel_drops, s.name FROM coverage c JOIN sensors s ON"
                           " s.id = c.sensor WHERE (?1 IS NULL OR s.name = ?1)"
                           " ORDER BY s.name, c.ts",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s);
    if (sensor)
        sqlite3_bind_text(st, 1, sensor, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        inv_coverage_t c = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                            sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                            sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5)};
        if (cb(&c, (const char *)sqlite3_column_text(st, 6), ud) != 0) {
            snprintf(s->err, sizeof(s->err), "out of memory");
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_fail(s);
}

const inv_ops_t inv__sqlite_ops = {
    .exec = sq_exec,
    .sensor = sq_sensor,
    .get_source = sq_get_source,
    .put_source = sq_put_source,
    .add = sq_add,
    .each = sq_each,
    .prune = sq_prune,
    .add_coverage = sq_add_coverage,
    .each_coverage = sq_each_coverage,
    .error = sq_error,
    .close = sq_close,
};
