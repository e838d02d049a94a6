/*
 * The YAML rule loader: reads one file or a directory of `*.yaml` files into
 * the flat arrays of struct emb_rules, validating as it goes.
 *
 * libyaml loads each file into a node tree whose nodes carry their position,
 * so every error names file:line:column. Validation does not stop at the
 * first error: a rule author gets every mistake of a file in one run (up to a
 * cap), and a pack with any error is rejected whole.
 */
#include "pack/pack.h"

#include "common/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_ERRORS 100
#define MAX_NODES_VISITED 1000000 /* guards against alias bombs */

/* Default severity by channel: product channels 2, a person on the website 3. */
static int default_severity(emb_channel_t ch) {
    return ch == EMB_CH_WEB ? 3 : 2;
}

/* ---- loader state ------------------------------------------------------ */

typedef struct {
    emb_rules_t *r;
    emb_diags_t **diags;
    size_t nerrors;
    bool oom;
    const char *file; /* current file's path, for messages */
    uint32_t file_idx;
    yaml_document_t *doc;
    size_t visited;
} loader_t;

static unsigned node_line(const yaml_node_t *n) {
    return (unsigned)n->start_mark.line + 1;
}
static unsigned node_col(const yaml_node_t *n) {
    return (unsigned)n->start_mark.column + 1;
}

#define LERR(L, node, ...)                                                                         \
    loader_error((L), (node) ? node_line(node) : 0, (node) ? node_col(node) : 0, __VA_ARGS__)

