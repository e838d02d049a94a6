/*
 * Helpers of the `embargo` command: where the shipped rule pack is, loading
 * rules and engines with their messages, parsing numbers in options.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Where the shipped pack is: $EMBARGO_RULES; the source tree when running from
 * the build tree; next to an installed binary (../share/embargo/rules); the
 * configured install location.
 */
const char *default_rules(void) {
    static char buf[PATH_MAX + 32];
    const char *env = getenv("EMBARGO_RULES");
    if (env && *env)
        return env;

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        char build[PATH_MAX];
        if (realpath(EMBARGO_BINARY_DIR, build) && strcmp(build, exe) == 0 &&
            is_dir(EMBARGO_SOURCE_RULES_DIR))
            return EMBARGO_SOURCE_RULES_DIR;
        snprintf(buf, sizeof(buf), "%s/../share/embargo/rules", exe);
        if (is_dir(buf))
            return buf;
    }
    if (is_dir(EMBARGO_INSTALL_RULES_DIR))
        return EMBARGO_INSTALL_RULES_DIR;
    return EMBARGO_SOURCE_RULES_DIR;
}

emb_rules_t *load_rules(const char *path) {
    emb_rules_t *rules = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_rules_load(path, &rules, &diags);
    if (rc != 0) {
        size_t n = emb_diags_count(diags);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        if (n == 0)
            fprintf(stderr, "%s: %s: %s\n", prog, path, emb_strerror(rc));
        else
            fprintf(stderr, "%s: %zu error%s in %s\n", prog, n, n == 1 ? "" : "s", path);
        emb_diags_free(diags);
        return NULL;
    }
    return rules;
}

/* Parses a whole number in [min, max] for option `opt`; prints why not. */
bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out, const char *opt) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min || v > max) {
        fprintf(stderr, "%s: %s wants a whole number from %llu to %llu, not '%s'\n", prog, opt, min,
                max, s);
        return false;
    }
    *out = v;
    return true;
}

emb_engine_t *build_engine(const emb_rules_t *rules, const emb_config_t *cfg, const char *path) {
    emb_engine_t *engine = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_engine_new(rules, cfg, &engine, &diags);
    if (rc != 0) {
        for (size_t i = 0; i < emb_diags_count(diags); i++)
            fprintf(stderr, "%s\n", emb_diags_message(diags, i));
        fprintf(stderr, "%s: cannot build the engine from %s: %s\n", prog, path, emb_strerror(rc));
        emb_diags_free(diags);
        return NULL;
    }
    return engine;
}

/* Makes `path` and its parents (like mkdir -p); true when it exists after. */
static bool make_dirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

const char *default_cache_dir(void) {
    static char buf[PATH_MAX];
    const char *env = getenv("EMBARGO_CACHE_DIR");
    if (env && *env)
        snprintf(buf, sizeof(buf), "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        snprintf(buf, sizeof(buf), "%s/embargo", env);
    else if ((env = getenv("HOME")) && *env)
        snprintf(buf, sizeof(buf), "%s/.cache/embargo", env);
    else
        return NULL;
    return make_dirs(buf) ? buf : NULL;
}
