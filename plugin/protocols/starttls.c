/*
 * STARTTLS: where TLS begins in a TCP flow that opens in plaintext and
 * switches to TLS on request. The walk pairs the client's requests with the
 * server's answers, one protocol at a time, until the client asks for TLS and
 * the server's answer to that very request is the positive one; TLS then
 * begins right after the request in the client's bytes and right after the
 * answer in the server's. A refused request, an answer of the wrong form, or
 * a request that is not alone on its line means no TLS: an upgrade is only
 * believed when both halves are there, in order.
 *
 * The one design choice: nothing is kept between calls. Each call walks the
 * bytes again from the start of each direction, reading at most
 * EMB_STARTTLS_WINDOW of them (a greeting and a few commands come before an
 * upgrade), so the caller keeps only the answer. Every unit read (a line, an
 * XML tag, a BER element, a packet) is checked to lie inside what is held.
 *
 * What each protocol looks like, and where it is specified:
 *  - FTP, RFC 4217 section 4 (and RFC 2228's AUTH): greeting 220 (after any
 *    preliminary 1yz), "AUTH TLS" (or the older TLS-C, TLS-P, SSL), answered
 *    234. Replies are RFC 959 section 4.2's: "NNN text", or "NNN-" lines up to
 *    one that starts "NNN "; preliminary 1yz replies precede the final one.
 *  - SMTP, RFC 3207 section 4 (replies as RFC 5321 section 4.2): greeting
 *    220, "STARTTLS" answered 220; 454 or 501 refuse it. DATA and BDAT end the
 *    walk: what follows is mail, not commands.
 *  - POP3, RFC 2595 section 4 (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH):
 *    greeting "+OK", "STLS" answered "+OK". STLS is allowed only before
 *    login, so a positive answer to PASS, APOP or AUTH ends the walk.
 *  - IMAP, RFC 2595 section 3.1 and RFC 9051 section 6.2.1: greeting "* OK",
 *    "tag STARTTLS" answered "tag OK"; untagged lines in between. LOGIN and
 *    AUTHENTICATE end the walk (STARTTLS is for the not-authenticated
 *    state), and so does a literal ("{n}"), which nothing before login needs.
 *  - XMPP, RFC 6120 section 5.4.2: walked in xmpp.c.
 *  - LDAP, RFC 4511 sections 4.12 and 4.14: an ExtendedRequest
 *    ([APPLICATION 23]) named 1.3.6.1.4.1.1466.20037, answered by an
 *    ExtendedResponse ([APPLICATION 24]) with the same messageID and
 *    resultCode success (0). Messages are BER with definite lengths.
 *  - PostgreSQL, "Frontend/Backend Protocol", sections "SSL Session
 *    Encryption" and "Message Formats": SSLRequest is Int32 8, Int32 80877103,
 *    answered by the one byte 'S' ('N' refuses); a GSSENCRequest (80877104)
 *    refused with 'N' may come first.
 *  - MySQL, "Client/Server Protocol", Connection Phase: the server's
 *    Protocol::HandshakeV10 offers CLIENT_SSL (0x0800) in its capability
 *    flags; the client's Protocol::SSLRequest (a 32-byte packet with
 *    sequence id 1, CLIENT_SSL and CLIENT_PROTOCOL_41 set) is followed by TLS
 *    at once, with no answer in between.
 */
#include "protocols/protocols.h"
#include "protocols/starttls-cursor.h"

#include "common/buf.h"

#include <string.h>

#define MAX_LINE 1024    /* longest command or reply line followed */
#define MAX_REQUESTS 16  /* requests before the upgrade that are followed */
#define LDAP_MAX_MSGS 64 /* server messages read before the StartTLS answer */
#define STARTTLS_OID "1.3.6.1.4.1.1466.20037"

#define PG_SSL_REQUEST 80877103u
#define PG_GSSENC_REQUEST 80877104u
#define MYSQL_CLIENT_PROTOCOL_41 0x0200u
#define MYSQL_CLIENT_SSL 0x0800u

