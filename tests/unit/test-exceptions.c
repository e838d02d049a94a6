/*
 * The exceptions file (plugin/pack/exceptions.c): a valid file loads; each
 * mistake is reported as "file:line:column: message" at its place; matching
 * holds for the client inside the host, the given vendor/channel/sid, and
 * through the expiry day (UTC), and counts expired matches.
 */
#include "helpers.h"
#include "pack/pack.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>

/* Loads `text` as x.yaml; returns the list or NULL with *diags set. */
static emb_exceptions_t *load_text(const char *text, emb_diags_t **diags) {
    char *dir = test_write_file(NULL, "x.yaml", text);
    char path[512];
    snprintf(path, sizeof(path), "%s/x.yaml", dir);
    emb_exceptions_t *x = NULL;
    emb_exceptions_load(path, &x, diags);
    unlink(path);
    rmdir(dir);
    free(dir);
    return x;
}

/* Expects `text` rejected with a message containing "x.yaml:" `want`. */
static void expect_error(const char *text, const char *want) {
    emb_diags_t *d = NULL;
    emb_exceptions_t *x = load_text(text, &d);
    cr_assert_null(x, "expected the exceptions to be rejected: %s", want);
    char needle[300];
    snprintf(needle, sizeof(needle), "/x.yaml:%s", want);
    if (!test_diags_have(d, needle))
        test_print_diags(d);
    cr_assert(test_diags_have(d, needle), "no diagnostic contains '%s'", needle);
    emb_diags_free(d);
}

#define ONE(body) "exceptions:\n  - host: 10.1.2.0/24\n" body

#define REST                                                                                       \
    "    reason: migration\n"                                                                      \
    "    owner: secops@example.org\n"                                                              \
    "    expires: 2026-12-31\n"

static const char valid[] = "exceptions:\n"
                            "  - host: 10.1.2.0/24\n"
                            "    vendor: kaspersky\n"
                            "    channel: update\n"
                            "    sid: 4200101\n"
                            "    reason: KSC migration window, change CHG-1234\n"
                            "    owner: secops@example.org\n"
                            "    expires: 2026-12-31\n"
                            "  - host: 2001:db8::/32\n"
                            "    sid: 4200110\n"
                            "    reason: malware lab\n"
                            "    owner: lab@example.org\n"
                            "    expires: 2026-01-31\n";

Test(exceptions, valid_file_loads) {
    emb_diags_t *d = NULL;
    emb_exceptions_t *x = load_text(valid, &d);
    test_print_diags(d);
    cr_assert_not_null(x);
    cr_assert_null(d);
    cr_assert_eq(emb_exceptions_count(x), 2);
    emb_exception_info_t in;
    cr_assert_eq(emb_exceptions_info(x, 0, &in), 0);
    cr_assert_str_eq(in.reason, "KSC migration window, change CHG-1234");
    cr_assert_str_eq(in.owner, "secops@example.org");
    cr_assert_str_eq(in.expires, "2026-12-31");
    cr_assert_eq(in.line, 2);
    cr_assert_eq(in.column, 5);
    cr_assert_eq(emb_exceptions_info(x, 1, &in), 0);
    cr_assert_eq(in.line, 9);
    cr_assert_str_eq(in.expires, "2026-01-31");
    cr_assert_eq(emb_exceptions_info(x, 2, &in), EMB_EINVAL);
    cr_assert_eq(x->v[0].channel, EMB_CH_UPDATE);
    cr_assert_eq(x->v[0].sid, 4200101);
    cr_assert_eq(x->v[1].channel, -1);
    cr_assert_null(x->v[1].vendor);
    emb_exceptions_free(x);
}

Test(exceptions, missing_host) {
    expect_error("exceptions:\n  - vendor: kaspersky\n" REST, "2:5: exception without 'host'");
}

Test(exceptions, bad_cidr) {
    expect_error("exceptions:\n  - host: 10.1.2.0/33\n    vendor: kaspersky\n" REST,
                 "2:11: bad host '10.1.2.0/33': bad prefix length");
    expect_error("exceptions:\n  - host: not-an-ip\n    vendor: kaspersky\n" REST,
                 "2:11: bad host 'not-an-ip'");
}

Test(exceptions, missing_reason_owner_expires) {
    expect_error(ONE("    vendor: kaspersky\n    owner: a\n    expires: 2026-12-31\n"),
                 "2:5: exception without 'reason'");
    expect_error(ONE("    vendor: kaspersky\n    reason: a\n    expires: 2026-12-31\n"),
                 "2:5: exception without 'owner'");
    expect_error(ONE("    vendor: kaspersky\n    reason: a\n    owner: b\n"),
                 "2:5: exception without 'expires'");
}

