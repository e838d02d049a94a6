/*
 * What both stores share: opening by the form of the name, and reading an
 * eve.json into the store from where the last reading of it stopped.
 */
#define _GNU_SOURCE /* memmem */
#include "inventory/inventory.h"

#include <jansson.h>
#include <pthread.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static bool is_pg(const char *db) {
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0 ||
           strchr(db, '=') != NULL;
}

inv_t *inv_open(const char *db, char *err, size_t errlen) {
    inv_t *inv = calloc(1, sizeof(*inv));
    if (inv == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (is_pg(db)) {
        inv->ops = &inv__pg_ops;
        inv->kind = "postgresql";
        inv->h = inv__pg_open(db, err, errlen);
    } else {
        inv->ops = &inv__sqlite_ops;
        inv->kind = "sqlite";
        inv->h = inv__sqlite_open(db, err, errlen);
    }
    if (inv->h == NULL) {
        free(inv);
        return NULL;
    }
    return inv;
}

void inv_close(inv_t *inv) {
    if (inv == NULL)
        return;
    inv->ops->close(inv->h);
    free(inv);
}

const char *inv_error(const inv_t *inv) {
    return inv->ops->error(inv->h);
}

static void fnv_hex(const char *p, size_t n, char out[32]) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    snprintf(out, 32, "%016" PRIx64, h);
}

