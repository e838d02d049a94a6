/*
 * The exporters' shared writer (export-writer.c), for export.c (Suricata 7
 * and Suricata 8 rules) and export-zeek.c (Zeek Intel). Not installed.
 */
#ifndef EMB_PACK_TOOLS_EXPORT_WRITER_H
#define EMB_PACK_TOOLS_EXPORT_WRITER_H

#include "pack/pack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing line; `oom` once a grow failed (then nothing more is added). */
typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf_t;

void emb__sb_put(sbuf_t *b, const char *s, size_t n);
void emb__sb_puts(sbuf_t *b, const char *s);
void emb__sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a string literal. */
#define SB_LIT(b, lit) emb__sb_put((b), (lit), sizeof(lit) - 1)

/* One export in progress. */
typedef struct {
    const emb_rules_t *r;
    emb_write_cb write;
    void *ud;
    emb_diags_t **notes;
    sbuf_t line;
    int rc;
} exp_t;

/* "file:line:col: not exported: ..." in the notes, when notes are wanted. */
void emb__export_note(exp_t *X, uint32_t file, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Hands the finished line to the writer and empties it. */
void emb__export_flush(exp_t *X);
/* True when an alternative has a device key (http.server ... mac): no export has them. */
bool emb__export_device_alt(const emb_alt_t *alt);
/* True (and noted) for a rule of a vendor none of whose bans applies (emb_rules_select). */
bool emb__export_skips(exp_t *X, const emb_rule_t *ru);
/* True when a domain pattern has a '*'. */
bool emb__export_has_star(const emb_indicator_t *ind);

#endif /* EMB_PACK_TOOLS_EXPORT_WRITER_H */
