/*
 * A pack's manifest (DIR/pack.yaml) and its signature (DIR/pack.yaml.sig).
 *
 * The manifest names the pack, its version (MAJOR.MINOR.PATCH), release and
 * expiry dates, the oldest engine that can load it, and every rule file with
 * its SHA-256. The signature is Ed25519 (RFC 8032) over the manifest's bytes,
 * 64 raw bytes, as `openssl pkeyutl -sign -rawin` writes it; the trusted keys
 * are PEM public keys (`openssl pkey -pubout`), one per *.pem file of a
 * directory. Signing the manifest signs the files through their hashes.
 *
 *   name: embargo-core
 *   version: 1.2.0
 *   released: 2026-11-30
 *   expires: 2027-05-31
 *   min_engine: 0.1.0
 *   files:
 *     - {path: kaspersky.yaml, sha256: 3f5c...}
 */
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#define MANIFEST "pack.yaml"
#define SIGNATURE "pack.yaml.sig"
#define MAX_MANIFEST (1u << 20)

typedef struct {
    char *path, *sha256;
} mfile_t;

struct emb_manifest {
    char *name, *version, *released, *expires, *min_engine;
    mfile_t *files;
    size_t nfiles, cap;
};

void emb_manifest_free(emb_manifest_t *m) {
    if (m == NULL)
        return;
    free(m->name);
    free(m->version);
    free(m->released);
    free(m->expires);
    free(m->min_engine);
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].path);
        free(m->files[i].sha256);
    }
    free(m->files);
    free(m);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static const char *scalar(yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_date(const char *s) {
    int y, mo, d;
    char end;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &end) == 3 && mo >= 1 &&
           mo <= 12 && d >= 1 && d <= 31;
}

static bool is_hex64(const char *s) {
    if (s == NULL || strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int emb_version_compare(const char *a, const char *b) {
    unsigned long va[3] = {0}, vb[3] = {0};
    char ea, eb;
    if (a == NULL || b == NULL || sscanf(a, "%lu.%lu.%lu%c", &va[0], &va[1], &va[2], &ea) != 3 ||
        sscanf(b, "%lu.%lu.%lu%c", &vb[0], &vb[1], &vb[2], &eb) != 3)
        return -2;
    for (int i = 0; i < 3; i++)
        if (va[i] != vb[i])
            return va[i] < vb[i] ? -1 : 1;
    return 0;
}

/* Sets one scalar field; false (with a diagnostic) when it is missing or bad. */
static bool take(emb_diags_t **diags, const char *path, yaml_node_t *n, const char *key,
                 char **dst) {
    if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0) {
        emb__diag_add(diags, path, n ? (unsigned)n->start_mark.line + 1 : 0,
                      n ? (unsigned)n->start_mark.column + 1 : 0, "%s must be a text", key);
        return false;
    }
    *dst = emb__strdup((const char *)n->data.scalar.value);
    return *dst != NULL;
}

static int parse(yaml_document_t *doc, const char *path, emb_manifest_t *m, emb_diags_t **diags) {
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        emb__diag_add(diags, path, 1, 1, "a manifest is a mapping (name, version, files, ...)");
        return EMB_ERULES;
    }
    bool ok = true;
    yaml_node_t *files = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = scalar(k);
        if (key == NULL)
            continue;
        if (strcmp(key, "name") == 0)
            ok = take(diags, path, v, "name", &m->name) && ok;
        else if (strcmp(key, "version") == 0)
            ok = take(diags, path, v, "version", &m->version) && ok;
        else if (strcmp(key, "released") == 0)
            ok = take(diags, path, v, "released", &m->released) && ok;
        else if (strcmp(key, "expires") == 0)
            ok = take(diags, path, v, "expires", &m->expires) && ok;
        else if (strcmp(key, "min_engine") == 0)
            ok = take(diags, path, v, "min_engine", &m->min_engine) && ok;
        else if (strcmp(key, "files") == 0)
            files = v;
        else {
            emb__diag_add(diags, path, (unsigned)k->start_mark.line + 1,
                          (unsigned)k->start_mark.column + 1, "unknown key '%s'", key);
            ok = false;
        }
    }
    const char *need[] = {"name", "version", "released", "expires", "min_engine"};
    char *have[] = {m->name, m->version, m->released, m->expires, m->min_engine};
    for (int i = 0; i < 5; i++)
        if (have[i] == NULL) {
            emb__diag_add(diags, path, 1, 1, "missing '%s'", need[i]);
            ok = false;
        }
    if (m->version && emb_version_compare(m->version, m->version) != 0) {
        emb__diag_add(diags, path, 1, 1, "version '%s' is not MAJOR.MINOR.PATCH", m->version);
        ok = false;
    }
    if (m->min_engine && emb_version_compare(m->min_engine, m->min_engine) != 0) {
        emb__diag_add(diags, path, 1, 1, "min_engine '%s' is not MAJOR.MINOR.PATCH", m->min_engine);
        ok = false;
    }
    if ((m->released && !is_date(m->released)) || (m->expires && !is_date(m->expires))) {
        emb__diag_add(diags, path, 1, 1, "released and expires are dates (YYYY-MM-DD)");
        ok = false;
    }
    if (files == NULL || files->type != YAML_SEQUENCE_NODE ||
        files->data.sequence.items.top == files->data.sequence.items.start) {
        emb__diag_add(diags, path, 1, 1, "'files' must list the pack's rule files");
        return EMB_ERULES;
    }
    for (yaml_node_item_t *it = files->data.sequence.items.start;
         it < files->data.sequence.items.top; it++) {
        yaml_node_t *f = yaml_document_get_node(doc, *it);
        const char *fp = NULL, *fh = NULL;
        if (f && f->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *p = f->data.mapping.pairs.start; p < f->data.mapping.pairs.top;
                 p++) {
                const char *key = scalar(yaml_document_get_node(doc, p->key));
                const char *val = scalar(yaml_document_get_node(doc, p->value));
                if (key && strcmp(key, "path") == 0)
                    fp = val;
                else if (key && strcmp(key, "sha256") == 0)
                    fh = val;
            }
        unsigned line = f ? (unsigned)f->start_mark.line + 1 : 1;
        unsigned col = f ? (unsigned)f->start_mark.column + 1 : 1;
        /* A plain file name: the manifest cannot point outside its directory. */
        if (fp == NULL || fp[0] == '\0' || fp[0] == '.' || strchr(fp, '/') != NULL ||
            strcmp(fp, MANIFEST) == 0) {
            emb__diag_add(diags, path, line, col, "a file entry needs a plain file name as path");
            ok = false;
            continue;
        }
        if (!is_hex64(fh)) {
            emb__diag_add(diags, path, line, col, "%s: sha256 must be 64 lowercase hex digits", fp);
            ok = false;
            continue;
        }
        if (emb__grow((void **)&m->files, &m->cap, m->nfiles + 1, sizeof(mfile_t)) != 0)
            return EMB_ENOMEM;
        m->files[m->nfiles].path = emb__strdup(fp);
        m->files[m->nfiles].sha256 = emb__strdup(fh);
        if (m->files[m->nfiles].path == NULL || m->files[m->nfiles].sha256 == NULL)
            return EMB_ENOMEM;
        m->nfiles++;
    }
    return ok ? 0 : EMB_ERULES;
}