static void loader_error(loader_t *L, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void loader_error(loader_t *L, unsigned line, unsigned col, const char *fmt, ...) {
    L->nerrors++;
    if (L->nerrors > MAX_ERRORS)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (L->nerrors == MAX_ERRORS)
        snprintf(msg, sizeof(msg), "too many errors, giving up");
    if (emb__diag_add(L->diags, L->file, line, col, "%s", msg) != 0)
        L->oom = true;
}

static yaml_node_t *node_get(loader_t *L, int id) {
    L->visited++;
    return yaml_document_get_node(L->doc, id);
}

/* A scalar's text, or NULL (with an error) when `n` is not a scalar. */
static const char *scalar(loader_t *L, yaml_node_t *n, const char *what) {
    if (n == NULL || n->type != YAML_SCALAR_NODE) {
        LERR(L, n, "%s must be a scalar", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static char *dup_or_oom(loader_t *L, const char *s) {
    char *p = emb__strdup(s);
    if (p == NULL)
        L->oom = true;
    return p;
}

/* ---- indicators -------------------------------------------------------- */

/* Fills `ind` from one scalar; reports an error and returns false if bad. */
static bool parse_indicator(loader_t *L, emb_key_t key, yaml_node_t *n, emb_indicator_t *ind) {
    const char *v = scalar(L, n, "an indicator");
    if (v == NULL)
        return false;
    char why[400];
    int rc = emb__indicator_parse(key, v, ind, why, sizeof(why));
    ind->file = L->file_idx;
    ind->line = node_line(n);
    ind->col = node_col(n);
    if (rc == EMB_ENOMEM)
        L->oom = true;
    else if (rc != 0)
        LERR(L, n, "%s", why);
    return rc == 0;
}

/* One alternative: a mapping of key -> scalar or sequence of scalars. */
static void load_alternative(loader_t *L, yaml_node_t *n, uint32_t rule_idx) {
    emb_rules_t *r = L->r;
    if (n->type != YAML_MAPPING_NODE) {
        LERR(L, n, "each entry of 'match' must be a mapping of field: patterns");
        return;
    }
    if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
        LERR(L, n, "empty alternative: it would match everything");
        return;
    }
    emb_alt_t alt;
    memset(&alt, 0, sizeof(alt));
    alt.rule = rule_idx;
    alt.file = L->file_idx;
    alt.line = node_line(n);
    alt.col = node_col(n);
    bool ok = true;
    uint32_t seen = 0;

    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node_get(L, p->key), *vn = node_get(L, p->value);
        const char *ks = scalar(L, kn, "a match key");
        emb_key_t key;
        if (ks == NULL) {
            ok = false;
            continue;
        }
        if (!emb__key_lookup(ks, &key)) {
            LERR(L, kn, "unknown match key '%s'", ks);
            ok = false;
            continue;
        }
        if (seen & (1u << key)) {
            LERR(L, kn, "duplicate key '%s'", ks);
            ok = false;
            continue;
        }
        seen |= 1u << key;

        yaml_node_item_t *items = NULL, *items_end = NULL;
        int single = 0;
        if (vn->type == YAML_SEQUENCE_NODE) {
            items = vn->data.sequence.items.start;
            items_end = vn->data.sequence.items.top;
            if (items == items_end) {
                LERR(L, vn, "empty list for '%s'", ks);
                ok = false;
                continue;
            }
        } else {
            single = 1;
        }

        emb_cond_t *c = &alt.cond[alt.ncond];
        c->key = key;
        c->first = (uint32_t)r->ninds;
        size_t count = single ? 1 : (size_t)(items_end - items);
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *in = single ? vn : node_get(L, items[i]);
            if (emb__grow((void **)&r->inds, &r->cap_inds, r->ninds + 1, sizeof(*r->inds))) {
                L->oom = true;
                return;
            }
            if (parse_indicator(L, key, in, &r->inds[r->ninds]))
                r->ninds++;
            else
                ok = false;
        }
        c->count = (uint32_t)(r->ninds - c->first);
        if (key != EMB_K_IP && key != EMB_K_PORT)
            alt.content_mask |= 1u << alt.ncond;
        alt.ncond++;
    }
    if (!ok)
        return;
    if (emb__grow((void **)&r->alts, &r->cap_alts, r->nalts + 1, sizeof(*r->alts))) {
        L->oom = true;
        return;
    }
    r->alts[r->nalts++] = alt;
}

static const emb_rule_t *find_sid(const emb_rules_t *r, uint32_t sid, size_t upto) {
    for (size_t i = 0; i < upto; i++)
        if (r->rules[i].sid == sid)
            return &r->rules[i];
    return NULL;
}

/* Reports and returns true when key `k` (at pair `p`) already appeared in mapping `n`. */
static bool duplicate_key(loader_t *L, yaml_node_t *n, yaml_node_pair_t *p, yaml_node_t *kn,
                          const char *k) {
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *prev = node_get(L, q->key);
        if (prev && prev->type == YAML_SCALAR_NODE &&
            strcmp((const char *)prev->data.scalar.value, k) == 0) {
            LERR(L, kn, "duplicate key '%s'", k);
            return true;
        }
    }
    return false;
}

static bool rule_has_key(loader_t *L, yaml_node_t *n, const char *key) {
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node_get(L, p->key);
        if (kn && kn->type == YAML_SCALAR_NODE &&
            strcmp((const char *)kn->data.scalar.value, key) == 0)
            return true;
    }
    return false;
}

