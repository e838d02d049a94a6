/*
 * A DNS attribution table that engines in several threads share, under one
 * lock. An engine takes the lock at its first use of the table in a packet
 * and gives it back when the packet is done (detect/state.h), so a packet's
 * answers, or its lookup, are never interleaved with another thread's.
 */
#include "detect/shared.h"

#include <pthread.h>
#include <stdlib.h>

struct emb_shared {
    emb_attrib_t *attrib;
    pthread_mutex_t lock;
    const emb_rules_t *renumbered_for; /* the pack of the last reload */
};

int emb_shared_new(const emb_config_t *cfg, emb_shared_t **out) {
    if (out == NULL)
        return EMB_EINVAL;
    *out = NULL;
    if (cfg == NULL)
        return EMB_EINVAL;
    emb_shared_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return EMB_ENOMEM;
    int rc = emb__attrib_new(cfg->attrib_max, cfg->attrib_ttl_floor_s, cfg->attrib_ttl_ceiling_s,
                             &s->attrib);
    if (rc != 0) {
        free(s);
        return rc;
    }
    emb__attrib_commit(s->attrib); /* made at load, used by packet workers */
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void emb_shared_free(emb_shared_t *s) {
    if (s == NULL)
        return;
    emb__attrib_free(s->attrib);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

emb_attrib_t *emb__shared_attrib(emb_shared_t *s) {
    return s->attrib;
}

void emb__shared_lock(emb_shared_t *s) {
    pthread_mutex_lock(&s->lock);
}

void emb__shared_unlock(emb_shared_t *s) {
    pthread_mutex_unlock(&s->lock);
}

bool emb__shared_first_for(emb_shared_t *s, const emb_rules_t *rules) {
    pthread_mutex_lock(&s->lock);
    bool first = s->renumbered_for != rules;
    s->renumbered_for = rules;
    pthread_mutex_unlock(&s->lock);
    return first;
}
