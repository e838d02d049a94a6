/*
 * EVE output: timestamps in Suricata's layout, and JSON strings for
 * attacker-controlled bytes: every byte survives, and the output is always
 * valid JSON whatever the input.
 */
#include "output/eve.h"
#include "pack/pack.h"

#include <criterion/criterion.h>
#include <jansson.h>

Test(eve, timestamp_layout) {
    char ts[40];
    emb__eve_timestamp(1727697600, 123456, ts, sizeof(ts));
    cr_assert_str_eq(ts, "2024-09-30T12:00:00.123456+0000");
    emb__eve_timestamp(0, 7, ts, sizeof(ts));
    cr_assert_str_eq(ts, "1970-01-01T00:00:00.000007+0000");
}

/* Dumps a JSON string made from `p` and parses it back. */
static char *round_trip(const void *p, size_t n, size_t *out_len, char **dumped) {
    json_t *s = emb__eve_string(p, n);
    cr_assert_not_null(s);
    json_t *arr = json_array();
    json_array_append_new(arr, s);
    *dumped = json_dumps(arr, JSON_COMPACT);
    cr_assert_not_null(*dumped);
    json_error_t err;
    json_t *back = json_loads(*dumped, JSON_ALLOW_NUL, &err);
    cr_assert_not_null(back, "output is not valid JSON: %s", err.text);
    json_t *str = json_array_get(back, 0);
    *out_len = json_string_length(str);
    char *copy = malloc(*out_len + 1);
    memcpy(copy, json_string_value(str), *out_len + 1);
    json_decref(back);
    json_decref(arr);
    return copy;
}

Test(eve, valid_utf8_is_kept) {
    /* "bücher.example" in UTF-8 */
    const char in[] = "b\xc3\xbc"
                      "cher.example";
    size_t n;
    char *d;
    char *out = round_trip(in, strlen(in), &n, &d);
    cr_assert_eq(n, strlen(in));
    cr_assert(memcmp(out, in, n) == 0);
    free(out);
    free(d);
}

Test(eve, quotes_backslashes_and_controls_are_escaped) {
    /* a"b\c<NUL>d<LF>e<ESC> */
    const char in[] = {'a', '"', 'b', '\\', 'c', 0, 'd', '\n', 'e', 0x1b};
    size_t n;
    char *d;
    char *out = round_trip(in, sizeof(in), &n, &d);
    cr_assert_eq(n, sizeof(in));
    cr_assert(memcmp(out, in, n) == 0, "every byte survives the round trip");
    cr_assert(strstr(d, "\\u0000") != NULL);
    cr_assert(strstr(d, "\\n") != NULL);
    cr_assert(strstr(d, "\\\"") != NULL);
    cr_assert(strchr(d, '\n') == NULL, "one line");
    free(out);
    free(d);
}

Test(eve, invalid_utf8_becomes_latin1) {
    /* 'x' ff fe 'y' c3 (a lone lead byte) */
    const uint8_t in[] = {0x78, 0xff, 0xfe, 0x79, 0xc3};
    size_t n;
    char *d;
    char *out = round_trip(in, sizeof(in), &n, &d);
    /* U+00FF U+00FE U+00C3 in UTF-8 */
    const char want[] = "x\xc3\xbf\xc3\xbey\xc3\x83";
    cr_assert_eq(n, strlen(want));
    cr_assert(memcmp(out, want, n) == 0);
    free(out);
    free(d);
}

Test(eve, every_single_byte_value_gives_valid_json) {
    for (int b = 0; b < 256; b++) {
        uint8_t in[3] = {'<', (uint8_t)b, '>'};
        size_t n;
        char *d;
        char *out = round_trip(in, sizeof(in), &n, &d);
        cr_assert(n >= 3);
        free(out);
        free(d);
    }
}
