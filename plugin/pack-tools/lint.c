/*
 * The rule-pack linter: finds what loads fine but is probably a mistake.
 *
 * The loader (pack/load.c) rejects what cannot work; this file warns about what
 * works but says less than its author meant: a rule without references, a ban
 * without a source, an indicator another one already covers (so one of the
 * two is dead weight or mis-filed), and an alternative that can never match
 * because its keys are never scanned in the same round (payload has a round
 * of its own, every other key the round of one message), or its port rules
 * out every message its keys are read from. Whether a pattern of a name key
 * can match a name as the engine normalises it is lint-names.c's to say.
 *
 * The one design choice: coverage of domain patterns is decided label by
 * label, with `*` of the covering pattern matching any run of the other's
 * characters (its `*` included). That is exact for the pack's patterns (one
 * `*` per label at most) and never claims a coverage that does not hold.
 */
#include "pack/pack.h"
#include "pack-tools/lint-names.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- message kinds: which round a key's field is scanned in ------------- */

/*
 * Each round scans the fields of one message (see detect/inspect.c), and an
 * alternative fires only when all its content keys matched in one round.
 */
enum {
    MK_DNS = 1 << 0,       /* DNS message: UDP with either port 53, TCP to server port 53 */
    MK_TLS_HELLO = 1 << 1, /* TLS ClientHello, TCP, any port */
    MK_TLS_CERT = 1 << 2,  /* TLS Certificate, TCP, any port */
    MK_QUIC = 1 << 3,      /* QUIC Initial's ClientHello, UDP with neither port 53 */
    MK_HTTP = 1 << 4,      /* HTTP request, TCP, any port */
    MK_PAYLOAD = 1 << 5,   /* stream or datagram bytes, a round with no other field */
    /* What a device says of itself: a round per message (inspect.c, "devices") */
    MK_HTTP_RESPONSE = 1 << 6, /* HTTP response, TCP, any port */
    MK_RTSP = 1 << 7,          /* RTSP response, TCP, any port */
    MK_SIP = 1 << 8,           /* SIP message, UDP or TCP, any port */
    MK_SSDP = 1 << 9,          /* SSDP (HTTP over UDP), any port */
    MK_WSD = 1 << 10,          /* WS-Discovery ProbeMatches or Hello, UDP */
    MK_SADP = 1 << 11,         /* Hikvision SADP ProbeMatch, UDP */
    MK_DHIP = 1 << 12,         /* Dahua DHIP, UDP */
    MK_SNMP = 1 << 13,         /* SNMP Response, UDP */
    MK_CWMP = 1 << 14,         /* TR-069 Inform in an HTTP request body, TCP */
    MK_DHCP = 1 << 15,         /* DHCP client message, UDP 67/68 */
    MK_MAC = 1 << 16,          /* Ethernet source address, any packet */
    MK_LAST = MK_MAC,
    MK_NAMES = MK_DNS | MK_TLS_HELLO | MK_TLS_CERT | MK_QUIC | MK_HTTP,
    MK_ALL = (MK_LAST << 1) - 1
};

static unsigned key_kinds(emb_key_t k) {
    switch (k) {
    case EMB_K_DOMAIN: return MK_NAMES; /* DNS names, SNI, Host, certificate names */
    case EMB_K_DNS_QUERY: return MK_DNS;
    case EMB_K_TLS_SNI: return MK_TLS_HELLO;
    case EMB_K_TLS_CERT_SUBJECT:
    case EMB_K_TLS_CERT_ISSUER: return MK_TLS_CERT;
    case EMB_K_HTTP_HOST:
    case EMB_K_HTTP_URI:
    case EMB_K_HTTP_USER_AGENT: return MK_HTTP;
    case EMB_K_QUIC_SNI: return MK_QUIC;
    case EMB_K_JA4: return MK_TLS_HELLO | MK_QUIC;
    case EMB_K_PAYLOAD: return MK_PAYLOAD;
    case EMB_K_HTTP_SERVER:
    case EMB_K_HTTP_RESPONSE_BODY:
    case EMB_K_ONVIF_DEVICE: return MK_HTTP_RESPONSE;
    case EMB_K_RTSP_SERVER: return MK_RTSP;
    case EMB_K_SIP_USER_AGENT: return MK_SIP;
    case EMB_K_SSDP_SERVER:
    case EMB_K_SSDP_LOCATION: return MK_SSDP;
    case EMB_K_ONVIF_SCOPE: return MK_WSD;
    case EMB_K_SADP_DEVICE: return MK_SADP;
    case EMB_K_DHIP_DEVICE: return MK_DHIP;
    case EMB_K_SNMP_SYSDESCR:
    case EMB_K_SNMP_SYSOBJECTID: return MK_SNMP;
    case EMB_K_CWMP_MANUFACTURER:
    case EMB_K_CWMP_OUI: return MK_CWMP;
    case EMB_K_DHCP_VENDOR_CLASS:
    case EMB_K_DHCP_HOSTNAME: return MK_DHCP;
    case EMB_K_MAC: return MK_MAC;
    default: return MK_ALL; /* ip and port: facts of the flow, true in every round */
    }
}