static void load_rule(loader_t *L, yaml_node_t *n, uint32_t vendor_idx) {
    emb_rules_t *r = L->r;
    if (n->type != YAML_MAPPING_NODE) {
        LERR(L, n, "each rule must be a mapping");
        return;
    }
    emb_rule_t rule;
    memset(&rule, 0, sizeof(rule));
    rule.rev = 1;
    rule.severity = 0;
    rule.confidence = EMB_CONF_MEDIUM;
    rule.vendor = vendor_idx;
    rule.file = L->file_idx;
    rule.line = node_line(n);
    rule.col = node_col(n);
    rule.first_alt = (uint32_t)r->nalts;
    uint32_t rule_idx = (uint32_t)r->nrules;
    size_t errors_before = L->nerrors;
    bool have_sid = false, have_msg = false, have_channel = false, have_match = false;
    yaml_node_t *sid_node = NULL;

    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node_get(L, p->key), *vn = node_get(L, p->value);
        const char *k = scalar(L, kn, "a rule key");
        if (k == NULL)
            continue;
        const char *v = NULL;
        if (duplicate_key(L, n, p, kn, k))
            continue;
        if (strcmp(k, "sid") == 0) {
            sid_node = vn;
            if ((v = scalar(L, vn, "sid")) && emb__parse_u32(v, 1, UINT32_MAX, &rule.sid))
                have_sid = true;
            else if (v)
                LERR(L, vn, "sid must be a whole number from 1 to 4294967295");
        } else if (strcmp(k, "rev") == 0) {
            if ((v = scalar(L, vn, "rev")) && !emb__parse_u32(v, 1, UINT32_MAX, &rule.rev))
                LERR(L, vn, "rev must be a positive whole number");
        } else if (strcmp(k, "msg") == 0) {
            if ((v = scalar(L, vn, "msg"))) {
                if (*v == '\0')
                    LERR(L, vn, "msg is empty");
                else {
                    free(rule.msg);
                    rule.msg = dup_or_oom(L, v);
                    have_msg = true;
                }
            }
        } else if (strcmp(k, "channel") == 0) {
            if ((v = scalar(L, vn, "channel"))) {
                if (emb__channel_lookup(v, &rule.channel))
                    have_channel = true;
                else
                    LERR(L, vn,
                         "unknown channel '%s' (telemetry, licensing, update, cloud, "
                         "management or web)",
                         v);
            }
        } else if (strcmp(k, "product") == 0) {
            if ((v = scalar(L, vn, "product"))) {
                free(rule.product);
                rule.product = dup_or_oom(L, v);
            }
        } else if (strcmp(k, "severity") == 0) {
            uint32_t sev;
            if ((v = scalar(L, vn, "severity")) && emb__parse_u32(v, 1, 3, &sev))
                rule.severity = (int)sev;
            else if (v)
                LERR(L, vn, "severity must be 1, 2 or 3");
        } else if (strcmp(k, "confidence") == 0) {
            if ((v = scalar(L, vn, "confidence"))) {
                if (strcmp(v, "high") == 0)
                    rule.confidence = EMB_CONF_HIGH;
                else if (strcmp(v, "medium") == 0)
                    rule.confidence = EMB_CONF_MEDIUM;
                else if (strcmp(v, "low") == 0)
                    rule.confidence = EMB_CONF_LOW;
                else
                    LERR(L, vn, "confidence must be high, medium or low, not '%s'", v);
            }
        } else if (strcmp(k, "references") == 0) {
            if (vn->type != YAML_SEQUENCE_NODE) {
                LERR(L, vn, "references must be a list");
                continue;
            }
            for (yaml_node_item_t *it = vn->data.sequence.items.start;
                 it < vn->data.sequence.items.top; it++) {
                const char *ref = scalar(L, node_get(L, *it), "a reference");
                if (ref == NULL)
                    continue;
                char **grown = realloc(rule.refs, (rule.nrefs + 1) * sizeof(char *));
                if (grown == NULL) {
                    L->oom = true;
                    break;
                }
                rule.refs = grown;
                if ((rule.refs[rule.nrefs] = dup_or_oom(L, ref)) != NULL)
                    rule.nrefs++;
            }
        } else if (strcmp(k, "established") == 0) {
            if ((v = scalar(L, vn, "established"))) {
                if (strcmp(v, "true") == 0)
                    rule.any_packet = false;
                else if (strcmp(v, "false") == 0)
                    rule.any_packet = true;
                else
                    LERR(L, vn, "established must be true or false, not '%s'", v);
            }
        } else if (strcmp(k, "description") == 0) {
            scalar(L, vn, "description");
        } else if (strcmp(k, "match") == 0) {
            have_match = true;
            if (vn->type != YAML_SEQUENCE_NODE) {
                LERR(L, vn, "match must be a list of alternatives");
                continue;
            }
            if (vn->data.sequence.items.start == vn->data.sequence.items.top)
                LERR(L, vn, "match is empty");
            for (yaml_node_item_t *it = vn->data.sequence.items.start;
                 it < vn->data.sequence.items.top; it++)
                load_alternative(L, node_get(L, *it), rule_idx);
        } else {
            LERR(L, kn, "unknown rule key '%s'", k);
        }
    }

    /* A key that is there but wrong has had its own message already. */
    if (!have_sid && sid_node == NULL)
        LERR(L, n, "rule has no 'sid'");
    if (!have_msg && !rule_has_key(L, n, "msg"))
        LERR(L, n, "rule has no 'msg'");
    if (!have_channel && !rule_has_key(L, n, "channel"))
        LERR(L, n, "rule has no 'channel'");
    if (!have_match)
        LERR(L, n, "rule has no 'match'");
    if (have_sid) {
        const emb_rule_t *dup = find_sid(r, rule.sid, r->nrules);
        if (dup)
            LERR(L, sid_node, "duplicate sid %u (first used at %s:%u:%u)", rule.sid,
                 r->files[dup->file], dup->line, dup->col);
    }

    rule.nalts = (uint32_t)(r->nalts - rule.first_alt);
    if (rule.severity == 0)
        rule.severity = default_severity(rule.channel);
    if (L->nerrors != errors_before ||
        emb__grow((void **)&r->rules, &r->cap_rules, r->nrules + 1, sizeof(*r->rules))) {
        /* The rule is dropped; its alternatives and indicators are freed with the pack. */
        free(rule.msg);
        free(rule.product);
        for (size_t i = 0; i < rule.nrefs; i++)
            free(rule.refs[i]);
        free(rule.refs);
        return;
    }
    r->rules[r->nrules++] = rule;
    r->vendors[vendor_idx].nrules++;
}

