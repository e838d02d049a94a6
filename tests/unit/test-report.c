/*
 * Unit tests of the compliance inventory (plugin/report/): timestamps,
 * which side is the internal host, what is skipped or bad, the aggregates,
 * and the escaping of every writer.
 */
#include "report/report.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(report_t *r, size_t lineno, const char *line) {
    return report_add_line(r, lineno, line, strlen(line));
}

/* Renders r in `fmt` into a malloc'd string. */
static char *render(const report_t *r, report_format_t fmt) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(report_write(r, fmt, f), 0);
    fclose(f);
    return buf;
}

/* An embargo alert: vendor/channel/product in metadata, client and server given. */
static char *alert(const char *ts, const char *src, const char *dst, const char *dir,
                   const char *vendor, const char *channel, const char *product,
                   const char *value) {
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i, s:{s:[s], s:[s]}, s:{s:{s:s, s:s, "
                          "s:s, s:s}}}}",
                          "timestamp", ts, "event_type", "alert", "src_ip", src, "dest_ip", dst,
                          "direction", dir, "alert", "signature_id", 4200101, "metadata", "vendor",
                          vendor, "channel", channel, "context", "embargo", "vendor", vendor,
                          "channel", channel, "field", "dns.query", "value", value);
    if (product)
        json_object_set_new(json_object_get(json_object_get(a, "alert"), "metadata"), "product",
                            json_pack("[s]", product));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

Test(report, parses_eve_timestamps) {
    int64_t t;
    cr_assert(report_parse_time("1970-01-01T00:00:00.000000+0000", &t));
    cr_assert_eq(t, 0);
    cr_assert(report_parse_time("2024-09-30T12:00:00.123456+0000", &t));
    cr_assert_eq(t, 1727697600123456LL);
    /* +0200 is two hours ahead of UTC */
    cr_assert(report_parse_time("2024-09-30T14:00:00.123456+0200", &t));
    cr_assert_eq(t, 1727697600123456LL);
    cr_assert(report_parse_time("2024-09-30T12:00:00Z", &t));
    cr_assert_eq(t, 1727697600000000LL);
    cr_assert(report_parse_time("2024-09-30T12:00:00.5-01:00", &t));
    cr_assert_eq(t, 1727701200500000LL);
    cr_assert_not(report_parse_time("2024-09-30", &t));
    cr_assert_not(report_parse_time("2024-13-30T12:00:00Z", &t));
    cr_assert_not(report_parse_time("2024-09-30T12:00:00+02", &t));
    cr_assert_not(report_parse_time("2024-09-30T12:00:00Zjunk", &t));
}

Test(report, counts_alerts_skips_others_and_places_bad_lines) {
    report_t *r = report_new();
    cr_assert_eq(report_add_source(r, "a.json"), 0);
    char *a1 = alert("2024-09-30T12:00:00.000000+0000", "10.0.0.1", "192.0.2.53", "to_server",
                     "kaspersky", "update", "Kaspersky Endpoint Security", "upd.kaspersky.com");
    cr_assert_eq(add(r, 1, a1), REPORT_LINE_ALERT);
    cr_assert_eq(add(r, 2, "{\"event_type\":\"flow\"}"), REPORT_LINE_SKIPPED);
    /* a Suricata alert of another rule set: no vendor, skipped */
    cr_assert_eq(add(r, 3, "{\"event_type\":\"alert\",\"alert\":{\"signature_id\":1}}"),
                 REPORT_LINE_SKIPPED);
    cr_assert_eq(add(r, 4, "not json"), REPORT_LINE_BAD);
    cr_assert_eq(add(r, 5, "   "), REPORT_LINE_SKIPPED); /* blank: not even a record */
    cr_assert_eq(add(r, 6, "[1,2]"), REPORT_LINE_BAD);   /* JSON, but not a record */
    cr_assert_eq(report_add_source(r, "b.json"), 0);
    cr_assert_eq(add(r, 9, "{\"event_type\":"), REPORT_LINE_BAD);
    report_totals_t t;
    report_totals(r, &t);
    cr_assert_eq(t.lines, 6);
    cr_assert_eq(t.alerts, 1);
    cr_assert_eq(t.skipped, 2);
    cr_assert_eq(t.bad, 3);
    cr_assert_eq(t.bad_places, 3);
    cr_assert_str_eq(report_bad_place(r, 0), "a.json:4");
    cr_assert_str_eq(report_bad_place(r, 1), "a.json:6");
    cr_assert_str_eq(report_bad_place(r, 2), "b.json:9");
    cr_assert_null(report_bad_place(r, 3));
    free(a1);
    report_free(r);
}

Test(report, the_internal_host_is_the_client_side) {
    report_t *r = report_new();
    report_add_source(r, "x");
    /* to_client without a flow object: the destination is the client */
    char *a = alert("2024-09-30T12:00:00Z", "192.0.2.53", "10.0.0.2", "to_client", "huawei",
                    "cloud", NULL, "x.hicloud.com");
    cr_assert_eq(add(r, 1, a), REPORT_LINE_ALERT);
    /* flow.src_ip wins over the packet's direction */
    json_t *j = json_loads(a, 0, NULL);
    json_object_set_new(j, "flow",
                        json_pack("{s:s, s:s}", "src_ip", "10.0.0.3", "dest_ip", "192.0.2.53"));
    char *b = json_dumps(j, JSON_COMPACT);
    cr_assert_eq(add(r, 2, b), REPORT_LINE_ALERT);
    report_totals_t t;
    report_totals(r, &t);
    cr_assert_eq(t.hosts, 2);
    char *out = render(r, REPORT_JSON);
    json_t *rep = json_loads(out, 0, NULL);
    cr_assert_not_null(rep);
    json_t *hosts = json_object_get(rep, "hosts");
    cr_assert_eq(json_array_size(hosts), 2);
    /* equal alert counts: sorted by address */
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(hosts, 0), "host")),
                     "10.0.0.2");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(hosts, 1), "host")),
                     "10.0.0.3");
    json_t *dest = json_array_get(json_object_get(json_array_get(hosts, 0), "top_destinations"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(dest, "ip")), "192.0.2.53");
    cr_assert_str_eq(json_string_value(json_object_get(dest, "name")), "x.hicloud.com");
    json_decref(rep);
    json_decref(j);
    free(out);
    free(a);
    free(b);
    report_free(r);
}

