/*
 * XMPP's STARTTLS (RFC 6120 section 5.4.2), for starttls.c: after the stream
 * headers, and after the server's <stream:features/>, the client sends
 * <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> and the server answers
 * <proceed/> in the same namespace (<failure/> refuses it); TLS begins right
 * after each of the two elements.
 *
 * The one design choice: no XML parser, only a tokenizer of what an XMPP
 * stream's opening may hold (RFC 6120 section 11.1: no comments, no
 * processing instructions but the declaration, no DTD): character data and
 * tags, a '>' inside a quoted attribute value not ending a tag. The client's
 * first element after its stream header must be <starttls/>; the server's
 * <stream:features/> is skipped whole, and the element after it must be
 * <proceed/>. Like starttls.c, it keeps nothing between calls and reads at
 * most EMB_STARTTLS_WINDOW bytes of each direction.
 */
#include "protocols/protocols.h"
#include "protocols/starttls-cursor.h"

#include <string.h>

#define XML_TAG_MAX 2048 /* longest tag */
#define XML_DEPTH_MAX 16 /* nesting inside <stream:features/> */
#define XMPP_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"

enum { X_TEXT, X_DECL, X_OPEN, X_EMPTY, X_CLOSE };

typedef struct {
    int kind;
    const uint8_t *name, *attrs; /* X_OPEN, X_EMPTY: the attributes' text */
    size_t name_len, attrs_len;
    bool blank; /* X_TEXT: only white space */
} xml_tok_t;