static bool valid_vendor_id(const char *s) {
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';
        if (!ok)
            return false;
    }
    return true;
}

void emb__ban_free(emb_ban_t *b) {
    free(b->authority);
    free(b->effective);
    free(b->reference);
    free(b->scope);
    free(b->sunset);
    free(b->note);
}

/* `restricts`: one name or a list of names (emb_restrict_t). */
static void load_restricts(loader_t *L, yaml_node_t *vn, emb_ban_t *ban) {
    yaml_node_item_t one = 0, *start = &one, *top = &one;
    if (vn->type == YAML_SEQUENCE_NODE) {
        start = vn->data.sequence.items.start;
        top = vn->data.sequence.items.top;
    } else if (vn->type == YAML_SCALAR_NODE) {
        top = start + 1;
    }
    if (start == top)
        LERR(L, vn, "restricts must name sale, updates, use, procurement or new-authorization");
    for (yaml_node_item_t *it = start; it < top; it++) {
        yaml_node_t *item = vn->type == YAML_SEQUENCE_NODE ? node_get(L, *it) : vn;
        const char *val = scalar(L, item, "a restriction");
        if (val == NULL)
            continue;
        uint32_t bit = emb__restrict_lookup(val);
        if (bit == 0)
            LERR(L, item,
                 "restricts: '%s' is not one of sale, updates, use, procurement, "
                 "new-authorization",
                 val);
        else if (ban->restricts & bit)
            LERR(L, item, "restricts: '%s' given twice", val);
        ban->restricts |= bit;
    }
}

