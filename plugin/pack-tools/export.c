/*
 * Writes a loaded pack in other tools' languages: Suricata 7 rules, a Zeek
 * Intel framework file (docs/export.md has the mapping and its limits), and
 * Suricata 8 rules for embargo.so's `embargo` keyword (docs/suricata.md).
 *
 * Suricata cannot say "any of these patterns" inside one rule, nor "any of
 * these fields", so an embargo alternative becomes several Suricata rules:
 * one per buffer the alternative can be seen in (DNS query, TLS SNI, HTTP
 * Host, QUIC SNI, certificate subject) times one pattern of each key. They
 * all set and test one flowbit named after the embargo sid, which keeps
 * embargo's "one alert per rule per flow". The Suricata sid of the n-th rule
 * written for embargo sid S is S * 1000 + n; the embargo sid is in metadata.
 * The line writer is export-writer.c, the Zeek Intel file export-zeek.c.
 */
#include "pack-tools/export-writer.h"
#include "pack-tools/export-zeek.h"

#include "common/util.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SID_FACTOR 1000u
#define MAX_RULES_PER_ALT 1000

/* ---- Suricata: escaping ------------------------------------------------ */

/* A content string: printable bytes as they are, the rest and the bytes
 * Suricata's rule parser treats specially (" ; \ |) as |hex|. */
static void put_content(sbuf_t *b, const char *s, size_t n) {
    bool in_hex = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\' && c != '|';
        if (plain && in_hex) {
            SB_LIT(b, "|");
            in_hex = false;
        } else if (!plain) {
            emb__sb_printf(b, in_hex ? " %02X" : "|%02X", c);
            in_hex = true;
            continue;
        }
        emb__sb_put(b, (const char *)&c, 1);
    }
    if (in_hex)
        SB_LIT(b, "|");
}

/* Text inside msg:"..." or pcre:"...": escape " ; and \ as Suricata wants. */
static void put_escaped(sbuf_t *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == ';' || c == '\\')
            SB_LIT(b, "\\");
        emb__sb_put(b, &c, 1);
    }
}

/* A regex inside pcre:"/.../": Suricata's rule parser wants " and ; escaped;
 * backslashes stay as they are (they are the regex's). */
static void put_pcre_text(sbuf_t *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == ';' || (c == '/' && (i == 0 || s[i - 1] != '\\')))
            SB_LIT(b, "\\");
        emb__sb_put(b, &c, 1);
    }
}

/* A domain pattern as a PCRE fragment: literals escaped, '*' as [^.]*. */
static void put_domain_regex(sbuf_t *b, const emb_indicator_t *ind) {
    for (size_t i = 0; i < ind->len; i++) {
        char c = ind->text[i];
        if (c == '*')
            SB_LIT(b, "[^.]*");
        else if (c == '.')
            SB_LIT(b, "\\.");
        else
            emb__sb_put(b, &c, 1); /* letters, digits, - and _ only (the loader's rule) */
    }
}

/* The last '*' of s[0..n), or NULL. */
static const char *last_star(const char *s, size_t n) {
    while (n > 0)
        if (s[--n] == '*')
            return s + n;
    return NULL;
}

/* ---- Suricata: contexts ------------------------------------------------ */

/* A place Suricata reads fields from, and the protocol of its rules. */
typedef enum { CX_DNS, CX_TLS, CX_CERT, CX_QUIC, CX_HTTP, CX_RAW, CX__COUNT } ctx_t;

static const char *const ctx_proto[CX__COUNT] = {"dns", "tls", "tls", "quic", "http", NULL};

