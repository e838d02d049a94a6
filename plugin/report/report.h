/*
 * The compliance inventory behind `embargo report`: EVE lines in (from
 * embargo scan, embargo live, or Suricata with the embargo plugin), an
 * inventory per internal host out, written as text, JSON, CSV or one
 * self-contained HTML page.
 *
 * Only `event_type: alert` records that carry `alert.metadata.vendor` or
 * `alert.context.embargo` count; every other record is skipped, and a line
 * that is not a JSON object is counted as bad with its place (file:line).
 * The internal host is the client side of the flow: `flow.src_ip` when the
 * record has it, else the destination of a `to_client` alert, else the source;
 * for an alert on what a device said of itself, the device
 * (`alert.context.embargo.device.host`: the message's sender).
 * Every string taken from the EVE is attacker-controlled (a DNS name is
 * whatever the client asked for): each writer escapes for its own format.
 */
#ifndef EMB_REPORT_H
#define EMB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct report report_t;

typedef enum { REPORT_TEXT, REPORT_JSON, REPORT_CSV, REPORT_HTML } report_format_t;

/* What one line was. */
typedef enum {
    REPORT_LINE_ALERT,   /* an embargo alert, counted */
    REPORT_LINE_SKIPPED, /* another record type, or an alert of another engine */
    REPORT_LINE_BAD      /* not a JSON object */
} report_line_t;

typedef struct {
    uint64_t lines;      /* non-empty lines read */
    uint64_t alerts;     /* embargo alerts counted */
    uint64_t skipped;    /* other records */
    uint64_t bad;        /* lines that are not JSON objects */
    size_t hosts;        /* internal hosts with at least one alert */
    size_t vendors;      /* vendors seen */
    int64_t first, last; /* microseconds since the epoch, UTC; 0 when no alert had a time */
    size_t bad_places;   /* places of bad lines kept (the first REPORT_MAX_BAD_PLACES) */
} report_totals_t;

#define REPORT_MAX_BAD_PLACES 20
#define REPORT_TOP_DESTINATIONS 5

/* A new, empty inventory; NULL when out of memory. */
report_t *report_new(void);
void report_free(report_t *r);

/* Names an input (a file name) so that later lines are placed as "name:line". */
int report_add_source(report_t *r, const char *name);

/*
 * Adds one line (without its newline; need not be NUL-terminated) that is line
 * `lineno` of the last source added. Empty lines are ignored (REPORT_LINE_SKIPPED
 * without counting). Returns what the line was, or -1 when out of memory.
 */
int report_add_line(report_t *r, size_t lineno, const char *line, size_t len);

void report_totals(const report_t *r, report_totals_t *out);

/* What the inventory keeps of one embargo alert (strings owned by whoever made it). */
typedef struct {
    int64_t ts; /* microseconds since the epoch, UTC; INT64_MIN when the record has none */
    const char *client, *server, *name; /* the internal host, its peer, the peer's name */
    const char *vendor, *product, *channel;
    const char *field, *value; /* alert.context.embargo: what matched (may be NULL) */
    const char *bans;          /* the vendor's bans in words (report__ban_words), or NULL */
    uint64_t sid, flow_id;
    bool excepted;
} report_fact_t;
/*
 * The fact of one EVE line: REPORT_LINE_ALERT with *fact set (its strings live
 * in *doc until report_fact_free), REPORT_LINE_SKIPPED, or REPORT_LINE_BAD.
 * Counts nothing: report_add_line does the counting.
 */
int report_parse_fact(const char *line, size_t len, report_fact_t *fact, void **doc);
void report_fact_free(void *doc);
/*
 * A sensor that fed the inventory (reports from a database): its stats record
 * at `ts` with its cumulative counters (`drops` -1: none), or with `ts`
 * INT64_MIN only its name (a sensor with alerts but no stats record, which
 * cannot vouch for the times it was not heard from). The report then says,
 * before anything else, which sensors were watching when. 0 or -1 (memory).
 */
int report_add_sensor(report_t *r, const char *sensor, int64_t ts, int64_t packets, int64_t drops);

/* Adds one alert's fact (from report_parse_fact or from an inventory database);
 * REPORT_LINE_ALERT, or -1 when out of memory. */
int report_add_fact(report_t *r, const report_fact_t *fact);

/* The i-th kept bad-line place, "file:line", owned by r; NULL when out of range. */
const char *report_bad_place(const report_t *r, size_t i);

/* Parses "text", "json", "csv" or "html"; false for anything else. */
bool report_format_parse(const char *s, report_format_t *out);

/* Writes the inventory to `f`. Returns 0, or -1 when a write failed (errno set). */
int report_write(const report_t *r, report_format_t fmt, FILE *f);

/* An EVE timestamp ("2024-09-30T12:00:00.123456+0000") as microseconds since
 * the epoch, UTC; false when it is not one. */
bool report_parse_time(const char *s, int64_t *out);

#endif /* EMB_REPORT_H */
