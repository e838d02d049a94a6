/*
 * Application-layer extractors. Each takes the untrusted payload as
 * (p, len) and returns slices into it or text rendered into caller buffers;
 * nothing is allocated. Results: EMB_X_OK, or a reason it found nothing.
 */
#ifndef EMB_EXTRACT_H
#define EMB_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    EMB_X_OK = 0,
    EMB_X_NONE = 1,       /* not this protocol, or nothing to extract */
    EMB_X_TRUNCATED = -1, /* ran out of bytes */
    EMB_X_INVALID = -2    /* contradicts itself */
} emb_x_result_t;

/* ---- DNS ---------------------------------------------------------------- */

#define EMB_DNS_NAME_MAX 1024 /* rendered text, escapes included */
#define EMB_DNS_MAX_QUESTIONS 8

typedef struct {
    uint16_t id;
    bool qr;
    uint8_t opcode;
    bool rd;
    uint16_t qdcount, ancount;
} emb_dns_header_t;

typedef struct {
    char name[EMB_DNS_NAME_MAX];
    size_t name_len;
    uint16_t qtype;
} emb_dns_question_t;

/*
 * Decodes the (possibly compressed) name at *off of the DNS message `msg`
 * into `out` as dotted text. Label bytes outside printable ASCII, and dots or
 * backslashes inside a label, are written as "\DDD" (as dig does), so a
 * crafted label can never pose as a separator. Pointers must point backwards
 * and are followed at most 64 times; the wire name is at most 255 octets.
 * On success *off is moved past the name where it appears in the message.
 */
emb_x_result_t emb__dns_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap,
                             size_t *out_len);

/*
 * Parses a DNS message's header and up to `max` questions (those that parse;
 * the count is in *nq). Returns EMB_X_OK when the header parsed.
 */
emb_x_result_t emb__dns_parse(const uint8_t *msg, size_t len, emb_dns_header_t *hdr,
                              emb_dns_question_t *qs, size_t max, size_t *nq);

/* The name of a query type ("A", "AAAA", ...) or NULL when it has none. */
const char *emb__dns_rrtype_name(uint16_t type);

/* ---- TLS ---------------------------------------------------------------- */

/*
 * Finds the server_name (type host_name) of a TLS ClientHello at the start
 * of `p`. The ClientHello must begin in this buffer; what lies past its end is
 * reported as truncated. *sni points into `p`.
 */
emb_x_result_t emb__tls_client_hello_sni(const uint8_t *p, size_t len, const uint8_t **sni,
                                         size_t *sni_len);

/* ---- HTTP --------------------------------------------------------------- */

typedef struct {
    const uint8_t *method, *uri, *version, *host, *user_agent; /* slices into p */
    size_t method_len, uri_len, version_len, host_len, user_agent_len;
} emb_http_request_t;

/*
 * Parses an HTTP/1.x request line and headers at the start of `p`. Headers
 * cut off by the end of the buffer are parsed as far as they are complete.
 * Returns EMB_X_NONE when `p` does not start with a request line.
 */
emb_x_result_t emb__http_parse_request(const uint8_t *p, size_t len, emb_http_request_t *req);

#endif /* EMB_EXTRACT_H */