/* The sticky buffer key `k` is read from in context `cx`; NULL if none. */
static const char *buffer_for(emb_key_t k, ctx_t cx) {
    switch (k) {
    case EMB_K_DOMAIN:
        return cx == CX_DNS    ? "dns.query"
               : cx == CX_TLS  ? "tls.sni"
               : cx == CX_CERT ? "tls.cert_subject"
               : cx == CX_QUIC ? "quic.sni"
               : cx == CX_HTTP ? "http.host"
                               : NULL;
    case EMB_K_DNS_QUERY: return cx == CX_DNS ? "dns.query" : NULL;
    case EMB_K_TLS_SNI: return cx == CX_TLS ? "tls.sni" : NULL;
    case EMB_K_TLS_CERT_SUBJECT: return cx == CX_CERT ? "tls.cert_subject" : NULL;
    case EMB_K_TLS_CERT_ISSUER: return cx == CX_CERT ? "tls.cert_issuer" : NULL;
    case EMB_K_HTTP_HOST: return cx == CX_HTTP ? "http.host" : NULL;
    case EMB_K_HTTP_URI: return cx == CX_HTTP ? "http.uri.raw" : NULL;
    case EMB_K_HTTP_USER_AGENT: return cx == CX_HTTP ? "http.user_agent" : NULL;
    case EMB_K_QUIC_SNI: return cx == CX_QUIC ? "quic.sni" : NULL;
    case EMB_K_JA4: return cx == CX_TLS || cx == CX_QUIC ? "ja4.hash" : NULL;
    case EMB_K_PAYLOAD: return ""; /* the packet or stream, no sticky buffer */
    default: return NULL;
    }
}

/* Whether the context's transport is TCP (6), UDP (17) or either (0). */
static int ctx_transport(ctx_t cx) {
    return cx == CX_QUIC ? 17 : cx == CX_DNS || cx == CX_RAW ? 0 : 6;
}

static bool lowercased(emb_key_t k) {
    return k == EMB_K_DOMAIN || k == EMB_K_DNS_QUERY || k == EMB_K_TLS_SNI ||
           k == EMB_K_HTTP_HOST || k == EMB_K_QUIC_SNI;
}

/* ---- Suricata: one rule ------------------------------------------------ */

typedef struct {
    const emb_rule_t *rule;
    const emb_alt_t *alt;
    uint32_t alt_index;
    uint32_t *n; /* rules written so far for this embargo rule */
} rule_ctx_t;

/* True when some label matches both globs ('*': any run inside a label). */
static bool globs_meet(const char *a, size_t an, const char *b, size_t bn) {
    if (an == 0 || bn == 0) {
        const char *rest = an ? a : b;
        size_t n = an ? an : bn;
        for (size_t i = 0; i < n; i++)
            if (rest[i] != '*')
                return false;
        return true;
    }
    if (a[0] == '*')
        return globs_meet(a + 1, an - 1, b, bn) || globs_meet(a, an, b + 1, bn - 1);
    if (b[0] == '*')
        return globs_meet(a, an, b + 1, bn - 1) || globs_meet(a + 1, an - 1, b, bn);
    return a[0] == b[0] && globs_meet(a + 1, an - 1, b + 1, bn - 1);
}

/* True when some name matches both domain patterns, label by label from the right. */
static bool names_overlap(const emb_indicator_t *p, const emb_indicator_t *q) {
    size_t pe = p->len, qe = q->len;
    for (;;) {
        size_t ps = pe, qs = qe;
        while (ps > 0 && p->text[ps - 1] != '.')
            ps--;
        while (qs > 0 && q->text[qs - 1] != '.')
            qs--;
        if (!globs_meet(p->text + ps, pe - ps, q->text + qs, qe - qs))
            return false;
        bool pdone = ps == 0, qdone = qs == 0;
        if (pdone && qdone)
            return true;
        /* One ran out of labels: the other's extra labels are a subdomain of it. */
        if (pdone)
            return p->kind == EMB_PAT_DOMAIN;
        if (qdone)
            return q->kind == EMB_PAT_DOMAIN;
        pe = ps - 1;
        qe = qs - 1;
    }
}

/* Domain patterns of the same vendor that beat `ind` (of rule `ru`) on a name
 * they both match: a product rule over a `web` one, a longer pattern over a
 * shorter one. Suricata fires both, so the loser's rule excludes them. */