static const char *kind_name(unsigned mk) {
    switch (mk) {
    case MK_DNS: return "DNS (port 53)";
    case MK_TLS_HELLO: return "TLS ClientHello (TCP)";
    case MK_TLS_CERT: return "TLS certificate (TCP)";
    case MK_QUIC: return "QUIC Initial (UDP, not port 53)";
    case MK_HTTP: return "HTTP request (TCP)";
    case MK_PAYLOAD: return "stream or datagram bytes";
    case MK_HTTP_RESPONSE: return "HTTP response (TCP)";
    case MK_RTSP: return "RTSP response (TCP)";
    case MK_SIP: return "SIP message";
    case MK_SSDP: return "SSDP (UDP)";
    case MK_WSD: return "WS-Discovery (UDP)";
    case MK_SADP: return "SADP (UDP)";
    case MK_DHIP: return "DHIP (UDP)";
    case MK_SNMP: return "SNMP response (UDP)";
    case MK_CWMP: return "TR-069 Inform (TCP)";
    case MK_DHCP: return "DHCP (UDP 67/68)";
    case MK_MAC: return "Ethernet source address";
    default: return "?";
    }
}

/* The message a key is read from, for the message on keys of two messages. */
static const char *key_message(emb_key_t k) {
    switch (k) {
    case EMB_K_DNS_QUERY: return "a DNS message";
    case EMB_K_TLS_SNI: return "a TLS ClientHello";
    case EMB_K_TLS_CERT_SUBJECT:
    case EMB_K_TLS_CERT_ISSUER: return "a TLS Certificate";
    case EMB_K_HTTP_HOST:
    case EMB_K_HTTP_URI:
    case EMB_K_HTTP_USER_AGENT: return "an HTTP request";
    case EMB_K_QUIC_SNI: return "a QUIC Initial's ClientHello";
    case EMB_K_JA4: return "a TLS or QUIC ClientHello";
    case EMB_K_PAYLOAD: return "stream or datagram bytes";
    default:
        if (key_kinds(k) != MK_ALL)
            return kind_name(key_kinds(k)); /* a device key: its one message */
        return "any message with a name";
    }
}

/*
 * True when a flow whose server side is `pr` can carry messages of kind `mk`.
 * Only the server port is in a rule: TLS and HTTP are told by their first
 * bytes on any TCP port; DNS is read over TCP when the server port is 53 and
 * over UDP when either port is (lint_alternative says so apart); QUIC on UDP
 * unless a port is 53, which makes the datagram DNS.
 */
static bool port_allows(const emb_portrange_t *pr, unsigned mk) {
    bool tcp = pr->proto == 0 || pr->proto == 6, udp = pr->proto == 0 || pr->proto == 17;
    switch (mk) {
    case MK_DNS: return pr->lo <= 53 && 53 <= pr->hi;
    case MK_TLS_HELLO:
    case MK_TLS_CERT:
    case MK_HTTP: return tcp;
    case MK_QUIC: return udp && !(pr->lo == 53 && pr->hi == 53);
    case MK_HTTP_RESPONSE:
    case MK_RTSP:
    case MK_CWMP: return tcp;
    case MK_SSDP:
    case MK_WSD:
    case MK_SADP:
    case MK_DHIP:
    case MK_SNMP: return udp;
    case MK_DHCP: return udp && pr->lo <= 68 && 67 <= pr->hi;
    default: return true;
    }
}

