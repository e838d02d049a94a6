/*
 * What each ban binds and restricts (docs/rules.md, "Bans"), and the choice
 * of the bans that apply to whoever runs the engine.
 */
#include "pack/pack.h"

#include <stdio.h>
#include <string.h>

static const char *const restrict_names[EMB_R__COUNT] = {"sale", "updates", "use", "procurement",
                                                         "new-authorization"};

const char *emb__restrict_name(uint32_t bit) {
    for (int i = 0; i < EMB_R__COUNT; i++)
        if (bit == 1u << i)
            return restrict_names[i];
    return NULL;
}

uint32_t emb__restrict_lookup(const char *s) {
    for (int i = 0; i < EMB_R__COUNT; i++)
        if (strcmp(s, restrict_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *emb__ban_status_name(emb_ban_status_t s) {
    switch (s) {
    case EMB_BAN_IN_FORCE: return "in-force";
    case EMB_BAN_PROPOSED: return "proposed";
    case EMB_BAN_EXPIRED: return "expired";
    }
    return "unknown";
}

bool emb__scope_valid(const char *s) {
    if (strcmp(s, "all") == 0 || strcmp(s, "federal") == 0 || strcmp(s, "federal-contractors") == 0)
        return true;
    return strncmp(s, "state:", 6) == 0 && s[6] >= 'A' && s[6] <= 'Z' && s[7] >= 'A' &&
           s[7] <= 'Z' && s[8] == '\0';
}

int emb_rules_select(emb_rules_t *r, const char *scope, const char *restricts, bool proposed,
                     char *err, size_t errcap) {
    if (scope && (!emb__scope_valid(scope) || strcmp(scope, "all") == 0)) {
        if (err)
            snprintf(err, errcap,
                     "--scope '%s': want federal, federal-contractors or state:XX (two capitals)",
                     scope);
        return EMB_EINVAL;
    }
    uint32_t want = 0;
    if (restricts) {
        const char *p = restricts;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            char name[32];
            uint32_t bit = 0;
            if (n < sizeof(name)) {
                memcpy(name, p, n);
                name[n] = '\0';
                bit = emb__restrict_lookup(name);
            }
            if (bit == 0) {
                if (err)
                    snprintf(err, errcap,
                             "--restricts '%.*s': want sale, updates, use, procurement or "
                             "new-authorization",
                             (int)n, p);
                return EMB_EINVAL;
            }
            want |= bit;
            p += n + (comma != NULL);
        }
    }
    int selected = 0;
    for (size_t i = 0; i < r->nvendors; i++) {
        emb_vendor_t *v = &r->vendors[i];
        v->selected = v->nbans == 0;
        for (size_t j = 0; j < v->nbans; j++) {
            emb_ban_t *b = &v->bans[j];
            b->applies =
                (b->status == EMB_BAN_IN_FORCE || (proposed && b->status == EMB_BAN_PROPOSED)) &&
                (scope == NULL || strcmp(b->scope, "all") == 0 || strcmp(b->scope, scope) == 0) &&
                (want == 0 || (b->restricts & want) != 0);
            v->selected |= b->applies;
        }
        selected += v->selected;
    }
    return selected;
}

size_t emb__ban_terms(const emb_vendor_t *v, emb_ban_term_t what, const char **out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < v->nbans; i++) {
        const emb_ban_t *b = &v->bans[i];
        if (!b->applies)
            continue;
        for (uint32_t bit = 1; bit < 1u << EMB_R__COUNT; bit <<= 1) {
            const char *t = what == EMB_TERM_SCOPE    ? b->scope
                            : what == EMB_TERM_STATUS ? emb__ban_status_name(b->status)
                            : (b->restricts & bit)    ? emb__restrict_name(bit)
                                                      : NULL;
            bool seen = t == NULL;
            for (size_t k = 0; k < n && !seen; k++)
                seen = strcmp(out[k], t) == 0;
            if (!seen && n < max)
                out[n++] = t;
            if (what != EMB_TERM_RESTRICTS)
                break; /* one scope, one status per ban */
        }
    }
    return n;
}

bool emb_rules_raised_by(const emb_rules_t *r, size_t i, uint64_t keys) {
    if (r == NULL || i >= r->nrules)
        return false;
    for (size_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        if (alt->rule != i)
            continue;
        bool all = true;
        for (uint32_t c = 0; c < alt->ncond && all; c++)
            all = (keys >> alt->cond[c].key) & 1;
        if (all)
            return true;
    }
    return false;
}

/* For hosts that see flows as records (embargo.so): a flow whose server port
 * no rule of addresses and ports alone can hold on is not read further; with
 * `alone`, only the rules with no address condition are asked. */
static bool port_may_hold(const emb_rules_t *r, uint8_t proto, uint16_t port, bool alone) {
    if (r == NULL)
        return true;
    for (size_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        if (alt->content_mask != 0)
            continue;      /* needs a field value: never holds on endpoints alone */
        bool holds = true; /* an alternative without a port condition holds on any port */
        for (uint32_t c = 0; c < alt->ncond && holds; c++) {
            const emb_cond_t *cond = &alt->cond[c];
            if (alone && cond->key == EMB_K_IP)
                holds = false; /* holds only on some addresses */
            if (cond->key != EMB_K_PORT)
                continue;
            holds = false;
            for (uint32_t i = cond->first; i < cond->first + cond->count && !holds; i++) {
                const emb_portrange_t *pr = &r->inds[i].ports;
                holds = (pr->proto == 0 || pr->proto == proto) && port >= pr->lo && port <= pr->hi;
            }
            if (!holds)
                break;
        }
        if (holds)
            return true;
    }
    return false;
}

bool emb_rules_port_may_hold(const emb_rules_t *r, uint8_t proto, uint16_t port) {
    return port_may_hold(r, proto, port, false);
}

bool emb_rules_port_alone_may_hold(const emb_rules_t *r, uint8_t proto, uint16_t port) {
    return port_may_hold(r, proto, port, true);
}

size_t emb_rules_payload_ports(const emb_rules_t *r, size_t rule, uint8_t proto,
                               uint8_t bits[65536 / 8]) {
    size_t anywhere = 0;
    for (size_t a = 0; r != NULL && a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        if (rule != SIZE_MAX && alt->rule != rule)
            continue;
        const emb_cond_t *port = NULL;
        bool payload = false;
        for (uint32_t c = 0; c < alt->ncond; c++) {
            payload |= alt->cond[c].key == EMB_K_PAYLOAD;
            if (alt->cond[c].key == EMB_K_PORT && port == NULL)
                port = &alt->cond[c]; /* of several (all must hold), the first bounds it */
        }
        if (!payload)
            continue;
        if (port == NULL) {
            anywhere++;
            continue;
        }
        for (uint32_t i = port->first; i < port->first + port->count; i++) {
            const emb_portrange_t *pr = &r->inds[i].ports;
            if (pr->proto != 0 && pr->proto != proto)
                continue;
            for (uint32_t p = pr->lo; p <= pr->hi && bits != NULL; p++)
                bits[p >> 3] |= (uint8_t)(1u << (p & 7));
        }
    }
    return anywhere;
}

void emb_rules_address_first_bytes(const emb_rules_t *r, uint64_t v4[4], uint64_t v6[4]) {
    emb_flow_union_t u = {0};
    for (size_t a = 0; r != NULL && a < r->nalts; a++) {
        if (r->alts[a].content_mask != 0)
            continue;
        emb_flow_sieve_t sv;
        emb__flow_sieve_of(r, &r->alts[a], &sv);
        emb__flow_union_add(&u, &sv);
    }
    memcpy(v4, u.v4, sizeof(u.v4));
    memcpy(v6, u.v6, sizeof(u.v6));
}
