/*
 * Unit tests for starttls.c: emb__starttls_detect and emb__starttls_find.
 *
 * Covered: an accepted upgrade in each protocol (FTP AUTH TLS after a
 * multi-line greeting, a preliminary reply and FEAT; SMTP STARTTLS after EHLO,
 * pipelined or not; IMAP STARTTLS after CAPABILITY; POP3 STLS after CAPA;
 * XMPP <starttls/> after the stream features; LDAP StartTLS; PostgreSQL
 * SSLRequest, also after a refused GSSENCRequest; MySQL SSLRequest), with TLS
 * starting exactly after the request and the answer; every cut of each of
 * those sessions (never OK before both halves are whole, never a wrong
 * offset); refused upgrades (FTP 534, SMTP 454 and 501, IMAP NO and BAD, POP3
 * -ERR, XMPP <failure/>, LDAP resultCode 2, PostgreSQL 'N', MySQL without
 * CLIENT_SSL); the request and the positive answer not paired (a 234 or 220
 * answering another command, the request inside another line, a mismatched
 * IMAP tag, a positive answer before the request); what ends the walk (DATA,
 * QUIT, login, literals, the request limit, the window); and garbage.
 */
#include "protocols/protocols.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Where the TLS bytes begin in the sessions below: a record header. */
#define TLS "\x16\x03\x01\x00\x05hello"

/* Both directions of a session, as byte strings (binary ones hold NULs). */
typedef struct {
    const char *c, *s;
    size_t clen, slen;
} session_t;

#define SESSION(cstr, sstr) ((session_t){(cstr), (sstr), sizeof(cstr) - 1, sizeof(sstr) - 1})

static emb_x_result_t find(session_t t, emb_starttls_t *out) {
    return emb__starttls_find((const uint8_t *)t.c, t.clen, (const uint8_t *)t.s, t.slen, out);
}

/* The session upgrades: TLS (the TLS macro's bytes) at the offsets found. */
static void assert_upgrade(session_t t, emb_starttls_proto_t proto) {
    emb_starttls_t st;
    cr_assert_eq(find(t, &st), EMB_X_OK);
    cr_assert_eq(st.proto, proto, "proto %d, want %d", st.proto, proto);
    cr_assert_leq(st.client_tls + 5, t.clen);
    cr_assert_leq(st.server_tls + 5, t.slen);
    cr_assert_arr_eq(t.c + st.client_tls, TLS, 5, "client TLS not at %u", st.client_tls);
    cr_assert_arr_eq(t.s + st.server_tls, TLS, 5, "server TLS not at %u", st.server_tls);
}

/*
 * Every cut of the session (each direction at every length, TLS bytes
 * included): OK exactly when both directions reach their TLS offsets, with
 * those offsets; TRUNCATED otherwise.
 */
static void assert_every_cut(session_t t) {
    emb_starttls_t want, got;
    cr_assert_eq(find(t, &want), EMB_X_OK);
    for (size_t cl = 0; cl <= t.clen; cl++) {
        for (size_t sl = 0; sl <= t.slen; sl++) {
            session_t cut = {t.c, t.s, cl, sl};
            emb_x_result_t x = find(cut, &got);
            bool whole = cl >= want.client_tls && sl >= want.server_tls;
            cr_assert_eq(x, whole ? EMB_X_OK : EMB_X_TRUNCATED, "cut c=%zu s=%zu: %d", cl, sl, x);
            if (whole) {
                cr_assert_eq(got.client_tls, want.client_tls);
                cr_assert_eq(got.server_tls, want.server_tls);
            }
        }
    }
}

static emb_x_result_t result(session_t t) {
    emb_starttls_t st;
    return find(t, &st);
}

/* ---- FTP ------------------------------------------------------------------ */

/* A preliminary 120, a multi-line 220 greeting, FEAT's multi-line 211, AUTH
 * TLS answered 234 (RFC 4217 section 4). */