static void load_bans(loader_t *L, yaml_node_t *n, emb_vendor_t *v) {
    if (n->type != YAML_SEQUENCE_NODE) {
        LERR(L, n, "bans must be a list");
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *bn = node_get(L, *it);
        if (bn->type != YAML_MAPPING_NODE) {
            LERR(L, bn, "each ban must be a mapping of authority, effective, reference");
            continue;
        }
        emb_ban_t ban = {0};
        bool has_status = false;
        for (yaml_node_pair_t *p = bn->data.mapping.pairs.start; p < bn->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = node_get(L, p->key), *vn = node_get(L, p->value);
            const char *k = scalar(L, kn, "a ban key");
            if (k != NULL && strcmp(k, "restricts") == 0) {
                load_restricts(L, vn, &ban);
                continue;
            }
            const char *val = scalar(L, vn, "a ban value");
            if (k == NULL || val == NULL)
                continue;
            char **slot = NULL;
            if (strcmp(k, "authority") == 0)
                slot = &ban.authority;
            else if (strcmp(k, "effective") == 0 || strcmp(k, "sunset") == 0) {
                slot = k[0] == 'e' ? &ban.effective : &ban.sunset;
                if (!emb__parse_date(val, &(int64_t){0})) {
                    LERR(L, vn, "%s must be a date YYYY-MM-DD, not '%s'", k, val);
                    continue;
                }
            } else if (strcmp(k, "reference") == 0)
                slot = &ban.reference;
            else if (strcmp(k, "note") == 0)
                slot = &ban.note;
            else if (strcmp(k, "scope") == 0) {
                slot = &ban.scope;
                if (!emb__scope_valid(val)) {
                    LERR(L, vn,
                         "scope must be all, federal, federal-contractors or state:XX (two "
                         "capitals), not '%s'",
                         val);
                    continue;
                }
            } else if (strcmp(k, "status") == 0) {
                if (has_status)
                    LERR(L, kn, "duplicate key 'status'");
                has_status = true;
                if (strcmp(val, "in-force") == 0)
                    ban.status = EMB_BAN_IN_FORCE;
                else if (strcmp(val, "proposed") == 0)
                    ban.status = EMB_BAN_PROPOSED;
                else if (strcmp(val, "expired") == 0)
                    ban.status = EMB_BAN_EXPIRED;
                else
                    LERR(L, vn, "status must be in-force, proposed or expired, not '%s'", val);
                continue;
            } else {
                LERR(L, kn, "unknown ban key '%s'", k);
                continue;
            }
            if (*slot) {
                LERR(L, kn, "duplicate key '%s'", k);
                continue;
            }
            *slot = dup_or_oom(L, val);
        }
        if (ban.scope == NULL)
            ban.scope = dup_or_oom(L, "all");
        ban.applies = ban.status == EMB_BAN_IN_FORCE;
        if (ban.authority == NULL)
            LERR(L, bn, "ban has no 'authority'");
        emb_ban_t *grown = realloc(v->bans, (v->nbans + 1) * sizeof(*grown));
        if (grown == NULL) {
            L->oom = true;
            emb__ban_free(&ban);
            return;
        }
        v->bans = grown;
        v->bans[v->nbans++] = ban;
    }
    if (v->nbans > 0) {
        v->authorities = malloc(v->nbans * sizeof(char *));
        if (v->authorities == NULL) {
            L->oom = true;
            return;
        }
        for (size_t i = 0; i < v->nbans; i++)
            v->authorities[i] = v->bans[i].authority;
    }
}

