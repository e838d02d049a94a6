/*
 * The HTML renderer (see render.h): one self-contained page (inline CSS,
 * inline SVG charts, no script, a Content-Security-Policy that allows only
 * inline style and data: images), so it can be mailed or archived as one
 * file and opened without fetching anything. Owns the vendor palette, the
 * timeline and hosts-per-channel charts, and HTML escaping of every string
 * taken from the EVE.
 */
#include "report/render.h"

#include "embargo/embargo.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- HTML ---------------------------------------------------------------------- */

/* Escapes for element text and quoted attribute values alike. */
static void h(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *const palette[] = {"#d1495b", "#2e86ab", "#edae49", "#66a182", "#8d6a9f",
                                      "#00798c", "#f18f01", "#6c757d", "#a23b72", "#3b1f2b"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

static const char *vendor_color(const views_t *v, size_t nvendors, size_t vendor) {
    for (size_t i = 0; i < nvendors; i++)
        if (v->vendors[i] == vendor)
            return palette[i % NPALETTE];
    return palette[NPALETTE - 1];
}

/* Picks a bucket width so the period spans at most ~60 bars. */
static int64_t bucket_width(int64_t span) {
    static const int64_t steps[] = {1,    5,     10,    30,    60,    300,    600,     1800,
                                    3600, 10800, 21600, 43200, 86400, 604800, 2592000, 31536000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (span / (steps[i] * 1000000) < 60)
            return steps[i] * 1000000;
    return (span / 60 + 1);
}

static const char *width_name(int64_t w, char buf[32]) {
    int64_t s = w / 1000000;
    if (s % 86400 == 0)
        snprintf(buf, 32, "%" PRId64 " day%s", s / 86400, s == 86400 ? "" : "s");
    else if (s % 3600 == 0)
        snprintf(buf, 32, "%" PRId64 " hour%s", s / 3600, s == 3600 ? "" : "s");
    else if (s % 60 == 0)
        snprintf(buf, 32, "%" PRId64 " minute%s", s / 60, s == 60 ? "" : "s");
    else
        snprintf(buf, 32, "%" PRId64 " second%s", s, s == 1 ? "" : "s");
    return buf;
}

/* Alerts over time, stacked per vendor. */
static int svg_timeline(const report_t *r, const views_t *v, FILE *f) {
    if (r->n_ticks == 0) {
        fputs("<p class=\"muted\">No alert carries a timestamp.</p>\n", f);
        return 0;
    }
    report_totals_t t;
    report_totals(r, &t);
    int64_t w = bucket_width(t.last - t.first);
    int64_t start = t.first - ((t.first % w) + w) % w;
    size_t nb = (size_t)((t.last - start) / w) + 1;
    size_t nv = r->n_vendors;
    uint64_t *cnt = calloc(nb * nv, sizeof(uint64_t));
    if (cnt == NULL)
        return -1;
    for (size_t i = 0; i < r->n_ticks; i++)
        cnt[(size_t)((r->ticks[i].ts - start) / w) * nv + r->ticks[i].vendor]++;
    uint64_t max = 1;
    for (size_t b = 0; b < nb; b++) {
        uint64_t sum = 0;
        for (size_t k = 0; k < nv; k++)
            sum += cnt[b * nv + k];
        if (sum > max)
            max = sum;
    }
    const int W = 760, H = 240, L = 48, R = 12, T = 12, B = 40;
    double pw = W - L - R, ph = H - T - B, bw = pw / (double)nb;
    char a[40], wn[32];
    fprintf(f,
            "<svg class=\"chart\" id=\"chart-timeline\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"Alerts over time per vendor\">\n",
            W, H, W, H);
    fprintf(f, "<title>Alerts over time per vendor, %s per bar</title>\n", width_name(w, wn));
    for (int g = 0; g <= 4; g++) {
        double y = T + ph - ph * g / 4.0;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%.0f</text>\n",
                L, W - R, y, y, L - 6, y + 4, (double)max * g / 4.0);
    }
    for (size_t b = 0; b < nb; b++) {
        double y = T + ph;
        for (size_t i = 0; i < nv; i++) {
            size_t k = v->vendors[i];
            uint64_t c = cnt[b * nv + k];
            if (c == 0)
                continue;
            double hh = ph * (double)c / (double)max;
            y -= hh;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>",
                    L + bw * (double)b + (bw > 4 ? 1 : 0), y, bw > 4 ? bw - 2 : bw, hh,
                    palette[i % NPALETTE]);
            h(f, r->vendors[k].name);
            fprintf(f, ": %" PRIu64 " alert%s from %s UTC</title></rect>\n", c, c == 1 ? "" : "s",
                    report__fmt_time(start + (int64_t)b * w, false, a));
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\">%s</text>\n", L, H - B + 18,
            report__fmt_time(start, false, a));
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">%s</text>\n", W - R,
            H - B + 18, report__fmt_time(start + (int64_t)nb * w, false, a));
    fprintf(f,
            "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">UTC, %s per "
            "bar</text>\n",
            L + pw / 2, H - B + 18, width_name(w, wn));
    /* legend */
    double lx = L;
    for (size_t i = 0; i < nv && i < 8; i++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>", lx, H - 14,
                palette[i % NPALETTE]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"legend\">", lx + 14, H - 5);
        h(f, r->vendors[v->vendors[i]].name);
        fputs("</text>\n", f);
        lx += 24 + 7.0 * (double)strlen(r->vendors[v->vendors[i]].name);
    }
    fputs("</svg>\n", f);
    free(cnt);
    return 0;
}

