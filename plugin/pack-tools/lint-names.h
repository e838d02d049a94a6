/*
 * What a normalised name can hold (pack-tools/lint-names.c): the linter's
 * check of one indicator of a domain-valued key against what the engine makes
 * of the field before matching it.
 */
#ifndef EMB_PACKTOOLS_LINT_NAMES_H
#define EMB_PACKTOOLS_LINT_NAMES_H

#include "pack/pack.h"

#include <stdbool.h>
#include <stddef.h>

/* The indicator's text, printable (`=` for an exact domain, \xHH for other
 * bytes), into buf; returns buf. */
const char *emb__lint_show(const emb_indicator_t *ind, char *buf, size_t cap);

/*
 * True when `ind` can never match the field of its key as the engine
 * normalises it; `msg` gets the warning's text. False for indicators of other
 * keys, and whenever it cannot tell.
 */
bool emb__lint_name_never(const emb_indicator_t *ind, char *msg, size_t cap);

#endif /* EMB_PACKTOOLS_LINT_NAMES_H */
