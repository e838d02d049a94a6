/*
 * Publishing and installing rule packs (docs/rules.md, "Publishing a pack"):
 *
 *   embargo rules manifest DIR --version V --expires DATE [--name N]
 *                          [--released DATE] [--min-engine V]
 *   embargo rules verify DIR [--keys DIR]
 *   embargo rules update --from URL|DIR [--dest STORE] [--keys DIR]
 *                        [--ca-file FILE] [--reload PIDFILE]
 *   embargo rules rollback [--dest STORE] [--reload PIDFILE]
 *   embargo rules diff OLD NEW [--format text|json]
 *
 * An update changes nothing until every step has passed: the manifest and its
 * signature are fetched into a staging directory inside the store and
 * verified, the engine version and the installed version are checked (an
 * older pack is a rollback and is refused; the same one is "already
 * current"), the listed files are fetched and their hashes checked, the pack
 * is loaded and compiled into the database cache, and only then does the
 * staging directory become STORE/VERSION and the symlink STORE/current move
 * to it (a rename, atomic), the pack it left being kept as STORE/previous.
 * Exit status: 0 updated, 1 already current, 2 error.
 */
#include "cli.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FETCH (64u << 20) /* bytes of one file of a pack */

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(EXIT_ERROR);
    }
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* The trusted keys: --keys, else EMBARGO_KEYS, else rules/keys in a build
 * tree, else share/embargo/keys beside the binary. */
static const char *default_keys(void) {
    const char *env = getenv("EMBARGO_KEYS");
    if (env && *env)
        return env;
    static char buf[PATH_MAX + 32];
    if (strcmp(default_rules(), EMBARGO_SOURCE_RULES_DIR) == 0)
        return EMBARGO_SOURCE_RULES_DIR "/keys";
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(buf, sizeof(buf), "%s/../share/embargo/keys", exe);
    return buf;
}

/* The pack store: --dest, else EMBARGO_PACK_STORE, else /var/lib/embargo/packs. */
static const char *default_store(void) {
    const char *env = getenv("EMBARGO_PACK_STORE");
    return env && *env ? env : "/var/lib/embargo/packs";
}

/* ---- rules manifest ----------------------------------------------------- */

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_date_arg(const char *s) {
    int y, m, d;
    char end;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3;
}

