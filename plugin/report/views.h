/*
 * Sorted views of the inventory (views.c), private to plugin/report: the
 * order in which every renderer walks the aggregates, so that all four
 * formats list the same things in the same order. The model keeps its
 * arrays in arrival order; a view is an array of indices into them.
 */
#ifndef EMB_REPORT_VIEWS_H
#define EMB_REPORT_VIEWS_H

#include "report/model.h"

typedef struct {
    size_t *hosts;   /* most alerts first, then by address */
    size_t *vendors; /* most alerts first, then by name */
    size_t *vcs;     /* by vendor name, then most alerts first, then by channel */
    /* items grouped by host index, items_at[h]..items_at[h+1]; in a group by
     * vendor name, channel, product */
    size_t *items, *items_at;
    /* destinations grouped by host index likewise; in a group most alerts
     * first, then by address, then by name */
    size_t *dests, *dests_at;
} views_t;

/* Builds the views of r. Returns 0, or -1 with errno ENOMEM (v is then empty). */
int report__views_make(const report_t *r, views_t *v);
void report__views_free(views_t *v);

/* Vendor v's channel aggregates in the order of v->vcs. */
#define FOR_VC_OF(r, views, vendor_idx, k)                                                         \
    for (size_t k##_i = 0, k = 0; k##_i < (r)->n_vcs; k##_i++)                                     \
        if ((k = (views)->vcs[k##_i]), (r)->vcs[k].vendor == (vendor_idx))

#endif /* EMB_REPORT_VIEWS_H */