static void load_document(loader_t *L, yaml_node_t *root) {
    emb_rules_t *r = L->r;
    if (root == NULL) {
        loader_error(L, 1, 1, "empty rule file");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        LERR(L, root, "a rule file must be a mapping with vendor, name, bans and rules");
        return;
    }
    if (emb__grow((void **)&r->vendors, &r->cap_vendors, r->nvendors + 1, sizeof(*r->vendors))) {
        L->oom = true;
        return;
    }
    uint32_t vidx = (uint32_t)r->nvendors++;
    emb_vendor_t *v = &r->vendors[vidx];
    memset(v, 0, sizeof(*v));
    v->file = L->file_idx;

    yaml_node_t *rules_node = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = node_get(L, p->key), *vn = node_get(L, p->value);
        const char *k = scalar(L, kn, "a top-level key");
        if (k == NULL || duplicate_key(L, root, p, kn, k))
            continue;
        if (strcmp(k, "vendor") == 0) {
            const char *s = scalar(L, vn, "vendor");
            if (s && !valid_vendor_id(s))
                LERR(L, vn, "vendor id '%s' must match [a-z0-9_-]+", s);
            else if (s) {
                for (size_t i = 0; i + 1 < r->nvendors; i++)
                    if (r->vendors[i].id && strcmp(r->vendors[i].id, s) == 0)
                        LERR(L, vn, "vendor '%s' is already defined in %s", s,
                             r->files[r->vendors[i].file]);
                free(v->id);
                v->id = dup_or_oom(L, s);
            }
        } else if (strcmp(k, "name") == 0) {
            const char *s = scalar(L, vn, "name");
            if (s) {
                free(v->name);
                v->name = dup_or_oom(L, s);
            }
        } else if (strcmp(k, "bans") == 0) {
            load_bans(L, vn, v);
        } else if (strcmp(k, "rules") == 0) {
            rules_node = vn;
        } else if (strcmp(k, "description") == 0) {
            scalar(L, vn, "description");
        } else {
            LERR(L, kn, "unknown top-level key '%s'", k);
        }
    }
    if (v->id == NULL) {
        LERR(L, root, "file has no valid 'vendor'");
        return;
    }
    if (v->name == NULL)
        v->name = dup_or_oom(L, v->id);
    if (rules_node == NULL) {
        LERR(L, root, "file has no 'rules'");
        return;
    }
    if (rules_node->type != YAML_SEQUENCE_NODE) {
        LERR(L, rules_node, "rules must be a list");
        return;
    }
    for (yaml_node_item_t *it = rules_node->data.sequence.items.start;
         it < rules_node->data.sequence.items.top; it++) {
        if (L->visited > MAX_NODES_VISITED) {
            LERR(L, rules_node, "rule file too large or too deeply aliased");
            return;
        }
        load_rule(L, node_get(L, *it), vidx);
    }
}

