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
 * With `out` NULL the name is only walked (nothing written, no room needed).
 */
emb_x_result_t emb__dns_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap,
                             size_t *out_len);

/* emb__dns_name with `out` NULL: true, with *off moved, exactly when reading
 * the name into EMB_DNS_NAME_MAX bytes (which always hold a name of at most
 * 255 octets) would succeed. For a section read only to get past it. */
bool emb__dns_skip_name(const uint8_t *msg, size_t len, size_t *off);

/*
 * Parses a DNS message's header and up to `max` questions (those that parse;
 * the count is in *nq). Returns EMB_X_OK when the header parsed.
 */
emb_x_result_t emb__dns_parse(const uint8_t *msg, size_t len, emb_dns_header_t *hdr,
                              emb_dns_question_t *qs, size_t max, size_t *nq);

#define EMB_DNS_MAX_RECORDS 16

/* A resource record of the answer, authority or additional section. */
typedef struct {
    char name[EMB_DNS_NAME_MAX];
    size_t name_len;
    uint16_t type;
    uint32_t ttl;
    uint8_t section; /* 1 answer, 2 authority, 3 additional */
    uint8_t family;  /* 4 for A, 6 for AAAA, else 0 */
    uint8_t addr[16];
    char target[EMB_DNS_NAME_MAX]; /* CNAME, NS, PTR, MX, SRV: the name it points to */
    size_t target_len;             /* 0 when the type has no target name */
} emb_dns_rr_t;

/*
 * Parses the answer, authority and additional records of a DNS message (up
 * to `max`, in that order; *n says how many). OPT pseudo-records are skipped;
 * a record whose owner name, fixed fields or data cannot be read ends the
 * walk, and what was parsed before stays.
 * Returns EMB_X_OK when at least the header and questions parsed.
 */
emb_x_result_t emb__dns_parse_records(const uint8_t *msg, size_t len, emb_dns_rr_t *rrs, size_t max,
                                      size_t *n);

/* An A or AAAA record of a DNS message's answer section. */
typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint32_t ttl;
} emb_dns_addr_t;

/*
 * The A/AAAA records among the answer records emb__dns_parse_records would
 * return (the same walk and limits: at most EMB_DNS_MAX_RECORDS records, a
 * record that cannot be read ends it), without reading a name: for a caller
 * that has the names from another parser. *n says how many went to out[]
 * (room for EMB_DNS_MAX_RECORDS). Returns EMB_X_OK when the header and the
 * questions could be stepped over.
 */
emb_x_result_t emb__dns_answer_addrs(const uint8_t *msg, size_t len, emb_dns_addr_t *out,
                                     size_t *n);

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

/* ---- TLS handshake messages: ClientHello (JA4), Certificate (X.509) ------ */

/*
 * These parse one handshake message BODY: the bytes after the 4-byte
 * handshake header (type, length), as reassembled from TLS records or from
 * QUIC CRYPTO frames. `len` is what the caller holds of it: when a length
 * inside runs past `len` the result is EMB_X_TRUNCATED ("ran out of bytes");
 * a caller that knows `len` is the whole message (the header's length) should
 * count that as invalid. EMB_X_INVALID means the message contradicts itself
 * within the bytes given.
 */

#define EMB_TLS_JA4_MAX 40 /* "t13d1516h2_8daaf6152771_e5627efa2ab1" is 36 */

/* Longest cipher or extension list the JA4 hashes are computed over; a
 * ClientHello offering more gets an empty ja4 (real ones offer < 100). */
#define EMB_TLS_JA4_LIST_MAX 1024

typedef struct {
    /* Slices into the body; valid as long as the body is. NULL when absent. */
    const uint8_t *sni; /* first server_name entry of type host_name, non-empty */
    size_t sni_len;
    const uint8_t *alpn; /* first protocol name of the ALPN extension */
    size_t alpn_len;
    uint16_t legacy_version; /* client_version, e.g. 0x0303 */
    uint16_t max_version;    /* highest supported_versions entry, GREASE ignored; 0 if none */
    bool has_sni;            /* a server_name extension is there (JA4 "d"), even if empty */
    bool has_alpn;           /* an ALPN extension is there */
    bool has_ech;            /* encrypted_client_hello: the SNI is the outer, public name */
    /* Counts with GREASE values (RFC 8701) left out, not capped. */
    size_t ciphers_n, extensions_n, sigalgs_n;
    /* JA4 client fingerprint, NUL-terminated; "" unless the result is EMB_X_OK
     * and the lists fit EMB_TLS_JA4_LIST_MAX. */
    char ja4[EMB_TLS_JA4_MAX];
} emb_tls_hello_t;

