/*
 * Helpers of the `embargo` command: where the shipped rule pack is, loading
 * rules and engines with their messages, parsing numbers in options; the
 * EVE writer, link types and the pack version shared by scan, live and report.
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
#include <dirent.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>

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

/* Prints why loading `path` failed: each diagnostic, then a count of them
 * (when `count` says so), or the error's name when there were none. */
static void print_load_failure(const char *path, int rc, emb_diags_t *diags, bool count) {
    size_t n = emb_diags_count(diags);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s\n", emb_diags_message(diags, i));
    if (n == 0)
        fprintf(stderr, "%s: %s: %s\n", prog, path, emb_strerror(rc));
    else if (count)
        fprintf(stderr, "%s: %zu error%s in %s\n", prog, n, n == 1 ? "" : "s", path);
    emb_diags_free(diags);
}

/* The bans that apply to the user, as scan and live were told. */
static struct {
    const char *scope, *restricts;
    bool proposed, set;
} bans_wanted;

bool ban_option(int c, const char *arg) {
    if (c == OPT_SCOPE)
        bans_wanted.scope = arg;
    else if (c == OPT_RESTRICTS)
        bans_wanted.restricts = arg;
    else if (c == OPT_PROPOSED)
        bans_wanted.proposed = true;
    else
        return false;
    bans_wanted.set = true;
    return true;
}

emb_rules_t *load_rules(const char *path) {
    emb_rules_t *rules = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_rules_load(path, &rules, &diags);
    if (rc != 0) {
        print_load_failure(path, rc, diags, true);
        return NULL;
    }
    if (bans_wanted.set) {
        char err[160];
        int n = emb_rules_select(rules, bans_wanted.scope, bans_wanted.restricts,
                                 bans_wanted.proposed, err, sizeof(err));
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            emb_rules_free(rules);
            return NULL;
        }
        if (n == 0)
            fprintf(stderr,
                    "%s: warning: no ban in %s applies to this selection: no rule will "
                    "alert\n",
                    prog, path);
    }
    return rules;
}

emb_exceptions_t *load_exceptions(const char *path) {
    emb_exceptions_t *x = NULL;
    emb_diags_t *diags = NULL;
    int rc = emb_exceptions_load(path, &x, &diags);
    if (rc != 0) {
        print_load_failure(path, rc, diags, rc == EMB_ERULES);
        return NULL;
    }
    return x;
}

void print_expired_exceptions(const emb_exceptions_t *x, const uint64_t *counts) {
    for (size_t i = 0; i < emb_exceptions_count(x); i++) {
        emb_exception_info_t in;
        if (counts[i] == 0 || emb_exceptions_info(x, i, &in) != 0)
            continue;
        fprintf(stderr,
                "%s: %s:%u:%u: exception expired %s (%s) still matched %" PRIu64 " alert%s\n", prog,
                in.file, in.line, in.column, in.expires, in.reason, counts[i],
                counts[i] == 1 ? "" : "s");
    }
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

/* ---- additions for live, report and --version ------------------------------ */

int linktype_from_dlt(int dlt) {
    switch (dlt) {
    case DLT_NULL: return EMB_LINK_NULL;
    case DLT_EN10MB: return EMB_LINK_ETHERNET;
#ifdef DLT_LOOP
    case DLT_LOOP: return EMB_LINK_LOOP;
#endif
    case DLT_LINUX_SLL: return EMB_LINK_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: return EMB_LINK_LINUX_SLL2;
#endif
#ifdef DLT_IPV4
    case DLT_IPV4: return EMB_LINK_IPV4;
    case DLT_IPV6: return EMB_LINK_IPV6;
#endif
    default:
        /* DLT_RAW is 12 or 14 depending on the platform; 101 is LINKTYPE_RAW */
        if (dlt == DLT_RAW || dlt == 12 || dlt == 14 || dlt == 101)
            return EMB_LINK_RAW;
        return -1;
    }
}

FILE *open_output(const char *path, out_mode_t mode, const char *hint) {
    if (strcmp(path, "-") == 0)
        return stdout;
    struct stat st;
    /* Only a regular file with something in it is a result to keep: /dev/null,
     * a pipe or an empty file are written as they are. */
    if (mode == OUT_KEEP && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        fprintf(stderr, "%s: %s: already holds %lld bytes of earlier results; %s\n", prog, path,
                (long long)st.st_size, hint);
        return NULL;
    }
    FILE *f = fopen(path, mode == OUT_APPEND ? "a" : "w");
    if (f == NULL)
        fprintf(stderr, "%s: %s: cannot open for writing: %s\n", prog, path, strerror(errno));
    return f;
}

bool output_mode_option(int c, out_mode_t *mode) {
    out_mode_t want = c == 'a' ? OUT_APPEND : OUT_REPLACE;
    if (*mode != OUT_KEEP && *mode != want) {
        fprintf(stderr, "%s: --append and --force exclude each other\n", prog);
        return false;
    }
    *mode = want;
    return true;
}

int eve_out_open(eve_out_t *o, const char *path, out_mode_t mode) {
    memset(o, 0, sizeof(*o));
    o->name = strcmp(path, "-") == 0 ? "standard output" : path;
    o->out = open_output(path, mode, "--append adds to it, --force replaces it");
    return o->out == NULL ? -1 : 0;
}

int eve_out_reopen(eve_out_t *o) {
    if (o->out == stdout)
        return 0;
    FILE *f = fopen(o->name, "a");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: cannot reopen after rotation: %s; still writing the old file\n",
                prog, o->name, strerror(errno));
        return -1;
    }
    if (fclose(o->out) != 0 && !o->write_failed) {
        o->write_failed = true;
        o->write_errno = errno;
    }
    o->out = f;
    return 0;
}