static bool outranks(const emb_rules_t *r, const emb_rule_t *ru, const emb_indicator_t *ind,
                     uint32_t qi, const emb_alt_t *qalt) {
    const emb_indicator_t *q = &r->inds[qi];
    const emb_rule_t *qr = &r->rules[qalt->rule];
    if (qr == ru || qr->vendor != ru->vendor || q->key != EMB_K_DOMAIN ||
        q->kind == EMB_PAT_REGEX || qalt->ncond != 1)
        return false;
    bool wins = (ru->channel == EMB_CH_WEB && qr->channel != EMB_CH_WEB) || q->len > ind->len;
    if (!wins)
        return false;
    return names_overlap(ind, q);
}

/* pcre:!"/(?:(?:^|\.)a|^b)$/i" of the patterns that outrank `ind`; `dotted`: the
 * buffer went through dotprefix. */
static void put_exclusions(exp_t *X, sbuf_t *b, const emb_rule_t *ru, const emb_indicator_t *ind,
                           bool dotted, bool ci) {
    const emb_rules_t *r = X->r;
    bool any = false;
    for (uint32_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *qalt = &r->alts[a];
        const emb_cond_t *c = &qalt->cond[0];
        for (uint32_t i = c->first; i < c->first + c->count; i++) {
            if (&r->inds[i] == ind || !outranks(r, ru, ind, i, qalt))
                continue;
            const emb_indicator_t *q = &r->inds[i];
            emb__sb_puts(b, any ? "|" : " pcre:!\"/(?:");
            emb__sb_puts(b, q->kind == EMB_PAT_DOMAIN ? "(?:^|\\.)" : dotted ? "^\\." : "^");
            put_domain_regex(b, q);
            any = true;
        }
    }
    if (any)
        emb__sb_puts(b, ci ? ")$/i\";" : ")$/\";");
}

/* The match of one string indicator on the current sticky buffer. */
static void put_match(exp_t *X, sbuf_t *b, const emb_rule_t *ru, const emb_indicator_t *ind,
                      ctx_t cx) {
    bool lc = lowercased(ind->key);
    /* Suricata lower-cases http.host itself and refuses nocase and /i on it. */
    bool ci = !(cx == CX_HTTP && (ind->key == EMB_K_DOMAIN || ind->key == EMB_K_HTTP_HOST));
    if (ind->key == EMB_K_DOMAIN && cx == CX_CERT) {
        /* The subject's CN, as Suricata renders a DN: "C=.., O=.., CN=name". */
        SB_LIT(b, " content:\"CN=\"; pcre:\"/(?:^|, )CN=");
        if (ind->kind == EMB_PAT_DOMAIN)
            SB_LIT(b, "(?:[^,]*\\.)?");
        put_domain_regex(b, ind);
        SB_LIT(b, "(?:,|$)/i\";");
        return;
    }
    if (ind->kind == EMB_PAT_REGEX) {
        /* Hyperscan syntax is PCRE's for what a rule uses; names are lower-cased first. */
        if (lc)
            SB_LIT(b, " to_lowercase;");
        SB_LIT(b, " pcre:\"/");
        put_pcre_text(b, ind->text, ind->len);
        SB_LIT(b, "/\";");
        return;
    }
    if (ind->kind == EMB_PAT_DOMAIN || ind->kind == EMB_PAT_DOMAIN_EXACT) {
        if (emb__export_has_star(ind)) {
            /* Fast pattern: the literal tail after the last '*'. */
            const char *star = last_star(ind->text, ind->len);
            size_t tail = ind->len - (size_t)(star + 1 - ind->text);
            if (tail >= 3) {
                SB_LIT(b, " content:\"");
                put_content(b, star + 1, tail);
                emb__sb_puts(b, ci ? "\"; nocase;" : "\";");
            }
            emb__sb_puts(b, ind->kind == EMB_PAT_DOMAIN ? " pcre:\"/(?:^|\\.)" : " pcre:\"/^");
            put_domain_regex(b, ind);
            emb__sb_puts(b, ci ? "$/i\";" : "$/\";");
        } else if (ind->kind == EMB_PAT_DOMAIN) {
            SB_LIT(b, " dotprefix; content:\".");
            put_content(b, ind->text, ind->len);
            emb__sb_puts(b, ci ? "\"; nocase; endswith;" : "\"; endswith;");
        } else {
            SB_LIT(b, " content:\"");
            put_content(b, ind->text, ind->len);
            emb__sb_puts(b, ci ? "\"; nocase; startswith; endswith;" : "\"; startswith; endswith;");
        }
        put_exclusions(X, b, ru, ind, ind->kind == EMB_PAT_DOMAIN && !emb__export_has_star(ind),
                       ci);
        return;
    }
    SB_LIT(b, " content:\"");
    put_content(b, ind->text, ind->len);
    emb__sb_puts(b, lc && ci ? "\"; nocase;" : "\";");
}