/*
 * Parses a ClientHello body (RFC 8446 section 4.1.2: client_version, random,
 * session_id, cipher_suites, compression_methods, extensions) into *out and
 * computes its JA4 fingerprint (FoxIO, technical_details/JA4.md); `quic`
 * selects the "q" prefix over "t". Returns EMB_X_OK with every field set;
 * otherwise *out holds what was found before the parse stopped and ja4 is "".
 * Bytes after the extensions block are INVALID. A body that ends right
 * after compression_methods is a ClientHello without extensions (RFC 5246
 * section 7.4.1.2), so pass the whole message, not a prefix of it.
 */
emb_x_result_t emb__tls_client_hello(const uint8_t *body, size_t len, bool quic,
                                     emb_tls_hello_t *out);

#define EMB_TLS_DN_MAX 512 /* rendered subject or issuer, NUL included */
#define EMB_TLS_SAN_MAX 16

typedef struct {
    /* Distinguished names as Suricata's tls.subject / tls.issuerdn render
     * them: "C=US, O=Example, CN=example.com" (RDNs joined by ", ",
     * attributes of one RDN by " + "). NUL-terminated; *_len excludes the NUL.
     * Nothing is escaped; a name that does not fit is cut at a UTF-8
     * character boundary and *_cut is set. */
    char subject[EMB_TLS_DN_MAX];
    size_t subject_len;
    bool subject_cut;
    char issuer[EMB_TLS_DN_MAX];
    size_t issuer_len;
    bool issuer_cut;
    /* Slices into the body, valid as long as it is. */
    const uint8_t *leaf; /* the leaf certificate's DER */
    size_t leaf_len;
    const uint8_t *cn; /* first commonName value of the subject, as encoded; NULL if none */
    size_t cn_len;
    const uint8_t *san[EMB_TLS_SAN_MAX]; /* subjectAltName dNSName values, in order */
    size_t san_len[EMB_TLS_SAN_MAX];
    size_t san_n;  /* how many are in san[] */
    bool san_more; /* there were more than EMB_TLS_SAN_MAX */
} emb_tls_cert_t;

/*
 * Parses a TLS 1.2 Certificate body (RFC 5246 section 7.4.2: a 3-byte list
 * length, then 3-byte-length-prefixed DER certificates) and decodes the
 * first (leaf) certificate (RFC 5280 section 4.1) into *out. Only the leaf
 * must be complete: EMB_X_OK when it is, even if the rest of the chain is
 * not in `len`. An empty list is EMB_X_NONE.
 */
emb_x_result_t emb__tls_certificate(const uint8_t *body, size_t len, emb_tls_cert_t *out);

/*
 * Decodes one DER X.509 certificate occupying exactly [der, der+len) into
 * *out (the name, CN and SAN fields; leaf is set to der). A length running
 * past `len`, or anything contradicting the structure, is EMB_X_INVALID.
 * In x509.c.
 */
emb_x_result_t emb__x509_decode(const uint8_t *der, size_t len, emb_tls_cert_t *out);

/* ---- HTTP --------------------------------------------------------------- */

/* Protocols with HTTP's message syntax, told apart by their version token. */
typedef enum { EMB_MSG_HTTP, EMB_MSG_RTSP, EMB_MSG_SIP } emb_msg_proto_t;

/* The emb_msg_proto_t a version token names ("HTTP/1.0", "HTTP/1.1",
 * "RTSP/1.0", "SIP/2.0"), or -1. */
int emb__msg_version(const uint8_t *v, size_t n);

typedef struct {
    const uint8_t *method, *uri, *version, *host, *user_agent; /* slices into p */
    size_t method_len, uri_len, version_len, host_len, user_agent_len;
    const uint8_t *server, *location; /* SSDP's NOTIFY carries both (UPnP 2.0 section 1.2.2) */
    size_t server_len, location_len;
    size_t line_len;        /* the request line, without its line end */
    uint8_t proto;          /* emb_msg_proto_t */
    int64_t content_length; /* -1 when absent or not a number */
    bool chunked;           /* Transfer-Encoding names chunked */
} emb_http_request_t;