static uint8_t upper(uint8_t ch) {
    return ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - 32) : ch;
}

/* (p, n) is `w` (upper case) in any case. */
static bool word_is(const uint8_t *p, size_t n, const char *w) {
    size_t k = strlen(w);
    if (n != k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (upper(p[i]) != (uint8_t)w[i])
            return false;
    return true;
}

/* Whether the first bytes of (p, len) agree with `s`: 1 all of it, 0 as far
 * as they go (len is shorter), -1 not. */
static int prefix(const uint8_t *p, size_t len, const char *s, size_t n) {
    size_t k = len < n ? len : n;
    if (k > 0 && memcmp(p, s, k) != 0)
        return -1;
    return len >= n ? 1 : 0;
}

/* ---- lines ---------------------------------------------------------------- */

/*
 * The line at c->off, without its CR LF (a bare LF ends a line too); moves
 * past it. EMB_X_OK, or need() when its end has not come, or EMB_X_INVALID
 * when it is longer than MAX_LINE.
 */
static emb_x_result_t next_line(cur_t *c, const uint8_t **line, size_t *n) {
    if (c->off >= c->len)
        return need(c);
    size_t avail = c->len - c->off;
    size_t look = avail < MAX_LINE + 2 ? avail : MAX_LINE + 2;
    const uint8_t *start = c->p + c->off;
    const uint8_t *lf = memchr(start, '\n', look);
    if (lf == NULL)
        return avail >= MAX_LINE + 2 ? EMB_X_INVALID : need(c);
    size_t k = (size_t)(lf - start);
    *line = start;
    *n = k > 0 && start[k - 1] == '\r' ? k - 1 : k;
    if (*n > MAX_LINE)
        return EMB_X_INVALID;
    c->off += k + 1;
    return EMB_X_OK;
}

static size_t rtrim(const uint8_t *p, size_t n) {
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n;
}

/* Splits a command line at its first space: the verb, and the rest. */
static void split_verb(const uint8_t *l, size_t n, size_t *verb, const uint8_t **arg,
                       size_t *arg_len) {
    n = rtrim(l, n);
    size_t i = 0;
    while (i < n && l[i] != ' ')
        i++;
    *verb = i;
    *arg = i < n ? l + i + 1 : l + n;
    *arg_len = i < n ? n - i - 1 : 0;
}

/* ---- FTP and SMTP: three-digit replies ------------------------------------ */

enum { K_GREETING, K_OTHER, K_UPGRADE, K_MULTI, K_AUTH };

/* "NNN" then a space, '-' or the end of the line (RFC 959 4.2, RFC 5321 4.2). */
static bool reply_code(const uint8_t *l, size_t n, unsigned *code, bool *more) {
    if (n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9')
        return false;
    if (n > 3 && l[3] != ' ' && l[3] != '-')
        return false;
    *code = (unsigned)(l[0] - '0') * 100 + (unsigned)(l[1] - '0') * 10 + (unsigned)(l[2] - '0');
    *more = n > 3 && l[3] == '-';
    return true;
}

/* The server's next final reply: multi-line replies end at the line that
 * starts with the same code and a space; preliminary 1yz replies are passed. */
static emb_x_result_t code_reply(cur_t *s, unsigned *code) {
    for (;;) {
        const uint8_t *l;
        size_t n;
        bool more;
        emb_x_result_t x = next_line(s, &l, &n);
        if (x != EMB_X_OK)
            return x;
        if (!reply_code(l, n, code, &more))
            return EMB_X_INVALID;
        while (more) {
            unsigned c2;
            bool more2;
            if ((x = next_line(s, &l, &n)) != EMB_X_OK)
                return x;
            more = !(reply_code(l, n, &c2, &more2) && c2 == *code && !more2);
        }
        if (*code >= 200)
            return EMB_X_OK;
    }
}

static emb_x_result_t walk_ftp_smtp(cur_t *c, cur_t *s, emb_starttls_t *out) {
    unsigned requests = 0, want = 0;
    int kind = K_GREETING;
    for (;;) {
        unsigned code;
        emb_x_result_t x = code_reply(s, &code);
        if (x != EMB_X_OK)
            return x;
        if (kind == K_GREETING && code != 220)
            return EMB_X_NONE; /* 421 or 554: no service */
        if (kind == K_UPGRADE) {
            if (code != want)
                return EMB_X_NONE; /* refused: FTP 4xx/5xx, SMTP 454 or 501 */
            out->client_tls = (uint32_t)c->off;
            out->server_tls = (uint32_t)s->off;
            return EMB_X_OK;
        }
        const uint8_t *l, *arg;
        size_t n, verb, arg_len;
        if ((x = next_line(c, &l, &n)) != EMB_X_OK)
            return x;
        if (++requests > MAX_REQUESTS)
            return EMB_X_NONE;
        split_verb(l, n, &verb, &arg, &arg_len);
        kind = K_OTHER;
        if (word_is(l, rtrim(l, n), "STARTTLS")) {
            kind = K_UPGRADE;
            want = 220;
            out->proto = EMB_STARTTLS_SMTP;
        } else if (word_is(l, verb, "AUTH") &&
                   (word_is(arg, arg_len, "TLS") || word_is(arg, arg_len, "SSL") ||
                    word_is(arg, arg_len, "TLS-C") || word_is(arg, arg_len, "TLS-P"))) {
            kind = K_UPGRADE;
            want = 234;
            out->proto = EMB_STARTTLS_FTP;
        } else if (word_is(l, verb, "QUIT") || word_is(l, verb, "DATA") ||
                   word_is(l, verb, "BDAT")) {
            return EMB_X_NONE;
        }
    }
}

/* ---- POP3 ------------------------------------------------------------------ */

enum { POP_OK, POP_ERR, POP_CONT };

/* "+OK" or "-ERR" then a space or the end; "+" alone or "+ " is a SASL
 * challenge (RFC 5034 section 4). */
static int pop3_status(const uint8_t *l, size_t n) {
    if (n >= 3 && memcmp(l, "+OK", 3) == 0 && (n == 3 || l[3] == ' '))
        return POP_OK;
    if (n >= 4 && memcmp(l, "-ERR", 4) == 0 && (n == 4 || l[4] == ' '))
        return POP_ERR;
    if (n >= 1 && l[0] == '+' && (n == 1 || l[1] == ' '))
        return POP_CONT;
    return -1;
}

static emb_x_result_t walk_pop3(cur_t *c, cur_t *s, emb_starttls_t *out) {
    unsigned requests = 0;
    int kind = K_GREETING;
    bool sasl = false;
    out->proto = EMB_STARTTLS_POP3;
    for (;;) {
        const uint8_t *l;
        size_t n;
        emb_x_result_t x = next_line(s, &l, &n);
        if (x != EMB_X_OK)
            return x;
        int st = pop3_status(l, n);
        if (st < 0 || (st == POP_CONT && kind != K_AUTH))
            return EMB_X_INVALID;
        switch (kind) {
        case K_GREETING:
        case K_UPGRADE:
            if (st != POP_OK)
                return EMB_X_NONE;
            if (kind == K_UPGRADE) {
                out->client_tls = (uint32_t)c->off;
                out->server_tls = (uint32_t)s->off;
                return EMB_X_OK;
            }
            break;
        case K_MULTI: /* CAPA: lines up to a lone "." (RFC 1939 section 3) */
            while (st == POP_OK) {
                if ((x = next_line(s, &l, &n)) != EMB_X_OK)
                    return x;
                if (n == 1 && l[0] == '.')
                    break;
            }
            break;
        case K_AUTH:
            if (st == POP_OK)
                return EMB_X_NONE; /* logged in: STLS is over (RFC 2595 section 4) */
            sasl = st == POP_CONT;
            break;
        default: break;
        }
        const uint8_t *arg;
        size_t verb, arg_len;
        if ((x = next_line(c, &l, &n)) != EMB_X_OK)
            return x;
        if (++requests > MAX_REQUESTS)
            return EMB_X_NONE;
        if (sasl) {
            kind = K_AUTH; /* the client's answer to a challenge */
            continue;
        }
        split_verb(l, n, &verb, &arg, &arg_len);
        if (word_is(l, rtrim(l, n), "STLS"))
            kind = K_UPGRADE;
        else if (word_is(l, verb, "CAPA") || (word_is(l, verb, "AUTH") && arg_len == 0))
            kind = K_MULTI;
        else if (word_is(l, verb, "PASS") || word_is(l, verb, "APOP") || word_is(l, verb, "AUTH"))
            kind = K_AUTH;
        else if (word_is(l, verb, "QUIT"))
            return EMB_X_NONE;
        else
            kind = K_OTHER;
    }
}

/* ---- IMAP ------------------------------------------------------------------ */

/* A tag: ASTRING-CHARs other than '+' (RFC 9051 section 9). */
static bool imap_tag_char(uint8_t ch) {
    return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\]+", ch) == NULL;
}

/* A line that ends in a literal's announcement "{n}" or "{n+}". */
static bool ends_in_literal(const uint8_t *l, size_t n) {
    n = rtrim(l, n);
    return n >= 3 && l[n - 1] == '}' && (l[n - 2] == '+' || (l[n - 2] >= '0' && l[n - 2] <= '9'));
}

/* "TAG WORD" at the start of the line: the word's extent, or false. */
static bool tag_and_word(const uint8_t *l, size_t n, size_t *tag, const uint8_t **word,
                         size_t *word_len) {
    size_t i = 0;
    while (i < n && i < 64 && imap_tag_char(l[i]))
        i++;
    if (i == 0 || i >= n || l[i] != ' ')
        return false;
    *tag = i;
    size_t j = i + 1, k = j;
    while (k < n && l[k] != ' ')
        k++;
    *word = l + j;
    *word_len = k - j;
    return k > j;
}

static emb_x_result_t walk_imap(cur_t *c, cur_t *s, emb_starttls_t *out) {
    unsigned requests = 0;
    out->proto = EMB_STARTTLS_IMAP;
    const uint8_t *l, *word;
    size_t n, tag, word_len;
    emb_x_result_t x = next_line(s, &l, &n);
    if (x != EMB_X_OK)
        return x;
    if (!(n >= 4 && memcmp(l, "* OK", 4) == 0 && (n == 4 || l[4] == ' ')))
        return EMB_X_NONE; /* PREAUTH, BYE, or not IMAP */
    for (;;) {
        if ((x = next_line(c, &l, &n)) != EMB_X_OK)
            return x;
        if (++requests > MAX_REQUESTS || ends_in_literal(l, n))
            return EMB_X_NONE;
        if (!tag_and_word(l, rtrim(l, n), &tag, &word, &word_len))
            return EMB_X_INVALID;
        const uint8_t *ctag = l;
        size_t ctag_len = tag;
        bool upgrade = word_is(word, word_len, "STARTTLS") && word + word_len == l + rtrim(l, n);
        if (word_is(word, word_len, "LOGIN") || word_is(word, word_len, "AUTHENTICATE") ||
            word_is(word, word_len, "LOGOUT"))
            return EMB_X_NONE;
        /* The server's lines up to the tagged status of this command. */
        for (;;) {
            if ((x = next_line(s, &l, &n)) != EMB_X_OK)
                return x;
            if (n >= 1 && l[0] == '+')
                return EMB_X_NONE; /* a continuation: not followed */
            if (n >= 2 && l[0] == '*' && l[1] == ' ') {
                if (ends_in_literal(l, n) || (n >= 5 && word_is(l + 2, 3, "BYE")))
                    return EMB_X_NONE;
                continue;
            }
            if (!tag_and_word(l, n, &tag, &word, &word_len) || tag != ctag_len ||
                memcmp(l, ctag, tag) != 0)
                return EMB_X_INVALID; /* another command's status: not followed */
            bool ok = word_is(word, word_len, "OK");
            if (!ok && !word_is(word, word_len, "NO") && !word_is(word, word_len, "BAD"))
                return EMB_X_INVALID;
            if (upgrade) {
                if (!ok)
                    return EMB_X_NONE;
                out->client_tls = (uint32_t)c->off;
                out->server_tls = (uint32_t)s->off;
                return EMB_X_OK;
            }
            break;
        }
    }
}

/* ---- LDAP ------------------------------------------------------------------ */

/* A BER element with a definite length at c->off: its tag and contents. */
static emb_x_result_t ber_next(cur_t *c, uint8_t *tag, size_t *at, size_t *n) {
    uint8_t b;
    size_t o = c->off;
    if (!emb_rd_u8(c->p, c->len, o, tag) || !emb_rd_u8(c->p, c->len, o + 1, &b))
        return need(c);
    if ((*tag & 0x1f) == 0x1f)
        return EMB_X_INVALID; /* high tag numbers: not in LDAP */
    o += 2;
    size_t len = b;
    if (b >= 0x80) {
        size_t k = b & 0x7f;
        if (k == 0 || k > 4)
            return EMB_X_INVALID; /* indefinite (0x80) is not allowed (RFC 4511 5.1) */
        len = 0;
        for (size_t i = 0; i < k; i++) {
            if (!emb_rd_u8(c->p, c->len, o + i, &b))
                return need(c);
            len = len << 8 | b;
        }
        o += k;
    }
    if (!emb_have(c->len, o, len))
        return len > EMB_STARTTLS_WINDOW ? EMB_X_NONE : need(c);
    *at = o;
    *n = len;
    c->off = o + len;
    return EMB_X_OK;
}

/* One LDAPMessage: its messageID and protocolOp; `op` is a cursor over the
 * operation's contents. */
static emb_x_result_t ldap_message(cur_t *c, uint32_t *id, uint8_t *op_tag, cur_t *op) {
    uint8_t tag;
    size_t at, n;
    emb_x_result_t x = ber_next(c, &tag, &at, &n);
    if (x != EMB_X_OK)
        return x;
    if (tag != 0x30)
        return EMB_X_INVALID;
    cur_t m = {c->p, at + n, at, false};
    if (ber_next(&m, &tag, &at, &n) != EMB_X_OK || tag != 0x02 || n < 1 || n > 4 ||
        (c->p[at] & 0x80))
        return EMB_X_INVALID; /* messageID: INTEGER (0..2^31-1) */
    *id = 0;
    for (size_t i = 0; i < n; i++)
        *id = *id << 8 | c->p[at + i];
    if (ber_next(&m, op_tag, &at, &n) != EMB_X_OK || (*op_tag & 0xc0) != 0x40)
        return EMB_X_INVALID; /* protocolOp: an [APPLICATION n] choice */
    *op = (cur_t){c->p, at + n, at, false};
    return EMB_X_OK;
}

static emb_x_result_t walk_ldap(cur_t *c, cur_t *s, emb_starttls_t *out) {
    out->proto = EMB_STARTTLS_LDAP;
    uint32_t id, want = 0;
    uint8_t op_tag, tag;
    size_t at, n;
    cur_t op;
    emb_x_result_t x;
    for (unsigned requests = 1;; requests++) {
        if ((x = ldap_message(c, &id, &op_tag, &op)) != EMB_X_OK)
            return x;
        if (id == 0)
            return EMB_X_INVALID; /* a request's messageID is never 0 (RFC 4511 4.1.1.1) */
        if (requests > MAX_REQUESTS || op_tag == 0x42)
            return EMB_X_NONE; /* UnbindRequest: the session ends */
        if (op_tag == 0x77 && ber_next(&op, &tag, &at, &n) == EMB_X_OK && tag == 0x80 &&
            n == strlen(STARTTLS_OID) && memcmp(c->p + at, STARTTLS_OID, n) == 0) {
            want = id;
            break;
        }
    }
    for (unsigned msgs = 0; msgs < LDAP_MAX_MSGS; msgs++) {
        if ((x = ldap_message(s, &id, &op_tag, &op)) != EMB_X_OK)
            return x;
        if (op_tag != 0x78 || (id != want && id != 0))
            continue; /* answers to earlier requests */
        if (id == 0)
            return EMB_X_NONE; /* Notice of Disconnection (RFC 4511 4.4.1) */
        /* resultCode ENUMERATED first; success is 0 */
        if (ber_next(&op, &tag, &at, &n) != EMB_X_OK || tag != 0x0a || n < 1)
            return EMB_X_INVALID;
        if (n != 1 || s->p[at] != 0)
            return EMB_X_NONE;
        out->client_tls = (uint32_t)c->off;
        out->server_tls = (uint32_t)s->off;
        return EMB_X_OK;
    }
    return EMB_X_NONE;
}

/* ---- PostgreSQL ------------------------------------------------------------ */

static emb_x_result_t walk_pgsql(cur_t *c, cur_t *s, emb_starttls_t *out) {
    out->proto = EMB_STARTTLS_PGSQL;
    for (int request = 0; request < 2; request++) {
        uint32_t len, code;
        uint8_t answer;
        if (!emb_rd_be32(c->p, c->len, c->off, &len) ||
            !emb_rd_be32(c->p, c->len, c->off + 4, &code))
            return need(c);
        if (len != 8 || (code != PG_SSL_REQUEST && code != PG_GSSENC_REQUEST) ||
            (code == PG_GSSENC_REQUEST && request > 0))
            return request > 0 ? EMB_X_NONE : EMB_X_INVALID; /* a StartupMessage, say */
        c->off += 8;
        if (!emb_rd_u8(s->p, s->len, s->off, &answer))
            return need(s);
        s->off++;
        if (code == PG_GSSENC_REQUEST) {
            if (answer != 'N')
                return answer == 'G' ? EMB_X_NONE : EMB_X_INVALID;
            continue; /* GSSAPI encryption refused: SSL may be asked next */
        }
        if (answer != 'S')
            return answer == 'N' || answer == 'E' ? EMB_X_NONE : EMB_X_INVALID;
        out->client_tls = (uint32_t)c->off;
        out->server_tls = (uint32_t)s->off;
        return EMB_X_OK;
    }
    return EMB_X_NONE;
}

/* ---- MySQL ----------------------------------------------------------------- */

static emb_x_result_t walk_mysql(cur_t *c, cur_t *s, emb_starttls_t *out) {
    out->proto = EMB_STARTTLS_MYSQL;
    /* Packet: payload length (3 bytes, little-endian), sequence id, payload. */
    uint8_t h[4];
    for (int i = 0; i < 4; i++)
        if (!emb_rd_u8(s->p, s->len, (size_t)i, &h[i]))
            return need(s);
    size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    if (!emb_have(s->len, 4, len))
        return len > EMB_STARTTLS_WINDOW ? EMB_X_NONE : need(s);
    const uint8_t *p = s->p + 4;
    if (h[3] != 0 || len < 1)
        return EMB_X_INVALID;
    if (p[0] != 10)
        return p[0] == 0xff ? EMB_X_NONE : EMB_X_INVALID; /* an ERR packet */
    const uint8_t *nul = memchr(p + 1, 0, len - 1);
    if (nul == NULL)
        return EMB_X_INVALID;
    size_t v = (size_t)(nul - p) + 1; /* past the server version */
    /* thread id (4), auth-plugin-data-part-1 (8), filler 0, capability_flags_1 (2) */
    if (!emb_have(len, v, 15) || p[v + 12] != 0)
        return EMB_X_INVALID;
    unsigned caps = (unsigned)p[v + 13] | (unsigned)p[v + 14] << 8;
    if (!(caps & MYSQL_CLIENT_SSL))
        return EMB_X_NONE;
    s->off = 4 + len;

    /* The client's SSLRequest: client_flag (4), max_packet_size (4),
     * character_set (1), filler (23: zero, though MariaDB puts its extended
     * capabilities in the last 4). */
    uint8_t q[36];
    for (size_t i = 0; i < 4; i++)
        if (!emb_rd_u8(c->p, c->len, i, &q[i]))
            return need(c);
    if (q[0] != 32 || q[1] != 0 || q[2] != 0)
        return EMB_X_NONE; /* a full handshake response: no TLS */
    if (q[3] != 1)
        return EMB_X_INVALID;
    if (!emb_have(c->len, 0, 36))
        return need(c);
    memcpy(q, c->p, 36);
    unsigned flags = (unsigned)q[4] | (unsigned)q[5] << 8;
    if (!(flags & MYSQL_CLIENT_SSL) || !(flags & MYSQL_CLIENT_PROTOCOL_41))
        return EMB_X_NONE;
    for (size_t i = 13; i < 32; i++)
        if (q[i] != 0)
            return EMB_X_INVALID;
    c->off = 36;
    out->client_tls = (uint32_t)c->off;
    out->server_tls = (uint32_t)s->off;
    return EMB_X_OK;
}

/* ---- detection and dispatch -------------------------------------------------- */

static emb_starttls_proto_t detect_server(const uint8_t *p, size_t len, bool *more) {
    static const struct {
        const char *s;
        size_t n;
        emb_starttls_proto_t proto;
    } greetings[] = {{"220", 3, EMB_STARTTLS_FTP_SMTP}, {"120", 3, EMB_STARTTLS_FTP_SMTP},
                     {"+OK", 3, EMB_STARTTLS_POP3},     {"* OK", 4, EMB_STARTTLS_IMAP},
                     {"<?xml", 5, EMB_STARTTLS_XMPP},   {"<stream:stream", 14, EMB_STARTTLS_XMPP}};
    for (size_t i = 0; i < sizeof(greetings) / sizeof(greetings[0]); i++) {
        int r = prefix(p, len, greetings[i].s, greetings[i].n);
        if (r == 0)
            *more = true;
        if (r != 1)
            continue;
        size_t n = greetings[i].n;
        if (greetings[i].proto == EMB_STARTTLS_XMPP)
            return EMB_STARTTLS_XMPP;
        if (len == n) {
            *more = true; /* what follows the code or status tells */
            continue;
        }
        bool sep = p[n] == ' ' || p[n] == '\r' || p[n] == '\n' ||
                   (p[n] == '-' && greetings[i].proto == EMB_STARTTLS_FTP_SMTP);
        if (sep)
            return greetings[i].proto;
    }
    /* MySQL's HandshakeV10: length, sequence id 0, protocol 10, version text. */
    if (len >= 1 && len < 5)
        *more = true;
    if (len >= 5 && p[3] == 0 && p[4] == 10) {
        size_t plen = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16;
        if (plen < 32 || plen > 1024)
            return EMB_STARTTLS_NONE;
        for (size_t i = 5; i < len && i < 5 + 64; i++) {
            if (p[i] == 0)
                return i > 5 ? EMB_STARTTLS_MYSQL : EMB_STARTTLS_NONE;
            if (p[i] < 0x20 || p[i] > 0x7e)
                return EMB_STARTTLS_NONE;
        }
        if (len < 5 + 64)
            *more = true;
    }
    return EMB_STARTTLS_NONE;
}

static emb_starttls_proto_t detect_client(const uint8_t *p, size_t len, bool *more) {
    static const struct {
        const char *s;
        size_t n;
        emb_starttls_proto_t proto;
    } openings[] = {{"<?xml", 5, EMB_STARTTLS_XMPP},
                    {"<stream:stream", 14, EMB_STARTTLS_XMPP},
                    /* Int32 8, Int32 80877103 (SSLRequest) or 80877104 (GSSENCRequest) */
                    {"\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, EMB_STARTTLS_PGSQL},
                    {"\x00\x00\x00\x08\x04\xd2\x16\x30", 8, EMB_STARTTLS_PGSQL}};
    for (size_t i = 0; i < sizeof(openings) / sizeof(openings[0]); i++) {
        int r = prefix(p, len, openings[i].s, openings[i].n);
        if (r == 1)
            return openings[i].proto;
        if (r == 0)
            *more = true;
    }
    /* An LDAPMessage: SEQUENCE, messageID INTEGER (1-4 bytes), an
     * [APPLICATION n] protocolOp. */
    uint8_t b, t, n, op;
    if (p[0] != 0x30)
        return EMB_STARTTLS_NONE;
    if (!emb_rd_u8(p, len, 1, &b)) {
        *more = true;
        return EMB_STARTTLS_NONE;
    }
    if (b == 0x80 || b > 0x84)
        return EMB_STARTTLS_NONE;
    size_t o = b > 0x80 ? 2 + (size_t)(b & 0x7f) : 2;
    if (!emb_rd_u8(p, len, o, &t) || !emb_rd_u8(p, len, o + 1, &n)) {
        *more = true;
        return EMB_STARTTLS_NONE;
    }
    if (t != 0x02 || n < 1 || n > 4)
        return EMB_STARTTLS_NONE;
    if (!emb_rd_u8(p, len, o + 2 + n, &op)) {
        *more = true;
        return EMB_STARTTLS_NONE;
    }
    return (op & 0xc0) == 0x40 ? EMB_STARTTLS_LDAP : EMB_STARTTLS_NONE;
}

emb_starttls_proto_t emb__starttls_detect(const uint8_t *p, size_t len, bool to_server,
                                          bool *more) {
    *more = len == 0;
    if (len == 0)
        return EMB_STARTTLS_NONE;
    return to_server ? detect_client(p, len, more) : detect_server(p, len, more);
}

emb_x_result_t emb__starttls_find(const uint8_t *c, size_t clen, const uint8_t *s, size_t slen,
                                  emb_starttls_t *out) {
    memset(out, 0, sizeof(*out));
    bool more_s, more_c;
    emb_starttls_proto_t proto = emb__starttls_detect(s, slen, false, &more_s);
    if (proto == EMB_STARTTLS_NONE)
        proto = emb__starttls_detect(c, clen, true, &more_c);
    else
        more_c = false;
    if (proto == EMB_STARTTLS_NONE)
        return more_s || more_c ? EMB_X_TRUNCATED : EMB_X_NONE;
    out->proto = proto;
    cur_t cc = cursor(c, clen), sc = cursor(s, slen);
    switch (proto) {
    case EMB_STARTTLS_FTP_SMTP: return walk_ftp_smtp(&cc, &sc, out);
    case EMB_STARTTLS_POP3: return walk_pop3(&cc, &sc, out);
    case EMB_STARTTLS_IMAP: return walk_imap(&cc, &sc, out);
    case EMB_STARTTLS_XMPP:
        out->proto = EMB_STARTTLS_XMPP;
        return emb__xmpp_starttls(c, clen, s, slen, &out->client_tls, &out->server_tls);
    case EMB_STARTTLS_LDAP: return walk_ldap(&cc, &sc, out);
    case EMB_STARTTLS_PGSQL: return walk_pgsql(&cc, &sc, out);
    case EMB_STARTTLS_MYSQL: return walk_mysql(&cc, &sc, out);
    default: return EMB_X_NONE;
    }
}

const char *emb__starttls_name(emb_starttls_proto_t proto) {
    switch (proto) {
    case EMB_STARTTLS_FTP: return "ftp";
    case EMB_STARTTLS_SMTP: return "smtp";
    case EMB_STARTTLS_POP3: return "pop3";
    case EMB_STARTTLS_IMAP: return "imap";
    case EMB_STARTTLS_XMPP: return "xmpp";
    case EMB_STARTTLS_LDAP: return "ldap";
    case EMB_STARTTLS_PGSQL: return "pgsql";
    case EMB_STARTTLS_MYSQL: return "mysql";
    default: return NULL;
    }
}
