/*
 * Unit tests for http.c: emb__http_parse_request.
 *
 * Covered: method, URI, version, Host and User-Agent as slices into the
 * buffer (header names in any case, optional whitespace trimmed); HTTP/1.0;
 * LF-only line ends; headers cut by the end of the buffer; what is not a
 * request (responses, lowercase methods, missing versions, binary data);
 * request lines not yet complete; CONNECT; duplicated Host; URIs holding
 * spaces (the version is what follows the last space).
 */
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Parses the C string s (without its NUL). */
static emb_x_result_t parse(const char *s, emb_http_request_t *req) {
    return emb__http_parse_request((const uint8_t *)s, strlen(s), req);
}

/* Asserts that the slice (p, n) holds exactly `want`. */
#define assert_slice(p, n, want)                                                                   \
    do {                                                                                           \
        cr_assert_not_null((p), #p " is NULL, want \"%s\"", (want));                               \
        cr_assert_eq((n), strlen(want), #n " is %zu, want %zu (\"%s\")", (size_t)(n),              \
                     strlen(want), (want));                                                        \
        cr_assert_arr_eq((p), (want), strlen(want));                                               \
    } while (0)

Test(http, get_with_host_and_user_agent) {
    /* Header names in odd case; OWS (spaces, tabs) around the values. */
    static const char req_text[] = "GET /index.html?q=1 HTTP/1.1\r\n"
                                   "hOsT:   example.com  \r\n"
                                   "USER-AGENT:\tcurl/8.0\t\r\n"
                                   "Accept: */*\r\n"
                                   "\r\n";
    const uint8_t *p = (const uint8_t *)req_text;
    emb_http_request_t r;
    cr_assert_eq(emb__http_parse_request(p, sizeof(req_text) - 1, &r), EMB_X_OK);
    assert_slice(r.method, r.method_len, "GET");
    assert_slice(r.uri, r.uri_len, "/index.html?q=1");
    assert_slice(r.version, r.version_len, "HTTP/1.1");
    assert_slice(r.host, r.host_len, "example.com");
    assert_slice(r.user_agent, r.user_agent_len, "curl/8.0");
    /* slices into the buffer, not copies */
    cr_assert_eq(r.method, p);
    cr_assert_eq(r.uri, p + 4);
    cr_assert_eq(r.host, p + strlen("GET /index.html?q=1 HTTP/1.1\r\nhOsT:   "));
}

Test(http, http_1_0_without_headers) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), EMB_X_OK);
    assert_slice(r.version, r.version_len, "HTTP/1.0");
    assert_slice(r.uri, r.uri_len, "/");
    cr_assert_null(r.host);
    cr_assert_null(r.user_agent);
}

Test(http, post_and_other_methods) {
    emb_http_request_t r;
    cr_assert_eq(parse("POST /api HTTP/1.1\r\nHost: h\r\n\r\n", &r), EMB_X_OK);
    assert_slice(r.method, r.method_len, "POST");
    cr_assert_eq(parse("OPTIONS * HTTP/1.1\r\n\r\n", &r), EMB_X_OK);
    assert_slice(r.method, r.method_len, "OPTIONS");
    assert_slice(r.uri, r.uri_len, "*");
}

Test(http, lf_only_line_ends) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET /x HTTP/1.1\nHost: example.org\nUser-Agent: ua\n\n", &r), EMB_X_OK);
    assert_slice(r.version, r.version_len, "HTTP/1.1");
    assert_slice(r.host, r.host_len, "example.org");
    assert_slice(r.user_agent, r.user_agent_len, "ua");
}

Test(http, header_cut_by_end_of_buffer_ignored) {
    emb_http_request_t r;
    /* the User-Agent line has no line end: not taken */
    cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8", &r), EMB_X_OK);
    assert_slice(r.host, r.host_len, "example.com");
    cr_assert_null(r.user_agent);
    /* nor a cut Host, even one that looks complete */
    cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: example.com", &r), EMB_X_OK);
    cr_assert_null(r.host);
}

Test(http, headers_after_the_empty_line_ignored) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\nHost: body.example\r\n", &r), EMB_X_OK);
    cr_assert_null(r.host);
}

Test(http, malformed_header_lines_skipped) {
    emb_http_request_t r;
    /* a line without a colon, a name with a space before the colon, an empty
     * name: none of them is Host; the well-formed Host after them is taken */
    cr_assert_eq(parse("GET / HTTP/1.1\r\n"
                       "no colon here\r\n"
                       "Host : space.example\r\n"
                       ": empty.example\r\n"
                       "Host: right.example\r\n\r\n",
                       &r),
                 EMB_X_OK);
    assert_slice(r.host, r.host_len, "right.example");
}

Test(http, empty_host_value) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET / HTTP/1.1\r\nHost:  \r\n\r\n", &r), EMB_X_OK);
    cr_assert_not_null(r.host);
    cr_assert_eq(r.host_len, 0);
}