static int cmd_rules_manifest(int argc, char **argv) {
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},       {"version", required_argument, NULL, 'v'},
        {"released", required_argument, NULL, 'R'},   {"expires", required_argument, NULL, 'e'},
        {"min-engine", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0}};
    const char *name = "embargo", *version = NULL, *released = NULL, *expires = NULL;
    const char *min_engine = EMB_VERSION_STRING;
    char today[16];
    time_t now = time(NULL);
    strftime(today, sizeof(today), "%Y-%m-%d", gmtime(&now));
    released = today;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'v': version = optarg; break;
        case 'R': released = optarg; break;
        case 'e': expires = optarg; break;
        case 'm': min_engine = optarg; break;
        default: usage_rules(stderr); return EXIT_ERROR;
        }
    }
    if (optind != argc - 1 || version == NULL || expires == NULL) {
        fprintf(stderr, "%s: rules manifest: want DIR --version V --expires YYYY-MM-DD\n", prog);
        return EXIT_ERROR;
    }
    const char *dir = argv[optind];
    if (emb_version_compare(version, version) != 0 ||
        emb_version_compare(min_engine, min_engine) != 0 || !is_date_arg(expires) ||
        !is_date_arg(released)) {
        fprintf(stderr, "%s: rules manifest: versions are MAJOR.MINOR.PATCH, dates YYYY-MM-DD\n",
                prog);
        return EXIT_ERROR;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: cannot open directory: %s\n", prog, dir, strerror(errno));
        return EXIT_ERROR;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        /* the loader's rule files: *.yaml and *.yml, the manifest aside */
        bool rule = (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) ||
                    (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0);
        if (e->d_name[0] == '.' || !rule || strcmp(e->d_name, "pack.yaml") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(names, cap * sizeof(*names));
            if (p == NULL) {
                fprintf(stderr, "%s: out of memory\n", prog);
                exit(EXIT_ERROR);
            }
            names = p;
        }
        if ((names[n++] = strdup(e->d_name)) == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit(EXIT_ERROR);
        }
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_names);
    char *path = join(dir, "pack.yaml"), *tmp = join(dir, ".pack.yaml.tmp");
    FILE *f = fopen(tmp, "w");
    int status = EXIT_CLEAN;
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, tmp, strerror(errno));
        status = EXIT_ERROR;
    } else {
        fprintf(f,
                "# The pack's manifest: what `embargo rules verify` and `rules update` check\n"
                "# (docs/rules.md, \"Publishing a pack\"). Written by `embargo rules manifest`.\n"
                "name: %s\nversion: %s\nreleased: %s\nexpires: %s\nmin_engine: %s\nfiles:\n",
                name, version, released, expires, min_engine);
        for (size_t i = 0; i < n && status == EXIT_CLEAN; i++) {
            char *p = join(dir, names[i]), hex[65];
            if (emb_sha256_file(p, hex) != 0) {
                fprintf(stderr, "%s: %s: cannot read: %s\n", prog, p, strerror(errno));
                status = EXIT_ERROR;
            } else {
                fprintf(f, "  - {path: %s, sha256: %s}\n", names[i], hex);
            }
            free(p);
        }
        if (fclose(f) != 0 || status != EXIT_CLEAN || rename(tmp, path) != 0) {
            if (status == EXIT_CLEAN)
                fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
            unlink(tmp);
            status = EXIT_ERROR;
        } else {
            printf("%s: %s %s, %zu files\n", path, name, version, n);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(path);
    free(tmp);
    return status;
}

/* ---- verification ------------------------------------------------------- */

/* The manifest's dates against today: warns when the pack has expired. */
static void warn_expiry(const emb_manifest_t *m, const emb_manifest_info_t *mi, const char *dir) {
    if (emb_manifest_expired(m))
        fprintf(stderr,
                "%s: %s: warning: pack %s %s expired on %s: it still runs, but it is stale\n", prog,
                dir, mi->name, mi->version, mi->expires);
}

/*
 * Everything but the installed version: signature, engine version, files.
 * Returns the loaded manifest, or NULL after saying why.
 */
static emb_manifest_t *verify_dir(const char *dir, const char *keys, char *key, size_t key_size) {
    emb_diags_t *diags = NULL;
    int rc = emb_manifest_verify(dir, keys, key, key_size, &diags);
    emb_manifest_t *m = NULL;
    if (rc == 0)
        rc = emb_manifest_load(dir, &m, &diags);
    if (rc == 0) {
        emb_manifest_info_t mi;
        emb_manifest_info(m, &mi);
        if (emb_version_compare(mi.min_engine, EMB_VERSION_STRING) > 0) {
            fprintf(stderr, "%s: %s: pack %s %s needs engine %s or newer; this is %s\n", prog, dir,
                    mi.name, mi.version, mi.min_engine, EMB_VERSION_STRING);
            rc = EMB_ERULES;
        }
    }
    if (rc == 0)
        rc = emb_manifest_check_files(m, dir, &diags);
    print_diags(diags);
    emb_diags_free(diags);
    if (rc != 0) {
        emb_manifest_free(m);
        return NULL;
    }
    return m;
}

static int cmd_rules_verify(int argc, char **argv) {
    static const struct option opts[] = {{"keys", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    const char *keys = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'k') {
            usage_rules(stderr);
            return EXIT_ERROR;
        }
        keys = optarg;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s: rules verify: want one pack directory\n", prog);
        return EXIT_ERROR;
    }
    const char *dir = argv[optind];
    if (keys == NULL)
        keys = default_keys();
    char key[256] = "";
    emb_manifest_t *m = verify_dir(dir, keys, key, sizeof(key));
    if (m == NULL) {
        fprintf(stderr, "%s: %s: not verified\n", prog, dir);
        return EXIT_ERROR;
    }
    emb_manifest_info_t mi;
    emb_manifest_info(m, &mi);
    warn_expiry(m, &mi, dir);
    printf("%s: pack %s %s (released %s, expires %s), signed by %s, %zu files verified\n", dir,
           mi.name, mi.version, mi.released, mi.expires, key, mi.nfiles);
    emb_manifest_free(m);
    return EXIT_CLEAN;
}

/* ---- fetching ----------------------------------------------------------- */

typedef struct {
    FILE *f;
    size_t n;
} sink_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
    sink_t *s = ud;
    size_t n = size * nmemb;
    if (s->n + n > MAX_FETCH || fwrite(p, 1, n, s->f) != n)
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    s->n += n;
    return n;
}