/* True when `needle` occurs in `hay`. */
static bool contains(const char *hay, size_t hn, const char *needle, size_t nn) {
    for (size_t i = 0; nn <= hn && i <= hn - nn; i++)
        if (memcmp(hay + i, needle, nn) == 0)
            return true;
    return false;
}

/* ---- lint state -------------------------------------------------------- */

typedef struct {
    uint32_t file, line, col, seq;
    char *msg;
} warning_t;

typedef struct {
    const emb_rules_t *r;
    warning_t *w; /* collected, then sorted by place */
    size_t nw, capw;
    bool *covered; /* per indicator: an overlap was reported already */
    int rc;
} lint_t;

#define WARN(L, fileidx, line, col, ...) warn((L), (fileidx), (line), (col), __VA_ARGS__)

static void warn(lint_t *L, uint32_t file, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void warn(lint_t *L, uint32_t file, unsigned line, unsigned col, const char *fmt, ...) {
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *copy = emb__strdup(msg);
    if (copy == NULL || emb__grow((void **)&L->w, &L->capw, L->nw + 1, sizeof(*L->w)) != 0) {
        free(copy);
        L->rc = EMB_ENOMEM;
        return;
    }
    L->w[L->nw] = (warning_t){file, line, col, (uint32_t)L->nw, copy};
    L->nw++;
}

static int cmp_warning(const void *pa, const void *pb) {
    const warning_t *a = pa, *b = pb;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- bans: positions come from the file, the pack does not keep them --- */

/* Finds the line and column of each entry of the file's `bans` list. */
static size_t ban_positions(const char *path, unsigned *lines, unsigned *cols, size_t max,
                            unsigned *vline, unsigned *vcol) {
    size_t n = 0;
    *vline = 1;
    *vcol = 1;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return 0;
    }
    yaml_parser_set_input_file(&p, f);
    if (yaml_parser_load(&p, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && root->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
                 q < root->data.mapping.pairs.top; q++) {
                yaml_node_t *k = yaml_document_get_node(&doc, q->key);
                yaml_node_t *v = yaml_document_get_node(&doc, q->value);
                if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
                    continue;
                const char *ks = (const char *)k->data.scalar.value;
                if (strcmp(ks, "vendor") == 0) {
                    *vline = (unsigned)k->start_mark.line + 1;
                    *vcol = (unsigned)k->start_mark.column + 1;
                } else if (strcmp(ks, "bans") == 0 && v->type == YAML_SEQUENCE_NODE) {
                    for (yaml_node_item_t *it = v->data.sequence.items.start;
                         it < v->data.sequence.items.top && n < max; it++) {
                        yaml_node_t *b = yaml_document_get_node(&doc, *it);
                        lines[n] = b ? (unsigned)b->start_mark.line + 1 : 1;
                        cols[n] = b ? (unsigned)b->start_mark.column + 1 : 1;
                        n++;
                    }
                }
            }
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
    fclose(f);
    return n;
}

static void lint_vendor(lint_t *L, const emb_vendor_t *v) {
    enum { MAXB = 64 };
    unsigned lines[MAXB], cols[MAXB], vline, vcol;
    uint32_t file = v->file;
    size_t npos = ban_positions(L->r->files[file], lines, cols, MAXB, &vline, &vcol);
    if (v->nbans == 0)
        warn(L, file, vline, vcol, "vendor '%s' has no bans: nothing says why it is flagged",
             v->id);
    for (size_t i = 0; i < v->nbans; i++) {
        const emb_ban_t *b = &v->bans[i];
        unsigned line = i < npos ? lines[i] : vline, col = i < npos ? cols[i] : vcol;
        if (b->reference == NULL || b->reference[0] == '\0')
            warn(L, file, line, col, "ban of vendor '%s' (%s) has no reference", v->id,
                 b->authority ? b->authority : "no authority");
        if (b->effective == NULL && b->status != EMB_BAN_PROPOSED)
            warn(L, file, line, col, "ban of vendor '%s' (%s) has no effective date", v->id,
                 b->authority ? b->authority : "no authority");
    }
}

/* ---- indicators that can never match ----------------------------------- */

static void lint_indicator(lint_t *L, const emb_indicator_t *ind) {
    char msg[400];
    if (emb__lint_name_never(ind, msg, sizeof(msg)))
        WARN(L, ind->file, ind->line, ind->col, "%s", msg);
}

/* ---- alternatives that can never match --------------------------------- */

/* Appends `word` to the list in buf (", " between), cut to fit. */
static void list_add(char *buf, size_t cap, const char *sep, const char *word) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? sep : "", word);
}

