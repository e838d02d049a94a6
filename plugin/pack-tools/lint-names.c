/*
 * What a normalised name can hold: the linter's check of the indicators of
 * domain-valued keys (domain, dns.query, tls.sni, http.host, quic.sni).
 *
 * The engine matches these keys against the name as common/names.c leaves
 * it: ASCII lower-cased, one trailing dot removed (and for http.host the
 * port and the brackets of an IPv6 literal). A DNS name is also rendered by
 * protocols/dns.c, label by label: a byte outside '!'..'~' (or a dot or
 * backslash inside a label) shows as \DDD, and a name never has an empty
 * label. The loader lower-cases literal and domain patterns and refuses a
 * literal that ends in a dot; what is left is the literals the renderings
 * exclude, and the regexes, which are applied as written: each is searched
 * (pack-tools/lint-regex.c) against models of the names its key can meet,
 * one constraint added at a time, and the first constraint that leaves no
 * match names the warning.
 *
 * The one stance: a name is taken never to end with a dot (nor `$` to hold
 * between a dot and a final line break). Normalisation leaves one only on a
 * raw value that ends in two dots, which no client sends for a host name; the
 * loader takes the same stance when it refuses a literal ending in a dot.
 */
#include "pack-tools/lint-names.h"

#include "common/names.h"
#include "pack-tools/lint-regex.h"

#include <stdio.h>
#include <string.h>

const char *emb__lint_show(const emb_indicator_t *ind, char *buf, size_t cap) {
    size_t n = 0;
    if (ind->kind == EMB_PAT_DOMAIN_EXACT && n + 1 < cap)
        buf[n++] = '=';
    for (size_t i = 0; i < ind->len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)ind->text[i];
        if (c >= 0x20 && c < 0x7f)
            buf[n++] = (char)c;
        else
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
    }
    buf[n] = '\0';
    return buf;
}

/* ---- verdicts ------------------------------------------------------------ */

static bool key_domain_valued(emb_key_t k) {
    return k == EMB_K_DOMAIN || k == EMB_K_DNS_QUERY || k == EMB_K_TLS_SNI ||
           k == EMB_K_HTTP_HOST || k == EMB_K_QUIC_SNI;
}

/* The first byte of `from` without which no name of `md` matches, or -1. */
static int needed_byte(const emb_rx_t *x, const emb_rx_model_t *md, const emb_bset_t *from) {
    for (unsigned c = 0; c < 256; c++) {
        if (!emb__bs_has(from, c))
            continue;
        emb_rx_model_t less = *md;
        emb__bs_del(&less.bytes, c);
        if (!emb__rx_can_match(x, &less))
            return (int)c;
    }
    return -1;
}