static bool is_url(const char *s) {
    return strstr(s, "://") != NULL;
}

/* SRC/name into `dest`: a URL (https://, file://) with libcurl, or a file of
 * a local directory. Says why not and returns false. */
static bool fetch(const char *src, const char *name, const char *dest, const char *ca_file) {
    char *from = join(src, name);
    bool ok = false;
    FILE *f = fopen(dest, "wb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, dest, strerror(errno));
        free(from);
        return false;
    }
    if (!is_url(src)) {
        FILE *in = fopen(from, "rb");
        if (in == NULL) {
            fprintf(stderr, "%s: %s: %s\n", prog, from, strerror(errno));
        } else {
            char buf[65536];
            size_t n, total = 0;
            ok = true;
            while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
                ok = (total += n) <= MAX_FETCH && fwrite(buf, 1, n, f) == n;
            ok = ok && !ferror(in);
            if (!ok)
                fprintf(stderr, "%s: %s: cannot copy\n", prog, from);
            fclose(in);
        }
    } else {
        CURL *h = curl_easy_init();
        sink_t s = {f, 0};
        char err[CURL_ERROR_SIZE] = "";
        if (h == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
        } else {
            curl_easy_setopt(h, CURLOPT_URL, from);
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,file");
            curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
            curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
            curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
            curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
            if (ca_file)
                curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
            CURLcode rc = curl_easy_perform(h);
            ok = rc == CURLE_OK;
            if (!ok)
                fprintf(stderr, "%s: %s: %s\n", prog, from, err[0] ? err : curl_easy_strerror(rc));
            curl_easy_cleanup(h);
        }
    }
    if (fclose(f) != 0 && ok) {
        fprintf(stderr, "%s: %s: %s\n", prog, dest, strerror(errno));
        ok = false;
    }
    free(from);
    return ok;
}

/* ---- the store ---------------------------------------------------------- */

/* Removes a directory of plain files (a pack); errors are ignored. */
static void remove_pack_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = join(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Points STORE/name at `target` (a name in STORE) by a rename: atomic. */
static bool point(const char *store, const char *name, const char *target) {
    char tmpname[64];
    snprintf(tmpname, sizeof(tmpname), ".%s.tmp", name);
    char *tmp = join(store, tmpname), *link = join(store, name);
    unlink(tmp);
    bool ok = symlink(target, tmp) == 0 && rename(tmp, link) == 0;
    if (!ok) {
        fprintf(stderr, "%s: %s: cannot point at %s: %s\n", prog, link, target, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(link);
    return ok;
}

/* What STORE/name points at (a version's directory name), or "" */
static void target_of(const char *store, const char *name, char *buf, size_t size) {
    char *link = join(store, name);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    free(link);
}

/* Sends SIGUSR2 (reload the rules) to the process in `pidfile`. */
static bool send_reload(const char *pidfile) {
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
        fprintf(stderr, "%s: %s: no process id to reload\n", prog, pidfile);
        if (f)
            fclose(f);
        return false;
    }
    fclose(f);
    /* A pid file left by a crash may name another process now: only embargo's. */
    char comm_path[64], comm[64] = "";
    snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", pid);
    FILE *cf = fopen(comm_path, "r");
    if (cf != NULL) {
        if (fgets(comm, sizeof(comm), cf) == NULL)
            comm[0] = '\0';
        fclose(cf);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "embargo") != 0) {
            fprintf(stderr, "%s: %s: process %ld is %s, not embargo: not signalled\n", prog,
                    pidfile, pid, comm[0] ? comm : "unknown");
            return false;
        }
    }
    if (kill((pid_t)pid, SIGUSR2) != 0) {
        fprintf(stderr, "%s: %s: cannot signal process %ld: %s\n", prog, pidfile, pid,
                strerror(errno));
        return false;
    }
    printf("sent SIGUSR2 (reload the rules) to process %ld\n", pid);
    return true;
}