/* Content keys of two rounds: payload with any other key, or keys of two messages. */
static void lint_kinds(lint_t *L, const emb_alt_t *alt) {
    const emb_rule_t *rule = &L->r->rules[alt->rule];
    char others[200] = "";
    bool payload = false;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        emb_key_t k = alt->cond[c].key;
        if (k == EMB_K_PAYLOAD)
            payload = true;
        else if (k != EMB_K_PORT && k != EMB_K_IP)
            list_add(others, sizeof(others), ", ", emb_key_name(k));
    }
    if (payload) {
        WARN(L, alt->file, alt->line, alt->col,
             "rule %u: payload is scanned in a round of its own (stream or datagram bytes, no "
             "other field), never in one message with %s: all keys of an alternative must match "
             "in one message, so it can never match",
             rule->sid, others);
        return;
    }
    /* Without payload a pair of keys of disjoint messages is always there:
     * only ja4 and domain are read from more than one kind of message. */
    for (uint32_t i = 0; i < alt->ncond; i++) {
        for (uint32_t j = i + 1; j < alt->ncond; j++) {
            emb_key_t a = alt->cond[i].key, b = alt->cond[j].key;
            if (key_kinds(a) & key_kinds(b))
                continue;
            WARN(L, alt->file, alt->line, alt->col,
                 "rule %u: %s is read from %s, %s from %s: all keys of an alternative must "
                 "match in one message, so it can never match",
                 rule->sid, emb_key_name(a), key_message(a), emb_key_name(b), key_message(b));
            return;
        }
    }
}

/* An alternative whose content keys are never scanned in one round, or whose
 * port excludes every message they are read from. */
static void lint_alternative(lint_t *L, const emb_alt_t *alt) {
    const emb_rules_t *r = L->r;
    unsigned kinds = MK_ALL;
    const emb_cond_t *port = NULL;
    char keys[200] = "";
    bool content = false;
    for (uint32_t c = 0; c < alt->ncond; c++) {
        emb_key_t k = alt->cond[c].key;
        if (k == EMB_K_PORT)
            port = &alt->cond[c];
        if (k == EMB_K_PORT || k == EMB_K_IP)
            continue;
        content = true;
        kinds &= key_kinds(k);
        list_add(keys, sizeof(keys), ", ", emb_key_name(k));
    }
    if (content && kinds == 0) {
        lint_kinds(L, alt);
        return;
    }
    if (port == NULL || !content)
        return;
    /* DNS over UDP is read when either port is 53: a server port without 53
     * leaves a client that sends from port 53, which is almost never meant. */
    bool client53 = false;
    for (uint32_t i = port->first; i < port->first + port->count; i++) {
        const emb_portrange_t *pr = &r->inds[i].ports;
        for (unsigned mk = 1; mk <= MK_LAST; mk <<= 1)
            if ((kinds & mk) && port_allows(pr, mk))
                return;
        if ((kinds & MK_DNS) && pr->proto != 6)
            client53 = true;
    }
    char from[200] = "";
    for (unsigned mk = 1; mk <= MK_LAST; mk <<= 1)
        if (kinds & mk)
            list_add(from, sizeof(from), " or ", kind_name(mk));
    WARN(L, alt->file, alt->line, alt->col,
         "rule %u: %s %s read from %s, which none of the alternative's ports allows: %s",
         r->rules[alt->rule].sid, keys, strchr(keys, ',') ? "are" : "is", from,
         client53 ? "it can only match DNS that a client sends from port 53"
                  : "it can never match");
}

/* ---- overlaps ---------------------------------------------------------- */

/* True when every string glob `b` matches is matched by glob `a` ('*': any
 * run); a '*' in `b` can only be matched by a '*' of `a`. */
