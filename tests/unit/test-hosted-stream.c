/*
 * A host's reassembled TCP stream matched for payload patterns in stretches
 * (emb_engine_match_stream, detect/hosted.c), as Suricata's raw stream gives
 * them: a pattern across two stretches, `^` at the stream's first byte only
 * (also when the anchored pattern spans several stretches), nothing past the
 * stream depth, the rules' port conditions on the flow's endpoints.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static emb_rules_t *rules;
static emb_engine_t *engine;

static const char *pack = "vendor: acme\nname: Acme\n"
                          "rules:\n"
                          "  - {sid: 30, msg: index, channel: update, match: [{payload: "
                          "'Item=\"Updater;Version\"'}]}\n"
                          "  - {sid: 31, msg: header, channel: cloud, match: [{payload: "
                          "'re:^HDR[0-9]{400}END'}]}\n"
                          "  - {sid: 32, msg: port, channel: cloud, match: [{payload: PORTONLY, "
                          "port: 9000/tcp}]}\n";

static void setup(void) {
    emb_diags_t *d = NULL;
    rules = test_load_text(pack, &d);
    test_print_diags(d);
    cr_assert_not_null(rules);
    emb_config_t cfg;
    emb_config_init(&cfg);
    cfg.stream_depth = 4096;
    cr_assert_eq(emb_engine_new(rules, &cfg, &engine, NULL), 0);
}

static void teardown(void) {
    emb_engine_free(engine);
    emb_rules_free(rules);
}

TestSuite(hosted_stream, .init = setup, .fini = teardown);

typedef struct {
    int n;
    uint32_t sid;
} got_t;

static int on_match(const emb_match_t *m, void *ud) {
    got_t *g = ud;
    g->n++;
    g->sid = m->sid;
    return 0;
}

static emb_facts_t tcp_to(uint16_t port) {
    emb_facts_t f = {.family = 4, .proto = 6, .client_port = 50000, .server_port = port};
    static const uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {198, 51, 100, 9};
    memcpy(f.client, cli, 4);
    memcpy(f.server, srv, 4);
    f.fields_only = true;
    return f;
}

/* The stream `text` in stretches cut at `cuts` (offsets), each given as a host
 * would: the lookback before it, then its new bytes. */
static got_t in_stretches(emb_facts_t *f, const char *text, const size_t *cuts, size_t ncuts) {
    got_t g = {0};
    emb_stream_scan_t st = {0};
    size_t back = emb_engine_stream_lookback(engine), len = strlen(text), at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        size_t from = at > back ? at - back : 0;
        cr_assert_eq(emb_engine_match_stream(engine, f, &st, (const uint8_t *)text + from,
                                             end - from, from, on_match, &g),
                     0);
        at = end;
    }
    return g;
}

Test(hosted_stream, a_pattern_across_two_stretches) {
    emb_facts_t f = tcp_to(80);
    const char *text = "HTTP/1.1 200 OK\r\n\r\n<x Item=\"Updater;Version\"/>";
    size_t cut[] = {30}; /* inside the pattern */
    got_t g = in_stretches(&f, text, cut, 1);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sid, 30);

    /* without the lookback (each stretch alone), the engine cannot see it */
    emb_stream_scan_t st = {0};
    got_t alone = {0};
    cr_assert_eq(
        emb_engine_match_stream(engine, &f, &st, (const uint8_t *)text, 30, 0, on_match, &alone),
        0);
    cr_assert_eq(emb_engine_match_stream(engine, &f, &st, (const uint8_t *)text + 30,
                                         strlen(text) - 30, 30, on_match, &alone),
                 0);
    cr_assert_eq(alone.n, 0);
}

/* The lookback: the widest anchored pattern (406 bytes), wider than the
 * overlap a pattern may span (256 for a regex), under the stream depth. */
Test(hosted_stream, the_lookback) {
    cr_assert_eq(emb_engine_stream_lookback(engine), 406);
}

Test(hosted_stream, anchored_at_the_stream_start_only) {
    emb_facts_t f = tcp_to(443);
    char text[600];
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    memcpy(text, "HDR", 3);
    memset(text + 3, '7', 400);
    memcpy(text + 403, "END", 3);
    /* Past 256 bytes the new bytes are scanned from the middle (anchored patterns left
     * out), and the start again, longer, for the anchored ones alone: only that finds it. */
    size_t cuts[] = {100, 300, 500};
    got_t g = in_stretches(&f, text, cuts, 3);
    cr_assert_eq(g.n, 1, "the stream starts with it");
    cr_assert_eq(g.sid, 31);

    char later[700];
    snprintf(later, sizeof(later), "hello %s", text);
    g = in_stretches(&f, later, cuts, 3);
    cr_assert_eq(g.n, 0, "not at the start: nothing");
}

Test(hosted_stream, the_depth_and_the_port) {
    emb_facts_t f = tcp_to(9000);
    static char text[6000];
    memset(text, 'a', sizeof(text) - 1);
    memcpy(text + 100, "PORTONLY", 8);
    memcpy(text + 5000, "Item=\"Updater;Version\"", 22); /* past the 4096 bytes */
    size_t cuts[] = {2048, 4000, 4500};
    got_t g = in_stretches(&f, text, cuts, 3);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.sid, 32);

    f.server_port = 9001;
    g = in_stretches(&f, text, cuts, 3);
    cr_assert_eq(g.n, 0, "another port, and the index past the depth");

    emb_stream_scan_t st = {0};
    g = (got_t){0};
    cr_assert_eq(
        emb_engine_match_stream(engine, &f, &st, (const uint8_t *)text, 4096, 4096, on_match, &g),
        0);
    cr_assert(st.done);
    cr_assert_eq(g.n, 0);
}