/* One update or rollback at a time per store: an flock on STORE/.lock, held
 * until the process ends (or the fd is closed). -1 after saying why. */
static int lock_store(const char *store) {
    char *path = join(store, ".lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        fprintf(stderr, "%s: %s: cannot lock the pack store: %s\n", prog, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return -1;
    }
    free(path);
    return fd;
}

/* Drops every version directory that is neither current nor previous. */
static void prune(const char *store) {
    char cur[256], prev[256];
    target_of(store, "current", cur, sizeof(cur));
    target_of(store, "previous", prev, sizeof(prev));
    DIR *d = opendir(store);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "current") == 0 ||
            strcmp(e->d_name, "previous") == 0 || strcmp(e->d_name, cur) == 0 ||
            strcmp(e->d_name, prev) == 0 || emb_version_compare(e->d_name, e->d_name) != 0)
            continue;
        char *p = join(store, e->d_name);
        remove_pack_dir(p);
        free(p);
    }
    closedir(d);
}

static int cmd_rules_update(int argc, char **argv) {
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},   {"dest", required_argument, NULL, 'd'},
        {"keys", required_argument, NULL, 'k'},   {"ca-file", required_argument, NULL, 'c'},
        {"reload", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
    const char *from = NULL, *store = NULL, *keys = NULL, *ca_file = NULL, *pidfile = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'd': store = optarg; break;
        case 'k': keys = optarg; break;
        case 'c': ca_file = optarg; break;
        case 'r': pidfile = optarg; break;
        default: usage_rules(stderr); return EXIT_ERROR;
        }
    }
    if (from == NULL || optind != argc) {
        fprintf(stderr, "%s: rules update: want --from URL|DIR (there is no default source)\n",
                prog);
        return EXIT_ERROR;
    }
    if (is_url(from) && strncmp(from, "https://", 8) != 0 && strncmp(from, "file://", 7) != 0) {
        fprintf(stderr, "%s: %s: only https:// and file:// sources are fetched\n", prog, from);
        return EXIT_ERROR;
    }
    size_t flen = strlen(from);
    if (flen > 4 && (strcmp(from + flen - 4, ".tar") == 0 || strstr(from, ".tar.") != NULL)) {
        fprintf(stderr, "%s: %s: tarballs are not read yet; unpack it and give the directory\n",
                prog, from);
        return EXIT_ERROR;
    }
    if (store == NULL)
        store = default_store();
    if (keys == NULL)
        keys = default_keys();
    if (mkdir(store, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s: cannot create the pack store: %s\n", prog, store, strerror(errno));
        return EXIT_ERROR;
    }
    int lock = lock_store(store);
    if (lock < 0)
        return EXIT_ERROR;
    char *staging = join(store, ".incoming-XXXXXX");
    if (mkdtemp(staging) == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, staging, strerror(errno));
        free(staging);
        return EXIT_ERROR;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = EXIT_ERROR;
    emb_manifest_t *m = NULL, *installed = NULL;
    emb_rules_t *rules = NULL;
    emb_engine_t *engine = NULL;
    char key[256] = "", cur[256] = "";
    char *mpath = join(staging, "pack.yaml"), *spath = join(staging, "pack.yaml.sig");
    /* 1. The manifest and its signature, verified before anything else is fetched. */
    if (!fetch(from, "pack.yaml", mpath, ca_file))
        goto out;
    if (!fetch(from, "pack.yaml.sig", spath, ca_file)) {
        fprintf(stderr,
                "%s: %s: unsigned: the source has no pack.yaml.sig (only a signed pack "
                "is installed)\n",
                prog, from);
        goto out;
    }
    emb_diags_t *diags = NULL;
    int rc = emb_manifest_verify(staging, keys, key, sizeof(key), &diags);
    if (rc == 0)
        rc = emb_manifest_load(staging, &m, &diags);
    print_diags(diags);
    emb_diags_free(diags);
    diags = NULL;
    if (rc != 0)
        goto out;
    emb_manifest_info_t mi;
    emb_manifest_info(m, &mi);
    if (emb_version_compare(mi.min_engine, EMB_VERSION_STRING) > 0) {
        fprintf(stderr, "%s: %s: pack %s %s needs engine %s or newer; this is %s\n", prog, from,
                mi.name, mi.version, mi.min_engine, EMB_VERSION_STRING);
        goto out;
    }
    /* 2. Against the installed pack: the same is current, an older one a rollback. */
    target_of(store, "current", cur, sizeof(cur));
    char *cur_dir = join(store, "current");
    emb_diags_t *idiags = NULL;
    if (cur[0] && emb_manifest_load(cur_dir, &installed, &idiags) != 0) {
        /* Without the installed version no update can tell a rollback: refuse. */
        print_diags(idiags);
        emb_diags_free(idiags);
        fprintf(stderr,
                "%s: %s: the installed pack's manifest cannot be read, so an older pack could "
                "not be told from a newer one; repair it or remove %s first\n",
                prog, cur_dir, cur_dir);
        free(cur_dir);
        goto out;
    }
    emb_diags_free(idiags);
    if (cur[0]) {
        emb_manifest_info_t ii;
        emb_manifest_info(installed, &ii);
        int cmp = emb_version_compare(mi.version, ii.version);
        if (cmp == 0) {
            printf("pack %s %s is already current (%s)\n", mi.name, mi.version, cur_dir);
            status = EXIT_ALERTS; /* 1: nothing to do */
            free(cur_dir);
            goto out;
        }
        if (cmp < 0) {
            fprintf(stderr,
                    "%s: %s: pack %s %s is older than the installed %s: a rollback is refused "
                    "(embargo rules rollback goes back on purpose)\n",
                    prog, from, mi.name, mi.version, ii.version);
            free(cur_dir);
            goto out;
        }
    }
    free(cur_dir);
    /* 3. The files the manifest lists, each checked against its hash. */
    for (size_t i = 0; i < mi.nfiles; i++) {
        const char *name, *sha;
        emb_manifest_file(m, i, &name, &sha);
        char *dest = join(staging, name);
        bool ok = fetch(from, name, dest, ca_file);
        free(dest);
        if (!ok)
            goto out;
    }
    rc = emb_manifest_check_files(m, staging, &diags);
    print_diags(diags);
    emb_diags_free(diags);
    if (rc != 0)
        goto out;
    /* 4. Loaded and compiled into the database cache: a live sensor's reload
     * then loads it in milliseconds. */
    if ((rules = load_rules(staging)) == NULL)
        goto out;
    emb_config_t cfg;
    emb_config_init(&cfg);
    cfg.cache_dir = default_cache_dir();
    if ((engine = build_engine(rules, &cfg, staging)) == NULL)
        goto out;
    /* 5. In place: STORE/VERSION, then current (and previous) move. */
    char *final = join(store, mi.version), *aside = join(store, ".replaced-XXXXXX");
    chmod(staging, 0755); /* mkdtemp made it private; a sensor's user reads it */
    /* An earlier copy of this version (one rolled back from) is moved aside,
     * not deleted, until the new one is in place. */
    bool moved = false;
    if (mkdtemp(aside) != NULL) {
        rmdir(aside);
        moved = rename(final, aside) == 0;
    }
    if (rename(staging, final) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, final, strerror(errno));
        if (moved)
            rename(aside, final);
        free(final);
        free(aside);
        goto out;
    }
    if (moved)
        remove_pack_dir(aside);
    free(final);
    free(aside);
    /* current first: a failure after it leaves previous as it was */
    if (!point(store, "current", mi.version) || (cur[0] && !point(store, "previous", cur)))
        goto out;
    prune(store);
    warn_expiry(m, &mi, from);
    printf("updated to pack %s %s (signed by %s)%s%s: %s/current\n", mi.name, mi.version, key,
           cur[0] ? ", previous " : "", cur, store);
    status = EXIT_CLEAN;
    if (pidfile && !send_reload(pidfile))
        status = EXIT_ERROR;