/* Hosts per vendor and channel: one bar per pair, coloured by vendor. */
static void svg_hosts(const report_t *r, const views_t *v, FILE *f) {
    size_t maxh = 1;
    for (size_t i = 0; i < r->n_vcs; i++)
        if (r->vcs[i].hosts > maxh)
            maxh = r->vcs[i].hosts;
    const int W = 760, L = 230, R = 60, row = 24, T = 8;
    int H = T * 2 + row * (int)r->n_vcs;
    fprintf(f,
            "<svg class=\"chart\" id=\"chart-hosts\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"Hosts per vendor and channel\">\n",
            W, H, W, H);
    fputs("<title>Hosts per vendor and channel</title>\n", f);
    int y = T;
    for (size_t i = 0; i < r->n_vendors; i++) {
        size_t vi = v->vendors[i];
        FOR_VC_OF(r, v, vi, k) {
            const rvc_t *c = &r->vcs[k];
            double bw = (W - L - R) * (double)c->hosts / (double)maxh;
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">", L - 8,
                    y + 16);
            h(f, r->vendors[vi].name);
            fputs(" \xc2\xb7 ", f);
            h(f, c->channel);
            fprintf(f,
                    "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                    "<title>",
                    L, y + 3, bw, row - 6, vendor_color(v, r->n_vendors, vi));
            h(f, r->vendors[vi].name);
            fputs(" ", f);
            h(f, c->channel);
            fprintf(f,
                    ": %zu host%s, %" PRIu64 " alerts</title></rect>"
                    "<text x=\"%.1f\" y=\"%d\" class=\"value\">%zu</text>\n",
                    c->hosts, c->hosts == 1 ? "" : "s", c->s.alerts, L + bw + 6, y + 16, c->hosts);
            y += row;
        }
    }
    fputs("</svg>\n", f);
}

/* The alerts, first and last seen cells of an aggregate. */
static void span_cells(FILE *f, const span_t *s) {
    char a[40], b[40];
    fprintf(f, "<td class=\"n\">%" PRIu64 "</td><td class=\"t\">%s</td><td class=\"t\">%s</td>",
            s->alerts, report__fmt_time(s->first, false, a), report__fmt_time(s->last, false, b));
}

static const char css[] =
    ".bans{font-size:85%;color:#555;margin-top:.3em}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;color:#1d232a;background:#f4f5f7}"
    "main{max-width:1040px;margin:0 auto;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}"
    ".muted{color:#5b6672}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}"
    ".card{background:#fff;border-radius:8px;padding:12px 16px;min-width:140px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08)}"
    ".card b{display:block;font-size:26px}"
    ".card.alert b{color:#c0392b}"
    ".panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px "
    "rgba(0,0,0,.08);overflow-x:auto}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;"
    "border-bottom:1px solid #e6e8eb;vertical-align:top}th{font-weight:600;color:#5b6672;"
    "font-size:12px;text-transform:uppercase;letter-spacing:.03em}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}td.t{white-space:nowrap}"
    ".tag{display:inline-block;border-radius:10px;padding:0 8px;margin:1px 2px;font-size:12px;"
    "color:#fff}"
    ".chan{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;"
    "background:#e9edf2}"
    ".mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px;"
    "word-break:break-all}"
    "svg .grid{stroke:#e6e8eb}svg .axis{font-size:11px;fill:#5b6672}"
    "svg .legend,svg .label{font-size:12px;fill:#1d232a}svg .value{font-size:12px;fill:#5b6672}"
    ".ok{background:#e7f6ec;border-radius:8px;padding:16px;font-size:16px}"
    "footer{margin-top:28px;font-size:12px;color:#5b6672}";