static const char ftp_c[] = "FEAT\r\n"
                            "AUTH TLS\r\n" TLS;
static const char ftp_s[] = "120 Service ready in 1 minute\r\n"
                            "220-Welcome to the wireless controller\r\n"
                            "220-second line\r\n"
                            "220 FTP server ready\r\n"
                            "211-Features:\r\n"
                            " AUTH TLS\r\n"
                            " PBSZ\r\n"
                            "211 End\r\n"
                            "234 AUTH TLS successful\r\n" TLS;

Test(starttls, ftp_auth_tls) {
    assert_upgrade(SESSION(ftp_c, ftp_s), EMB_STARTTLS_FTP);
    assert_every_cut(SESSION(ftp_c, ftp_s));
}

Test(starttls, ftp_auth_variants) {
    /* AUTH SSL (the older draft), lower case, LF line ends, trailing space */
    assert_upgrade(SESSION("auth ssl \n" TLS, "220 ready\n234 go\n" TLS), EMB_STARTTLS_FTP);
    assert_upgrade(SESSION("AUTH TLS-C\r\n" TLS, "220 x\r\n234\r\n" TLS), EMB_STARTTLS_FTP);
}

Test(starttls, ftp_refused) {
    cr_assert_eq(result(SESSION("AUTH TLS\r\n" TLS, "220 x\r\n534 Policy denies\r\n" TLS)),
                 EMB_X_NONE);
    cr_assert_eq(result(SESSION("AUTH TLS\r\n" TLS, "220 x\r\n504 Unknown\r\n")), EMB_X_NONE);
    /* RFC 2228's 334 (more security data needed) is not TLS */
    cr_assert_eq(result(SESSION("AUTH SSL\r\n" TLS, "220 x\r\n334 ADAT\r\n" TLS)), EMB_X_NONE);
    /* no service */
    cr_assert_eq(result(SESSION("AUTH TLS\r\n", "421 Too many users\r\n")), EMB_X_NONE);
}

Test(starttls, ftp_request_not_alone) {
    /* "AUTH TLS" as an argument, or with more after it: not the request;
     * the 234 answers USER, and the walk waits for the next command. */
    cr_assert_eq(result(SESSION("USER AUTH TLS\r\n" TLS, "220 x\r\n234 ok\r\n" TLS)),
                 EMB_X_TRUNCATED);
    cr_assert_eq(result(SESSION("AUTH TLS now\r\n" TLS, "220 x\r\n234 ok\r\n" TLS)),
                 EMB_X_TRUNCATED);
    cr_assert_eq(result(SESSION("XAUTH TLS\r\n" TLS, "220 x\r\n234 ok\r\n" TLS)), EMB_X_TRUNCATED);
}

Test(starttls, ftp_positive_answer_to_another_command) {
    /* 234 answers the first command (USER); AUTH TLS is then refused. */
    cr_assert_eq(result(SESSION("USER x\r\nAUTH TLS\r\n" TLS, "220 x\r\n234 odd\r\n530 no\r\n")),
                 EMB_X_NONE);
    /* The positive answer came before the request was answered in order: the
     * greeting is the answer to nothing, so a 234 greeting is no service. */
    cr_assert_eq(result(SESSION("AUTH TLS\r\n" TLS, "234 early\r\n220 x\r\n")), EMB_X_NONE);
}

Test(starttls, ftp_quit_ends) {
    cr_assert_eq(result(SESSION("QUIT\r\nAUTH TLS\r\n", "220 x\r\n221 bye\r\n234 ok\r\n")),
                 EMB_X_NONE);
}

/* ---- SMTP ----------------------------------------------------------------- */

static const char smtp_c[] = "EHLO client.example\r\n"
                             "STARTTLS\r\n" TLS;
static const char smtp_s[] = "220 mail.example.com ESMTP\r\n"
                             "250-mail.example.com\r\n"
                             "250-PIPELINING\r\n"
                             "250-STARTTLS\r\n"
                             "250 8BITMIME\r\n"
                             "220 2.0.0 Ready to start TLS\r\n" TLS;

