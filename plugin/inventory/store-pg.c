/*
 * The inventory in PostgreSQL: the store many sensors share. The same tables
 * as SQLite's; the schema is created (or checked) under an advisory lock, so
 * two sensors starting at once do not race, and an alert already there is
 * left alone (ON CONFLICT DO NOTHING), so two sensors, or one sensor twice,
 * can ingest at the same time.
 */
#include "inventory/store.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_LOCK "6647138" /* the advisory lock key around the schema ("emb") */

typedef struct {
    PGconn *c;
    char err[512];
} pg_t;

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sensors (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS sources (sensor BIGINT NOT NULL, path TEXT NOT NULL,"
    "  ident TEXT NOT NULL, head TEXT NOT NULL, tail TEXT NOT NULL, pos BIGINT NOT NULL,"
    "  PRIMARY KEY (sensor, path));"
    "CREATE TABLE IF NOT EXISTS alerts (id BIGSERIAL PRIMARY KEY, sensor BIGINT NOT NULL,"
    "  ts BIGINT NOT NULL, day TEXT NOT NULL, host TEXT NOT NULL, server TEXT NOT NULL,"
    "  name TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL, channel TEXT NOT NULL,"
    "  field TEXT NOT NULL, value TEXT NOT NULL, sid BIGINT NOT NULL, flow_id BIGINT NOT NULL,"
    "  excepted SMALLINT NOT NULL, UNIQUE (sensor, ts, flow_id, sid));"
    "CREATE TABLE IF NOT EXISTS coverage (sensor BIGINT NOT NULL, ts BIGINT NOT NULL,"
    "  uptime BIGINT NOT NULL, packets BIGINT NOT NULL, alerts BIGINT NOT NULL,"
    "  kernel_packets BIGINT NOT NULL, kernel_drops BIGINT NOT NULL,"
    "  PRIMARY KEY (sensor, ts, uptime));"
    /* each vendor's bans in words (report_fact_t.bans), the latest an alert gave */
    "CREATE TABLE IF NOT EXISTS vendors (name TEXT PRIMARY KEY, bans TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alerts_host ON alerts (host, vendor);"
    "CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);";

static const char *pg_error(void *h) {
    pg_t *p = h;
    return p->err[0] ? p->err : PQerrorMessage(p->c);
}

/* Runs `sql` with text parameters; the result, or NULL with the error kept. */
static PGresult *run(pg_t *p, const char *sql, int n, const char *const *params) {
    PGresult *r = PQexecParams(p->c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    snprintf(p->err, sizeof(p->err), "%s", PQresultErrorMessage(r));
    char *nl = strchr(p->err, '\n');
    if (nl)
        *nl = '\0';
    PQclear(r);
    return NULL;
}

static int run0(pg_t *p, const char *sql, int n, const char *const *params) {
    PGresult *r = run(p, sql, n, params);
    PQclear(r);
    return r ? 0 : -1;
}

static void pg_close(void *h) {
    pg_t *p = h;
    if (p == NULL)
        return;
    PQfinish(p->c);
    free(p);
}

/* Several statements: PQexec, not PQexecParams. */
static int create_schema(pg_t *p) {
    PGresult *r = PQexec(p->c, SCHEMA);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(p->err, sizeof(p->err), "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

void *inv__pg_open(const char *conninfo, char *err, size_t errlen) {
    pg_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* A sensor must not hang on a dead network: a connect timeout, and TCP
     * keepalives that give up on a silent peer within about a minute. The
     * user's connection string comes last, so what it says wins. */
    const char *const keys[] = {"connect_timeout",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "dbname",
                                NULL};
    const char *const vals[] = {"10", "1", "30", "10", "3", conninfo, NULL};
    p->c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(p->c) != CONNECTION_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", PQerrorMessage(p->c));
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        pg_close(p);
        return NULL;
    }
    run0(p, "SET client_min_messages = warning", 0, NULL);
    PGresult *r = NULL;
    int version = 0;
    if (run0(p, "BEGIN", 0, NULL) != 0 ||
        run0(p, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")", 0, NULL) != 0 ||
        create_schema(p) != 0 ||
        (r = run(p, "SELECT value FROM meta WHERE key = 'schema'", 0, NULL)) == NULL)
        goto fail;
    version = PQntuples(r) > 0 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (version > INV_SCHEMA_VERSION) {
        snprintf(p->err, sizeof(p->err), "schema version %d: this embargo knows up to %d", version,
                 INV_SCHEMA_VERSION);
        goto fail;
    }
    /* Migrations from older versions go here, one step at a time. */
    if (run0(p,
             "INSERT INTO meta (key, value) VALUES ('schema', '1')"
             " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
             0, NULL) != 0 ||
        run0(p, "COMMIT", 0, NULL) != 0)
        goto fail;
    return p;
fail:
    snprintf(err, errlen, "PostgreSQL: %s", pg_error(p));
    pg_close(p);
    return NULL;
}

static int pg_exec(void *h, const char *sql) {
    return run0(h, sql, 0, NULL);
}

static int pg_sensor(void *h, const char *name, int64_t *id) {
    pg_t *p = h;
    const char *v[] = {name};
    if (run0(p, "INSERT INTO sensors (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", 1, v) != 0)
        return -1;
    PGresult *r = run(p, "SELECT id FROM sensors WHERE name = $1", 1, v);
    if (r == NULL)
        return -1;
    *id = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return 0;
}

static int pg_get_source(void *h, int64_t sensor, const char *path, inv_source_t *out,
                         bool *found) {
    char sid[24];
    snprintf(sid, sizeof(sid), "%" PRId64, sensor);
    const char *v[] = {sid, path};
    PGresult *r =
        run(h, "SELECT ident, head, tail, pos FROM sources WHERE sensor = $1 AND path = $2", 2, v);
    if (r == NULL)
        return -1;
    *found = PQntuples(r) > 0;
    if (*found) {
        snprintf(out->ident, sizeof(out->ident), "%s", PQgetvalue(r, 0, 0));
        snprintf(out->head, sizeof(out->head), "%s", PQgetvalue(r, 0, 1));
        snprintf(out->tail, sizeof(out->tail), "%s", PQgetvalue(r, 0, 2));
        out->pos = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    }
    PQclear(r);
    return 0;
}

static int pg_put_source(void *h, int64_t sensor, const char *path, const inv_source_t *src) {
    char sid[24], pos[24];
    snprintf(sid, sizeof(sid), "%" PRId64, sensor);
    snprintf(pos, sizeof(pos), "%" PRId64, src->pos);
    const char *v[] = {sid, path, src->ident, src->head, src->tail, pos};
    return run0(h,
                "INSERT INTO sources (sensor, path, ident, head, tail, pos)"
                " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (sensor, path) DO UPDATE SET"
                " ident = EXCLUDED.ident, head = EXCLUDED.head, tail = EXCLUDED.tail,"
                " pos = EXCLUDED.pos",
                6, v);
}

static int pg_add(void *h, int64_t sensor, const report_fact_t *f, bool *added) {
    char sid[24], ts[24], day[16], rule[24], flow[24], exc[4];
    snprintf(sid, sizeof(sid), "%" PRId64, sensor);
    snprintf(ts, sizeof(ts), "%" PRId64, f->ts);
    inv__day(f->ts, day);
    snprintf(rule, sizeof(rule), "%" PRId64, (int64_t)f->sid);
    snprintf(flow, sizeof(flow), "%" PRId64, (int64_t)f->flow_id);
    snprintf(exc, sizeof(exc), "%d", f->excepted ? 1 : 0);
#define S(x) ((x) ? (x) : "")
    const char *v[] = {sid,           ts,          day,          S(f->client),
                       S(f->server),  S(f->name),  S(f->vendor), S(f->product),
                       S(f->channel), S(f->field), S(f->value),  rule,
                       flow,          exc};
#undef S
    PGresult *r = run(h,
                      "INSERT INTO alerts (sensor, ts, day, host, server, name, vendor, product,"
                      " channel, field, value, sid, flow_id, excepted) VALUES ($1,$2,$3,$4,$5,"
                      "$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING",
                      14, v);
    if (r == NULL)
        return -1;
    *added = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (f->bans == NULL)
        return 0;
    const char *b[] = {f->vendor ? f->vendor : "", f->bans};
    return run0(h,
                "INSERT INTO vendors (name, bans) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET bans = excluded.bans",
                2, b);
}

static int pg_each(void *h, const char *sensor, int64_t since,
                   int (*cb)(const report_fact_t *, const char *, void *), void *ud) {
    pg_t *p = h;
    char s[24];
    snprintf(s, sizeof(s), "%" PRId64, since);
    const char *v[] = {sensor, s};
    PGresult *r =
        run(p,
            "SELECT a.ts, a.host, a.server, a.name, a.vendor, a.product, a.channel,"
            " a.field, a.value, a.sid, a.flow_id, a.excepted, s.name, v.bans FROM alerts a"
            " JOIN sensors s ON s.id = a.sensor LEFT JOIN vendors v ON v.name = a.vendor"
            " WHERE ($1::text IS NULL OR s.name = $1)"
            " AND a.ts >= $2::bigint ORDER BY a.ts, s.name, a.flow_id, a.sid",
            2, v);
    if (r == NULL)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        report_fact_t f = {
            .ts = strtoll(PQgetvalue(r, i, 0), NULL, 10),
            .client = PQgetvalue(r, i, 1),
            .server = PQgetvalue(r, i, 2),
            .name = PQgetvalue(r, i, 3),
            .vendor = PQgetvalue(r, i, 4),
            .product = PQgetvalue(r, i, 5),
            .channel = PQgetvalue(r, i, 6),
            .field = PQgetvalue(r, i, 7),
            .value = PQgetvalue(r, i, 8),
            .sid = (uint64_t)strtoll(PQgetvalue(r, i, 9), NULL, 10),
            .flow_id = (uint64_t)strtoll(PQgetvalue(r, i, 10), NULL, 10),
            .excepted = atoi(PQgetvalue(r, i, 11)) != 0,
            .bans = PQgetisnull(r, i, 13) ? NULL : PQgetvalue(r, i, 13),
        };
        if (cb(&f, PQgetvalue(r, i, 12), ud) != 0) {
            snprintf(p->err, sizeof(p->err), "out of memory");
            rc = -1;
        }
    }
    PQclear(r);
    return rc;
}

static int pg_prune(void *h, int64_t before, uint64_t *removed) {
    char b[24];
    snprintf(b, sizeof(b), "%" PRId64, before);
    const char *v[] = {b};
    PGresult *r = run(h, "DELETE FROM alerts WHERE ts < $1::bigint", 1, v);
    if (r == NULL)
        return -1;
    *removed = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return run0(h, "DELETE FROM coverage WHERE ts < $1::bigint", 1, v); /* its stats too */
}

static int pg_add_coverage(void *h, int64_t sensor, const inv_coverage_t *c) {
    char b[7][24];
    int64_t v[] = {sensor,         c->ts, c->uptime, c->packets, c->alerts, c->kernel_packets,
                   c->kernel_drops};
    const char *p[7];
    for (int i = 0; i < 7; i++) {
        snprintf(b[i], sizeof(b[i]), "%" PRId64, v[i]);
        p[i] = b[i];
    }
    return run0(h,
                "INSERT INTO coverage (sensor, ts, uptime, packets, alerts, kernel_packets,"
                " kernel_drops) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                7, p);
}

static int pg_each_coverage(void *h, const char *sensor,
                            int (*cb)(const inv_coverage_t *, const char *, void *), void *ud) {
    const char *v[] = {sensor};
    PGresult *r = run(h,
                      "SELECT c.ts, c.uptime, c.packets, c.alerts, c.kernel_packets,"
                      " c.kernel_drops, s.name FROM coverage c JOIN sensors s ON s.id = c.sensor"
                      " WHERE ($1::text IS NULL OR s.name = $1) ORDER BY s.name, c.ts",
                      1, v);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        inv_coverage_t c = {
            strtoll(PQgetvalue(r, i, 0), NULL, 10), strtoll(PQgetvalue(r, i, 1), NULL, 10),
            strtoll(PQgetvalue(r, i, 2), NULL, 10), strtoll(PQgetvalue(r, i, 3), NULL, 10),
            strtoll(PQgetvalue(r, i, 4), NULL, 10), strtoll(PQgetvalue(r, i, 5), NULL, 10)};
        if (cb(&c, PQgetvalue(r, i, 6), ud) != 0) {
            snprintf(((pg_t *)h)->err, sizeof(((pg_t *)h)->err), "out of memory");
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

const inv_ops_t inv__pg_ops = {
    .exec = pg_exec,
    .sensor = pg_sensor,
    .get_source = pg_get_source,
    .put_source = pg_put_source,
    .add = pg_add,
    .each = pg_each,
    .prune = pg_prune,
    .add_coverage = pg_add_coverage,
    .each_coverage = pg_each_coverage,
    .error = pg_error,
    .close = pg_close,
};