typedef struct {
    uint16_t status;
    const uint8_t *version; /* slice into p */
    size_t version_len;
    const uint8_t *server, *location, *user_agent; /* the first of each field, or NULL */
    size_t server_len, location_len, user_agent_len;
    size_t line_len;        /* the status line, without its line end */
    uint8_t proto;          /* emb_msg_proto_t */
    int64_t content_length; /* -1 when absent or not a number */
    bool chunked;
} emb_http_response_t;

/* Where the header block that starts at p ends: the offset just past its
 * empty line, or 0 when the block is not complete in `len` bytes. */
size_t emb__http_header_end(const uint8_t *p, size_t len);

/*
 * Parses an HTTP/1.x, RTSP/1.0 or SIP/2.0 status line and headers at the
 * start of `p`. Returns EMB_X_NONE when `p` does not start with one of
 * "HTTP/1.x NNN", "RTSP/1.0 NNN", "SIP/2.0 NNN".
 */
emb_x_result_t emb__http_parse_response(const uint8_t *p, size_t len, emb_http_response_t *resp);

/*
 * Parses an HTTP/1.x (or RTSP/1.0, SIP/2.0) request line and headers at the
 * start of `p`. Headers cut off by the end of the buffer are parsed as far as
 * they are complete. Returns EMB_X_NONE when `p` does not start with a
 * request line.
 */
emb_x_result_t emb__http_parse_request(const uint8_t *p, size_t len, emb_http_request_t *req);

/* ---- STARTTLS (starttls.c) ---------------------------------------------- */

/* The plaintext protocols whose sessions can switch to TLS part way. */
typedef enum {
    EMB_STARTTLS_NONE = 0,
    EMB_STARTTLS_FTP_SMTP, /* a "220" greeting: FTP or SMTP, until the request tells */
    EMB_STARTTLS_FTP,      /* AUTH TLS (RFC 4217) */
    EMB_STARTTLS_SMTP,     /* STARTTLS (RFC 3207) */
    EMB_STARTTLS_POP3,     /* STLS (RFC 2595) */
    EMB_STARTTLS_IMAP,     /* STARTTLS (RFC 2595, RFC 9051) */
    EMB_STARTTLS_XMPP,     /* <starttls/> (RFC 6120) */
    EMB_STARTTLS_LDAP,     /* StartTLS extended operation (RFC 4511) */
    EMB_STARTTLS_PGSQL,    /* SSLRequest */
    EMB_STARTTLS_MYSQL     /* SSL request packet */
} emb_starttls_proto_t;

/* Bytes of each direction the plaintext exchange may take before TLS. */
#define EMB_STARTTLS_WINDOW 4096

typedef struct {
    emb_starttls_proto_t proto; /* FTP or SMTP once the request told them apart */
    uint32_t client_tls;        /* EMB_X_OK: stream offset of the client's first TLS byte */
    uint32_t server_tls;        /* EMB_X_OK: stream offset of the server's first TLS byte */
} emb_starttls_t;

/*
 * Which of the protocols above the first bytes of one direction of a TCP
 * flow begin (to_server: the client's bytes): a server greeting ("220 ",
 * "+OK", "* OK", a MySQL handshake, an XMPP stream header) or a client's
 * opening (an XMPP stream header, a PostgreSQL SSLRequest or GSSENCRequest,
 * an LDAP message). EMB_STARTTLS_NONE when they begin none; then *more is set
 * when the bytes so far are the start of one of them and more could tell.
 */
emb_starttls_proto_t emb__starttls_detect(const uint8_t *p, size_t len, bool to_server, bool *more);

/*
 * Follows the plaintext exchange of a TCP flow, given each direction's bytes
 * from the start of the stream (c: client to server, s: server to client;
 * either may be empty), and tells whether and where it switches to TLS: the
 * client asked (a request alone on its line or in its own message) and the
 * server's answer to that request is the positive one. Nothing is kept
 * between calls: call again, with the same bytes and more, as they grow.
 *
 * EMB_X_OK: TLS begins at out->client_tls and out->server_tls; out->proto
 * names the protocol. EMB_X_TRUNCATED: no answer yet; more bytes of either
 * direction may bring one. EMB_X_NONE: no TLS will follow: not one of these
 * protocols, the upgrade was refused, or the session went on in a way that
 * rules it out (logged in, sent mail, said goodbye, passed the request or
 * byte limits). EMB_X_INVALID: the bytes contradict the protocol.
 * Only the first EMB_STARTTLS_WINDOW bytes of each direction are read.
 */