/* The hash of the (up to) 256 bytes before `pos`: what was read last. */
static void tail_of(FILE *f, int64_t pos, char out[32]) {
    char buf[256];
    size_t n = pos < (int64_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
    if (n == 0 || fseeko(f, (off_t)(pos - (int64_t)n), SEEK_SET) != 0 || fread(buf, 1, n, f) != n) {
        out[0] = '\0';
        return;
    }
    fnv_hex(buf, n, out);
}

/* FNV-1a of the file's first line: a rotated file starts with another one. */
static void head_of(FILE *f, char out[32]) {
    char buf[4096];
    fnv_hex(buf, fgets(buf, sizeof(buf), f) != NULL ? strlen(buf) : 0, out);
}

static int64_t int_at(json_t *o, const char *a, const char *b, int64_t none) {
    json_t *v = json_object_get(json_object_get(o, a), b);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : none;
}

/* A `stats` record's coverage; false when the line is not one. */
static bool parse_stats(const char *line, size_t len, inv_coverage_t *c) {
    static const char tag[] = "\"event_type\":\"stats\"";
    if (len < 30 || memmem(line, len, tag, sizeof(tag) - 1) == NULL)
        return false;
    json_error_t e;
    json_t *root = json_loadb(line, len, 0, &e);
    json_t *st = json_object_get(root, "stats");
    json_t *ts = json_object_get(root, "timestamp");
    bool ok = json_is_object(st) && json_is_string(ts) &&
              report_parse_time(json_string_value(ts), &c->ts);
    if (ok) {
        json_t *up = json_object_get(st, "uptime");
        c->uptime = json_is_integer(up) ? (int64_t)json_integer_value(up) : 0;
        c->packets = int_at(st, "decoder", "pkts", 0);
        c->alerts = int_at(st, "detect", "alert", 0);
        c->kernel_packets = int_at(st, "capture", "kernel_packets", -1);
        c->kernel_drops = int_at(st, "capture", "kernel_drops", -1);
    }
    json_decref(root);
    return ok;
}

/* Notes the bytes before src->pos, then puts the reading back where it was. */
static void remember_tail(FILE *f, inv_source_t *src) {
    off_t here = ftello(f);
    tail_of(f, src->pos, src->tail);
    fseeko(f, here, SEEK_SET);
}

static int fail(inv_t *inv, char *err, size_t errlen, const char *what) {
    snprintf(err, errlen, "%s: %s", what, inv_error(inv));
    (void)inv->ops->exec(inv->h, "ROLLBACK");
    return -1;
}

int inv_ingest_file(inv_t *inv, const char *sensor, const char *path, inv_ingest_t *out, char *err,
                    size_t errlen) {
    memset(out, 0, sizeof(*out));
    char key[4096];
    if (realpath(path, key) == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    FILE *f = fopen(path, "r");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    inv_source_t src, was;
    memset(&src, 0, sizeof(src));
    snprintf(src.ident, sizeof(src.ident), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    head_of(f, src.head);
    int64_t sid;
    bool found = false;
    if (inv->ops->sensor(inv->h, sensor, &sid) != 0 ||
        inv->ops->get_source(inv->h, sid, key, &was, &found) != 0) {
        snprintf(err, errlen, "%s", inv_error(inv));
        fclose(f);
        return -1;
    }
    /* The same file, not cut, not rewritten (the bytes before the position are
     * those read last): go on from where the last reading stopped. */
    char tail[32] = "";
    if (found && was.pos <= (int64_t)st.st_size)
        tail_of(f, was.pos, tail);
    if (found && strcmp(was.ident, src.ident) == 0 && strcmp(was.head, src.head) == 0 &&
        was.pos <= (int64_t)st.st_size && strcmp(was.tail, tail) == 0)
        src.pos = was.pos;
    else
        out->restarted = true;
    if (fseeko(f, (off_t)src.pos, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot seek: %s", strerror(errno));
        fclose(f);
        return -1;
    }
    int rc = 0;
    char *line = NULL;
    size_t cap = 0, in_batch = 0, lines_in_batch = 0;
    ssize_t n;
    if (inv->ops->exec(inv->h, "BEGIN") != 0) {
        rc = fail(inv, err, errlen, "begin");
        goto out;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* still being written: next time */
        out->lines++;
        report_fact_t fact;
        void *doc = NULL;
        int kind = report_parse_fact(line, (size_t)n - 1, &fact, &doc);
        inv_coverage_t cov;
        if (kind == REPORT_LINE_BAD)
            out->bad++;
        else if (kind == REPORT_LINE_SKIPPED && parse_stats(line, (size_t)n - 1, &cov)) {
            if (inv->ops->add_coverage(inv->h, sid, &cov) != 0) {
                report_fact_free(doc);
                rc = fail(inv, err, errlen, "adding a stats record");
                goto out;
            }
            out->coverage++;
        }
        if (kind == REPORT_LINE_ALERT) {
            bool added = false;
            out->alerts++;
            if (inv->ops->add(inv->h, sid, &fact, &added) != 0) {
                report_fact_free(doc);
                rc = fail(inv, err, errlen, "adding an alert");
                goto out;
            }
            out->added += added;
            in_batch++;
        }
        report_fact_free(doc);
        src.pos += n;
        /* The position goes in with the alerts before it: one commit, every
         * INV_BATCH alerts or INV_BATCH_LINES lines (a Suricata eve.json is
         * mostly other records). */
        if (in_batch >= INV_BATCH || ++lines_in_batch >= INV_BATCH_LINES) {
            lines_in_batch = 0;
            remember_tail(f, &src);
            if (inv->ops->put_source(inv->h, sid, key, &src) != 0 ||
                inv->ops->exec(inv->h, "COMMIT") != 0 || inv->ops->exec(inv->h, "BEGIN") != 0) {
                rc = fail(inv, err, errlen, "commit");
                goto out;
            }
            in_batch = 0;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        (void)inv->ops->exec(inv->h, "ROLLBACK");
        rc = -1;
        goto out;
    }
    remember_tail(f, &src);
    if (inv->ops->put_source(inv->h, sid, key, &src) != 0 || inv->ops->exec(inv->h, "COMMIT") != 0)
        rc = fail(inv, err, errlen, "commit");
out:
    free(line);
    fclose(f);
    return rc;
}

static int to_report(const report_fact_t *f, const char *sensor, void *ud) {
    /* a sensor heard only through its alerts is named too (it cannot vouch) */
    if (report_add_sensor(ud, sensor, INT64_MIN, 0, -1) != 0)
        return -1;
    return report_add_fact(ud, f) < 0 ? -1 : 0;
}

typedef struct {
    report_t *r;
    int64_t since;
} cov_ctx_t;

static int to_sensors(const inv_coverage_t *c, const char *sensor, void *ud) {
    cov_ctx_t *x = ud;
    if (c->ts < x->since)
        return 0;
    return report_add_sensor(x->r, sensor, c->ts, c->packets, c->kernel_drops);
}

int inv_report(inv_t *inv, const char *sensor, int64_t since, report_t *r) {
    cov_ctx_t x = {r, since};
    if (inv->ops->each_coverage(inv->h, sensor, to_sensors, &x) != 0)
        return -1;
    return inv->ops->each(inv->h, sensor, since, to_report, r);
}

int inv_prune(inv_t *inv, int64_t before, uint64_t *removed) {
    return inv->ops->prune(inv->h, before, removed);
}

/*
 * The writer never touches the database from the thread that adds: alerts
 * are copied into a bounded queue under a mutex, and inv_writer_flush (live's
 * main thread, once a second) takes the queue and writes it in one
 * transaction. A failed write puts the batch back, to be tried again at the
 * next flush; what does not fit the queue is dropped and counted (eve.json
 * still holds it).
 */
#define QUEUE_MAX 100000

struct inv_writer {
    inv_t *inv;
    int64_t sensor;
    pthread_mutex_t mu;
    char **q; /* EVE lines waiting */
    size_t n, cap;
    uint64_t added, dropped;
};

inv_writer_t *inv_writer_open(const char *db, const char *sensor, char *err, size_t errlen) {
    inv_writer_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((w->inv = inv_open(db, err, errlen)) == NULL) {
        free(w);
        return NULL;
    }
    if (w->inv->ops->sensor(w->inv->h, sensor, &w->sensor) != 0) {
        snprintf(err, errlen, "%s", inv_error(w->inv));
        inv_close(w->inv);
        free(w);
        return NULL;
    }
    /* A cron ingestion holding the file's lock is waited for briefly: the
     * batch is tried again a second later. */
    if (strcmp(w->inv->kind, "sqlite") == 0)
        (void)w->inv->ops->exec(w->inv->h, "PRAGMA busy_timeout = 1000");
    pthread_mutex_init(&w->mu, NULL);
    return w;
}

int inv_writer_add(inv_writer_t *w, const char *eve, size_t len, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    /* only what the inventory keeps: embargo alerts and stats records */
    if (memmem(eve, len, "\"event_type\":\"alert\"", 20) == NULL &&
        memmem(eve, len, "\"event_type\":\"stats\"", 20) == NULL)
        return 0;
    char *copy = malloc(len + 1);
    pthread_mutex_lock(&w->mu);
    bool ok = copy != NULL && w->n < QUEUE_MAX;
    if (ok && w->n == w->cap) {
        size_t ncap = w->cap ? 2 * w->cap : 256;
        char **nq = realloc(w->q, ncap * sizeof(char *));
        ok = nq != NULL;
        if (ok) {
            w->q = nq;
            w->cap = ncap;
        }
    }
    if (ok) {
        memcpy(copy, eve, len);
        copy[len] = '\0';
        w->q[w->n++] = copy;
        copy = NULL;
    } else {
        w->dropped++;
    }
    pthread_mutex_unlock(&w->mu);
    free(copy);
    return 0;
}

/* Writes `lines` in one transaction; false (rolled back) on a database error. */
static bool write_batch(inv_writer_t *w, char **lines, size_t n, uint64_t *added, char *err,
                        size_t errlen) {
    if (w->inv->ops->exec(w->inv->h, "BEGIN") != 0) {
        fail(w->inv, err, errlen, "begin");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        report_fact_t fact;
        void *doc = NULL;
        inv_coverage_t cov;
        size_t len = strlen(lines[i]);
        int kind = report_parse_fact(lines[i], len, &fact, &doc);
        bool ok = true, new_one = false;
        if (kind == REPORT_LINE_ALERT)
            ok = w->inv->ops->add(w->inv->h, w->sensor, &fact, &new_one) == 0;
        else if (kind == REPORT_LINE_SKIPPED && parse_stats(lines[i], len, &cov))
            ok = w->inv->ops->add_coverage(w->inv->h, w->sensor, &cov) == 0;
        report_fact_free(doc);
        if (!ok) {
            fail(w->inv, err, errlen, "adding a record");
            return false;
        }
        *added += new_one;
    }
    if (w->inv->ops->exec(w->inv->h, "COMMIT") != 0) {
        fail(w->inv, err, errlen, "commit");
        return false;
    }
    return true;
}

int inv_writer_flush(inv_writer_t *w, char *err, size_t errlen) {
    pthread_mutex_lock(&w->mu);
    char **lines = w->q;
    size_t n = w->n;
    w->q = NULL;
    w->n = w->cap = 0;
    pthread_mutex_unlock(&w->mu);
    if (n == 0) {
        free(lines);
        return 0;
    }
    uint64_t added = 0;
    bool ok = write_batch(w, lines, n, &added, err, errlen);
    if (ok) {
        w->added += added;
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
        free(lines);
        return 0;
    }
    /* Back in front of what came meanwhile, for the next flush. */
    pthread_mutex_lock(&w->mu);
    size_t keep = n + w->n <= QUEUE_MAX ? n : (w->n < QUEUE_MAX ? QUEUE_MAX - w->n : 0);
    char **merged = malloc((keep + w->n + 1) * sizeof(char *));
    if (merged == NULL)
        keep = 0;
    for (size_t i = keep; i < n; i++)
        free(lines[i]);
    w->dropped += n - keep;
    if (merged != NULL) {
        memcpy(merged, lines, keep * sizeof(char *));
        if (w->n)
            memcpy(merged + keep, w->q, w->n * sizeof(char *));
        free(w->q);
        w->q = merged;
        w->n += keep;
        w->cap = w->n + 1;
    }
    pthread_mutex_unlock(&w->mu);
    free(lines);
    return -1;
}

uint64_t inv_writer_dropped(inv_writer_t *w) {
    pthread_mutex_lock(&w->mu);
    uint64_t d = w->dropped;
    pthread_mutex_unlock(&w->mu);
    return d;
}

int inv_writer_close(inv_writer_t *w, char *err, size_t errlen) {
    if (w == NULL)
        return 0;
    int rc = inv_writer_flush(w, err, errlen);
    for (size_t i = 0; i < w->n; i++)
        free(w->q[i]);
    free(w->q);
    pthread_mutex_destroy(&w->mu);
    inv_close(w->inv);
    free(w);
    return rc;
}

int inv_coverage(inv_t *inv, const char *sensor,
                 int (*cb)(const inv_coverage_t *c, const char *sensor, void *ud), void *ud) {
    return inv->ops->each_coverage(inv->h, sensor, cb, ud);
}