static bool glob_covers(const char *a, size_t an, const char *b, size_t bn) {
    if (an == 0)
        return bn == 0;
    if (a[0] == '*') {
        for (size_t skip = 0; skip <= bn; skip++)
            if (glob_covers(a + 1, an - 1, b + skip, bn - skip))
                return true;
        return false;
    }
    return bn > 0 && b[0] != '*' && a[0] == b[0] && glob_covers(a + 1, an - 1, b + 1, bn - 1);
}

#define MAX_LABELS 128

static size_t split_labels(const char *s, size_t len, const char **lab, size_t *lablen) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len && n < MAX_LABELS; i++) {
        if (i == len || s[i] == '.') {
            lab[n] = s + start;
            lablen[n++] = i - start;
            start = i + 1;
        }
    }
    return n;
}

/* True when every name domain pattern `b` matches, `a` matches too. */
static bool domain_covers(const emb_indicator_t *a, const emb_indicator_t *b) {
    const char *al[MAX_LABELS], *bl[MAX_LABELS];
    size_t aln[MAX_LABELS], bln[MAX_LABELS];
    size_t na = split_labels(a->text, a->len, al, aln);
    size_t nb = split_labels(b->text, b->len, bl, bln);
    if (a->kind == EMB_PAT_DOMAIN_EXACT && (b->kind != EMB_PAT_DOMAIN_EXACT || na != nb))
        return false;
    if (nb < na)
        return false;
    for (size_t k = 1; k <= na; k++)
        if (!glob_covers(al[na - k], aln[na - k], bl[nb - k], bln[nb - k]))
            return false;
    return true;
}