emb_x_result_t emb__starttls_find(const uint8_t *c, size_t clen, const uint8_t *s, size_t slen,
                                  emb_starttls_t *out);

/* XMPP's part of emb__starttls_find (xmpp.c): the same results, with the
 * offsets where TLS begins in *client_tls and *server_tls. */
emb_x_result_t emb__xmpp_starttls(const uint8_t *c, size_t clen, const uint8_t *s, size_t slen,
                                  uint32_t *client_tls, uint32_t *server_tls);

/* The protocol's name as Suricata's app_proto spells it ("ftp", "smtp", ...);
 * NULL for EMB_STARTTLS_NONE and EMB_STARTTLS_FTP_SMTP. */
const char *emb__starttls_name(emb_starttls_proto_t proto);

/* ---- QUIC (quic.c) ----------------------------------------------- */

#define EMB_QUIC_V1 0x00000001u /* RFC 9000 */
#define EMB_QUIC_V2 0x6b3343cfu /* RFC 9369 */
#define EMB_QUIC_CID_MAX 20     /* connection IDs in versions 1 and 2 */
#define EMB_QUIC_MAX_CRYPTO 16  /* CRYPTO frames kept per packet */

/*
 * The OpenSSL state for opening Initials (HMAC-SHA256, AES-128-ECB,
 * AES-128-GCM), made once and re-keyed per packet. One per worker thread:
 * never shared between threads.
 */
typedef struct emb_quic_ctx emb_quic_ctx_t;

/* Returns a new context, or NULL when libcrypto could not make one. */
emb_quic_ctx_t *emb__quic_ctx_new(void);
/* Frees `ctx`; NULL is fine. */
void emb__quic_ctx_free(emb_quic_ctx_t *ctx);

/* The client's Initial secrets (RFC 9001 section 5.2, RFC 9369 section 3.3). */
typedef struct {
    uint8_t secret[32]; /* client_initial_secret */
    uint8_t key[16];    /* AEAD_AES_128_GCM key */
    uint8_t iv[12];
    uint8_t hp[16]; /* header protection key */
} emb_quic_keys_t;

/*
 * Derives the client Initial keys of `version` (EMB_QUIC_V1 or EMB_QUIC_V2)
 * from the client's Destination Connection ID. Returns false for another
 * version or when libcrypto fails.
 */
bool emb__quic_client_keys(emb_quic_ctx_t *ctx, uint32_t version, const uint8_t *dcid,
                           size_t dcid_len, emb_quic_keys_t *keys);

typedef struct {
    uint64_t offset;     /* in the Initial crypto stream */
    const uint8_t *data; /* slice into `plain` */
    size_t len;
} emb_quic_crypto_t;

typedef struct {
    uint32_t version;
    const uint8_t *dcid, *scid, *token; /* slices into `p` */
    size_t dcid_len, scid_len, token_len;
    uint64_t pn;        /* packet number */
    size_t packet_len;  /* bytes of `p` the first packet takes; coalesced ones follow */
    bool undecryptable; /* the header parsed but the AEAD tag did not verify */
    size_t crypto_count;
    bool crypto_more; /* CRYPTO frames past EMB_QUIC_MAX_CRYPTO were left */
    emb_quic_crypto_t crypto[EMB_QUIC_MAX_CRYPTO];
} emb_quic_initial_t;

/*
 * Opens the first QUIC packet of the UDP payload `p` when it is a client
 * Initial of version 1 or 2, decrypting its payload into `plain`, and
 * collects its CRYPTO frames in packet order (PADDING, PING and ACK are
 * skipped; any other frame ends the walk, keeping what came before).
 * Coalesced packets after the first are not looked at.
 *
 * Returns EMB_X_OK when the packet authenticated and its frames up to the
 * first unhandled one parsed (crypto_count may be 0); EMB_X_NONE for a short
 * header, another version or packet type, or a payload longer than
 * `plain_cap` (plain_cap >= len always suffices); EMB_X_TRUNCATED when the
 * header or the packet's Length run past `len`; EMB_X_INVALID when a field
 * contradicts the spec (a connection ID over 20 bytes, a Length too short to
 * sample, non-zero reserved bits, a frame running past the payload) or the
 * tag does not verify (then `undecryptable` is set). A server Initial cannot
 * be opened without the client's original DCID and reads as undecryptable.
 *
 * Header slices stay valid as long as `p`, crypto slices as long as `plain`
 * is left alone. `ctx` is used by one thread at a time.
 */