int eve_out_alert(const emb_alert_t *a, void *userdata) {
    eve_out_t *o = userdata;
    if (o->write_failed)
        return 1;
    if (fwrite(a->eve, 1, a->eve_len, o->out) != a->eve_len || fputc('\n', o->out) == EOF ||
        fflush(o->out) != 0) {
        o->write_failed = true;
        o->write_errno = errno;
        return 1;
    }
    o->written++;
    size_t i;
    for (i = 0; i < o->ntally; i++)
        if (strcmp(o->tally[i].vendor, a->vendor) == 0 &&
            strcmp(o->tally[i].channel, a->channel) == 0)
            break;
    if (i == o->ntally && o->ntally < EVE_OUT_MAX_TALLY) {
        snprintf(o->tally[i].vendor, sizeof(o->tally[i].vendor), "%s", a->vendor);
        snprintf(o->tally[i].channel, sizeof(o->tally[i].channel), "%s", a->channel);
        o->tally[i].n = 0;
        o->tally[i].excepted = 0;
        o->ntally++;
    }
    if (i < o->ntally && a->excepted)
        o->tally[i].excepted++;
    if (i < o->ntally)
        o->tally[i].n++;
    return 0;
}

int eve_out_close(eve_out_t *o) {
    int rc = 0;
    if (o->write_failed) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, o->name, strerror(o->write_errno));
        rc = -1;
    }
    if (o->out != NULL && o->out != stdout && fclose(o->out) != 0 && rc == 0) {
        fprintf(stderr, "%s: %s: write failed: %s\n", prog, o->name, strerror(errno));
        rc = -1;
    }
    o->out = NULL;
    return rc;
}

void eve_out_print_tally(const eve_out_t *o, FILE *f) {
    for (size_t i = 0; i < o->ntally; i++) {
        fprintf(f, "  %-16s %-12s %" PRIu64, o->tally[i].vendor, o->tally[i].channel,
                o->tally[i].n);
        if (o->tally[i].excepted)
            fprintf(f, ", %" PRIu64 " excepted", o->tally[i].excepted);
        fputc('\n', f);
    }
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds one file (base name, NUL, bytes, NUL) to the digest; -1 when unreadable. */
static int hash_file(EVP_MD_CTX *md, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    EVP_DigestUpdate(md, base, strlen(base) + 1);
    unsigned char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(md, buf, n);
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    EVP_DigestUpdate(md, "", 1);
    return rc;
}

size_t print_diags(const emb_diags_t *d) {
    size_t n = emb_diags_count(d);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s\n", emb_diags_message(d, i));
    return n;
}

int rules_pack_version(const char *path, char *buf, size_t size, size_t *nrules, size_t *nfiles) {
    emb_rules_t *rules = NULL;
    int rc = emb_rules_load(path, &rules, NULL);
    if (rc != 0) {
        snprintf(buf, size, "does not load: %s", emb_strerror(rc));
        return -1;
    }
    emb_rules_summary_t s;
    emb_rules_summary(rules, &s);
    emb_rules_free(rules);
    /* A published pack says its version in its manifest. */
    emb_manifest_t *m = NULL;
    if (is_dir(path) && emb_manifest_load(path, &m, NULL) == 0) {
        emb_manifest_info_t mi;
        emb_manifest_info(m, &mi);
        snprintf(buf, size, "%s %s (released %s, expires %s)", mi.name, mi.version, mi.released,
                 mi.expires);
        emb_manifest_free(m);
        *nrules = s.rules;
        *nfiles = s.files;
        return 0;
    }

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char **names = NULL;
    size_t n = 0;
    rc = -1;
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    if (is_dir(path)) {
        DIR *d = opendir(path);
        if (d == NULL)
            goto out;
        struct dirent *e;
        size_t cap = 0;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.' ||
                strcmp(e->d_name, "pack.yaml") == 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **p = realloc(names, cap * sizeof(*names));
                if (p == NULL)
                    break;
                names = p;
            }
            size_t plen = strlen(path) + len + 2;
            if ((names[n] = malloc(plen)) == NULL)
                break;
            snprintf(names[n++], plen, "%s/%s", path, e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++)
            if (hash_file(md, names[i]) != 0)
                goto out;
    } else if (hash_file(md, path) != 0) {
        goto out;
    }
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen < 6)
        goto out;
    snprintf(buf, size, "%zu-%02x%02x%02x%02x%02x%02x", s.rules, dig[0], dig[1], dig[2], dig[3],
             dig[4], dig[5]);
    *nrules = s.rules;
    *nfiles = s.files;
    rc = 0;
out:
    if (rc != 0)
        snprintf(buf, size, "cannot read: %s", strerror(errno));
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    EVP_MD_CTX_free(md);
    return rc;
}

int engine_option(int c, const char *arg, emb_config_t *cfg) {
    unsigned long long num;
    switch (c) {
    case 'F':
        if (!parse_number(arg, 1, 1ULL << 26, &num, "--max-flows"))
            return -1;
        cfg->max_flows = (size_t)num;
        return 1;
    case 'D':
        if (!parse_number(arg, 64, 1ULL << 24, &num, "--stream-depth"))
            return -1;
        cfg->stream_depth = (uint32_t)num;
        return 1;
    case 'M':
        if (!parse_number(arg, 0, 1ULL << 20, &num, "--stream-memcap"))
            return -1;
        cfg->stream_memcap = (size_t)num << 20;
        return 1;
    default: return 0;
    }
}