/* "[a,b]" of the alternative's CIDRs, or "any". */
static void put_addrs(sbuf_t *b, const emb_rules_t *r, const emb_cond_t *ipc) {
    if (ipc == NULL) {
        SB_LIT(b, "any");
        return;
    }
    SB_LIT(b, "[");
    for (uint32_t i = ipc->first; i < ipc->first + ipc->count; i++) {
        char addr[64];
        const emb_cidr_t *c = &r->inds[i].cidr;
        if (c->family == 4)
            snprintf(addr, sizeof(addr), "%u.%u.%u.%u", c->addr[0], c->addr[1], c->addr[2],
                     c->addr[3]);
        else if (inet_ntop(AF_INET6, c->addr, addr, sizeof(addr)) == NULL)
            addr[0] = '\0';
        emb__sb_printf(b, "%s%s/%u", i > ipc->first ? "," : "", addr, c->plen);
    }
    SB_LIT(b, "]");
}

/* "[80,443,1000:2000]" of the port conditions for transport `proto`; false if
 * none applies. `portc` NULL: "any". */
static bool put_ports(sbuf_t *b, const emb_rules_t *r, const emb_cond_t *portc, int proto) {
    if (portc == NULL) {
        SB_LIT(b, "any");
        return true;
    }
    size_t n = 0;
    for (uint32_t i = portc->first; i < portc->first + portc->count; i++) {
        const emb_portrange_t *p = &r->inds[i].ports;
        if (p->proto != 0 && proto != 0 && p->proto != proto)
            continue;
        emb__sb_put(b, n++ ? "," : "[", 1);
        if (p->lo == p->hi)
            emb__sb_printf(b, "%u", p->lo);
        else
            emb__sb_printf(b, "%u:%u", p->lo, p->hi);
    }
    if (n == 0)
        return false;
    SB_LIT(b, "]");
    return true;
}

/* Which ports' transports appear in a port condition: bit 0 tcp, bit 1 udp. */
static unsigned port_transports(const emb_rules_t *r, const emb_cond_t *portc) {
    if (portc == NULL)
        return 3;
    unsigned t = 0;
    for (uint32_t i = portc->first; i < portc->first + portc->count; i++) {
        uint8_t p = r->inds[i].ports.proto;
        t |= p == 6 ? 1u : p == 17 ? 2u : 3u;
    }
    return t;
}

typedef struct {
    const char *proto; /* header protocol */
    int transport;     /* for the port list */
    int side;          /* 0 no ip; 1 server in the list; 2 client in the list; 3 either (<>) */
    bool to_server;    /* flow:to_server */
    bool to_client;    /* the field comes from the server (certificates): flow:to_client */
} header_t;