int emb_manifest_load(const char *dir, emb_manifest_t **out, emb_diags_t **diags) {
    *out = NULL;
    char *path = join(dir, MANIFEST);
    if (path == NULL)
        return EMB_ENOMEM;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        emb__diag_add(diags, path, 0, 0, "no manifest: %s", strerror(errno));
        free(path);
        return EMB_EIO;
    }
    emb_manifest_t *m = calloc(1, sizeof(*m));
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = EMB_ENOMEM;
    if (m == NULL || !yaml_parser_initialize(&parser))
        goto out_file;
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        emb__diag_add(diags, path, (unsigned)parser.problem_mark.line + 1,
                      (unsigned)parser.problem_mark.column + 1, "%s",
                      parser.problem ? parser.problem : "YAML error");
        rc = EMB_ERULES;
    } else {
        rc = parse(&doc, path, m, diags);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
out_file:
    fclose(f);
    free(path);
    if (rc != 0) {
        emb_manifest_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void emb_manifest_info(const emb_manifest_t *m, emb_manifest_info_t *out) {
    out->name = m->name;
    out->version = m->version;
    out->released = m->released;
    out->expires = m->expires;
    out->min_engine = m->min_engine;
    out->nfiles = m->nfiles;
}

bool emb_manifest_expired(const emb_manifest_t *m) {
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    return strcmp(m->expires, today) < 0; /* both YYYY-MM-DD: text order is date order */
}

int emb_manifest_file(const emb_manifest_t *m, size_t i, const char **path, const char **sha256) {
    if (m == NULL || i >= m->nfiles)
        return EMB_EINVAL;
    *path = m->files[i].path;
    *sha256 = m->files[i].sha256;
    return 0;
}

int emb_sha256_file(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return EMB_EIO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = EMB_ENOMEM;
    if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
        unsigned char buf[65536], dig[EVP_MAX_MD_SIZE];
        unsigned int dlen = 0;
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            EVP_DigestUpdate(md, buf, n);
        rc = ferror(f) ? EMB_EIO : 0;
        if (rc == 0 && EVP_DigestFinal_ex(md, dig, &dlen) == 1 && dlen == 32) {
            for (unsigned i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", dig[i]);
        } else if (rc == 0) {
            rc = EMB_EIO;
        }
    }
    EVP_MD_CTX_free(md);
    fclose(f);
    return rc;
}

static bool listed(const emb_manifest_t *m, const char *name) {
    for (size_t i = 0; i < m->nfiles; i++)
        if (strcmp(m->files[i].path, name) == 0)
            return true;
    return false;
}

int emb_manifest_check_files(const emb_manifest_t *m, const char *dir, emb_diags_t **diags) {
    int rc = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        char *p = join(dir, m->files[i].path);
        char hex[65];
        if (p == NULL)
            return EMB_ENOMEM;
        int hrc = emb_sha256_file(p, hex);
        if (hrc == EMB_EIO) {
            emb__diag_add(diags, p, 0, 0, "listed in the manifest but cannot be read: %s",
                          strerror(errno));
            rc = EMB_ERULES;
        } else if (hrc != 0) {
            free(p);
            return hrc;
        } else if (strcmp(hex, m->files[i].sha256) != 0) {
            emb__diag_add(diags, p, 0, 0, "SHA-256 %s, the manifest says %s: the file changed", hex,
                          m->files[i].sha256);
            rc = EMB_ERULES;
        }
        free(p);
    }
    /* A rule file the manifest does not list would be loaded unsigned. */
    DIR *d = opendir(dir);
    if (d == NULL) {
        emb__diag_add(diags, dir, 0, 0, "cannot open directory: %s", strerror(errno));
        return EMB_EIO;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        bool yaml = (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0) ||
                    (n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0);
        if (e->d_name[0] == '.' || !yaml || strcmp(e->d_name, MANIFEST) == 0 ||
            listed(m, e->d_name))
            continue;
        char *p = join(dir, e->d_name);
        emb__diag_add(diags, p ? p : dir, 0, 0, "a rule file the manifest does not list");
        free(p);
        rc = EMB_ERULES;
    }
    closedir(d);
    return rc;
}

/* Reads at most `max` bytes of `path`; NULL when it cannot (or is longer). */
static unsigned char *slurp(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* True when `sig` is `key_path`'s Ed25519 signature of `msg`. */
static bool verify_with(const char *key_path, const unsigned char *msg, size_t msg_len,
                        const unsigned char *sig, size_t sig_len) {
    FILE *f = fopen(key_path, "r");
    if (f == NULL)
        return false;
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL)
        return false;
    bool ok = false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_PKEY_id(key) == EVP_PKEY_ED25519 &&
        EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
        ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

int emb_manifest_verify(const char *dir, const char *keys_dir, char *key, size_t key_size,
                        emb_diags_t **diags) {
    char *mpath = join(dir, MANIFEST), *spath = join(dir, SIGNATURE);
    unsigned char *msg = NULL, *sig = NULL;
    size_t msg_len = 0, sig_len = 0;
    int rc = EMB_ERULES;
    if (mpath == NULL || spath == NULL) {
        rc = EMB_ENOMEM;
        goto out;
    }
    if ((msg = slurp(mpath, MAX_MANIFEST, &msg_len)) == NULL) {
        emb__diag_add(diags, mpath, 0, 0, "no manifest to verify");
        goto out;
    }
    if ((sig = slurp(spath, 64, &sig_len)) == NULL || sig_len != 64) {
        emb__diag_add(diags, spath, 0, 0,
                      sig ? "not an Ed25519 signature (64 bytes)" : "unsigned: no signature");
        goto out;
    }
    DIR *d = opendir(keys_dir);
    if (d == NULL) {
        emb__diag_add(diags, keys_dir, 0, 0, "no trusted keys: %s", strerror(errno));
        goto out;
    }
    struct dirent *e;
    size_t nkeys = 0;
    while (rc != 0 && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
            continue;
        char *kp = join(keys_dir, e->d_name);
        if (kp == NULL)
            break;
        nkeys++;
        if (verify_with(kp, msg, msg_len, sig, sig_len)) {
            rc = 0;
            if (key)
                snprintf(key, key_size, "%s", e->d_name);
        }
        free(kp);
    }
    closedir(d);
    if (rc != 0 && nkeys > 0)
        emb__diag_add(diags, spath, 0, 0,
                      "bad signature: made by none of the %zu trusted key%s in %s", nkeys,
                      nkeys == 1 ? "" : "s", keys_dir);
    else if (rc != 0)
        emb__diag_add(diags, keys_dir, 0, 0, "no trusted keys (*.pem) to verify %s with", spath);
out:
    free(mpath);
    free(spath);
    free(msg);
    free(sig);
    return rc;
}
