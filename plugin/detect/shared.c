/*
 * A DNS attribution table that engines in several threads share, locked by
 * stripe (detect/attrib.h, EMB_ATTRIB_STRIPES): an engine takes the one or two
 * stripes an address's operation touches, in ascending order, holds them while
 * it reads what it found (the names it reports), and gives them back before it
 * turns to another address or when its packet is done (detect/state.h). It
 * never holds more than one address's stripes, so no two engines wait on each
 * other in a cycle. Answers for different addresses, and lookups of different
 * connections, mostly take different locks.
 */
#include "detect/shared.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    pthread_mutex_t m;
    char pad[64 - sizeof(pthread_mutex_t) % 64]; /* one per cache line */
} stripe_t;

struct emb_shared {
    emb_attrib_t *attrib;
    stripe_t stripes[EMB_ATTRIB_STRIPES];
    pthread_mutex_t reload;            /* emb__shared_first_for */
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
    for (int i = 0; i < EMB_ATTRIB_STRIPES; i++)
        pthread_mutex_init(&s->stripes[i].m, NULL);
    pthread_mutex_init(&s->reload, NULL);
    *out = s;
    return 0;
}

void emb_shared_free(emb_shared_t *s) {
    if (s == NULL)
        return;
    emb__attrib_free(s->attrib);
    for (int i = 0; i < EMB_ATTRIB_STRIPES; i++)
        pthread_mutex_destroy(&s->stripes[i].m);
    pthread_mutex_destroy(&s->reload);
    free(s);
}

emb_attrib_t *emb__shared_attrib(emb_shared_t *s) {
    return s->attrib;
}

void emb__shared_lock(emb_shared_t *s, const unsigned stripes[2]) {
    pthread_mutex_lock(&s->stripes[stripes[0]].m);
    if (stripes[1] != stripes[0])
        pthread_mutex_lock(&s->stripes[stripes[1]].m);
}

void emb__shared_unlock(emb_shared_t *s, const unsigned stripes[2]) {
    if (stripes[1] != stripes[0])
        pthread_mutex_unlock(&s->stripes[stripes[1]].m);
    pthread_mutex_unlock(&s->stripes[stripes[0]].m);
}

void emb__shared_lock_all(emb_shared_t *s) {
    for (int i = 0; i < EMB_ATTRIB_STRIPES; i++)
        pthread_mutex_lock(&s->stripes[i].m);
}

void emb__shared_unlock_all(emb_shared_t *s) {
    for (int i = EMB_ATTRIB_STRIPES; i-- > 0;)
        pthread_mutex_unlock(&s->stripes[i].m);
}

bool emb__shared_first_for(emb_shared_t *s, const emb_rules_t *rules) {
    pthread_mutex_lock(&s->reload);
    bool first = s->renumbered_for != rules;
    s->renumbered_for = rules;
    pthread_mutex_unlock(&s->reload);
    return first;
}