emb_x_result_t emb__quic_initial(emb_quic_ctx_t *ctx, const uint8_t *p, size_t len,
                                 emb_quic_initial_t *out, uint8_t *plain, size_t plain_cap);

/* ---- What devices say about themselves (device.c) ------------------------ */

/*
 * The text of the first element named `name` (with any namespace prefix:
 * "<tds:Manufacturer>"), white space trimmed; false when there is none, it is
 * empty, or its end tag is cut off. Entities are left as written.
 */
bool emb__xml_text(const uint8_t *p, size_t len, const char *name, const uint8_t **v, size_t *vlen);
/* True when the first element inside the first `parent` element is `child`
 * (any prefix on either); *at is then where that child starts. */
bool emb__xml_first_child(const uint8_t *p, size_t len, const char *parent, const char *child,
                          size_t *at);
/* True when an element named `name` (any prefix) starts in p. */
bool emb__xml_has(const uint8_t *p, size_t len, const char *name);
/* The string value of the first member `key` of a JSON text, escapes left as
 * written; false when there is none or it is not a non-empty string. */
bool emb__json_str(const uint8_t *p, size_t len, const char *key, const uint8_t **v, size_t *vlen);

#define EMB_SNMP_SHOW_VARS 8

typedef struct {
    uint8_t version; /* 1 (v1) or 2 (v2c) */
    uint8_t pdu;     /* the PDU's tag: 0xA2 Response, ... */
    long request_id;
    const uint8_t *community; /* slices into p */
    size_t community_len;
    const uint8_t *sysdescr; /* sysDescr.0's OCTET STRING; NULL when absent */
    size_t sysdescr_len;
    char sysobjectid[128]; /* sysObjectID.0's value, dotted; sysobjectid_len 0 when absent */
    size_t sysobjectid_len;
    char vars[EMB_SNMP_SHOW_VARS][128]; /* the first variable names, dotted */
    size_t nshown, nvars;
} emb_snmp_t;

/*
 * Parses an SNMPv1 or v2c message (RFC 1157 section 4, RFC 3416 section 3):
 * version, community, PDU, variable bindings; notes sysDescr.0 and
 * sysObjectID.0 wherever they appear. EMB_X_NONE for anything else (SNMPv3
 * included); EMB_X_INVALID when the PDU contradicts its own lengths before
 * its first variable binding (a later binding that does not parse ends the
 * walk, keeping what came before).
 */
emb_x_result_t emb__snmp_parse(const uint8_t *p, size_t len, emb_snmp_t *out);
/* "get_request", "response", ... as Suricata's snmp.pdu_type. */
const char *emb__snmp_pdu_name(uint8_t pdu);

typedef struct {
    uint8_t op; /* 1 BOOTREQUEST (a client), 2 BOOTREPLY */
    uint32_t xid;
    uint8_t ciaddr[4], yiaddr[4], chaddr[6];
    uint8_t requested[4]; /* option 50 */
    bool has_requested;
    uint8_t msg_type;                       /* option 53; 0 when absent */
    const uint8_t *hostname, *vendor_class; /* options 12 and 60: slices into p */
    size_t hostname_len, vendor_class_len;
} emb_dhcp_t;

/*
 * Parses a DHCP message (RFC 2131 section 2, options of RFC 2132) over
 * Ethernet hardware addresses. EMB_X_NONE without the BOOTP header and
 * DHCP's magic cookie; options cut by the end are EMB_X_TRUNCATED, with what
 * was read before kept.
 */
emb_x_result_t emb__dhcp_parse(const uint8_t *p, size_t len, emb_dhcp_t *out);
/* "discover", "request", ... as Suricata's dhcp.dhcp_type. */
const char *emb__dhcp_type_name(uint8_t t);

/*
 * The JSON body of a Dahua DHIP datagram (UDP 37810): "DHIP" at bytes 4-7 of
 * a 32-byte header, the body after it. EMB_X_NONE when the magic is absent,
 * EMB_X_INVALID when the body is not a JSON object.
 */
emb_x_result_t emb__dhip_body(const uint8_t *p, size_t len, const uint8_t **body, size_t *body_len);

#endif /* EMB_EXTRACT_H */
