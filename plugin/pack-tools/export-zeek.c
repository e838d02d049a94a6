/*
 * The pack as a Zeek Intel framework file (docs/export.md): one line per
 * address, block or whole name; what Intel cannot say (substrings, regexes,
 * ports, subdomains, device keys) is noted instead.
 */
#include "pack-tools/export-zeek.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* A field of the tab-separated file: tabs and newlines become spaces. */
static void put_zeek_field(sbuf_t *b, const char *s) {
    if (s == NULL || *s == '\0') {
        SB_LIT(b, "-");
        return;
    }
    for (; *s; s++) {
        char c = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
        emb__sb_put(b, &c, 1);
    }
}

static void zeek_line(exp_t *X, const emb_rule_t *ru, const char *indicator, const char *type) {
    const emb_vendor_t *v = &X->r->vendors[ru->vendor];
    sbuf_t *b = &X->line;
    put_zeek_field(b, indicator);
    emb__sb_printf(b, "\t%s\tembargo:%u\t", type, ru->sid);
    char desc[600];
    snprintf(desc, sizeof(desc), "%s %s: %s", v->id, emb_channel_name(ru->channel), ru->msg);
    put_zeek_field(b, desc);
    SB_LIT(b, "\t");
    put_zeek_field(b, ru->nrefs > 0 ? ru->refs[0] : NULL);
    SB_LIT(b, "\n");
    emb__export_flush(X);
}

static void export_alt_zeek(exp_t *X, const emb_rule_t *ru, const emb_alt_t *alt) {
    const emb_rules_t *r = X->r;
    if (alt->ncond != 1) {
        emb__export_note(
            X, alt->file, alt->line, alt->col,
            "zeek-intel: rule %u: an alternative of several keys (Intel items match alone)",
            ru->sid);
        return;
    }
    const emb_cond_t *c = &alt->cond[0];
    if (emb__export_device_alt(alt)) {
        emb__export_note(X, alt->file, alt->line, alt->col,
                         "zeek-intel: rule %u: a device key has no Intel type (docs/export.md)",
                         ru->sid);
        return;
    }
    size_t subdomains = 0;
    for (uint32_t i = c->first; i < c->first + c->count && X->rc == 0; i++) {
        const emb_indicator_t *ind = &r->inds[i];
        if (c->key == EMB_K_IP) {
            char addr[64];
            const emb_cidr_t *cd = &ind->cidr;
            const char *pfx = NULL;
            if (cd->family == 4) {
                snprintf(addr, sizeof(addr), "%u.%u.%u.%u", cd->addr[0], cd->addr[1], cd->addr[2],
                         cd->addr[3]);
            } else if (inet_ntop(AF_INET6, cd->addr, addr, sizeof(addr)) == NULL) {
                addr[0] = '\0';
            }
            bool host = cd->plen == (cd->family == 4 ? 32 : 128);
            char full[80];
            snprintf(full, sizeof(full), "%s/%u", addr, cd->plen);
            pfx = host ? addr : full;
            zeek_line(X, ru, pfx, host ? "Intel::ADDR" : "Intel::SUBNET");
        } else if (c->key == EMB_K_DOMAIN && ind->kind != EMB_PAT_REGEX &&
                   !emb__export_has_star(ind)) {
            char name[300];
            snprintf(name, sizeof(name), "%.*s", (int)ind->len, ind->text);
            zeek_line(X, ru, name, "Intel::DOMAIN");
            if (ind->kind == EMB_PAT_DOMAIN)
                subdomains++;
        } else if (c->key == EMB_K_DOMAIN) {
            emb__export_note(
                X, ind->file, ind->line, ind->col,
                "zeek-intel: %s domain pattern (Intel::DOMAIN matches whole names only)",
                ind->kind == EMB_PAT_REGEX ? "a regex" : "a wildcard");
        } else if (c->key == EMB_K_PORT) {
            emb__export_note(X, ind->file, ind->line, ind->col,
                             "zeek-intel: a port (Intel has no port type)");
        } else {
            emb__export_note(X, ind->file, ind->line, ind->col,
                             "zeek-intel: %s %s (Intel items are whole values, not %s)",
                             emb_key_name(c->key),
                             ind->kind == EMB_PAT_REGEX ? "regex" : "substring",
                             ind->kind == EMB_PAT_REGEX ? "regexes" : "substrings");
        }
    }
    if (subdomains > 0) {
        const emb_indicator_t *first = &r->inds[c->first];
        emb__export_note(
            X, first->file, first->line, first->col,
            "zeek-intel: the subdomains of %zu domain pattern%s (Intel::DOMAIN matches whole "
            "names; the names themselves are exported)",
            subdomains, subdomains == 1 ? "" : "s");
    }
}

int emb__export_zeek(exp_t *X) {
    const emb_rules_t *r = X->r;
    emb__sb_printf(&X->line,
                   "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
    emb__export_flush(X);
    for (size_t i = 0; i < r->nrules && X->rc == 0; i++) {
        const emb_rule_t *ru = &r->rules[i];
        if (emb__export_skips(X, ru))
            continue;
        for (uint32_t a = 0; a < ru->nalts && X->rc == 0; a++) {
            const emb_alt_t *alt = &r->alts[ru->first_alt + a];
            bool ip_port = false;
            for (uint32_t c = 0; c < alt->ncond; c++)
                ip_port |= alt->cond[c].key == EMB_K_IP;
            if (ip_port && alt->ncond > 1) {
                emb__export_note(
                    X, alt->file, alt->line, alt->col,
                    "zeek-intel: rule %u: addresses with a port (Intel has no port type; "
                    "exporting the addresses alone would say more than the rule)",
                    ru->sid);
                continue;
            }
            export_alt_zeek(X, ru, alt);
        }
    }
    return X->rc;
}