Test(exceptions, bad_date) {
    static const char *const bad[] = {"2026-13-01", "2026-02-29", "2026-1-31", "31.12.2026",
                                      "2026-04-31"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512], want[128];
        snprintf(text, sizeof(text),
                 ONE("    vendor: kaspersky\n    reason: a\n    owner: b\n    expires: %s\n"),
                 bad[i]);
        snprintf(want, sizeof(want), "6:14: bad expires '%s'", bad[i]);
        expect_error(text, want);
    }
    int64_t t;
    cr_assert(emb__parse_date("2024-02-29", &t));
    cr_assert_eq(t, 1709164800);
}

Test(exceptions, none_of_vendor_channel_sid) {
    expect_error(ONE(REST), "2:5: exception without vendor, channel or sid");
}

Test(exceptions, unknown_key_and_bad_values) {
    expect_error(ONE("    vendor: kaspersky\n    ticket: CHG-1\n" REST),
                 "4:5: unknown key 'ticket'");
    expect_error(ONE("    channel: updates\n" REST), "3:14: unknown channel 'updates'");
    expect_error(ONE("    sid: 12x\n" REST), "3:10: bad sid '12x'");
    expect_error("exception:\n  - host: 10.0.0.1\n", "1:1: unknown key 'exception'");
}

/* The index emb__exceptions_find returns for a client and an alert. */
static long find(const emb_exceptions_t *x, const char *client, const char *vendor,
                 emb_channel_t ch, uint32_t sid, int64_t ts, uint64_t *expired) {
    uint8_t addr[16] = {0};
    int family = strchr(client, ':') ? 6 : 4;
    cr_assert_eq(inet_pton(family == 4 ? AF_INET : AF_INET6, client, addr), 1);
    return emb__exceptions_find(x, family, addr, vendor, ch, sid, ts, expired);
}

Test(exceptions, matching) {
    emb_exceptions_t *x = load_text(valid, NULL);
    cr_assert_not_null(x);
    const int64_t t2026 = 1767225600; /* 2026-01-01T00:00:00Z */
    uint64_t expired[2] = {0, 0};
    /* inside and outside the host */
    cr_assert_eq(find(x, "10.1.2.77", "kaspersky", EMB_CH_UPDATE, 4200101, t2026, expired), 0);
    cr_assert_eq(find(x, "10.1.3.77", "kaspersky", EMB_CH_UPDATE, 4200101, t2026, expired), -1);
    cr_assert_eq(find(x, "2001:db8::1", "kaspersky", EMB_CH_UPDATE, 4200101, t2026, expired), -1);
    /* each given field must hold */
    cr_assert_eq(find(x, "10.1.2.77", "huawei", EMB_CH_UPDATE, 4200101, t2026, expired), -1);
    cr_assert_eq(find(x, "10.1.2.77", "kaspersky", EMB_CH_TELEMETRY, 4200101, t2026, expired), -1);
    cr_assert_eq(find(x, "10.1.2.77", "kaspersky", EMB_CH_UPDATE, 4200102, t2026, expired), -1);
    /* sid alone: any vendor and channel, IPv6 host */
    cr_assert_eq(find(x, "2001:db8::1", "acme", EMB_CH_WEB, 4200110, t2026, expired), 1);
    cr_assert_eq(expired[0] + expired[1], 0);

    /* the expiry day holds to its last second, UTC; the next second it is expired */
    const int64_t last_2026_01_31 = 1769903999; /* 2026-01-31T23:59:59Z */
    cr_assert_eq(find(x, "2001:db8::1", "acme", EMB_CH_WEB, 4200110, last_2026_01_31, expired), 1);
    cr_assert_eq(expired[1], 0);
    cr_assert_eq(find(x, "2001:db8::1", "acme", EMB_CH_WEB, 4200110, last_2026_01_31 + 1, expired),
                 -1);
    cr_assert_eq(expired[1], 1);
    cr_assert_eq(
        find(x, "2001:db8::1", "acme", EMB_CH_WEB, 4200110, last_2026_01_31 + 86400, expired), -1);
    cr_assert_eq(expired[1], 2);
    /* an expired exception that does not cover the alert is not counted */
    cr_assert_eq(find(x, "2001:db8::1", "acme", EMB_CH_WEB, 4200111, last_2026_01_31 + 1, expired),
                 -1);
    cr_assert_eq(expired[1], 2);
    cr_assert_eq(expired[0], 0);
    emb_exceptions_free(x);
}

Test(exceptions, missing_file_and_null) {
    emb_exceptions_t *x = NULL;
    emb_diags_t *d = NULL;
    cr_assert_eq(emb_exceptions_load("/nonexistent/x.yaml", &x, &d), EMB_EIO);
    cr_assert_null(x);
    cr_assert(test_diags_have(d, "/nonexistent/x.yaml:"));
    emb_diags_free(d);
    emb_exceptions_free(NULL);
    cr_assert_eq(emb_exceptions_count(NULL), 0);
}
