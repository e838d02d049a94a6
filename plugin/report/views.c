/*
 * The sorted views (see views.h): orders the aggregates of an inventory for
 * writing. Sorting happens only here, only when writing.
 *
 * The comparators need the inventory (an item sorts by its vendor's name), so
 * they take it as an argument, and a small merge sort passes it along: C11's
 * qsort has no context argument, and a file-scope pointer to the inventory
 * would make two reports written at once (two threads) sort each other's
 * arrays. Every comparator is a total order: an aggregate is unique under its
 * map key (within one host's group, for items and destinations), and each
 * comparator compares every part of that key, so no two aggregates compare
 * equal and any correct sort, stable or not, gives the same order.
 */
#include "report/views.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Orders aggregates a and b of one kind of r, like strcmp. */
typedef int (*cmp_fn)(const report_t *r, size_t a, size_t b);

static int cmp_hosts(const report_t *r, size_t a, size_t b) {
    const rhost_t *x = &r->hosts[a], *y = &r->hosts[b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->ip, y->ip);
}

static int cmp_vendors(const report_t *r, size_t a, size_t b) {
    const rvendor_t *x = &r->vendors[a], *y = &r->vendors[b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_items(const report_t *r, size_t a, size_t b) {
    const ritem_t *x = &r->items[a], *y = &r->items[b];
    int c = strcmp(r->vendors[x->vendor].name, r->vendors[y->vendor].name);
    if (c)
        return c;
    if ((c = strcmp(x->channel, y->channel)) != 0)
        return c;
    return strcmp(x->product, y->product);
}

static int cmp_dests(const report_t *r, size_t a, size_t b) {
    const rdest_t *x = &r->dests[a], *y = &r->dests[b];
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    int c = strcmp(x->ip, y->ip);
    return c ? c : strcmp(x->name, y->name);
}

static int cmp_vcs(const report_t *r, size_t a, size_t b) {
    const rvc_t *x = &r->vcs[a], *y = &r->vcs[b];
    int c = strcmp(r->vendors[x->vendor].name, r->vendors[y->vendor].name);
    if (c)
        return c;
    if (x->s.alerts != y->s.alerts)
        return x->s.alerts > y->s.alerts ? -1 : 1;
    return strcmp(x->channel, y->channel);
}

/*
 * Sorts the indices idx[0..n) by cmp (top-down merge sort: O(n log n), the
 * recursion log2(n) deep). tmp has room for n / 2 indices: only the left run
 * is copied out, and the merge writes back from the front, never past the
 * unread part of the right run.
 */
static void sort_idx(const report_t *r, cmp_fn cmp, size_t *idx, size_t n, size_t *tmp) {
    if (n < 2)
        return;
    size_t m = n / 2;
    sort_idx(r, cmp, idx, m, tmp);
    sort_idx(r, cmp, idx + m, n - m, tmp);
    if (cmp(r, idx[m - 1], idx[m]) <= 0)
        return; /* the runs are already in order */
    memcpy(tmp, idx, m * sizeof(*idx));
    size_t i = 0, j = m, k = 0;
    while (i < m && j < n)
        idx[k++] = cmp(r, idx[j], tmp[i]) < 0 ? idx[j++] : tmp[i++];
    while (i < m)
        idx[k++] = tmp[i++];
}

static size_t *iota(size_t n) {
    size_t *v = malloc((n ? n : 1) * sizeof(size_t));
    if (v)
        for (size_t i = 0; i < n; i++)
            v[i] = i;
    return v;
}

void report__views_free(views_t *v) {
    free(v->hosts);
    free(v->vendors);
    free(v->vcs);
    free(v->items);
    free(v->items_at);
    free(v->dests);
    free(v->dests_at);
}

/* Groups `n` indices by host (counting sort on host), then sorts each group. */
static int group_by_host(const report_t *r, size_t n, size_t (*host_of)(const report_t *, size_t),
                         cmp_fn cmp, size_t *tmp, size_t **out, size_t **at) {
    size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
    size_t *start = calloc(r->n_hosts + 1, sizeof(size_t));
    if (idx == NULL || start == NULL) {
        free(idx);
        free(start);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        start[host_of(r, i) + 1]++;
    for (size_t h = 0; h < r->n_hosts; h++)
        start[h + 1] += start[h];
    size_t *fill = malloc((r->n_hosts + 1) * sizeof(size_t));
    if (fill == NULL) {
        free(idx);
        free(start);
        return -1;
    }
    memcpy(fill, start, (r->n_hosts + 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        idx[fill[host_of(r, i)]++] = i;
    free(fill);
    for (size_t h = 0; h < r->n_hosts; h++)
        sort_idx(r, cmp, idx + start[h], start[h + 1] - start[h], tmp);
    *out = idx;
    *at = start;
    return 0;
}

static size_t item_host(const report_t *r, size_t i) {
    return r->items[i].host;
}
static size_t dest_host(const report_t *r, size_t i) {
    return r->dests[i].host;
}

int report__views_make(const report_t *r, views_t *v) {
    memset(v, 0, sizeof(*v));
    /* one scratch array for every sort: half the longest array sorted */
    size_t most = r->n_hosts;
    const size_t others[] = {r->n_vendors, r->n_vcs, r->n_items, r->n_dests};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (others[i] > most)
            most = others[i];
    size_t *tmp = malloc((most / 2 + 1) * sizeof(size_t));
    v->hosts = iota(r->n_hosts);
    v->vendors = iota(r->n_vendors);
    v->vcs = iota(r->n_vcs);
    if (!tmp || !v->hosts || !v->vendors || !v->vcs)
        goto fail;
    sort_idx(r, cmp_hosts, v->hosts, r->n_hosts, tmp);
    sort_idx(r, cmp_vendors, v->vendors, r->n_vendors, tmp);
    sort_idx(r, cmp_vcs, v->vcs, r->n_vcs, tmp);
    if (group_by_host(r, r->n_items, item_host, cmp_items, tmp, &v->items, &v->items_at) != 0 ||
        group_by_host(r, r->n_dests, dest_host, cmp_dests, tmp, &v->dests, &v->dests_at) != 0)
        goto fail;
    free(tmp);
    return 0;
fail:
    free(tmp);
    report__views_free(v);
    memset(v, 0, sizeof(*v));
    errno = ENOMEM;
    return -1;
}
