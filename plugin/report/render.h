/*
 * The renderers, private to plugin/report: one per format, each writing the
 * whole inventory r to f in the order of the views v. render-text.c holds
 * text, JSON and CSV; render-html.c the HTML page with its SVG charts;
 * write.c (report_write) picks one and checks the stream.
 */
#ifndef EMB_REPORT_RENDER_H
#define EMB_REPORT_RENDER_H

#include "report/views.h"

#include <stdio.h>

void report__write_text(const report_t *r, const views_t *v, FILE *f);
/* Returns 0, or -1 when the document could not be built or written. */
int report__write_json(const report_t *r, const views_t *v, FILE *f);
void report__write_csv(const report_t *r, const views_t *v, FILE *f);
/* Returns 0, or -1 when out of memory. */
int report__write_html(const report_t *r, const views_t *v, FILE *f);

#endif /* EMB_REPORT_RENDER_H */