Test(starttls, smtp_starttls) {
    assert_upgrade(SESSION(smtp_c, smtp_s), EMB_STARTTLS_SMTP);
    assert_every_cut(SESSION(smtp_c, smtp_s));
}

Test(starttls, smtp_refused) {
    cr_assert_eq(result(SESSION("EHLO c\r\nSTARTTLS\r\n" TLS,
                                "220 x\r\n250 x\r\n454 4.7.0 TLS not available\r\n")),
                 EMB_X_NONE);
    cr_assert_eq(result(SESSION("EHLO c\r\nSTARTTLS\r\n" TLS, "220 x\r\n250 x\r\n501 5.5.4\r\n")),
                 EMB_X_NONE);
    /* refused, then bytes that look like TLS, then a 220 to them: no */
    cr_assert_eq(result(SESSION("STARTTLS\r\n" TLS "\r\n", "220 x\r\n454 no\r\n220 sure\r\n")),
                 EMB_X_NONE);
}

Test(starttls, smtp_mail_or_quit_ends) {
    cr_assert_eq(result(SESSION("EHLO c\r\nDATA\r\nSTARTTLS\r\n", "220 x\r\n250 x\r\n354 go\r\n")),
                 EMB_X_NONE);
    cr_assert_eq(result(SESSION("QUIT\r\n", "220 x\r\n")), EMB_X_NONE);
    cr_assert_eq(result(SESSION("EHLO c\r\n", "554 go away\r\n")), EMB_X_NONE);
}

Test(starttls, smtp_request_limit) {
    char c[2048] = "", s[2048] = "220 x\r\n";
    for (int i = 0; i < 16; i++) {
        strcat(c, "NOOP\r\n");
        strcat(s, "250 ok\r\n");
    }
    strcat(c, "STARTTLS\r\n");
    strcat(s, "220 go\r\n");
    session_t t = {c, s, strlen(c), strlen(s)};
    cr_assert_eq(result(t), EMB_X_NONE);
}

Test(starttls, smtp_window) {
    /* A greeting longer than the window: never followed to its end. */
    size_t n = EMB_STARTTLS_WINDOW + 100;
    char *s = malloc(n);
    size_t k = 0;
    while (k + 8 <= n) {
        memcpy(s + k, "220-xx\r\n", 8);
        k += 8;
    }
    session_t t = {"STARTTLS\r\n", s, 10, k};
    cr_assert_eq(result(t), EMB_X_NONE);
    free(s);
}

Test(starttls, smtp_bad_reply_line) {
    cr_assert_eq(result(SESSION("STARTTLS\r\n", "220 x\r\nOK then\r\n")), EMB_X_INVALID);
    cr_assert_eq(result(SESSION("STARTTLS\r\n", "220 x\r\n2200 no\r\n")), EMB_X_INVALID);
}

/* ---- IMAP ----------------------------------------------------------------- */

static const char imap_c[] = "a001 CAPABILITY\r\n"
                             "a002 STARTTLS\r\n" TLS;
static const char imap_s[] = "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"
                             "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
                             "a001 OK CAPABILITY completed\r\n"
                             "a002 OK Begin TLS negotiation now\r\n" TLS;

Test(starttls, imap_starttls) {
    assert_upgrade(SESSION(imap_c, imap_s), EMB_STARTTLS_IMAP);
    assert_every_cut(SESSION(imap_c, imap_s));
}

