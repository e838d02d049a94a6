/*
 * IPv4 and IPv6 fragment reassembly, bounded in datagrams, bytes and time.
 */
#ifndef EMB_DEFRAG_H
#define EMB_DEFRAG_H

#include "packet/clock.h"
#include "packet/decode.h"

typedef struct emb_defrag emb_defrag_t;

typedef struct {
    uint64_t fragments;
    uint64_t reassembled;
    uint64_t timeouts; /* datagrams dropped unfinished after the timeout */
    uint64_t evicted;  /* dropped unfinished because the table was full */
    uint64_t overlaps; /* fragments with bytes already held (first copy kept) */
    uint64_t invalid;  /* beyond 64 KiB, inconsistent ends, too many pieces */
    uint64_t memcap_refused;
    uint64_t pending; /* datagrams unfinished in the table now */
    size_t mem_in_use, mem_peak;
} emb_defrag_stats_t;

int emb__defrag_new(size_t max_datagrams, size_t memcap, uint32_t timeout_s, emb_defrag_t **out);
void emb__defrag_free(emb_defrag_t *d);

/*
 * Adds one fragment (as emb__decode reported it) seen at `now`. When it
 * completes its datagram, returns true and sets *data and *len to the
 * datagram's payload, valid until the next call.
 */
bool emb__defrag_add(emb_defrag_t *d, const emb_decoded_t *frag, int64_t now, const uint8_t **data,
                     size_t *len);

const emb_defrag_stats_t *emb__defrag_stats(const emb_defrag_t *d);

/* Moves the fragment table's clock (packet/clock.h): datagrams expire on it. */
void emb__defrag_clock(emb_defrag_t *d, int64_t sec);

#endif /* EMB_DEFRAG_H */
