/*
 * The inventory's model (model.c), private to plugin/report: what the
 * aggregates are and how they are laid out, so the sorted views (views.c) and
 * the renderers (render-text.c, render-html.c) read them directly. Only
 * model.c changes them.
 *
 * Every aggregate (host; host+vendor+product+channel; host+destination;
 * vendor; vendor+channel) is a growable array, in the order its first alert
 * was seen; an index into another array (ritem_t.host, rvc_t.vendor) names a
 * related aggregate. Strings are copies cut to MAX_FIELD bytes with control
 * bytes replaced, so no writer has to guard against them.
 */
#ifndef EMB_REPORT_MODEL_H
#define EMB_REPORT_MODEL_H

#include "report/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NO_TIME INT64_MIN
#define MAX_FIELD 256 /* longest string kept from a record (a DNS name is <= 253) */

typedef struct {
    uint64_t alerts;
    int64_t first, last; /* NO_TIME until an alert with a time is seen */
} span_t;

/* A string -> index map (open addressing, FNV-1a); model.c owns its functions. */
typedef struct {
    char **keys;
    size_t *vals;
    size_t cap, n;
} strmap_t;

typedef struct {
    char *ip;
    span_t s;
} rhost_t;

typedef struct {
    size_t host, vendor;
    char *product, *channel;
    span_t s;
} ritem_t;

typedef struct {
    size_t host;
    char *ip, *name;
    span_t s;
} rdest_t;

typedef struct {
    char *name;
    span_t s;
    size_t hosts;
    char *bans; /* its bans in words, from its first alert that said them; NULL */
} rvendor_t;

/* A device found by what it said of itself (a device key matched): one per
 * host and vendor, with the first field and value that told. */
typedef struct {
    size_t host, vendor;
    char *field, *value;
    span_t s;
} rdevice_t;

typedef struct {
    size_t vendor;
    char *channel;
    span_t s;
    size_t hosts;
} rvc_t;

typedef struct {
    int64_t ts;
    size_t vendor;
} rtick_t;
/* A sensor's watch, from its stats records (reports from an inventory only). */
typedef struct {
    char *name;
    uint64_t records;
    int64_t first, last;    /* NO_TIME: no stats record */
    int64_t packets, drops; /* the largest counters seen; drops -1: no capture counters */
} rsensor_t;

#define ARRAY(type, name)                                                                          \
    type *name;                                                                                    \
    size_t n_##name, cap_##name

struct report {
    strmap_t map; /* every key kind, prefixed by a letter */
    ARRAY(rhost_t, hosts);
    ARRAY(ritem_t, items);
    ARRAY(rdest_t, dests);
    ARRAY(rdevice_t, devices);
    ARRAY(rvendor_t, vendors);
    ARRAY(rvc_t, vcs);
    ARRAY(rtick_t, ticks);
    ARRAY(char *, sources);
    ARRAY(rsensor_t, sensors);
    char *bad[REPORT_MAX_BAD_PLACES];
    size_t nbad;
    uint64_t lines, alerts, skipped, badlines;
};

/*
 * `us` as "2024-09-30T12:00:00.000000+0000" (full) or "2024-09-30 12:00:00"
 * (short) into buf, which it returns; NO_TIME is "" (full) or "-" (short).
 */
const char *report__fmt_time(int64_t us, bool full, char buf[40]);

/* True for the evidence fields of the device keys ("http.server" ... "mac"). */
bool report__device_field(const char *field);

#endif /* EMB_REPORT_MODEL_H */