Test(starttls, imap_refused_or_unpaired) {
    cr_assert_eq(result(SESSION("a1 STARTTLS\r\n" TLS, "* OK x\r\na1 NO not now\r\n")), EMB_X_NONE);
    cr_assert_eq(result(SESSION("a1 STARTTLS\r\n" TLS, "* OK x\r\na1 BAD what\r\n")), EMB_X_NONE);
    /* another tag's OK */
    cr_assert_eq(result(SESSION("a1 STARTTLS\r\n" TLS, "* OK x\r\nb7 OK sure\r\n")), EMB_X_INVALID);
    /* an untagged OK is not the answer */
    cr_assert_eq(result(SESSION("a1 STARTTLS\r\n" TLS, "* OK x\r\n* OK still\r\n")),
                 EMB_X_TRUNCATED);
    /* PREAUTH: already authenticated, STARTTLS not allowed */
    cr_assert_eq(result(SESSION("a1 STARTTLS\r\n", "* PREAUTH hi\r\na1 OK\r\n")), EMB_X_NONE);
}

Test(starttls, imap_login_and_literals_end) {
    cr_assert_eq(result(SESSION("a1 LOGIN u p\r\na2 STARTTLS\r\n", "* OK x\r\na1 OK\r\na2 OK\r\n")),
                 EMB_X_NONE);
    cr_assert_eq(result(SESSION("a1 ID {5}\r\n", "* OK x\r\n")), EMB_X_NONE);
    /* STARTTLS with arguments is not the command */
    cr_assert_eq(result(SESSION("a1 STARTTLS now\r\n" TLS, "* OK x\r\na1 OK\r\n" TLS)),
                 EMB_X_TRUNCATED);
}

/* ---- POP3 ----------------------------------------------------------------- */

static const char pop3_c[] = "CAPA\r\n"
                             "STLS\r\n" TLS;
static const char pop3_s[] = "+OK POP3 server ready\r\n"
                             "+OK Capability list follows\r\n"
                             "TOP\r\n"
                             "STLS\r\n"
                             "UIDL\r\n"
                             ".\r\n"
                             "+OK Begin TLS negotiation\r\n" TLS;

Test(starttls, pop3_stls) {
    assert_upgrade(SESSION(pop3_c, pop3_s), EMB_STARTTLS_POP3);
    assert_every_cut(SESSION(pop3_c, pop3_s));
}

Test(starttls, pop3_refused_or_logged_in) {
    cr_assert_eq(result(SESSION("STLS\r\n" TLS, "+OK hi\r\n-ERR not now\r\n")), EMB_X_NONE);
    cr_assert_eq(result(SESSION("USER u\r\nPASS p\r\nSTLS\r\n", "+OK\r\n+OK\r\n+OK in\r\n+OK\r\n")),
                 EMB_X_NONE);
    /* a failed login does not end it */
    assert_upgrade(SESSION("USER u\r\nPASS p\r\nSTLS\r\n" TLS, "+OK\r\n+OK\r\n-ERR\r\n+OK\r\n" TLS),
                   EMB_STARTTLS_POP3);
    cr_assert_eq(result(SESSION("STLS\r\n", "+OK hi\r\nOK\r\n")), EMB_X_INVALID);
}

/* ---- XMPP ----------------------------------------------------------------- */

static const char xmpp_c[] = "<?xml version='1.0'?>"
                             "<stream:stream to='example.com' version='1.0' "
                             "xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams'>\n"
                             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" TLS;
static const char xmpp_s[] = "<?xml version='1.0'?>"
                             "<stream:stream from='example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' "
                             "version='1.0' xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams'>"
                             "<stream:features>"
                             "<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"><required/>"
                             "</starttls>"
                             "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                             "<mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
                             "</stream:features>"
                             "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" TLS;

Test(starttls, xmpp_starttls) {
    assert_upgrade(SESSION(xmpp_c, xmpp_s), EMB_STARTTLS_XMPP);
    assert_every_cut(SESSION(xmpp_c, xmpp_s));
    /* the long form of the empty element, quotes of either kind */
    assert_upgrade(SESSION("<stream:stream a=\"b>c\">"
                           "<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"> </starttls>" TLS,
                           "<stream:stream><stream:features/>"
                           "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>" TLS),
                   EMB_STARTTLS_XMPP);
}

