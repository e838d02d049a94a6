/*
 * The time of a packet stream as the flow table and the fragment table judge
 * expiry by: the latest packet time seen. A packet more than
 * EMB_CLOCK_BACKSTEP seconds older than the clock (a second capture file from
 * before the first, a bogus timestamp) sets it back and starts a new epoch,
 * in which everything of the old one has expired. Every packet moves it,
 * decodable or not, inspected by this engine or by another (emb_engine_skip),
 * so engines that split one stream keep the same clock (docs/flows.md).
 */
#ifndef EMB_CLOCK_H
#define EMB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define EMB_CLOCK_BACKSTEP 60

typedef struct {
    int64_t now;
    uint32_t epoch;
    bool set;
} emb_clock_t;

/* a - b for a >= b, without signed overflow whatever the two times are. */
static inline uint64_t emb__clock_gap(int64_t a, int64_t b) {
    return (uint64_t)a - (uint64_t)b;
}

static inline void emb__clock_tick(emb_clock_t *c, int64_t sec) {
    if (!c->set || sec > c->now) {
        c->now = sec;
        c->set = true;
    } else if (emb__clock_gap(c->now, sec) > EMB_CLOCK_BACKSTEP) {
        c->now = sec;
        c->epoch++;
    }
}

/* True when something of `epoch` last seen at `last` is past `timeout`. */
static inline bool emb__clock_past(const emb_clock_t *c, uint32_t epoch, int64_t last,
                                   uint32_t timeout) {
    return epoch != c->epoch || (c->now > last && emb__clock_gap(c->now, last) > timeout);
}

#endif