static void load_file(loader_t *L, const char *path) {
    emb_rules_t *r = L->r;
    if (emb__grow((void **)&r->files, &r->cap_files, r->nfiles + 1, sizeof(char *)) ||
        (r->files[r->nfiles] = emb__strdup(path)) == NULL) {
        L->oom = true;
        return;
    }
    L->file_idx = (uint32_t)r->nfiles++;
    L->file = r->files[L->file_idx];

    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        loader_error(L, 0, 0, "cannot open: %s", strerror(errno));
        return;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        L->oom = true;
        return;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column
                                   ? &parser.problem_mark
                                   : &parser.context_mark;
        loader_error(L, (unsigned)m->line + 1, (unsigned)m->column + 1, "YAML error: %s%s%s",
                     parser.problem ? parser.problem : "malformed YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(f);
        return;
    }
    L->doc = &doc;
    L->visited = 0;
    load_document(L, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);

    /* A second document in the same file is almost surely a mistake. */
    if (yaml_parser_load(&parser, &doc)) {
        yaml_node_t *extra = yaml_document_get_root_node(&doc);
        if (extra)
            LERR(L, extra, "only one YAML document per rule file");
        yaml_document_delete(&doc);
    }
    L->doc = NULL;
    yaml_parser_delete(&parser);
    fclose(f);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_yaml_suffix(const char *name) {
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static void load_dir(loader_t *L, const char *path) {
    DIR *d = opendir(path);
    if (d == NULL) {
        emb__diag_add(L->diags, path, 0, 0, "cannot open directory: %s", strerror(errno));
        L->nerrors++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* pack.yaml is the pack's manifest (pack-tools/manifest.c), not rules */
        if (e->d_name[0] == '.' || !has_yaml_suffix(e->d_name) ||
            strcmp(e->d_name, "pack.yaml") == 0)
            continue;
        size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
        char *full = malloc(len);
        if (full == NULL || emb__grow((void **)&names, &cap, n + 1, sizeof(char *))) {
            free(full);
            L->oom = true;
            break;
        }
        snprintf(full, len, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_str);
    if (n == 0 && !L->oom) {
        emb__diag_add(L->diags, path, 0, 0, "no *.yaml rule files in directory");
        L->nerrors++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!L->oom)
            load_file(L, names[i]);
        free(names[i]);
    }
    free(names);
}

int emb_rules_load(const char *path, emb_rules_t **out, emb_diags_t **diags) {
    if (diags)
        *diags = NULL;
    *out = NULL;
    if (path == NULL)
        return EMB_EINVAL;

    emb_rules_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return EMB_ENOMEM;
    emb_diags_t *local = NULL;
    loader_t L = {.r = r, .diags = &local};

    struct stat st;
    if (stat(path, &st) != 0) {
        emb__diag_add(&local, path, 0, 0, "cannot read rules: %s", strerror(errno));
        L.nerrors++;
    } else if (S_ISDIR(st.st_mode)) {
        load_dir(&L, path);
    } else {
        load_file(&L, path);
    }

    int rc = 0;
    if (L.oom)
        rc = EMB_ENOMEM;
    else if (L.nerrors > 0)
        rc = EMB_ERULES;
    else if (r->nrules == 0) {
        emb__diag_add(&local, path, 0, 0, "no rules loaded");
        rc = EMB_ERULES;
    }
    if (rc != 0) {
        emb_rules_free(r);
        emb__diags_give(local, diags);
        return rc;
    }
    emb_diags_free(local);
    (void)emb_rules_select(r, NULL, NULL, false, NULL, 0); /* every ban in force */
    *out = r;
    return 0;
}

void emb_rules_free(emb_rules_t *r) {
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    for (size_t i = 0; i < r->nvendors; i++) {
        emb_vendor_t *v = &r->vendors[i];
        free(v->id);
        free(v->name);
        for (size_t j = 0; j < v->nbans; j++) {
            emb__ban_free(&v->bans[j]);
        }
        free(v->bans);
        free(v->authorities);
    }
    free(r->vendors);
    for (size_t i = 0; i < r->nrules; i++) {
        emb_rule_t *ru = &r->rules[i];
        free(ru->msg);
        free(ru->product);
        for (size_t j = 0; j < ru->nrefs; j++)
            free(ru->refs[j]);
        free(ru->refs);
    }
    free(r->rules);
    free(r->alts);
    for (size_t i = 0; i < r->ninds; i++)
        free(r->inds[i].text);
    free(r->inds);
    free(r);
}

void emb_rules_summary(const emb_rules_t *r, emb_rules_summary_t *out) {
    memset(out, 0, sizeof(*out));
    if (r == NULL)
        return;
    out->files = r->nfiles;
    out->vendors = r->nvendors;
    out->rules = r->nrules;
    out->alternatives = r->nalts;
    for (size_t i = 0; i < r->nrules; i++)
        out->rules_per_channel[r->rules[i].channel]++;
    for (size_t i = 0; i < r->ninds; i++)
        out->indicators_per_key[r->inds[i].key]++;
}

int emb_rules_vendor(const emb_rules_t *r, size_t i, const char **id, const char **name,
                     size_t *nrules) {
    if (r == NULL || i >= r->nvendors)
        return EMB_EINVAL;
    if (id)
        *id = r->vendors[i].id;
    if (name)
        *name = r->vendors[i].name;
    if (nrules)
        *nrules = r->vendors[i].nrules;
    return 0;
}

uint32_t emb_rules_sid(const emb_rules_t *r, size_t i) {
    return r != NULL && i < r->nrules ? r->rules[i].sid : 0;
}