Test(starttls, xmpp_refused_or_wrong) {
    cr_assert_eq(result(SESSION("<stream:stream>"
                                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" TLS,
                                "<stream:stream><stream:features/>"
                                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                                "</stream:stream>")),
                 EMB_X_NONE);
    /* another namespace */
    cr_assert_eq(result(SESSION("<stream:stream><starttls xmlns='urn:example'/>" TLS,
                                "<stream:stream><proceed xmlns='urn:example'/>" TLS)),
                 EMB_X_NONE);
    /* the client went on to SASL: no TLS */
    cr_assert_eq(
        result(SESSION("<stream:stream><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
                       "<stream:stream><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")),
        EMB_X_NONE);
    /* comments are not XMPP */
    cr_assert_eq(result(SESSION("<stream:stream><!-- x --><starttls/>", "<stream:stream>")),
                 EMB_X_INVALID);
    /* text where an element should be */
    cr_assert_eq(result(SESSION("<stream:stream>STARTTLS", "<stream:stream>")), EMB_X_INVALID);
}

/* ---- LDAP ----------------------------------------------------------------- */

/*
 * Client: LDAPMessage SEQUENCE (29 bytes) { messageID 1, ExtendedRequest
 *   [APPLICATION 23] (24) { requestName [0] "1.3.6.1.4.1.1466.20037" } }
 * Server: LDAPMessage SEQUENCE (12) { messageID 1, ExtendedResponse
 *   [APPLICATION 24] (7) { resultCode ENUMERATED success (0), matchedDN "",
 *   diagnosticMessage "" } }
 */
#define LDAP_REQ                                                                                   \
    "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"                                                         \
    "1.3.6.1.4.1.1466.20037"
#define LDAP_RESP(code) "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01" code "\x04\x00\x04\x00"

Test(starttls, ldap_starttls) {
    assert_upgrade(SESSION(LDAP_REQ TLS, LDAP_RESP("\x00") TLS), EMB_STARTTLS_LDAP);
    assert_every_cut(SESSION(LDAP_REQ TLS, LDAP_RESP("\x00") TLS));
}

Test(starttls, ldap_refused_or_other) {
    /* protocolError (2) */
    cr_assert_eq(result(SESSION(LDAP_REQ TLS, LDAP_RESP("\x02"))), EMB_X_NONE);
    /* another extended operation (whoami, 1.3.6.1.4.1.4203.1.11.3) */
    cr_assert_eq(result(SESSION("\x30\x1e\x02\x01\x01\x77\x19\x80\x17"
                                "1.3.6.1.4.1.4203.1.11.3",
                                LDAP_RESP("\x00"))),
                 EMB_X_TRUNCATED);
    /* Notice of Disconnection (messageID 0) */
    cr_assert_eq(result(SESSION(LDAP_REQ, "\x30\x0c\x02\x01\x00\x78\x07\x0a\x01\x34\x04\x00\x04"
                                          "\x00")),
                 EMB_X_NONE);
    /* UnbindRequest */
    cr_assert_eq(result(SESSION("\x30\x05\x02\x01\x01\x42\x00", "")), EMB_X_NONE);
    /* indefinite length */
    cr_assert_eq(result(SESSION("\x30\x80\x02\x01\x01\x77\x00", LDAP_RESP("\x00"))), EMB_X_NONE);
}

/* ---- PostgreSQL and MySQL ------------------------------------------------- */

#define PG_SSL "\x00\x00\x00\x08\x04\xd2\x16\x2f"
#define PG_GSS "\x00\x00\x00\x08\x04\xd2\x16\x30"