out:
    if (status == EXIT_ERROR && !(access(staging, F_OK) != 0))
        fprintf(stderr, "%s: rules update: nothing was changed\n", prog);
    remove_pack_dir(staging); /* gone already when it was installed */
    emb_engine_free(engine);
    emb_rules_free(rules);
    emb_manifest_free(m);
    emb_manifest_free(installed);
    free(mpath);
    free(spath);
    free(staging);
    curl_global_cleanup();
    close(lock);
    return status;
}

static int cmd_rules_rollback(int argc, char **argv) {
    static const struct option opts[] = {{"dest", required_argument, NULL, 'd'},
                                         {"reload", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    const char *store = NULL, *pidfile = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': store = optarg; break;
        case 'r': pidfile = optarg; break;
        default: usage_rules(stderr); return EXIT_ERROR;
        }
    }
    if (optind != argc) {
        usage_rules(stderr);
        return EXIT_ERROR;
    }
    if (store == NULL)
        store = default_store();
    if (lock_store(store) < 0) /* released at exit */
        return EXIT_ERROR;
    char cur[256], prev[256];
    target_of(store, "current", cur, sizeof(cur));
    target_of(store, "previous", prev, sizeof(prev));
    if (prev[0] == '\0') {
        fprintf(stderr, "%s: %s: no previous pack to go back to\n", prog, store);
        return EXIT_ERROR;
    }
    if (!point(store, "current", prev) || (cur[0] && !point(store, "previous", cur)))
        return EXIT_ERROR;
    printf("rolled back to pack %s (previous now %s): %s/current\n", prev, cur[0] ? cur : "none",
           store);
    if (pidfile && !send_reload(pidfile))
        return EXIT_ERROR;
    return EXIT_CLEAN;
}