static bool same_text(const emb_indicator_t *a, const emb_indicator_t *b) {
    /* ip and port indicators have no text (len 0, text NULL) */
    return a->kind == b->kind && a->len == b->len &&
           (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
}

/* Where an indicator sits: its alternative, rule and condition. */
typedef struct {
    uint32_t alt, cond;
} ind_home_t;

/*
 * Pairs of string indicators of one key, where both are in the same rule, or
 * in rules of one vendor and channel. For `b` to be redundant next to `a`,
 * `a` must be able to fire alone: in the same condition, or in an
 * alternative of that one condition.
 */
static void lint_pair(lint_t *L, uint32_t ia, uint32_t ib, const ind_home_t *home) {
    const emb_rules_t *r = L->r;
    const emb_indicator_t *a = &r->inds[ia], *b = &r->inds[ib];
    if (a->key != b->key || a->key == EMB_K_IP || a->key == EMB_K_PORT)
        return;
    const emb_alt_t *aa = &r->alts[home[ia].alt], *ab = &r->alts[home[ib].alt];
    bool same_cond = home[ia].alt == home[ib].alt && home[ia].cond == home[ib].cond;
    if (!same_cond && aa->ncond != 1)
        return;
    const emb_rule_t *ra = &r->rules[aa->rule], *rb = &r->rules[ab->rule];
    if (ra != rb && (ra->vendor != rb->vendor || ra->channel != rb->channel))
        return;
    char sa[300], sb[300];
    char where[64];
    if (ra == rb)
        snprintf(where, sizeof(where), "in the same rule");
    else
        snprintf(where, sizeof(where), "of rule %u, same vendor and channel", ra->sid);

    if (same_text(a, b)) {
        /* Report a duplicate once, at the second place. */
        WARN(L, b->file, b->line, b->col, "duplicate %s '%s' (first at %s:%u:%u, %s)",
             emb_key_name(b->key), emb__lint_show(b, sb, sizeof(sb)), r->files[a->file], a->line,
             a->col, where);
        return;
    }
    bool covered = false;
    if (a->key == EMB_K_DOMAIN && a->kind != EMB_PAT_REGEX && b->kind != EMB_PAT_REGEX)
        covered = domain_covers(a, b);
    else if (a->kind == EMB_PAT_LITERAL && b->kind == EMB_PAT_LITERAL)
        covered = a->len < b->len && contains(b->text, b->len, a->text, a->len);
    if (covered && !L->covered[ib]) {
        L->covered[ib] = true;
        WARN(L, b->file, b->line, b->col, "%s '%s' is already covered by '%s' at %s:%u:%u (%s)",
             emb_key_name(b->key), emb__lint_show(b, sb, sizeof(sb)),
             emb__lint_show(a, sa, sizeof(sa)), r->files[a->file], a->line, a->col, where);
    }
}

/* Overlapping CIDR blocks and port ranges inside one condition. */
static void lint_cond_lists(lint_t *L, const emb_cond_t *c) {
    const emb_rules_t *r = L->r;
    for (uint32_t i = c->first; i < c->first + c->count; i++) {
        for (uint32_t j = c->first; j < c->first + c->count; j++) {
            if (i == j)
                continue;
            const emb_indicator_t *a = &r->inds[i], *b = &r->inds[j];
            if (c->key == EMB_K_IP) {
                const emb_cidr_t *ca = &a->cidr, *cb = &b->cidr;
                bool same = ca->family == cb->family && ca->plen == cb->plen &&
                            memcmp(ca->addr, cb->addr, 16) == 0;
                if (same && i < j)
                    WARN(L, b->file, b->line, b->col, "duplicate ip block (first at line %u)",
                         a->line);
                else if (!same && ca->plen < cb->plen &&
                         emb__cidr_contains(ca, cb->family, cb->addr))
                    WARN(L, b->file, b->line, b->col,
                         "ip block is inside another block of the same list (line %u:%u)", a->line,
                         a->col);
            } else if (c->key == EMB_K_PORT && i < j) {
                const emb_portrange_t *pa = &a->ports, *pb = &b->ports;
                bool proto = pa->proto == 0 || pb->proto == 0 || pa->proto == pb->proto;
                if (proto && pa->lo <= pb->hi && pb->lo <= pa->hi)
                    WARN(L, b->file, b->line, b->col,
                         "port %u-%u overlaps port %u-%u of the same list (line %u:%u)", pb->lo,
                         pb->hi, pa->lo, pa->hi, a->line, a->col);
            }
        }
    }
}

int emb_rules_lint(const emb_rules_t *r, emb_diags_t **warnings) {
    if (warnings == NULL)
        return EMB_EINVAL;
    *warnings = NULL;
    if (r == NULL)
        return EMB_EINVAL;
    lint_t L = {.r = r, .rc = 0};
    ind_home_t *home = calloc(r->ninds ? r->ninds : 1, sizeof(*home));
    L.covered = calloc(r->ninds ? r->ninds : 1, sizeof(bool));
    if (home == NULL || L.covered == NULL) {
        free(home);
        free(L.covered);
        return EMB_ENOMEM;
    }

    for (size_t v = 0; v < r->nvendors; v++)
        lint_vendor(&L, &r->vendors[v]);
    for (size_t i = 0; i < r->nrules; i++) {
        const emb_rule_t *ru = &r->rules[i];
        if (ru->nrefs == 0)
            WARN(&L, ru->file, ru->line, ru->col, "rule %u has no references", ru->sid);
    }

    for (uint32_t a = 0; a < r->nalts; a++) {
        const emb_alt_t *alt = &r->alts[a];
        lint_alternative(&L, alt);
        for (uint32_t c = 0; c < alt->ncond; c++) {
            const emb_cond_t *cond = &alt->cond[c];
            lint_cond_lists(&L, cond);
            for (uint32_t i = cond->first; i < cond->first + cond->count; i++) {
                home[i] = (ind_home_t){a, c};
                lint_indicator(&L, &r->inds[i]);
            }
        }
    }
    /* Indicators are stored in file order: report each overlap once, at the later one
     * for duplicates, at the covered one otherwise. */
    for (uint32_t i = 0; i < r->ninds && L.rc == 0; i++) {
        for (uint32_t j = 0; j < r->ninds; j++) {
            if (i == j || (same_text(&r->inds[i], &r->inds[j]) && j < i))
                continue;
            lint_pair(&L, i, j, home);
        }
    }
    free(home);
    free(L.covered);
    if (L.nw > 1)
        qsort(L.w, L.nw, sizeof(*L.w), cmp_warning);
    for (size_t i = 0; i < L.nw; i++) {
        const warning_t *w = &L.w[i];
        if (L.rc == 0 &&
            emb__diag_add(warnings, r->files[w->file], w->line, w->col, "warning: %s", w->msg))
            L.rc = EMB_ENOMEM;
        free(w->msg);
    }
    free(L.w);
    if (L.rc != 0) {
        emb_diags_free(*warnings);
        *warnings = NULL;
    }
    return L.rc;
}
