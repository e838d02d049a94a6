/*
 * report_write and report_format_parse (see report.h): the formats by name,
 * and one write of the inventory, which builds the sorted views, hands them
 * to the renderer of the format, and reports a failed write. Kept apart from
 * the model and the renderers because it depends on both.
 */
#include "report/render.h"

#include <string.h>

bool report_format_parse(const char *s, report_format_t *out) {
    static const struct {
        const char *name;
        report_format_t fmt;
    } f[] = {
        {"text", REPORT_TEXT}, {"json", REPORT_JSON}, {"csv", REPORT_CSV}, {"html", REPORT_HTML}};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (strcmp(s, f[i].name) == 0) {
            *out = f[i].fmt;
            return true;
        }
    return false;
}

int report_write(const report_t *r, report_format_t fmt, FILE *f) {
    views_t v;
    if (report__views_make(r, &v) != 0)
        return -1;
    int rc = 0;
    switch (fmt) {
    case REPORT_TEXT: report__write_text(r, &v, f); break;
    case REPORT_CSV: report__write_csv(r, &v, f); break;
    case REPORT_HTML: rc = report__write_html(r, &v, f); break;
    case REPORT_JSON: rc = report__write_json(r, &v, f); break;
    }
    report__views_free(&v);
    if (rc == 0 && (ferror(f) || fflush(f) != 0))
        rc = -1;
    return rc;
}