/* ---- rules diff --------------------------------------------------------- */

static int write_stdout(const char *buf, size_t len, void *ud) {
    (void)ud;
    return fwrite(buf, 1, len, stdout) == len ? 0 : 1;
}

static int cmd_rules_diff(int argc, char **argv) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0)) {
            json = strcmp(optarg, "json") == 0;
            continue;
        }
        fprintf(stderr, "%s: rules diff: --format text|json\n", prog);
        return EXIT_ERROR;
    }
    if (optind != argc - 2) {
        fprintf(stderr, "%s: rules diff: want OLD NEW (two packs)\n", prog);
        return EXIT_ERROR;
    }
    emb_rules_t *a = load_rules(argv[optind]);
    emb_rules_t *b = a ? load_rules(argv[optind + 1]) : NULL;
    int rc = b ? emb_rules_diff(a, b, json, write_stdout, NULL) : EMB_ERULES;
    emb_rules_free(a);
    emb_rules_free(b);
    if (rc == EMB_EIO || (rc == 0 && fflush(stdout) != 0)) {
        fprintf(stderr, "%s: rules diff: write failed: %s\n", prog, strerror(errno));
        return EXIT_ERROR;
    }
    return rc == 0 ? EXIT_CLEAN : EXIT_ERROR;
}

int cmd_rules_pack(const char *action, int argc, char **argv) {
    if (strcmp(action, "manifest") == 0)
        return cmd_rules_manifest(argc, argv);
    if (strcmp(action, "verify") == 0)
        return cmd_rules_verify(argc, argv);
    if (strcmp(action, "update") == 0)
        return cmd_rules_update(argc, argv);
    if (strcmp(action, "rollback") == 0)
        return cmd_rules_rollback(argc, argv);
    if (strcmp(action, "diff") == 0)
        return cmd_rules_diff(argc, argv);
    return -1;
}
