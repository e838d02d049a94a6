/*
 * A DNS attribution table that engines in several threads share (see
 * emb_shared_new in the public header).
 */
#ifndef EMB_SHARED_H
#define EMB_SHARED_H

#include "detect/attrib.h"
#include "embargo/embargo.h"

/* The table the engines share; owned by `s`. */
emb_attrib_t *emb__shared_attrib(emb_shared_t *s);

/* The stripes of one address's operation (emb__attrib_stripes), taken in
 * ascending order and given back in reverse. */
void emb__shared_lock(emb_shared_t *s, const unsigned stripes[2]);
void emb__shared_unlock(emb_shared_t *s, const unsigned stripes[2]);
/* Every stripe, in ascending order: for renumbering the whole table. */
void emb__shared_lock_all(emb_shared_t *s);
void emb__shared_unlock_all(emb_shared_t *s);

/* True for the first engine reloaded with `rules`: it renumbers the table,
 * the others of the same reload leave it alone. */
bool emb__shared_first_for(emb_shared_t *s, const emb_rules_t *rules);

#endif
