/*
 * HTTP/1.x request parsing in the manner of picohttpparser: one pass over
 * the bytes, slices into the packet, no copies. Only what the rules use is
 * kept: method, URI, version, Host, User-Agent, Server and Location. RTSP/1.0
 * (RFC 2326) and SIP/2.0 (RFC 3261 section 7) share HTTP's message syntax and
 * are parsed here too; the version token tells them apart. A request line must be
 * complete; headers are taken as far as whole lines are present.
 */
#include "protocols/protocols.h"

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

size_t emb__http_header_end(const uint8_t *p, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* A decimal Content-Length, or -1. */
static int64_t parse_length(const uint8_t *v, size_t n) {
    if (n == 0 || n > 15)
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

static bool contains_ci(const uint8_t *v, size_t n, const char *word) {
    size_t wl = strlen(word);
    for (size_t i = 0; i + wl <= n; i++)
        if (name_is(v + i, wl, word))
            return true;
    return false;
}

/* The header fields both requests and responses care about. */
typedef struct {
    const uint8_t **host, **user_agent, **server, **location;
    size_t *host_len, *user_agent_len, *server_len, *location_len;
    int64_t *content_length;
    bool *chunked;
} fields_t;

/* Sets (*v, *vn) to the value when `want` names this field and it is the first. */
static bool take(const uint8_t *name, size_t name_len, const char *want, const uint8_t **v,
                 size_t *vn, const uint8_t *val, size_t val_len) {
    if (v == NULL || *v != NULL || !name_is(name, name_len, want))
        return false;
    *v = val;
    *vn = val_len;
    return true;
}

/*
 * Walks the header lines from `off`; stops at the empty line or at a line
 * cut by the end of the buffer.
 */
static void parse_fields(const uint8_t *p, size_t len, size_t off, const fields_t *f) {
    size_t nl;
    *f->content_length = -1;
    *f->chunked = false;
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
        const uint8_t *name = p + off;
        size_t name_len = colon - off;
        if (take(name, name_len, "host", f->host, f->host_len, p + v, ve - v) ||
            take(name, name_len, "user-agent", f->user_agent, f->user_agent_len, p + v, ve - v) ||
            take(name, name_len, "server", f->server, f->server_len, p + v, ve - v) ||
            take(name, name_len, "location", f->location, f->location_len, p + v, ve - v)) {
            /* taken */
        } else if (name_is(name, name_len, "content-length") || name_is(name, name_len, "l")) {
            /* "l": SIP's compact Content-Length (RFC 3261 section 7.3.3) */
            *f->content_length = parse_length(p + v, ve - v);
        } else if (name_is(name, name_len, "transfer-encoding")) {
            *f->chunked = contains_ci(p + v, ve - v, "chunked");
        }
        off = nl + 1;
    }
}

int emb__msg_version(const uint8_t *v, size_t n) {
    if (n == 8 && memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1'))
        return EMB_MSG_HTTP;
    if (n == 8 && memcmp(v, "RTSP/1.0", 8) == 0)
        return EMB_MSG_RTSP;
    if (n == 7 && memcmp(v, "SIP/2.0", 7) == 0)
        return EMB_MSG_SIP;
    return -1;
}

emb_x_result_t emb__http_parse_response(const uint8_t *p, size_t len, emb_http_response_t *resp) {
    memset(resp, 0, sizeof(*resp));
    resp->content_length = -1;
    /* "HTTP/1.x NNN", "RTSP/1.0 NNN" or "SIP/2.0 NNN" */
    size_t vl = len >= 4 && memcmp(p, "SIP/", 4) == 0 ? 7 : 8;
    if (len < vl + 4)
        return len >= 4 && memcmp(p, "HTTP", 4) != 0 && memcmp(p, "RTSP", 4) != 0 &&
                       memcmp(p, "SIP/", 4) != 0
                   ? EMB_X_NONE
                   : EMB_X_TRUNCATED;
    int proto = emb__msg_version(p, vl);
    if (proto < 0 || p[vl] != ' ')
        return EMB_X_NONE;
    resp->proto = (uint8_t)proto;
    uint16_t status = 0;
    for (size_t i = vl + 1; i < vl + 4; i++) {
        if (p[i] < '0' || p[i] > '9')
            return EMB_X_NONE;
        status = (uint16_t)(status * 10 + (p[i] - '0'));
    }
    if (len > vl + 4 && p[vl + 4] != ' ' && p[vl + 4] != '\r' && p[vl + 4] != '\n')
        return EMB_X_NONE;
    resp->status = status;
    resp->version = p;
    resp->version_len = vl;
    size_t nl;
    if (!line_end(p, len, 0, &nl))
        return EMB_X_TRUNCATED;
    resp->line_len = nl > 0 && p[nl - 1] == '\r' ? nl - 1 : nl;
    fields_t f = {NULL,
                  &resp->user_agent,
                  &resp->server,
                  &resp->location,
                  NULL,
                  &resp->user_agent_len,
                  &resp->server_len,
                  &resp->location_len,
                  &resp->content_length,
                  &resp->chunked};
    parse_fields(p, len, nl + 1, &f);
    return EMB_X_OK;
}

emb_x_result_t emb__http_parse_request(const uint8_t *p, size_t len, emb_http_request_t *req) {
    memset(req, 0, sizeof(*req));
    req->content_length = -1;

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
    int proto = emb__msg_version(req->version, req->version_len);
    if (proto < 0)
        return EMB_X_NONE;
    req->proto = (uint8_t)proto;
    req->line_len = eol;
    req->uri = p + uri_start;
    req->uri_len = sp - 1 - uri_start;

    /* Header fields: name ":" OWS value OWS. Stop at the empty line. */
    fields_t f = {&req->host,           &req->user_agent,     &req->server,     &req->location,
                  &req->host_len,       &req->user_agent_len, &req->server_len, &req->location_len,
                  &req->content_length, &req->chunked};
    parse_fields(p, len, nl + 1, &f);
    return EMB_X_OK;
}
