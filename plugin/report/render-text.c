/*
 * The plain renderers (see render.h): text for a terminal, JSON for tools,
 * CSV for a spreadsheet, one row per host, vendor, product and channel.
 * Each escapes for its own format; the model already replaced control bytes.
 */
#include "report/render.h"

#include <inttypes.h>
#include <jansson.h>

/* ---- text ------------------------------------------------------------------- */

/* Strings kept are already free of control bytes (copy_field in model.c). */
void report__write_text(const report_t *r, const views_t *v, FILE *f) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40], b[40];
    fprintf(f, "embargo compliance report\n");
    fprintf(f, "  %" PRIu64 " alert%s from %zu internal host%s, %zu vendor%s", t.alerts,
            t.alerts == 1 ? "" : "s", t.hosts, t.hosts == 1 ? "" : "s", t.vendors,
            t.vendors == 1 ? "" : "s");
    if (t.alerts && r->n_ticks)
        fprintf(f, ", %s to %s UTC", report__fmt_time(t.first, false, a),
                report__fmt_time(t.last, false, b));
    fprintf(f,
            "\n  read %" PRIu64 " record%s from %zu file%s: %" PRIu64
            " other records skipped, %" PRIu64 " bad line%s\n",
            t.lines, t.lines == 1 ? "" : "s", r->n_sources, r->n_sources == 1 ? "" : "s", t.skipped,
            t.bad, t.bad == 1 ? "" : "s");
    /* From an inventory: who was watching, said before what was (not) found. */
    if (r->n_sensors)
        fprintf(f, "\nSensors (from their stats records)\n");
    for (size_t i = 0; i < r->n_sensors; i++) {
        const rsensor_t *se = &r->sensors[i];
        if (se->records == 0) {
            fprintf(f, "  %-16s no stats record: it cannot vouch for what it did not report\n",
                    se->name);
            continue;
        }
        fprintf(f, "  %-16s watching %s .. %s, %" PRIu64 " stats record%s, %" PRId64 " packets",
                se->name, report__fmt_time(se->first, false, a),
                report__fmt_time(se->last, false, b), se->records, se->records == 1 ? "" : "s",
                se->packets);
        if (se->drops >= 0)
            fprintf(f, ", %" PRId64 " dropped by the kernel", se->drops);
        fputc('\n', f);
    }
    if (r->n_vendors == 0) {
        fprintf(f, "\nNo traffic of a banned vendor was seen%s.\n",
                r->n_sensors ? " while the sensors above were watching" : "");
        return;
    }
    fprintf(f, "\nVendors\n");
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rvendor_t *ve = &r->vendors[v->vendors[i]];
        fprintf(f, "  %-16s %6" PRIu64 " alerts  %4zu host%s  %s .. %s\n", ve->name, ve->s.alerts,
                ve->hosts, ve->hosts == 1 ? " " : "s", report__fmt_time(ve->s.first, false, a),
                report__fmt_time(ve->s.last, false, b));
        FOR_VC_OF(r, v, v->vendors[i], k) {
            const rvc_t *c = &r->vcs[k];
            fprintf(f, "    %-14s %6" PRIu64 " alerts  %4zu host%s\n", c->channel, c->s.alerts,
                    c->hosts, c->hosts == 1 ? "" : "s");
        }
        if (ve->bans)
            fprintf(f, "    bans: %s\n", ve->bans);
    }
    if (r->n_devices)
        fprintf(f, "\nDevices (found by what they say of themselves)\n");
    for (size_t i = 0; i < r->n_devices; i++) {
        const rdevice_t *de = &r->devices[i];
        fprintf(f, "  %-39s %-12s %-18s %s  (%" PRIu64 " alert%s, %s .. %s)\n",
                r->hosts[de->host].ip, r->vendors[de->vendor].name, de->field, de->value,
                de->s.alerts, de->s.alerts == 1 ? "" : "s", report__fmt_time(de->s.first, false, a),
                report__fmt_time(de->s.last, false, b));
    }
    fprintf(f, "\nHosts\n");
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        const rhost_t *ho = &r->hosts[h];
        fprintf(f, "  %-39s %6" PRIu64 " alerts  %s .. %s\n", ho->ip, ho->s.alerts,
                report__fmt_time(ho->s.first, false, a), report__fmt_time(ho->s.last, false, b));
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            fprintf(f, "    %-12s %-12s %-30s %5" PRIu64 "  %s .. %s\n",
                    r->vendors[it->vendor].name, it->channel, *it->product ? it->product : "-",
                    it->s.alerts, report__fmt_time(it->s.first, false, a),
                    report__fmt_time(it->s.last, false, b));
        }
        fprintf(f, "    top destinations:");
        size_t shown = 0;
        for (size_t j = v->dests_at[h]; j < v->dests_at[h + 1] && shown < REPORT_TOP_DESTINATIONS;
             j++, shown++) {
            const rdest_t *d = &r->dests[v->dests[j]];
            fprintf(f, "%s %s%s%s%s (%" PRIu64 ")", shown ? "," : "", d->ip, *d->name ? " " : "",
                    d->name, "", d->s.alerts);
        }
        fprintf(f, "\n");
    }
    if (t.bad) {
        fprintf(f, "\nBad lines (not JSON), skipped:");
        for (size_t i = 0; i < r->nbad; i++)
            fprintf(f, " %s", r->bad[i]);
        if (t.bad > r->nbad)
            fprintf(f, " and %" PRIu64 " more", t.bad - r->nbad);
        fprintf(f, "\n");
    }
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *span_json(json_t *o, const span_t *s) {
    char a[40];
    json_object_set_new(o, "alerts", json_integer((json_int_t)s->alerts));
    json_object_set_new(o, "first_seen",
                        s->first == NO_TIME ? json_null()
                                            : json_string(report__fmt_time(s->first, true, a)));
    json_object_set_new(o, "last_seen",
                        s->last == NO_TIME ? json_null()
                                           : json_string(report__fmt_time(s->last, true, a)));
    return o;
}