static bool xml_space(uint8_t ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The next token at c->off: character data up to the next '<', or one tag
 * (a '>' inside a quoted attribute value does not end it). Comments, CDATA
 * and DTDs are not XMPP (RFC 6120 section 11.1). */
static emb_x_result_t xml_next(cur_t *c, xml_tok_t *t) {
    memset(t, 0, sizeof(*t));
    if (c->off >= c->len)
        return need(c);
    const uint8_t *p = c->p + c->off;
    size_t avail = c->len - c->off;
    if (p[0] != '<') {
        size_t i = 0;
        t->blank = true;
        while (i < avail && p[i] != '<') {
            t->blank = t->blank && xml_space(p[i]);
            i++;
        }
        t->kind = X_TEXT;
        c->off += i;
        return EMB_X_OK;
    }
    size_t i = 1;
    uint8_t quote = 0;
    while (i < avail && i < XML_TAG_MAX && (quote || p[i] != '>')) {
        if (quote && p[i] == quote)
            quote = 0;
        else if (!quote && (p[i] == '"' || p[i] == '\''))
            quote = p[i];
        i++;
    }
    if (i >= XML_TAG_MAX)
        return EMB_X_INVALID;
    if (i >= avail)
        return need(c);
    /* p[0] is '<', p[i] is '>'. */
    size_t body = 1, end = i;
    if (end > 1 && p[1] == '!')
        return EMB_X_INVALID;
    if (end > 1 && p[1] == '?') {
        if (end < 3 || p[end - 1] != '?')
            return EMB_X_INVALID;
        t->kind = X_DECL;
        c->off += i + 1;
        return EMB_X_OK;
    }
    t->kind = X_OPEN;
    if (end > 1 && p[1] == '/') {
        t->kind = X_CLOSE;
        body = 2;
    } else if (p[end - 1] == '/') {
        t->kind = X_EMPTY;
        end--;
    }
    size_t k = body;
    while (k < end && !xml_space(p[k]) && p[k] != '/')
        k++;
    if (k == body)
        return EMB_X_INVALID;
    t->name = p + body;
    t->name_len = k - body;
    t->attrs = p + k;
    t->attrs_len = end - k;
    c->off += i + 1;
    return EMB_X_OK;
}

static bool name_eq(const xml_tok_t *t, const char *name) {
    return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

/* The tag's xmlns attribute is `ns`. */
static bool xml_ns_is(const xml_tok_t *t, const char *ns) {
    const uint8_t *a = t->attrs;
    size_t n = t->attrs_len, i = 0;
    while (i < n) {
        while (i < n && xml_space(a[i]))
            i++;
        size_t name = i;
        while (i < n && a[i] != '=' && !xml_space(a[i]))
            i++;
        size_t name_len = i - name;
        while (i < n && xml_space(a[i]))
            i++;
        if (i >= n || a[i] != '=')
            return false;
        i++;
        while (i < n && xml_space(a[i]))
            i++;
        if (i >= n || (a[i] != '"' && a[i] != '\''))
            return false;
        uint8_t q = a[i++];
        size_t val = i;
        while (i < n && a[i] != q)
            i++;
        if (i >= n)
            return false;
        if (name_len == 5 && memcmp(a + name, "xmlns", 5) == 0)
            return i - val == strlen(ns) && memcmp(a + val, ns, i - val) == 0;
        i++;
    }
    return false;
}

/* Past an optional XML declaration and white space, the <stream:stream> open
 * tag (RFC 6120 section 4.7). */
static emb_x_result_t xml_stream_header(cur_t *c) {
    xml_tok_t t;
    for (;;) {
        emb_x_result_t x = xml_next(c, &t);
        if (x != EMB_X_OK)
            return x;
        if ((t.kind == X_TEXT && t.blank) || t.kind == X_DECL)
            continue;
        return t.kind == X_OPEN && name_eq(&t, "stream:stream") ? EMB_X_OK : EMB_X_INVALID;
    }
}

/* The next top-level element of a stream, white space passed over. An
 * element of the TLS namespace that is not empty must be closed right away. */
static emb_x_result_t xml_child(cur_t *c, xml_tok_t *t) {
    emb_x_result_t x;
    do {
        if ((x = xml_next(c, t)) != EMB_X_OK)
            return x;
    } while (t->kind == X_TEXT && t->blank);
    if (t->kind != X_OPEN && t->kind != X_EMPTY)
        return EMB_X_INVALID;
    if (t->kind == X_OPEN && xml_ns_is(t, XMPP_TLS_NS)) {
        xml_tok_t close;
        do {
            if ((x = xml_next(c, &close)) != EMB_X_OK)
                return x;
        } while (close.kind == X_TEXT && close.blank);
        if (close.kind != X_CLOSE || close.name_len != t->name_len ||
            memcmp(close.name, t->name, t->name_len) != 0)
            return EMB_X_INVALID;
    }
    return EMB_X_OK;
}

/* The client: its first element after the stream header is <starttls/>. */
static emb_x_result_t xmpp_client(cur_t *c) {
    xml_tok_t t;
    emb_x_result_t x = xml_stream_header(c);
    if (x == EMB_X_OK)
        x = xml_child(c, &t);
    if (x != EMB_X_OK)
        return x;
    return name_eq(&t, "starttls") && xml_ns_is(&t, XMPP_TLS_NS) ? EMB_X_OK : EMB_X_NONE;
}

/* The server: <stream:features> (skipped whole), then <proceed/>. */
static emb_x_result_t xmpp_server(cur_t *s) {
    xml_tok_t t;
    emb_x_result_t x = xml_stream_header(s);
    if (x != EMB_X_OK)
        return x;
    for (;;) {
        if ((x = xml_child(s, &t)) != EMB_X_OK)
            return x;
        if (name_eq(&t, "stream:features")) {
            for (unsigned depth = t.kind == X_OPEN; depth > 0;) {
                if ((x = xml_next(s, &t)) != EMB_X_OK)
                    return x;
                if (t.kind == X_OPEN && ++depth > XML_DEPTH_MAX)
                    return EMB_X_INVALID;
                if (t.kind == X_CLOSE)
                    depth--;
            }
            continue;
        }
        if (name_eq(&t, "proceed") && xml_ns_is(&t, XMPP_TLS_NS))
            return EMB_X_OK;
        return EMB_X_NONE; /* <failure/>, <stream:error/>, or anything else */
    }
}

emb_x_result_t emb__xmpp_starttls(const uint8_t *c, size_t clen, const uint8_t *s, size_t slen,
                                  uint32_t *client_tls, uint32_t *server_tls) {
    cur_t cc = cursor(c, clen), sc = cursor(s, slen);
    emb_x_result_t xc = xmpp_client(&cc), xs = xmpp_server(&sc);
    if (xc == EMB_X_OK && xs == EMB_X_OK) {
        *client_tls = (uint32_t)cc.off;
        *server_tls = (uint32_t)sc.off;
        return EMB_X_OK;
    }
    if (xc != EMB_X_OK && xc != EMB_X_TRUNCATED)
        return xc;
    if (xs != EMB_X_OK && xs != EMB_X_TRUNCATED)
        return xs;
    return EMB_X_TRUNCATED;
}