/* Writes one complete rule; `pick[c]` is the indicator chosen for condition c. */
static void write_rule(exp_t *X, rule_ctx_t *rc, ctx_t cx, const header_t *h,
                       const uint32_t *pick) {
    const emb_rules_t *r = X->r;
    const emb_rule_t *ru = rc->rule;
    const emb_alt_t *alt = rc->alt;
    const emb_vendor_t *v = &r->vendors[ru->vendor];
    const emb_cond_t *ipc = NULL, *portc = NULL;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        if (alt->cond[c].key == EMB_K_IP)
            ipc = &alt->cond[c];
        else if (alt->cond[c].key == EMB_K_PORT)
            portc = &alt->cond[c];
    }
    if (*rc->n >= SID_FACTOR || ru->sid > (UINT32_MAX - (SID_FACTOR - 1)) / SID_FACTOR) {
        if (*rc->n == SID_FACTOR || ru->sid > (UINT32_MAX - (SID_FACTOR - 1)) / SID_FACTOR)
            emb__export_note(
                X, alt->file, alt->line, alt->col,
                "rule %u: Suricata sids are sid*%u+n, which does not fit (too many rules, or "
                "sid too large)",
                ru->sid, SID_FACTOR);
        (*rc->n)++;
        return;
    }
    sbuf_t *b = &X->line;
    emb__sb_printf(b, "alert %s ", h->proto);
    if (h->to_client) {
        /* The server speaks: its address and port are the source. */
        put_addrs(b, r, h->side == 1 ? ipc : NULL);
        SB_LIT(b, " ");
        put_ports(b, r, portc, h->transport);
        SB_LIT(b, " -> ");
        put_addrs(b, r, h->side == 2 ? ipc : NULL);
        SB_LIT(b, " any");
    } else if (h->side == 2) {
        put_addrs(b, r, ipc);
        SB_LIT(b, " any -> any ");
    } else {
        SB_LIT(b, "any any ");
        emb__sb_put(b, h->side == 3 ? "<> " : "-> ", 3);
        put_addrs(b, r, h->side == 0 ? NULL : ipc);
        SB_LIT(b, " ");
    }
    if (!h->to_client)
        put_ports(b, r, portc, h->transport);
    SB_LIT(b, " (msg:\"");
    put_escaped(b, ru->msg, strlen(ru->msg));
    SB_LIT(b, "\";");
    if (h->to_server)
        SB_LIT(b, " flow:to_server;");
    else if (h->to_client)
        SB_LIT(b, " flow:to_client;");

    /* Payload first (no sticky buffer), then each buffer. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t c = 0; c < alt->ncond; c++) {
            emb_key_t k = alt->cond[c].key;
            if (k == EMB_K_IP || k == EMB_K_PORT || (pass == 0) != (k == EMB_K_PAYLOAD))
                continue;
            const char *buf = buffer_for(k, cx);
            if (buf[0])
                emb__sb_printf(b, " %s;", buf);
            put_match(X, b, ru, &r->inds[pick[c]], cx);
        }
    }
    emb__sb_printf(b, " flowbits:isnotset,embargo.%u; flowbits:set,embargo.%u;", ru->sid, ru->sid);
    emb__sb_printf(b, " priority:%d; classtype:policy-violation;", ru->severity);
    emb__sb_printf(
        b, " metadata:embargo_sid %u, embargo_alt %u, vendor %s, channel %s, confidence %s;",
        ru->sid, rc->alt_index, v->id, emb_channel_name(ru->channel),
        emb__confidence_name(ru->confidence));
    emb__sb_printf(b, " sid:%u; rev:%u;)\n", ru->sid * SID_FACTOR + *rc->n, ru->rev);
    (*rc->n)++;
    emb__export_flush(X);
}

/* Every combination of one indicator per content condition, in order. */
static void write_product(exp_t *X, rule_ctx_t *rc, ctx_t cx, const header_t *h) {
    const emb_alt_t *alt = rc->alt;
    uint32_t pick[EMB_K__COUNT] = {0}, idx[EMB_K__COUNT] = {0};
    size_t total = 1;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        emb_key_t k = alt->cond[c].key;
        if (k != EMB_K_IP && k != EMB_K_PORT)
            total *= alt->cond[c].count;
    }
    if (total > MAX_RULES_PER_ALT) {
        emb__export_note(
            X, alt->file, alt->line, alt->col,
            "rule %u: %zu combinations of its patterns would need as many Suricata rules",
            rc->rule->sid, total);
        return;
    }
    for (size_t t = 0; t < total && X->rc == 0; t++) {
        for (uint32_t c = 0; c < alt->ncond; c++)
            pick[c] = alt->cond[c].first + idx[c];
        write_rule(X, rc, cx, h, pick);
        /* next combination: an odometer over the content conditions */
        for (uint32_t c = 0; c < alt->ncond; c++) {
            emb_key_t k = alt->cond[c].key;
            if (k == EMB_K_IP || k == EMB_K_PORT)
                continue;
            if (++idx[c] < alt->cond[c].count)
                break;
            idx[c] = 0;
        }
    }
}

