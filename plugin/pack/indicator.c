/*
 * One indicator's text, as a rule file writes it, into emb_indicator_t: the
 * names of keys and channels, CIDR blocks, port ranges, and the string forms
 * (domain, `=name`, `re:`, `hex:`, a literal). Nothing here reads YAML, so
 * the loader and the tools that check indicators share one parser.
 */
#include "pack/pack.h"

#include "common/names.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERN_LEN 4096

static const char *const channel_names[EMB_CH__COUNT] = {
    "telemetry", "licensing", "update", "cloud", "management", "web", "device"};

static const char *const key_names[EMB_K__COUNT] = {"domain",
                                                    "dns.query",
                                                    "tls.sni",
                                                    "tls.cert_subject",
                                                    "tls.cert_issuer",
                                                    "http.host",
                                                    "http.uri",
                                                    "http.user_agent",
                                                    "quic.sni",
                                                    "ja4",
                                                    "payload",
                                                    "ip",
                                                    "port",
                                                    EMB_DEVICE_KEY_NAMES};

static const char *const confidence_names[] = {"high", "medium", "low"};

const char *emb_channel_name(emb_channel_t ch) {
    return (unsigned)ch < EMB_CH__COUNT ? channel_names[ch] : "unknown";
}

const char *emb_key_name(emb_key_t key) {
    return (unsigned)key < EMB_K__COUNT ? key_names[key] : "unknown";
}

const char *emb__confidence_name(emb_confidence_t c) {
    return (unsigned)c <= EMB_CONF_LOW ? confidence_names[c] : "unknown";
}

bool emb__key_lookup(const char *s, emb_key_t *out) {
    for (int k = 0; k < EMB_K__COUNT; k++) {
        if (strcmp(s, key_names[k]) == 0) {
            *out = (emb_key_t)k;
            return true;
        }
    }
    return false;
}

bool emb__channel_lookup(const char *s, emb_channel_t *out) {
    for (int c = 0; c < EMB_CH__COUNT; c++) {
        if (strcmp(s, channel_names[c]) == 0) {
            *out = (emb_channel_t)c;
            return true;
        }
    }
    return false;
}

bool emb__parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out) {
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return false;
    }
    if (v < min)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- CIDR and port ----------------------------------------------------- */

int emb__parse_cidr(const char *s, emb_cidr_t *out, const char **why) {
    char buf[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf)) {
        *why = "not an address or CIDR block";
        return EMB_EINVAL;
    }
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';

    memset(out, 0, sizeof(*out));
    unsigned maxlen;
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = 4;
        maxlen = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = 6;
        maxlen = 128;
    } else {
        *why = "not an IPv4 or IPv6 address";
        return EMB_EINVAL;
    }

    uint32_t plen = maxlen;
    if (slash && !emb__parse_u32(slash + 1, 0, maxlen, &plen)) {
        *why = "bad prefix length";
        return EMB_EINVAL;
    }
    out->plen = (uint8_t)plen;

    /* Host bits set usually means a typo in the block; refuse it. */
    for (unsigned bit = plen; bit < maxlen; bit++) {
        if (out->addr[bit / 8] & (0x80u >> (bit % 8))) {
            *why = "address has bits set beyond the prefix length";
            return EMB_EINVAL;
        }
    }
    return 0;
}

