/*
 * Shared helpers for the unit tests: write a rule file into a fresh
 * temporary directory, and load it.
 */
#ifndef EMB_TEST_HELPERS_H
#define EMB_TEST_HELPERS_H

#include "embargo/embargo.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes `text` to <fresh temp dir>/<name>; returns the directory (malloc'd). */
static inline char *test_write_file(const char *dir_or_null, const char *name, const char *text) {
    char *dir;
    if (dir_or_null) {
        dir = strdup(dir_or_null);
    } else {
        char tmpl[] = "/tmp/embargo-test-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        dir = strdup(tmpl);
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    return dir;
}

/* Loads `text` as one rule file; returns the rules or NULL with *diags set. */
static inline emb_rules_t *test_load_text(const char *text, emb_diags_t **diags) {
    char *dir = test_write_file(NULL, "r.yaml", text);
    char path[512];
    snprintf(path, sizeof(path), "%s/r.yaml", dir);
    emb_rules_t *rules = NULL;
    emb_rules_load(path, &rules, diags);
    unlink(path);
    rmdir(dir);
    free(dir);
    return rules;
}

/* True when some diagnostic contains `needle`. */
static inline bool test_diags_have(const emb_diags_t *d, const char *needle) {
    for (size_t i = 0; i < emb_diags_count(d); i++)
        if (strstr(emb_diags_message(d, i), needle))
            return true;
    return false;
}

static inline void test_print_diags(const emb_diags_t *d) {
    for (size_t i = 0; i < emb_diags_count(d); i++)
        cr_log_info("%s", emb_diags_message(d, i));
}

#endif
