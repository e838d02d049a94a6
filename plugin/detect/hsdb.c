/*
 * The cache of compiled Hyperscan databases.
 *
 * Compiled databases are kept in `cache_dir/embargo-<key>.hsdb`, where the
 * key hashes the cache format, embargo's version, the Hyperscan version and
 * the CPU platform Hyperscan targets, and what the caller adds (match.c:
 * every expression of every database with its id, flags and compile mode):
 * whatever changes the compiled bytes or how they are read changes the key.
 * A file whose header, sizes or checksums do not agree, or that Hyperscan
 * refuses, is ignored and rewritten: a cache is never trusted, only checked.
 */
#include "detect/hsdb.h"

#include "embargo/embargo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_MAGIC "EMBHSDB2"
#define FNV_BASIS 1469598103934665603ULL

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

uint64_t emb__hsdb_key_add(uint64_t h, const void *p, size_t n) {
    return fnv1a(h, p, n);
}

uint64_t emb__hsdb_key_begin(void) {
    uint64_t h = FNV_BASIS;
    h = fnv1a(h, CACHE_MAGIC, sizeof(CACHE_MAGIC));
    h = fnv1a(h, EMB_VERSION_STRING, sizeof(EMB_VERSION_STRING));
    const char *v = hs_version();
    h = fnv1a(h, v, strlen(v));
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof(plat));
    if (hs_populate_platform(&plat) == HS_SUCCESS)
        h = fnv1a(h, &plat, sizeof(plat));
    return h;
}

static void cache_path(char *buf, size_t cap, const char *dir, uint64_t key) {
    snprintf(buf, cap, "%s/embargo-%016llx.hsdb", dir, (unsigned long long)key);
}

bool emb__hsdb_load(const char *dir, uint64_t key, size_t ndb, const uint64_t *counts,
                    hs_database_t **db) {
    char path[4096];
    cache_path(path, sizeof(path), dir, key);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    bool ok = false;
    char *blob = NULL;
    char magic[8];
    uint64_t fkey;
    if (fread(magic, 8, 1, f) != 1 || memcmp(magic, CACHE_MAGIC, 8) != 0 ||
        fread(&fkey, 8, 1, f) != 1 || fkey != key)
        goto out;
    for (size_t i = 0; i < ndb; i++) {
        uint64_t hdr[3]; /* patterns, size, checksum */
        if (fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[0] != counts[i] || hdr[1] > (1ULL << 31))
            goto out;
        if (hdr[0] == 0)
            continue;
        blob = malloc(hdr[1] ? hdr[1] : 1);
        if (blob == NULL || fread(blob, 1, hdr[1], f) != hdr[1] ||
            fnv1a(FNV_BASIS, blob, hdr[1]) != hdr[2] ||
            hs_deserialize_database(blob, hdr[1], &db[i]) != HS_SUCCESS)
            goto out;
        free(blob);
        blob = NULL;
    }
    ok = fgetc(f) == EOF; /* nothing trailing */
out:
    free(blob);
    fclose(f);
    if (!ok)
        for (size_t i = 0; i < ndb; i++) {
            hs_free_database(db[i]);
            db[i] = NULL;
        }
    return ok;
}

void emb__hsdb_store(const char *dir, uint64_t key, size_t ndb, const uint64_t *counts,
                     hs_database_t *const *db) {
    char path[4096], tmp[4200];
    cache_path(path, sizeof(path), dir, key);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return;
    bool ok = fwrite(CACHE_MAGIC, 8, 1, f) == 1 && fwrite(&key, 8, 1, f) == 1;
    for (size_t i = 0; i < ndb && ok; i++) {
        char *blob = NULL;
        size_t len = 0;
        if (db[i] && hs_serialize_database(db[i], &blob, &len) != HS_SUCCESS) {
            ok = false;
            break;
        }
        uint64_t hdr[3] = {counts[i], len, fnv1a(FNV_BASIS, blob, len)};
        ok = fwrite(hdr, sizeof(hdr), 1, f) == 1 && (len == 0 || fwrite(blob, 1, len, f) == len);
        free(blob);
    }
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        remove(tmp);
}