bool emb__cidr_contains(const emb_cidr_t *c, int family, const uint8_t *addr) {
    if (c->family != family)
        return false;
    unsigned full = c->plen / 8, rest = c->plen % 8;
    /* Byte by byte: most addresses differ in the first, and this runs for
     * every range of a rule on every flow. */
    for (unsigned i = 0; i < full; i++)
        if (c->addr[i] != addr[i])
            return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

void emb__flow_sieve_of(const emb_rules_t *r, const emb_alt_t *alt, emb_flow_sieve_t *out) {
    *out = (emb_flow_sieve_t){.port_lo = UINT16_MAX};
    for (uint32_t c = 0; c < alt->ncond; c++) {
        const emb_cond_t *cond = &alt->cond[c];
        if (cond->key == EMB_K_PORT) {
            /* every `port` condition must hold: the span of one of them bounds the port,
             * the smallest such span is kept */
            uint16_t lo = UINT16_MAX, hi = 0;
            for (uint32_t i = cond->first; i < cond->first + cond->count; i++) {
                const emb_portrange_t *pr = &r->inds[i].ports;
                lo = pr->lo < lo ? pr->lo : lo;
                hi = pr->hi > hi ? pr->hi : hi;
            }
            if (!out->has_port || (uint32_t)(hi - lo) < (uint32_t)(out->port_hi - out->port_lo)) {
                out->port_lo = lo;
                out->port_hi = hi;
            }
            out->has_port = cond->count > 0;
            continue;
        }
        if (cond->key != EMB_K_IP)
            continue;
        out->has_ip = true;
        for (uint32_t i = cond->first; i < cond->first + cond->count; i++) {
            /* one first byte for a prefix of 8 bits or more, a run for a shorter one */
            const emb_cidr_t *cidr = &r->inds[i].cidr;
            unsigned bits = cidr->plen >= 8 ? 8 : cidr->plen;
            unsigned lo = cidr->addr[0] & (0xffu << (8 - bits)) & 0xffu;
            unsigned hi = lo | (0xffu >> bits);
            uint64_t *set = cidr->family == 4 ? out->v4 : out->v6;
            for (unsigned b = lo; b <= hi; b++)
                set[b >> 6] |= UINT64_C(1) << (b & 63);
        }
    }
}

void emb__flow_union_add(emb_flow_union_t *u, const emb_flow_sieve_t *sv) {
    if (sv->has_ip) {
        for (int i = 0; i < 4; i++) {
            u->v4[i] |= sv->v4[i];
            u->v6[i] |= sv->v6[i];
        }
        return;
    }
    /* ports alone (no condition at all: every port) */
    uint16_t lo = sv->has_port ? sv->port_lo : 0, hi = sv->has_port ? sv->port_hi : UINT16_MAX;
    if (u->nspans == EMB_UNION_SPANS) {
        unsigned last = EMB_UNION_SPANS - 1;
        u->span_lo[last] = lo < u->span_lo[last] ? lo : u->span_lo[last];
        u->span_hi[last] = hi > u->span_hi[last] ? hi : u->span_hi[last];
        return;
    }
    u->span_lo[u->nspans] = lo;
    u->span_hi[u->nspans++] = hi;
}

int emb__parse_ports(const char *s, emb_portrange_t *out, const char **why) {
    char buf[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf)) {
        *why = "not a port";
        return EMB_EINVAL;
    }
    memcpy(buf, s, n + 1);
    out->proto = 0;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (strcmp(slash + 1, "tcp") == 0)
            out->proto = 6;
        else if (strcmp(slash + 1, "udp") == 0)
            out->proto = 17;
        else {
            *why = "protocol must be /tcp or /udp";
            return EMB_EINVAL;
        }
    }
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    uint32_t lo, hi;
    if (!emb__parse_u32(buf, 0, 65535, &lo) || (dash && !emb__parse_u32(dash + 1, 0, 65535, &hi))) {
        *why = "port must be a number from 0 to 65535";
        return EMB_EINVAL;
    }
    if (!dash)
        hi = lo;
    if (hi < lo) {
        *why = "port range is reversed";
        return EMB_EINVAL;
    }
    out->lo = (uint16_t)lo;
    out->hi = (uint16_t)hi;
    return 0;
}

static bool key_is_domain_valued(emb_key_t k) {
    return k == EMB_K_DOMAIN || k == EMB_K_DNS_QUERY || k == EMB_K_TLS_SNI ||
           k == EMB_K_HTTP_HOST || k == EMB_K_QUIC_SNI;
}

/* Decodes "4b 4c5a" into bytes; returns the length or -1. */
static long decode_hex(const char *s, char *out) {
    long n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        int hi = emb__hexval((unsigned char)s[0]);
        int lo = s[1] ? emb__hexval((unsigned char)s[1]) : -1;
        if (hi < 0 || lo < 0)
            return -1;
        out[n++] = (char)(hi << 4 | lo);
        s += 2;
    }
    return n;
}

/*
 * A MAC address prefix: 3 to 6 bytes as hex pairs separated by ':' or '-'
 * ("44:19:B6", an IEEE MA-L assignment; "EC:5B:CD:E", an MA-M one, ends in a
 * half byte), kept as upper-case colon text and
 * matched at the start of the address as the engine renders it.
 */
static int parse_mac_prefix(const char *v, emb_indicator_t *ind, char *err, size_t errcap) {
    static const char hexd[] = "0123456789ABCDEF";
    char out[18];
    size_t n = 0, bytes = 0;
    const char *p = v;
    while (*p) {
        int hi = emb__hexval((unsigned char)p[0]);
        int lo = hi >= 0 && p[1] ? emb__hexval((unsigned char)p[1]) : -1;
        if (lo < 0 || bytes == 6)
            break;
        if (bytes > 0)
            out[n++] = ':';
        out[n++] = hexd[hi];
        out[n++] = hexd[lo];
        bytes++;
        p += 2;
        if (*p == ':' || *p == '-')
            p++;
        else if (*p)
            break;
    }
    /* An MA-M or MA-S assignment ends in a half byte: "EC:5B:CD:E" (28 bits). */
    if (*p && bytes >= 3 && bytes < 6 && emb__hexval((unsigned char)p[0]) >= 0 && p[1] == '\0') {
        out[n++] = ':';
        out[n++] = hexd[emb__hexval((unsigned char)p[0])];
        p++;
    }
    if (*p || bytes < 3 || p[-1] == ':' || p[-1] == '-') {
        snprintf(err, errcap, "bad MAC prefix '%s': want 3 to 6 hex bytes, e.g. '44:19:B6'", v);
        return EMB_EINVAL;
    }
    ind->kind = EMB_PAT_LITERAL;
    ind->text = emb__strndup(out, n);
    ind->len = n;
    return ind->text == NULL ? EMB_ENOMEM : 0;
}

