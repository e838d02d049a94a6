/*
 * What every export writes with: a growing line buffer, the notes on what
 * could not be exported, and the choices shared by the formats (device
 * keys, vendors no ban of which applies).
 */
#include "pack-tools/export-writer.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void emb__sb_put(sbuf_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (emb__grow((void **)&b->p, &b->cap, b->len + n + 1, 1) != 0) {
        b->oom = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void emb__sb_puts(sbuf_t *b, const char *s) {
    emb__sb_put(b, s, strlen(s));
}

void emb__sb_printf(sbuf_t *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        emb__sb_put(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    emb__sb_put(b, big, (size_t)n);
    free(big);
}

void emb__export_note(exp_t *X, uint32_t file, uint32_t line, uint32_t col, const char *fmt, ...) {
    if (X->notes == NULL)
        return;
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (emb__diag_add(X->notes, X->r->files[file], line, col, "not exported: %s", msg) != 0)
        X->rc = EMB_ENOMEM;
}

/* True when an alternative has a device key (http.server ... mac): no export has them. */
bool emb__export_device_alt(const emb_alt_t *alt) {
    for (uint32_t c = 0; c < alt->ncond; c++)
        if (alt->cond[c].key >= EMB_K_HTTP_SERVER && alt->cond[c].key <= EMB_K_MAC)
            return true;
    return false;
}

/* A rule of a vendor none of whose bans applies (emb_rules_select): noted, not exported. */
bool emb__export_skips(exp_t *X, const emb_rule_t *ru) {
    if (X->r->vendors[ru->vendor].selected)
        return false;
    emb__export_note(X, ru->file, ru->line, ru->col,
                     "rule %u: no ban of vendor '%s' applies to this selection", ru->sid,
                     X->r->vendors[ru->vendor].id);
    return true;
}

/* Hands the finished line to the writer and empties it. */
void emb__export_flush(exp_t *X) {
    if (X->line.oom) {
        X->rc = EMB_ENOMEM;
    } else if (X->rc == 0 && X->line.len > 0 && X->write(X->line.p, X->line.len, X->ud) != 0) {
        X->rc = EMB_EIO;
    }
    X->line.len = 0;
}

bool emb__export_has_star(const emb_indicator_t *ind) {
    return memchr(ind->text, '*', ind->len) != NULL;
}
