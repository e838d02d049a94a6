/*
 * Engines that share a DNS attribution table use it in packet order.
 *
 * Each worker publishes how far it has come: progress[i] = n means worker i
 * has finished every packet numbered below n (its own and those it skipped).
 * A worker about to touch the table at packet p publishes p and waits until
 * every other worker's progress is at least p. Then every table use at a
 * packet below p has happened (its worker was past it), and none at a packet
 * above p can happen meanwhile (that worker waits for this one to pass p), so
 * the table sees exactly the sequence one engine would: the same answers, the
 * same evictions, the same lookups. Two workers never wait for each other:
 * the one at the lower packet number always goes on. The release store of a
 * progress and the acquire load that sees it order the table's memory; no
 * lock is needed. A worker that stops (end of input, error, signal) sets its
 * progress to UINT64_MAX so that nobody waits for it.
 */
#include "detect/shared.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define CACHE_LINE 64

typedef struct {
    _Atomic uint64_t next; /* every packet numbered below this is done */
    char pad[CACHE_LINE - sizeof(uint64_t)];
} progress_t;

struct emb_shared {
    emb_attrib_t *attrib;
    unsigned n;
    progress_t *progress; /* n entries, one cache line each */
    /* Held by the worker whose turn it is, until its packet is done. With the
     * packet numbers every worker agrees on it never waits; it is there for
     * when they do not agree (a capture that grew while being read): then
     * the order may differ from one engine's, but the table is never used by
     * two threads at once. */
    pthread_mutex_t turn;
};

int emb_shared_new(const emb_config_t *cfg, unsigned nworkers, emb_shared_t **out) {
    if (out == NULL)
        return EMB_EINVAL;
    *out = NULL;
    if (cfg == NULL || nworkers == 0)
        return EMB_EINVAL;
    emb_shared_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return EMB_ENOMEM;
    s->n = nworkers;
    s->progress = aligned_alloc(CACHE_LINE, sizeof(progress_t) * nworkers);
    int rc = s->progress ? emb__attrib_new(cfg->attrib_max, cfg->attrib_ttl_floor_s,
                                           cfg->attrib_ttl_ceiling_s, &s->attrib)
                         : EMB_ENOMEM;
    if (rc != 0) {
        free(s->progress);
        free(s);
        return rc;
    }
    for (unsigned i = 0; i < nworkers; i++)
        atomic_init(&s->progress[i].next, 0);
    pthread_mutex_init(&s->turn, NULL);
    *out = s;
    return 0;
}

void emb_shared_free(emb_shared_t *s) {
    if (s == NULL)
        return;
    emb__attrib_free(s->attrib);
    pthread_mutex_destroy(&s->turn);
    free(s->progress);
    free(s);
}

void emb__shared_progress(emb_shared_t *s, unsigned index, uint64_t pcap_cnt) {
    if (s != NULL && index < s->n)
        atomic_store_explicit(&s->progress[index].next, pcap_cnt, memory_order_release);
}

void emb_shared_done(emb_shared_t *s, unsigned index) {
    emb__shared_progress(s, index, UINT64_MAX);
}

void emb__shared_skip(emb_shared_t *s, unsigned index, uint64_t pcap_cnt) {
    /* done with this one too; the last number there is says "all done" */
    emb__shared_progress(s, index, pcap_cnt == UINT64_MAX ? UINT64_MAX : pcap_cnt + 1);
}

emb_attrib_t *emb__shared_attrib(emb_shared_t *s) {
    return s->attrib;
}

void emb__shared_wait(emb_shared_t *s, unsigned index, uint64_t pcap_cnt) {
    emb__shared_progress(s, index, pcap_cnt);
    for (unsigned i = 0; i < s->n; i++) {
        if (i == index)
            continue;
        for (unsigned spins = 0;
             atomic_load_explicit(&s->progress[i].next, memory_order_acquire) < pcap_cnt; spins++)
            if (spins >= 64)
                sched_yield();
    }
    pthread_mutex_lock(&s->turn);
}

void emb__shared_end_turn(emb_shared_t *s) {
    pthread_mutex_unlock(&s->turn);
}