Test(report, aggregates_per_host_vendor_product_channel) {
    report_t *r = report_new();
    report_add_source(r, "x");
    const char *ts[] = {"2024-09-30T12:00:03Z", "2024-09-30T12:00:01Z", "2024-09-30T12:00:02Z"};
    for (int i = 0; i < 3; i++) {
        char *a = alert(ts[i], "10.0.0.1", "192.0.2.53", "to_server", "kaspersky", "update", "KES",
                        "upd.kaspersky.com");
        cr_assert_eq(add(r, (size_t)i + 1, a), REPORT_LINE_ALERT);
        free(a);
    }
    char *a = alert("2024-09-30T12:00:05Z", "10.0.0.9", "192.0.2.53", "to_server", "kaspersky",
                    "telemetry", NULL, "ksn.kaspersky-labs.com");
    add(r, 4, a);
    free(a);
    char *out = render(r, REPORT_JSON);
    json_t *rep = json_loads(out, 0, NULL);
    json_t *v = json_array_get(json_object_get(rep, "vendors"), 0);
    cr_assert_eq(json_integer_value(json_object_get(v, "alerts")), 4);
    cr_assert_eq(json_integer_value(json_object_get(v, "hosts")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(v, "first_seen")),
                     "2024-09-30T12:00:01.000000+0000");
    cr_assert_str_eq(json_string_value(json_object_get(v, "last_seen")),
                     "2024-09-30T12:00:05.000000+0000");
    json_t *ch = json_object_get(v, "channels");
    cr_assert_eq(json_array_size(ch), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ch, 0), "channel")),
                     "update");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(ch, 0), "alerts")), 3);
    json_t *h = json_array_get(json_object_get(rep, "hosts"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(h, "host")), "10.0.0.1");
    json_t *seen = json_array_get(json_object_get(h, "seen"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(seen, "product")), "KES");
    cr_assert_eq(json_integer_value(json_object_get(seen, "alerts")), 3);
    /* no product: null in JSON */
    json_t *h2 = json_array_get(json_object_get(rep, "hosts"), 1);
    cr_assert(
        json_is_null(json_object_get(json_array_get(json_object_get(h2, "seen"), 0), "product")));
    json_decref(rep);
    free(out);
    report_free(r);
}

Test(report, escapes_what_the_traffic_controls) {
    report_t *r = report_new();
    report_add_source(r, "<i>.json");
    char *a = alert("2024-09-30T12:00:00Z", "10.0.0.1", "192.0.2.53", "to_server",
                    "<script>alert(1)</script>", "cloud", "=HYPERLINK(\"x\")",
                    "<img src=x onerror=alert(2)>\x1b[2J");
    cr_assert_eq(add(r, 1, a), REPORT_LINE_ALERT);
    free(a);
    char *html = render(r, REPORT_HTML);
    cr_assert_null(strstr(html, "<script"));
    cr_assert_null(strstr(html, "<img"));
    cr_assert_null(strstr(html, "<i>"));
    cr_assert_not_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    cr_assert_not_null(strstr(html, "&lt;img src=x onerror=alert(2)&gt;?[2J"));
    free(html);
    char *csv = render(r, REPORT_CSV);
    /* a formula is defused and its quotes doubled */
    cr_assert_not_null(strstr(csv, "\"'=HYPERLINK(\"\"x\"\")\""));
    free(csv);
    char *text = render(r, REPORT_TEXT);
    cr_assert_null(strchr(text, '\x1b')); /* no terminal escapes */
    free(text);
    report_free(r);
}

Test(report, formats_by_name) {
    report_format_t f;
    cr_assert(report_format_parse("html", &f));
    cr_assert_eq(f, REPORT_HTML);
    cr_assert(report_format_parse("csv", &f));
    cr_assert_eq(f, REPORT_CSV);
    cr_assert_not(report_format_parse("pdf", &f));
}