int emb__indicator_parse(emb_key_t key, const char *v, emb_indicator_t *ind, char *err,
                         size_t errcap) {
#define BAD(...) (snprintf(err, errcap, __VA_ARGS__))
    memset(ind, 0, sizeof(*ind));
    ind->key = key;
    const char *why = NULL;
    if (key == EMB_K_IP) {
        if (emb__parse_cidr(v, &ind->cidr, &why) != 0) {
            BAD("bad CIDR '%s': %s", v, why);
            return EMB_EINVAL;
        }
        return 0;
    }
    if (key == EMB_K_PORT) {
        if (emb__parse_ports(v, &ind->ports, &why) != 0) {
            BAD("bad port '%s': %s", v, why);
            return EMB_EINVAL;
        }
        return 0;
    }
    if (key == EMB_K_MAC)
        return parse_mac_prefix(v, ind, err, errcap);

    size_t len = strlen(v);
    if (len > MAX_PATTERN_LEN) {
        BAD("pattern longer than %d bytes", MAX_PATTERN_LEN);
        return EMB_EINVAL;
    }

    if (strncmp(v, "re:", 3) == 0) {
        ind->kind = EMB_PAT_REGEX;
        v += 3;
        len -= 3;
        if (len == 0) {
            BAD("empty regex");
            return EMB_EINVAL;
        }
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *cerr = NULL;
        if (hs_expression_info(v, HS_FLAG_SINGLEMATCH, &info, &cerr) != HS_SUCCESS) {
            BAD("regex rejected by Hyperscan: %s", cerr ? cerr->message : "?");
            hs_free_compile_error(cerr);
            return EMB_EINVAL;
        }
        bool empty_ok = info->min_width == 0;
        free(info);
        if (empty_ok) {
            BAD("regex can match the empty string");
            return EMB_EINVAL;
        }
        ind->text = emb__strndup(v, len);
        ind->len = len;
    } else if (key == EMB_K_PAYLOAD && strncmp(v, "hex:", 4) == 0) {
        ind->kind = EMB_PAT_LITERAL;
        char *buf = malloc(len);
        if (buf == NULL) {
            return EMB_ENOMEM;
        }
        long n_bytes = decode_hex(v + 4, buf);
        if (n_bytes <= 0) {
            free(buf);
            BAD("bad hex pattern: want pairs of hex digits, e.g. 'hex:4b 4c 5a'");
            return EMB_EINVAL;
        }
        ind->text = buf;
        ind->len = (size_t)n_bytes;
        return 0;
    } else if (key == EMB_K_DOMAIN) {
        ind->kind = EMB_PAT_DOMAIN;
        if (*v == '=') {
            ind->kind = EMB_PAT_DOMAIN_EXACT;
            v++;
            len--;
        }
        if (len > 0 && v[len - 1] == '.')
            len--;
        if (len == 0) {
            BAD("empty domain");
            return EMB_EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '*';
            if (!ok) {
                BAD("invalid character '%c' in domain '%s' (use re: for a regex)", c, v);
                return EMB_EINVAL;
            }
            if (c == '.' && (i == 0 || v[i - 1] == '.')) {
                BAD("empty label in domain '%s'", v);
                return EMB_EINVAL;
            }
        }
        ind->text = malloc(len + 1);
        if (ind->text) {
            len = emb__normalize_name((const uint8_t *)v, len, ind->text, len);
            ind->text[len] = '\0';
        }
        ind->len = len;
    } else {
        ind->kind = EMB_PAT_LITERAL;
        if (len == 0) {
            BAD("empty pattern");
            return EMB_EINVAL;
        }
        /* Names are matched without their trailing dot, so a substring that ends
         * in one could only ever meet a longer name ("upd.kaspersky.com." inside
         * "upd.kaspersky.com.evil.example"): refuse it rather than guess. */
        if (key_is_domain_valued(key) && v[len - 1] == '.') {
            BAD("'%s' ends with a dot, which names are matched without; drop it, or use "
                "domain: for the whole name",
                v);
            return EMB_EINVAL;
        }
        ind->text = malloc(len + 1);
        if (ind->text) {
            /* Domain-valued fields are lower-cased before matching: so is the pattern. */
            if (key_is_domain_valued(key))
                len = emb__normalize_name((const uint8_t *)v, len, ind->text, len);
            else
                memcpy(ind->text, v, len);
            ind->text[len] = '\0';
        }
        ind->len = len;
    }
    return ind->text == NULL ? EMB_ENOMEM : 0;
#undef BAD
}
