/*
 * The reading position over one direction's plaintext that the STARTTLS
 * follower (starttls.c) and its XMPP walker (xmpp.c) share: at most
 * EMB_STARTTLS_WINDOW bytes are looked at, and a unit that is cut by that
 * window will never be whole, so waiting for more of it is pointless.
 */
#ifndef EMB_PROTOCOLS_STARTTLS_CURSOR_H
#define EMB_PROTOCOLS_STARTTLS_CURSOR_H

#include "protocols/protocols.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One direction's bytes, read from `off`; `clipped` when there were more
 * than the window. */
typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool clipped;
} cur_t;

static inline cur_t cursor(const uint8_t *p, size_t len) {
    cur_t c = {p, len, 0, false};
    if (len > EMB_STARTTLS_WINDOW) {
        c.len = EMB_STARTTLS_WINDOW;
        c.clipped = true;
    }
    return c;
}

/* What to say when a unit (a line, a message, a tag) of `c` is not whole yet. */
static inline emb_x_result_t need(const cur_t *c) {
    return c->clipped ? EMB_X_NONE : EMB_X_TRUNCATED;
}

#endif /* EMB_PROTOCOLS_STARTTLS_CURSOR_H */