static json_t *json_build(const report_t *r, const views_t *v) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40];
    json_t *root = json_object();
    json_t *input = json_object();
    json_t *files = json_array();
    for (size_t i = 0; i < r->n_sources; i++)
        json_array_append_new(files, json_string(r->sources[i]));
    json_object_set_new(input, "files", files);
    json_object_set_new(input, "records", json_integer((json_int_t)t.lines));
    json_object_set_new(input, "alerts", json_integer((json_int_t)t.alerts));
    json_object_set_new(input, "skipped", json_integer((json_int_t)t.skipped));
    json_object_set_new(input, "bad_lines", json_integer((json_int_t)t.bad));
    json_t *bad = json_array();
    for (size_t i = 0; i < r->nbad; i++)
        json_array_append_new(bad, json_string(r->bad[i]));
    json_object_set_new(input, "bad_line_places", bad);
    json_object_set_new(root, "input", input);
    json_object_set_new(root, "first_seen",
                        r->n_ticks ? json_string(report__fmt_time(t.first, true, a)) : json_null());
    json_object_set_new(root, "last_seen",
                        r->n_ticks ? json_string(report__fmt_time(t.last, true, a)) : json_null());
    json_object_set_new(root, "hosts_total", json_integer((json_int_t)t.hosts));
    if (r->n_sensors) { /* from an inventory: who was watching when */
        json_t *sensors = json_array();
        for (size_t i = 0; i < r->n_sensors; i++) {
            const rsensor_t *se = &r->sensors[i];
            json_t *o = json_object();
            json_object_set_new(o, "sensor", json_string(se->name));
            json_object_set_new(o, "stats_records", json_integer((json_int_t)se->records));
            json_object_set_new(o, "watching_from",
                                se->records ? json_string(report__fmt_time(se->first, true, a))
                                            : json_null());
            json_object_set_new(o, "watching_until",
                                se->records ? json_string(report__fmt_time(se->last, true, a))
                                            : json_null());
            json_object_set_new(o, "packets", json_integer((json_int_t)se->packets));
            json_object_set_new(o, "kernel_drops",
                                se->drops >= 0 ? json_integer((json_int_t)se->drops) : json_null());
            json_array_append_new(sensors, o);
        }
        json_object_set_new(root, "sensors", sensors);
    }

    json_t *vendors = json_array();
    for (size_t i = 0; i < r->n_vendors; i++) {
        size_t vi = v->vendors[i];
        const rvendor_t *ve = &r->vendors[vi];
        json_t *o = json_object();
        json_object_set_new(o, "vendor", json_string(ve->name));
        span_json(o, &ve->s);
        json_object_set_new(o, "hosts", json_integer((json_int_t)ve->hosts));
        json_t *chans = json_array();
        FOR_VC_OF(r, v, vi, k) {
            json_t *c = json_object();
            json_object_set_new(c, "channel", json_string(r->vcs[k].channel));
            span_json(c, &r->vcs[k].s);
            json_object_set_new(c, "hosts", json_integer((json_int_t)r->vcs[k].hosts));
            json_array_append_new(chans, c);
        }
        json_object_set_new(o, "channels", chans);
        json_object_set_new(o, "bans", ve->bans ? json_string(ve->bans) : json_null());
        json_array_append_new(vendors, o);
    }
    json_object_set_new(root, "vendors", vendors);

    json_t *devices = json_array();
    for (size_t i = 0; i < r->n_devices; i++) {
        const rdevice_t *de = &r->devices[i];
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(r->hosts[de->host].ip));
        json_object_set_new(o, "vendor", json_string(r->vendors[de->vendor].name));
        json_object_set_new(o, "field", json_string(de->field));
        json_object_set_new(o, "value", json_string(de->value));
        span_json(o, &de->s);
        json_array_append_new(devices, o);
    }
    json_object_set_new(root, "devices", devices);

    json_t *hosts = json_array();
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(r->hosts[h].ip));
        span_json(o, &r->hosts[h].s);
        json_t *seen = json_array();
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            json_t *s = json_object();
            json_object_set_new(s, "vendor", json_string(r->vendors[it->vendor].name));
            json_object_set_new(s, "product",
                                *it->product ? json_string(it->product) : json_null());
            json_object_set_new(s, "channel", json_string(it->channel));
            span_json(s, &it->s);
            json_array_append_new(seen, s);
        }
        json_object_set_new(o, "seen", seen);
        json_t *dests = json_array();
        size_t shown = 0;
        for (size_t j = v->dests_at[h]; j < v->dests_at[h + 1] && shown < REPORT_TOP_DESTINATIONS;
             j++, shown++) {
            const rdest_t *d = &r->dests[v->dests[j]];
            json_t *s = json_object();
            json_object_set_new(s, "ip", json_string(d->ip));
            json_object_set_new(s, "name", *d->name ? json_string(d->name) : json_null());
            json_object_set_new(s, "alerts", json_integer((json_int_t)d->s.alerts));
            json_array_append_new(dests, s);
        }
        json_object_set_new(o, "top_destinations", dests);
        json_array_append_new(hosts, o);
    }
    json_object_set_new(root, "hosts", hosts);
    return root;
}