Test(starttls, pgsql_sslrequest) {
    assert_upgrade(SESSION(PG_SSL TLS, "S" TLS), EMB_STARTTLS_PGSQL);
    assert_every_cut(SESSION(PG_SSL TLS, "S" TLS));
    assert_upgrade(SESSION(PG_GSS PG_SSL TLS, "NS" TLS), EMB_STARTTLS_PGSQL);
    cr_assert_eq(result(SESSION(PG_SSL TLS, "N")), EMB_X_NONE);
    cr_assert_eq(result(SESSION(PG_GSS, "G")), EMB_X_NONE);
    /* a StartupMessage after the refusal */
    cr_assert_eq(result(SESSION(PG_GSS "\x00\x00\x00\x09\x00\x03\x00\x00\x00", "N")), EMB_X_NONE);
    cr_assert_eq(result(SESSION(PG_SSL TLS, "X")), EMB_X_INVALID);
}

/*
 * HandshakeV10: payload length 0x34 (52), sequence 0; protocol 10, "8.0.36"
 * NUL, thread id 1, auth-plugin-data-part-1 "abcdefgh", filler 0, the lower
 * capability flags (caps; 0xffff has CLIENT_SSL), charset 255, status 2,
 * upper capabilities 0xdfff, auth data length 21, reserved 10 zeros,
 * auth-plugin-data-part-2 "ijklmnopqrst" NUL.
 */
#define MY_HELLO(caps)                                                                             \
    "\x34\x00\x00\x00\x0a"                                                                         \
    "8.0.36\x00"                                                                                   \
    "\x01\x00\x00\x00"                                                                             \
    "abcdefgh\x00" caps "\xff\x02\x00\xff\xdf\x15"                                                 \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                                                     \
    "ijklmnopqrst\x00"
/* SSLRequest: length 32, sequence 1; flags 0x000aa20d (CLIENT_SSL,
 * CLIENT_PROTOCOL_41), max packet 16 MiB, charset 255, 23 zero bytes. */
#define MY_SSL                                                                                     \
    "\x20\x00\x00\x01\x0d\xaa\x0a\x00\x00\x00\x00\x01\xff"                                         \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

Test(starttls, mysql_sslrequest) {
    cr_assert_eq(sizeof(MY_HELLO("\xff\xff")) - 1, 56);
    cr_assert_eq(sizeof(MY_SSL) - 1, 36);
    assert_upgrade(SESSION(MY_SSL TLS, MY_HELLO("\xff\xff") TLS), EMB_STARTTLS_MYSQL);
    assert_every_cut(SESSION(MY_SSL TLS, MY_HELLO("\xff\xff") TLS));
    /* the server does not offer CLIENT_SSL (0x0800) */
    cr_assert_eq(result(SESSION(MY_SSL TLS, MY_HELLO("\xff\xf7"))), EMB_X_NONE);
    /* a full HandshakeResponse41 (length 0x50): no TLS */
    cr_assert_eq(result(SESSION("\x50\x00\x00\x01\x0d\xaa\x0a\x00", MY_HELLO("\xff\xff"))),
                 EMB_X_NONE);
}

/* ---- detection and garbage --------------------------------------------------- */

static emb_starttls_proto_t detect(const char *p, size_t n, bool to_server, bool *more) {
    return emb__starttls_detect((const uint8_t *)p, n, to_server, more);
}