/* The headers for transport `tr` (0 both, 6, 17) given the ip condition. */
static void write_with_headers(exp_t *X, rule_ctx_t *rc, ctx_t cx, const char *proto, int tr,
                               bool has_ip, bool to_server) {
    header_t h = {proto, tr, 0, to_server && cx != CX_CERT, cx == CX_CERT};
    if (!has_ip) {
        write_product(X, rc, cx, &h);
        return;
    }
    if (!to_server) {
        h.side = 3; /* either direction: one rule */
        write_product(X, rc, cx, &h);
        return;
    }
    h.side = 1;
    write_product(X, rc, cx, &h);
    h.side = 2;
    write_product(X, rc, cx, &h);
}

static void export_alt_suricata(exp_t *X, const emb_rule_t *ru, uint32_t ai, uint32_t *n) {
    const emb_rules_t *r = X->r;
    const emb_alt_t *alt = &r->alts[ru->first_alt + ai];
    rule_ctx_t rc = {ru, alt, ai, n};
    const emb_cond_t *portc = NULL;
    bool has_ip = false, content = false, only_payload = true;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        emb_key_t k = alt->cond[c].key;
        if (k == EMB_K_PORT)
            portc = &alt->cond[c];
        else if (k == EMB_K_IP)
            has_ip = true;
        else {
            content = true;
            if (k != EMB_K_PAYLOAD)
                only_payload = false;
        }
    }
    unsigned trs = port_transports(r, portc);

    if (!content || only_payload) {
        /* ip/port only: the flow's server port, as embargo. Payload: either direction. */
        for (int t = 0; t < 2; t++) {
            if (!(trs & (1u << t)))
                continue;
            write_with_headers(X, &rc, CX_RAW, t == 0 ? "tcp" : "udp", t == 0 ? 6 : 17, has_ip,
                               !content || portc != NULL);
        }
        return;
    }
    bool any = false;
    for (int cx = 0; cx < CX_RAW; cx++) {
        bool ok = true;
        for (uint32_t c = 0; c < alt->ncond && ok; c++) {
            emb_key_t k = alt->cond[c].key;
            if (k != EMB_K_IP && k != EMB_K_PORT && buffer_for(k, (ctx_t)cx) == NULL)
                ok = false;
        }
        if (!ok)
            continue;
        int tr = ctx_transport((ctx_t)cx);
        bool tr_ok = tr == 0 ? trs != 0 : (trs & (tr == 6 ? 1u : 2u)) != 0;
        if (!tr_ok)
            continue;
        any = true;
        /* App-layer buffers are read from the client's messages: the port is
         * the destination of the packet that carries them. */
        write_with_headers(X, &rc, (ctx_t)cx, ctx_proto[cx], tr, has_ip, true);
    }
    if (!any)
        emb__export_note(X, alt->file, alt->line, alt->col, "rule %u: %s", ru->sid,
                         emb__export_device_alt(alt)
                             ? "a device key has no Suricata rule keyword (docs/export.md)"
                             : "its keys are never read from one message (see `embargo rules "
                               "check`)");
}