int report__write_html(const report_t *r, const views_t *v, FILE *f) {
    report_totals_t t;
    report_totals(r, &t);
    char a[40], b[40];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>embargo compliance report</title>\n<style>",
          f);
    fputs(css, f);
    fputs("</style></head><body><main>\n<h1>Banned-vendor traffic: compliance report</h1>\n", f);
    fputs("<p class=\"muted\">", f);
    if (r->n_ticks)
        fprintf(f, "%s to %s UTC &middot; ", report__fmt_time(t.first, false, a),
                report__fmt_time(t.last, false, b));
    fprintf(f, "from %zu EVE file%s (", r->n_sources, r->n_sources == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_sources; i++) {
        if (i)
            fputs(", ", f);
        if (i == 8) {
            fprintf(f, "&hellip; %zu more", r->n_sources - 8);
            break;
        }
        h(f, r->sources[i]);
    }
    fputs(")</p>\n", f);

    fputs("<div class=\"cards\">", f);
    fprintf(f, "<div class=\"card%s\" id=\"total-hosts\"><b>%zu</b>internal host%s</div>",
            t.hosts ? " alert" : "", t.hosts, t.hosts == 1 ? "" : "s");
    fprintf(f, "<div class=\"card%s\"><b>%zu</b>banned vendor%s</div>", t.vendors ? " alert" : "",
            t.vendors, t.vendors == 1 ? "" : "s");
    fprintf(f, "<div class=\"card\" id=\"total-alerts\"><b>%" PRIu64 "</b>alert%s</div>", t.alerts,
            t.alerts == 1 ? "" : "s");
    fprintf(f, "<div class=\"card\"><b>%" PRIu64 "</b>record%s read</div>", t.lines,
            t.lines == 1 ? "" : "s");
    if (t.bad)
        fprintf(f, "<div class=\"card alert\"><b>%" PRIu64 "</b>bad line%s skipped</div>", t.bad,
                t.bad == 1 ? "" : "s");
    fputs("</div>\n", f);

    if (r->n_sensors) { /* from an inventory: who was watching, before what was found */

        fputs("<h2>Sensors</h2>\n<div class=\"panel\"><table id=\"sensors\"><tr><th>Sensor</th>"
              "<th>Watching from</th><th>until</th><th class=\"n\">Stats records</th>"
              "<th class=\"n\">Packets</th><th class=\"n\">Kernel drops</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_sensors; i++) {
            const rsensor_t *se = &r->sensors[i];
            fputs("<tr><td>", f);
            h(f, se->name);
            if (se->records == 0) {
                fputs("</td><td colspan=\"5\" class=\"alert\">no stats record: it cannot vouch "
                      "for what it did not report</td></tr>\n",
                      f);
                continue;
            }
            fprintf(f,
                    "</td><td>%s</td><td>%s</td><td class=\"n\">%" PRIu64
                    "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">",
                    report__fmt_time(se->first, false, a), report__fmt_time(se->last, false, b),
                    se->records, se->packets);
            if (se->drops >= 0)
                fprintf(f, "%" PRId64, se->drops);
            fputs("</td></tr>\n", f);
        }
        fputs("</table></div>\n", f);
    }
    if (r->n_vendors == 0) {
        fputs("<div class=\"ok\">No traffic of a banned vendor was seen.</div>\n", f);
    } else {
        fputs("<h2>Vendors</h2>\n<div class=\"panel\"><table id=\"vendors\"><tr><th>Vendor</th>"
              "<th>Channels (hosts)</th><th class=\"n\">Hosts</th><th class=\"n\">Alerts</th>"
              "<th>First seen</th><th>Last seen</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_vendors; i++) {
            size_t vi = v->vendors[i];
            const rvendor_t *ve = &r->vendors[vi];
            fprintf(f, "<tr><td><span class=\"tag\" style=\"background:%s\">",
                    palette[i % NPALETTE]);
            h(f, ve->name);
            fputs("</span></td><td>", f);
            FOR_VC_OF(r, v, vi, k) {
                fputs("<span class=\"chan\">", f);
                h(f, r->vcs[k].channel);
                fprintf(f, " %zu</span> ", r->vcs[k].hosts);
            }
            if (ve->bans) {
                fputs("<div class=\"bans\">", f);
                h(f, ve->bans);
                fputs("</div>", f);
            }
            fprintf(f, "</td><td class=\"n\">%zu</td>", ve->hosts);
            span_cells(f, &ve->s);
            fputs("</tr>\n", f);
        }
        fputs("</table></div>\n", f);
        if (r->n_devices) {
            fputs("<h2>Devices (found by what they say of themselves)</h2>\n<div class=\"panel\">"
                  "<table id=\"devices\"><tr><th>Device</th><th>Vendor</th><th>Evidence</th>"
                  "<th>Value</th><th class=\"n\">Alerts</th><th>First seen</th>"
                  "<th>Last seen</th></tr>\n",
                  f);
            for (size_t i = 0; i < r->n_devices; i++) {
                const rdevice_t *de = &r->devices[i];
                const char *cells[] = {r->hosts[de->host].ip, r->vendors[de->vendor].name,
                                       de->field, de->value};
                fputs("<tr>", f);
                for (size_t c = 0; c < 4; c++) {
                    fputs("<td>", f);
                    h(f, cells[c]);
                    fputs("</td>", f);
                }
                span_cells(f, &de->s);
                fputs("</tr>\n", f);
            }
            fputs("</table></div>\n", f);
        }

        fputs("<h2>Alerts over time</h2>\n<div class=\"panel\">", f);
        if (svg_timeline(r, v, f) != 0)
            return -1;
        fputs("</div>\n<h2>Hosts per vendor and channel</h2>\n<div class=\"panel\">", f);
        svg_hosts(r, v, f);
        fputs("</div>\n", f);

        fputs("<h2>Internal hosts</h2>\n<div class=\"panel\"><table id=\"hosts\"><tr>"
              "<th>Host</th><th>Vendor</th><th>Product</th><th>Channel</th>"
              "<th class=\"n\">Alerts</th><th>First seen</th><th>Last seen</th>"
              "<th>Top destinations</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_hosts; i++) {
            size_t hi = v->hosts[i];
            size_t n = v->items_at[hi + 1] - v->items_at[hi];
            for (size_t j = v->items_at[hi]; j < v->items_at[hi + 1]; j++) {
                const ritem_t *it = &r->items[v->items[j]];
                fputs("<tr>", f);
                if (j == v->items_at[hi]) {
                    fprintf(f, "<td rowspan=\"%zu\" class=\"mono host\"><b>", n);
                    h(f, r->hosts[hi].ip);
                    fprintf(f, "</b><br><span class=\"muted\">%" PRIu64 " alerts</span></td>",
                            r->hosts[hi].s.alerts);
                }
                fprintf(f, "<td><span class=\"tag\" style=\"background:%s\">",
                        vendor_color(v, r->n_vendors, it->vendor));
                h(f, r->vendors[it->vendor].name);
                fputs("</span></td><td>", f);
                h(f, *it->product ? it->product : "\xe2\x80\x94");
                fputs("</td><td><span class=\"chan\">", f);
                h(f, it->channel);
                fputs("</span></td>", f);
                span_cells(f, &it->s);
                if (j == v->items_at[hi]) {
                    fprintf(f, "<td rowspan=\"%zu\" class=\"mono\">", n);
                    size_t shown = 0;
                    for (size_t d = v->dests_at[hi];
                         d < v->dests_at[hi + 1] && shown < REPORT_TOP_DESTINATIONS; d++, shown++) {
                        const rdest_t *de = &r->dests[v->dests[d]];
                        h(f, de->ip);
                        if (*de->name) {
                            fputs(" ", f);
                            h(f, de->name);
                        }
                        fprintf(f, " <span class=\"muted\">(%" PRIu64 ")</span><br>", de->s.alerts);
                    }
                    fputs("</td>", f);
                }
                fputs("</tr>\n", f);
            }
        }
        fputs("</table></div>\n", f);
    }
    if (t.bad) {
        fprintf(f,
                "<h2>Bad lines</h2>\n<p>%" PRIu64 " line%s that are not JSON were skipped: ", t.bad,
                t.bad == 1 ? "" : "s");
        for (size_t i = 0; i < r->nbad; i++) {
            if (i)
                fputs(", ", f);
            fputs("<span class=\"mono\">", f);
            h(f, r->bad[i]);
            fputs("</span>", f);
        }
        if (t.bad > r->nbad)
            fprintf(f, " and %" PRIu64 " more", t.bad - r->nbad);
        fputs(".</p>\n", f);
    }
    fprintf(f,
            "<footer>Written by embargo %s. %" PRIu64 " other records skipped. The internal host "
            "is the client side of each flow. Names come from the traffic and are shown as "
            "seen.</footer>\n</main></body></html>\n",
            EMB_VERSION_STRING, t.skipped);
    return 0;
}
