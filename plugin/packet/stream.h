/*
 * TCP reassembly for inspection: a window of `depth` bytes of each direction
 * of a flow, put in order. The window starts at the stream's first byte; a
 * stream whose parser frames messages (HTTP, DNS over TCP) slides it past
 * what the parser consumed, so messages are reassembled for the life of the
 * connection while the depth bounds one message. Buffers come from a pool
 * with a memory cap and grow as data arrives, so a flow that sends little
 * costs little.
 */
#ifndef EMB_STREAM_H
#define EMB_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/ranges.h"

#define EMB_STREAM_MAX_RANGES 8 /* out-of-order islands held per direction */

typedef struct {
    uint8_t *buf;    /* bytes [0, cap) of the stream, valid where ranges say */
    uint32_t cap;    /* allocated size, at most the depth */
    uint32_t base;   /* sequence number of buf[0] */
    uint32_t offset; /* stream offset of buf[0]: bytes slid past */
    uint32_t have;   /* bytes [0, have) are contiguous */
    uint32_t cursor; /* how far the application parser has consumed (may pass have:
                        a body still to come is skipped) */
    emb_range_t ranges[EMB_STREAM_MAX_RANGES];
    uint8_t nranges;
    bool base_set;
    bool closed; /* reassembly over: depth reached, memory refused, or parser done */
    bool midstream;
    bool slide; /* slide the window past `cursor` when a segment would not fit */
} emb_stream_t;

typedef struct {
    uint64_t segments;     /* segments that carried new bytes */
    uint64_t overlaps;     /* segments with bytes already held (first copy kept) */
    uint64_t out_of_order; /* segments held beyond a gap */
    uint64_t dropped;      /* islands beyond EMB_STREAM_MAX_RANGES, or no memory */
    uint64_t memcap_refused;
    size_t mem_in_use;
    size_t mem_peak;
} emb_stream_stats_t;

/* Buffer sizes 2 KiB, 4 KiB, ... 256 KiB come from slabs (stream.c); larger
 * ones (a depth above 256 KiB) from malloc. */
#define EMB_STREAM_CLASSES 8

typedef struct {
    uint32_t depth; /* bytes kept per direction */
    size_t memcap;  /* total bytes of all buffers */
    emb_stream_stats_t stats;
    struct emb_stream_free *free_bufs[EMB_STREAM_CLASSES]; /* buffers given back, by size */
    uint8_t **slabs;                                       /* where buffers are carved from */
    size_t nslabs, slabs_cap;
    uint8_t *carve; /* the rest of the newest slab */
    size_t carve_left;
} emb_stream_pool_t;

/* Gives the slabs back; every stream must have been closed first. */
void emb__stream_pool_free(emb_stream_pool_t *pool);

/*
 * Adds a TCP segment. `syn` sets the stream's start (ISN + 1). Data first seen
 * without a SYN starts the stream where it is (midstream pickup). Bytes
 * already held are kept: on overlap, the first copy wins. When the segment
 * reaches past the window and the stream slides, the window first moves past
 * `cursor` (offset grows by as much; callers' buffer positions move back by
 * it). Returns the number of bytes by which the contiguous prefix grew (the
 * new bytes are buf[have - n, have)).
 */
uint32_t emb__stream_add(emb_stream_pool_t *pool, emb_stream_t *s, uint32_t seq, bool syn,
                         const uint8_t *data, size_t len);

/*
 * Moves the window `n` bytes on: buf[0, n) is dropped, and when `n` passes
 * what is held, the bytes up to it are skipped as they arrive. The buffer is
 * given back when nothing is left in it.
 */
void emb__stream_consume(emb_stream_pool_t *pool, emb_stream_t *s, uint32_t n);

/* Gives the buffer back and closes the stream; later segments are ignored. */
void emb__stream_close(emb_stream_pool_t *pool, emb_stream_t *s);

#endif /* EMB_STREAM_H */
