/*
 * Error names, diagnostics lists and the few allocation helpers every other
 * file uses. Diagnostics are plain formatted lines, so that a host can print
 * them as they are and a test can compare them as text.
 */
#include "common/util.h"

#include <hs.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

const char *emb_strerror(int err) {
    switch (err) {
    case EMB_OK: return "success";
#define EMB_ERR_CASE(name, val, msg)                                                               \
    case EMB_E##name: return msg;
        EMB_ERRNO_MAP(EMB_ERR_CASE)
#undef EMB_ERR_CASE
    default: return "unknown error";
    }
}

const char *emb_hyperscan_version(void) {
    return hs_version();
}

void *emb__big_alloc(size_t size) {
    if (size < HUGE_PAGE)
        return calloc(1, size);
    if (size > SIZE_MAX - 2 * HUGE_PAGE)
        return NULL;
    size_t len = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    /* One huge page more than asked, so that the start can be aligned. */
    uint8_t *p =
        mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    size_t head = start - (uintptr_t)p, tail = HUGE_PAGE - head;
    if (head)
        munmap(p, head);
    if (tail)
        munmap((void *)(start + len), tail);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)start, len, MADV_HUGEPAGE); /* a hint: without it, small pages */
#endif
    return (void *)start;
}

void emb__big_free(void *p, size_t size) {
    if (p == NULL)
        return;
    if (size < HUGE_PAGE)
        free(p);
    else
        munmap(p, (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}

int emb__grow(void **arr, size_t *cap, size_t need, size_t elsize) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elsize)
            return EMB_ENOMEM;
        ncap *= 2;
    }
    void *p = realloc(*arr, ncap * elsize);
    if (p == NULL)
        return EMB_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

char *emb__strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *emb__strdup(const char *s) {
    return emb__strndup(s, strlen(s));
}

struct emb_diags {
    char **msgs;
    size_t n, cap;
};

int emb__diag_add(emb_diags_t **dp, const char *file, unsigned line, unsigned col, const char *fmt,
                  ...) {
    if (dp == NULL)
        return 0;
    if (*dp == NULL) {
        *dp = calloc(1, sizeof(**dp));
        if (*dp == NULL)
            return EMB_ENOMEM;
    }
    emb_diags_t *d = *dp;
    if (emb__grow((void **)&d->msgs, &d->cap, d->n + 1, sizeof(char *)) != 0)
        return EMB_ENOMEM;

    char body[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);

    char line_buf[1024];
    if (file != NULL && line > 0)
        snprintf(line_buf, sizeof(line_buf), "%s:%u:%u: %s", file, line, col, body);
    else if (file != NULL)
        snprintf(line_buf, sizeof(line_buf), "%s: %s", file, body);
    else
        snprintf(line_buf, sizeof(line_buf), "%s", body);

    char *msg = emb__strdup(line_buf);
    if (msg == NULL)
        return EMB_ENOMEM;
    d->msgs[d->n++] = msg;
    return 0;
}

size_t emb_diags_count(const emb_diags_t *d) {
    return d ? d->n : 0;
}

const char *emb_diags_message(const emb_diags_t *d, size_t i) {
    if (d == NULL || i >= d->n)
        return NULL;
    return d->msgs[i];
}

void emb_diags_free(emb_diags_t *d) {
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    free(d);
}

void emb__diags_give(emb_diags_t *local, emb_diags_t **out) {
    if (out)
        *out = local;
    else
        emb_diags_free(local);
}