int report__write_json(const report_t *r, const views_t *v, FILE *f) {
    json_t *root = json_build(r, v);
    int rc = 0;
    if (root == NULL || json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = -1;
    else
        fputc('\n', f);
    json_decref(root);
    return rc;
}

/* ---- CSV --------------------------------------------------------------------- */

/* RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet shows, not runs, it. */
static void csv_field(FILE *f, const char *s, bool last) {
    fputc('"', f);
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputs(last ? "\"\r\n" : "\",", f);
}

void report__write_csv(const report_t *r, const views_t *v, FILE *f) {
    char a[40], b[40], n[32];
    fputs("host,vendor,product,channel,alerts,first_seen,last_seen,top_destination\r\n", f);
    for (size_t i = 0; i < r->n_hosts; i++) {
        size_t h = v->hosts[i];
        for (size_t j = v->items_at[h]; j < v->items_at[h + 1]; j++) {
            const ritem_t *it = &r->items[v->items[j]];
            /* the host's top destination for this vendor is not kept; the host's is */
            char dest[2 * MAX_FIELD + 4] = "";
            if (v->dests_at[h] < v->dests_at[h + 1]) {
                const rdest_t *d = &r->dests[v->dests[v->dests_at[h]]];
                snprintf(dest, sizeof(dest), "%s%s%s", d->ip, *d->name ? " " : "", d->name);
            }
            snprintf(n, sizeof(n), "%" PRIu64, it->s.alerts);
            csv_field(f, r->hosts[h].ip, false);
            csv_field(f, r->vendors[it->vendor].name, false);
            csv_field(f, it->product, false);
            csv_field(f, it->channel, false);
            csv_field(f, n, false);
            csv_field(f, report__fmt_time(it->s.first, true, a), false);
            csv_field(f, report__fmt_time(it->s.last, true, b), false);
            csv_field(f, dest, true);
        }
    }
}