Test(starttls, detect) {
    bool more;
    cr_assert_eq(detect("220 ready\r\n", 11, false, &more), EMB_STARTTLS_FTP_SMTP);
    cr_assert_eq(detect("220-", 4, false, &more), EMB_STARTTLS_FTP_SMTP);
    cr_assert_eq(detect("+OK hi", 6, false, &more), EMB_STARTTLS_POP3);
    cr_assert_eq(detect("* OK [CAP", 9, false, &more), EMB_STARTTLS_IMAP);
    cr_assert_eq(detect("<?xml version", 13, true, &more), EMB_STARTTLS_XMPP);
    cr_assert_eq(detect(PG_SSL, 8, true, &more), EMB_STARTTLS_PGSQL);
    cr_assert_eq(detect(LDAP_REQ, 31, true, &more), EMB_STARTTLS_LDAP);
    cr_assert_eq(detect(MY_HELLO("\xff\xff"), 56, false, &more), EMB_STARTTLS_MYSQL);
    /* a start that could still become one */
    cr_assert_eq(detect("22", 2, false, &more), EMB_STARTTLS_NONE);
    cr_assert(more);
    cr_assert_eq(detect("\x00\x00\x00\x08", 4, true, &more), EMB_STARTTLS_NONE);
    cr_assert(more);
    /* not one: HTTP, a greeting of another code, a client's command */
    cr_assert_eq(detect("HTTP/1.1 200 OK\r\n", 17, false, &more), EMB_STARTTLS_NONE);
    cr_assert_not(more);
    cr_assert_eq(detect("2200 x", 6, false, &more), EMB_STARTTLS_NONE);
    cr_assert_eq(detect("+OKAY", 5, false, &more), EMB_STARTTLS_NONE);
    cr_assert_eq(detect("STARTTLS\r\n", 10, true, &more), EMB_STARTTLS_NONE);
    cr_assert_not(more);
    /* a server greeting seen on the client side is nothing */
    cr_assert_eq(detect("220 x\r\n", 7, true, &more), EMB_STARTTLS_NONE);
}

Test(starttls, names) {
    cr_assert_str_eq(emb__starttls_name(EMB_STARTTLS_FTP), "ftp");
    cr_assert_str_eq(emb__starttls_name(EMB_STARTTLS_SMTP), "smtp");
    cr_assert_str_eq(emb__starttls_name(EMB_STARTTLS_PGSQL), "pgsql");
    cr_assert_null(emb__starttls_name(EMB_STARTTLS_FTP_SMTP));
    cr_assert_null(emb__starttls_name(EMB_STARTTLS_NONE));
}

Test(starttls, nothing_and_garbage) {
    emb_starttls_t st;
    cr_assert_eq(emb__starttls_find(NULL, 0, NULL, 0, &st), EMB_X_TRUNCATED);
    cr_assert_eq(result(SESSION("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n")), EMB_X_NONE);
    /* a ClientHello at once is TLS, not STARTTLS */
    cr_assert_eq(result(SESSION(TLS, TLS)), EMB_X_NONE);
    /* plaintext that names vendors and TLS but never asks */
    cr_assert_eq(result(SESSION("EHLO kaspersky.com\r\nMAIL FROM:<a@huawei.com>\r\nDATA\r\n",
                                "220 STARTTLS ds.kaspersky.com\r\n250 ok\r\n250 ok\r\n")),
                 EMB_X_NONE);
    /* random bytes after every greeting: no OK, no crash (run under ASan) */
    static const struct {
        const char *p;
        size_t n;
    } greetings[] = {{"220 x\r\n", 7},
                     {"+OK\r\n", 5},
                     {"* OK\r\n", 6},
                     {"<stream:stream>", 15},
                     {MY_HELLO("\xff\xff"), 56}};
    uint8_t c[600], s[600];
    srand(7);
    for (size_t g = 0; g < sizeof(greetings) / sizeof(greetings[0]); g++) {
        for (int round = 0; round < 300; round++) {
            size_t gl = greetings[g].n;
            memcpy(s, greetings[g].p, gl);
            size_t cl = (size_t)rand() % sizeof(c), sl = gl + (size_t)rand() % (sizeof(s) - gl);
            for (size_t i = 0; i < cl; i++)
                c[i] = (uint8_t)(round % 3 == 0 ? rand() : "AUTH TLS\r\n"[rand() % 10]);
            for (size_t i = gl; i < sl; i++)
                s[i] = (uint8_t)(round % 3 == 0 ? rand() : "234 +OK\r\n"[rand() % 9]);
            emb_x_result_t x = emb__starttls_find(c, cl, s, sl, &st);
            if (x == EMB_X_OK) {
                cr_assert_leq(st.client_tls, cl);
                cr_assert_leq(st.server_tls, sl);
            }
        }
    }
}
