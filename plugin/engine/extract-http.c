/*
 * HTTP/1.x request parsing in the manner of picohttpparser: one pass over
 * the bytes, slices into the packet, no copies. Only what the rules use is
 * kept: method, URI, version, Host and User-Agent. A request line must be
 * complete; headers are taken as far as whole lines are present.
 */
#include "extract.h"

#include <string.h>

#define MAX_METHOD 16

static bool is_tchar(uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Finds the end of the line that starts at `off`: the offset of its "\n". */
static bool line_end(const uint8_t *p, size_t len, size_t off, size_t *nl) {
    const uint8_t *q = memchr(p + off, '\n', len - off);
    if (q == NULL)
        return false;
    *nl = (size_t)(q - p);
    return true;
}

static bool name_is(const uint8_t *name, size_t n, const char *want) {
    size_t wl = strlen(want);
    if (n != wl)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + ('a' - 'A'));
        if (c != (uint8_t)want[i])
            return false;
    }
    return true;
}

emb_x_result_t emb__http_parse_request(const uint8_t *p, size_t len, emb_http_request_t *req) {
    memset(req, 0, sizeof(*req));

    /* Method: an upper-case token, then one space. Anything else is not HTTP. */
    size_t i = 0;
    while (i < len && i <= MAX_METHOD && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    if (i == 0 || i > MAX_METHOD)
        return EMB_X_NONE;
    if (i == len)
        return EMB_X_TRUNCATED;
    if (p[i] != ' ')
        return EMB_X_NONE;
    req->method = p;
    req->method_len = i;

    size_t nl;
    if (!line_end(p, len, i, &nl))
        return EMB_X_TRUNCATED;
    size_t eol = nl > 0 && p[nl - 1] == '\r' ? nl - 1 : nl;

    /* URI up to the last space of the line; the version after it. */
    size_t uri_start = i + 1, sp = eol;
    while (sp > uri_start && p[sp - 1] != ' ')
        sp--;
    if (sp <= uri_start + 1)
        return EMB_X_NONE; /* HTTP/0.9 or no version: not handled */
    req->version = p + sp;
    req->version_len = eol - sp;
    if (req->version_len != 8 || memcmp(req->version, "HTTP/1.", 7) != 0 ||
        (req->version[7] != '0' && req->version[7] != '1'))
        return EMB_X_NONE;
    req->uri = p + uri_start;
    req->uri_len = sp - 1 - uri_start;

    /* Header fields: name ":" OWS value OWS. Stop at the empty line. */
    size_t off = nl + 1;
    while (off < len) {
        if (!line_end(p, len, off, &nl))
            break; /* a header cut off by the end of the packet */
        size_t end = nl > off && p[nl - 1] == '\r' ? nl - 1 : nl;
        if (end == off)
            break; /* end of headers */
        size_t colon = off;
        while (colon < end && is_tchar(p[colon]))
            colon++;
        if (colon == off || colon == end || p[colon] != ':') {
            off = nl + 1; /* not a well-formed field: skip the line */
            continue;
        }
        size_t v = colon + 1, ve = end;
        while (v < ve && (p[v] == ' ' || p[v] == '\t'))
            v++;
        while (ve > v && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
            ve--;
        if (req->host == NULL && name_is(p + off, colon - off, "host")) {
            req->host = p + v;
            req->host_len = ve - v;
        } else if (req->user_agent == NULL && name_is(p + off, colon - off, "user-agent")) {
            req->user_agent = p + v;
            req->user_agent_len = ve - v;
        }
        off = nl + 1;
    }
    return EMB_X_OK;
}