static bool regex_never(const emb_indicator_t *ind, const emb_rx_t *x, char *msg, size_t cap) {
    const char *kname = emb_key_name(ind->key);
    char shown[300];
    emb__lint_show(ind, shown, sizeof(shown));
    emb_rx_model_t md = {.labels = false, .no_end_dot = false};
    memset(&md.bytes, 0xff, sizeof(md.bytes));
    if (!emb__rx_can_match(x, &md))
        return false; /* matches nothing at all: Hyperscan's to say */

    emb_bset_t upper = {{0}};
    emb__bs_range(&upper, 'A', 'Z');
    emb_rx_model_t all = md;
    for (unsigned u = 'A'; u <= 'Z'; u++)
        emb__bs_del(&md.bytes, u);
    int c;
    if (!emb__rx_can_match(x, &md)) {
        char what[32] = "an upper-case letter";
        if ((c = needed_byte(x, &all, &upper)) >= 0)
            snprintf(what, sizeof(what), "the upper-case '%c'", c);
        snprintf(msg, cap,
                 "%s regex 're:%s' needs %s, but %s is lower-cased before matching: it can never "
                 "match there (write it in lower case or add (?i))",
                 kname, shown, what, kname);
        return true;
    }
    if (ind->key == EMB_K_DNS_QUERY) {
        emb_bset_t shown_as_ddd = md.bytes;
        emb_bset_t printable = {{0}};
        emb__bs_range(&printable, 0x21, 0x7e);
        for (int i = 0; i < 4; i++) {
            shown_as_ddd.w[i] &= ~printable.w[i];
            md.bytes.w[i] &= printable.w[i];
        }
        if (!emb__rx_can_match(x, &md)) {
            emb_rx_model_t wider = md;
            for (int i = 0; i < 4; i++)
                wider.bytes.w[i] |= shown_as_ddd.w[i];
            c = needed_byte(x, &wider, &shown_as_ddd);
            if (c >= 0)
                snprintf(msg, cap,
                         "dns.query regex 're:%s' needs byte 0x%02x, which a DNS name shows as "
                         "\\%03d: it can never match",
                         shown, c, c);
            else
                snprintf(msg, cap,
                         "dns.query regex 're:%s' needs a space, control or non-ASCII byte, which "
                         "a DNS name shows as \\DDD: it can never match",
                         shown);
            return true;
        }
        md.labels = true;
        if (!emb__rx_can_match(x, &md)) {
            snprintf(msg, cap,
                     "dns.query regex 're:%s' needs an empty label (a leading dot or two dots in "
                     "a row), which a DNS name never has: it can never match",
                     shown);
            return true;
        }
    }
    md.no_end_dot = true;
    if (!emb__rx_can_match(x, &md)) {
        snprintf(msg, cap,
                 "%s regex 're:%s' needs a dot at the end of the name, but names are matched "
                 "without their trailing dot: it can never match",
                 kname, shown);
        return true;
    }
    return false;
}

/* Literal patterns: the loader lower-cased them and refused a trailing dot. */
static bool literal_never(const emb_indicator_t *ind, char *msg, size_t cap) {
    char shown[300];
    emb__lint_show(ind, shown, sizeof(shown));
    if (ind->key == EMB_K_DNS_QUERY) {
        for (size_t i = 0; i < ind->len; i++) {
            unsigned char c = (unsigned char)ind->text[i];
            if (c <= 0x20 || c >= 0x7f) {
                snprintf(msg, cap,
                         "dns.query '%s' holds byte 0x%02x, which a DNS name shows as \\%03u: it "
                         "can never match",
                         shown, c, c);
                return true;
            }
        }
        if (strstr(ind->text, "..") != NULL) {
            snprintf(msg, cap,
                     "dns.query '%s' has an empty label: a DNS name never does, it can never match",
                     shown);
            return true;
        }
    }
    if (ind->key == EMB_K_HTTP_HOST) {
        /* The engine drops ":port" from the Host value before matching. What
         * comes before the colon might be the end of an IPv6 literal, whose
         * colons stay, unless it holds a byte (a dot too) that no IPv6
         * address has before a colon. */
        size_t name_len, port;
        emb__host_split((const uint8_t *)ind->text, ind->len, &name_len, &port);
        bool v6 = true;
        for (size_t i = 0; i < name_len && v6; i++)
            v6 = strchr("0123456789abcdef", ind->text[i]) != NULL;
        if (name_len < ind->len && ind->text[0] != '[' && !v6) {
            snprintf(msg, cap,
                     "http.host '%s' has a port, but the port is removed from Host before "
                     "matching: it can never match (use a port condition)",
                     shown);
            return true;
        }
    }
    return false;
}

bool emb__lint_name_never(const emb_indicator_t *ind, char *msg, size_t cap) {
    if (!key_domain_valued(ind->key))
        return false;
    if (ind->kind != EMB_PAT_REGEX)
        return ind->key != EMB_K_DOMAIN && literal_never(ind, msg, cap);
    emb_rx_t *rx = emb__rx_read(ind->text, ind->len);
    bool never = rx != NULL && regex_never(ind, rx, msg, cap);
    emb__rx_free(rx);
    return never;
}