/* Notes for what the Suricata rules of an alternative do not cover. */
static void note_suricata_limits(exp_t *X, const emb_alt_t *alt) {
    const emb_rules_t *r = X->r;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        const emb_cond_t *cond = &alt->cond[c];
        for (uint32_t i = cond->first; i < cond->first + cond->count; i++) {
            const emb_indicator_t *ind = &r->inds[i];
            if (ind->key == EMB_K_DOMAIN && ind->kind == EMB_PAT_REGEX)
                emb__export_note(
                    X, ind->file, ind->line, ind->col,
                    "domain regex on certificate names (Suricata 7 has no SAN buffer; the "
                    "other buffers are exported)");
        }
    }
}

static int export_suricata(exp_t *X) {
    const emb_rules_t *r = X->r;
    sbuf_t *b = &X->line;
    emb__sb_printf(b,
                   "# embargo %s rule pack exported for Suricata 7 (embargo rules export --format "
                   "suricata)\n"
                   "# sid = embargo sid * %u + n; the embargo sid is in metadata embargo_sid.\n",
                   EMB_VERSION_STRING, SID_FACTOR);
    emb__export_flush(X);
    for (size_t i = 0; i < r->nrules && X->rc == 0; i++) {
        const emb_rule_t *ru = &r->rules[i];
        if (emb__export_skips(X, ru))
            continue;
        uint32_t n = 0;
        emb__sb_printf(b, "\n# %u: %s (%s, %s)\n", ru->sid, ru->msg, r->vendors[ru->vendor].id,
                       emb_channel_name(ru->channel));
        emb__export_flush(X);
        for (uint32_t a = 0; a < ru->nalts && X->rc == 0; a++) {
            export_alt_suricata(X, ru, a, &n);
            note_suricata_limits(X, &r->alts[ru->first_alt + a]);
        }
    }
    return X->rc;
}

/* ---- Suricata 8 with embargo.so ---------------------------------------- */

/* A metadata value: Suricata splits metadata at ',' and ends it at ';', and
 * the rule at an unescaped '"'; those characters are left out. */
static void put_metadata_value(sbuf_t *b, const char *s) {
    for (; *s != '\0'; s++)
        if (*s != ',' && *s != ';' && *s != '"' && *s != '\\')
            emb__sb_put(b, s, 1);
}

/* Whether DNS attribution can raise rule `i`: one of its alternatives is
 * raised by a name, which a DNS question asks (inspect.c, attribute_answers). */
static bool attributable(const emb_rules_t *r, size_t i) {
    for (size_t a = 0; a < r->nalts; a++)
        for (uint32_t c = 0; r->alts[a].rule == i && c < r->alts[a].ncond; c++)
            if (r->alts[a].cond[c].key == EMB_K_DOMAIN || r->alts[a].cond[c].key == EMB_K_DNS_QUERY)
                return true;
    return false;
}