Test(http, first_host_wins) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET / HTTP/1.1\r\n"
                       "Host: first.example\r\n"
                       "User-Agent: ua-one\r\n"
                       "HOST: second.example\r\n"
                       "user-agent: ua-two\r\n\r\n",
                       &r),
                 EMB_X_OK);
    assert_slice(r.host, r.host_len, "first.example");
    assert_slice(r.user_agent, r.user_agent_len, "ua-one");
}

Test(http, connect_authority_uri) {
    emb_http_request_t r;
    cr_assert_eq(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &r),
                 EMB_X_OK);
    assert_slice(r.method, r.method_len, "CONNECT");
    assert_slice(r.uri, r.uri_len, "example.com:443");
    assert_slice(r.host, r.host_len, "example.com:443");
}

Test(http, uri_with_spaces_runs_to_the_last_space) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET /a b c HTTP/1.1\r\nHost: h\r\n\r\n", &r), EMB_X_OK);
    assert_slice(r.uri, r.uri_len, "/a b c");
    assert_slice(r.version, r.version_len, "HTTP/1.1");
    /* a space after the version leaves an empty "version": not a request */
    cr_assert_eq(parse("GET / HTTP/1.1 \r\n\r\n", &r), EMB_X_NONE);
}

Test(http, request_line_without_version_none) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET /\r\n\r\n", &r), EMB_X_NONE); /* HTTP/0.9 */
    cr_assert_eq(parse("GET /index.html\r\nHost: h\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET  HTTP/1.1\r\n\r\n", &r), EMB_X_NONE); /* empty URI */
    cr_assert_eq(parse("GET \r\n\r\n", &r), EMB_X_NONE);
}

Test(http, other_versions_none) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET / HTTP/2.0\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET / HTTP/1.10\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET / http/1.1\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET / FOO\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET / HTTP/1.Z\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\n", &r), EMB_X_OK);
}

Test(http, lowercase_method_none) {
    emb_http_request_t r;
    cr_assert_eq(parse("get / HTTP/1.1\r\n\r\n", &r), EMB_X_NONE);
    cr_assert_eq(parse("Get / HTTP/1.1\r\n\r\n", &r), EMB_X_NONE);
}

Test(http, method_length_limit) {
    emb_http_request_t r;
    /* 16 upper-case letters: still a method */
    cr_assert_eq(parse("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", &r), EMB_X_OK);
    cr_assert_eq(r.method_len, 16);
    /* 17: not */
    cr_assert_eq(parse("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", &r), EMB_X_NONE);
}

Test(http, response_none) {
    emb_http_request_t r;
    cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &r), EMB_X_NONE);
}

Test(http, binary_garbage_none) {
    emb_http_request_t r;
    /* the start of a TLS ClientHello record: 16 03 01 00 82 01 */
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x82, 0x01};
    cr_assert_eq(emb__http_parse_request(tls, sizeof(tls), &r), EMB_X_NONE);
    /* "GET" then a NUL where the space should be */
    static const uint8_t nul[] = {'G', 'E', 'T', 0x00, '/', ' ', 'H'};
    cr_assert_eq(emb__http_parse_request(nul, sizeof(nul), &r), EMB_X_NONE);
    /* 0xff bytes */
    static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff};
    cr_assert_eq(emb__http_parse_request(ff, sizeof(ff), &r), EMB_X_NONE);
    /* nothing */
    cr_assert_eq(emb__http_parse_request(ff, 0, &r), EMB_X_NONE);
}

Test(http, request_line_incomplete_truncated) {
    emb_http_request_t r;
    cr_assert_eq(parse("GET", &r), EMB_X_TRUNCATED);
    cr_assert_eq(parse("GET ", &r), EMB_X_TRUNCATED);
    cr_assert_eq(parse("GET /index.ht", &r), EMB_X_TRUNCATED);
    cr_assert_eq(parse("GET /index.html HTTP/1.1\r", &r), EMB_X_TRUNCATED);
}

Test(http, cut_at_every_length) {
    static const char full[] = "GET /p HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ua\r\n\r\n";
    const size_t line_end = strlen("GET /p HTTP/1.1\r\n");
    const size_t host_end = line_end + strlen("Host: example.com\r\n");
    const size_t ua_end = host_end + strlen("User-Agent: ua\r\n");
    for (size_t len = 0; len <= sizeof(full) - 1; len++) {
        /* exactly len bytes, so a read past them is past the allocation */
        uint8_t *buf = malloc(len + 1);
        cr_assert_not_null(buf);
        memcpy(buf, full, len);
        emb_http_request_t r;
        emb_x_result_t rc = emb__http_parse_request(buf, len, &r);
        if (len == 0) {
            cr_assert_eq(rc, EMB_X_NONE);
        } else if (len < line_end) {
            cr_assert_eq(rc, EMB_X_TRUNCATED, "len %zu: %d", len, rc);
        } else {
            cr_assert_eq(rc, EMB_X_OK, "len %zu: %d", len, rc);
            cr_assert_eq(r.host != NULL, len >= host_end, "len %zu", len);
            cr_assert_eq(r.user_agent != NULL, len >= ua_end, "len %zu", len);
            if (r.host)
                assert_slice(r.host, r.host_len, "example.com");
        }
        free(buf);
    }
}