/* One Suricata rule for pack rule `ru`; `twin`: its gid 2 twin. */
static void write_plugin_rule(exp_t *X, const emb_rule_t *ru, const char *action, bool twin) {
    const emb_rules_t *r = X->r;
    sbuf_t *b = &X->line;
    const emb_vendor_t *v = &r->vendors[ru->vendor];
    emb__sb_printf(b, "%s ip any any -> any any (msg:\"", action);
    put_escaped(b, ru->msg, strlen(ru->msg));
    emb__sb_printf(b, "\"; embargo: sid %u%s; sid:%u;%s rev:%u; priority:%d;", ru->sid,
                   twin ? ", attribution" : "", ru->sid, twin ? " gid:2;" : "", ru->rev,
                   ru->severity);
    emb__sb_printf(b, " metadata: vendor %s, channel %s", v->id, emb_channel_name(ru->channel));
    if (ru->product != NULL) {
        SB_LIT(b, ", product ");
        put_metadata_value(b, ru->product);
    }
    emb__sb_printf(b, ", confidence %s", emb__confidence_name(ru->confidence));
    for (size_t k = 0; k < v->nbans; k++) {
        if (!v->bans[k].applies)
            continue;
        SB_LIT(b, ", authority ");
        put_metadata_value(b, v->bans[k].authority);
    }
    /* Who the bans bind and what they restrict, as embargo scan's alerts say.
     * Suricata writes a key's metadata values last first: they go in reversed. */
    static const char *const term_keys[] = {"scope", "restricts", "ban_status"};
    for (int t = EMB_TERM_SCOPE; t <= EMB_TERM_STATUS; t++) {
        const char *terms[16];
        size_t n = emb__ban_terms(v, (emb_ban_term_t)t, terms, 16);
        while (n > 0)
            emb__sb_printf(b, ", %s %s", term_keys[t], terms[--n]);
    }
    SB_LIT(b, "; classtype:policy-violation;)\n");
    emb__export_flush(X);
}

/* One rule per pack rule: the `embargo` keyword carries the whole condition
 * (the engine inside Suricata evaluates every alternative), so the Suricata
 * sid is the pack's sid and nothing is left out. `action` is "alert", or
 * "drop:flow" for IPS: the engine raises a rule once per flow, so a packet-only
 * drop would let the client's retransmission of the dropped packet through.
 * A rule DNS attribution can raise has a twin of gid 2 (`embargo: sid N,
 * attribution`): Suricata evaluates a rule either on transactions or on
 * packets, and the attribution of a flow without a transaction that names its
 * server (raw TCP, SSH, a UDP protocol ...) is made on its packets
 * (docs/suricata.md, "DNS attribution of flows without transactions"). */
static int export_suricata_plugin(exp_t *X, const char *action) {
    const emb_rules_t *r = X->r;
    emb__sb_printf(
        &X->line,
        "# embargo %s rule pack for Suricata 8 with embargo.so (embargo rules export "
        "--format suricata-plugin%s)\n"
        "# Each rule fires where embargo's engine raised the pack rule of the same sid; "
        "gid 2: by DNS attribution\n# of a flow Suricata has no naming transaction for.\n",
        EMB_VERSION_STRING, strcmp(action, "alert") != 0 ? " --action drop" : "");
    emb__export_flush(X);
    for (size_t i = 0; i < r->nrules && X->rc == 0; i++) {
        if (emb__export_skips(X, &r->rules[i]))
            continue;
        write_plugin_rule(X, &r->rules[i], action, false);
        if (attributable(r, i) && X->rc == 0)
            write_plugin_rule(X, &r->rules[i], action, true);
    }
    return X->rc;
}

int emb_rules_export(const emb_rules_t *rules, emb_export_format_t format, emb_write_cb write,
                     void *userdata, emb_diags_t **notes) {
    if (notes)
        *notes = NULL;
    if (rules == NULL || write == NULL ||
        (format != EMB_EXPORT_SURICATA && format != EMB_EXPORT_ZEEK_INTEL &&
         format != EMB_EXPORT_SURICATA_PLUGIN && format != EMB_EXPORT_SURICATA_PLUGIN_DROP))
        return EMB_EINVAL;
    exp_t X = {.r = rules, .write = write, .ud = userdata, .notes = notes};
    int rc;
    if (format == EMB_EXPORT_SURICATA)
        rc = export_suricata(&X);
    else if (format == EMB_EXPORT_ZEEK_INTEL)
        rc = emb__export_zeek(&X);
    else
        rc = export_suricata_plugin(&X, format == EMB_EXPORT_SURICATA_PLUGIN_DROP ? "drop:flow"
                                                                                  : "alert");
    free(X.line.p);
    if (rc == EMB_ENOMEM && notes) {
        emb_diags_free(*notes);
        *notes = NULL;
    }
    return rc;
}
