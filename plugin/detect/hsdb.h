/*
 * The cache of compiled Hyperscan databases (hsdb.c): a file per key in a
 * directory, checked before it is used.
 */
#ifndef EMB_DETECT_HSDB_H
#define EMB_DETECT_HSDB_H

#include <hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key: begun with the cache format, embargo's and Hyperscan's versions and
 * the platform; the caller adds whatever else changes the compiled bytes. */
uint64_t emb__hsdb_key_begin(void);
uint64_t emb__hsdb_key_add(uint64_t key, const void *p, size_t n);

/* Loads the `ndb` databases of `key` (counts[i] patterns each; 0: none, NULL)
 * into db[]; false, and nothing loaded, when the file is missing or unusable. */
bool emb__hsdb_load(const char *dir, uint64_t key, size_t ndb, const uint64_t *counts,
                    hs_database_t **db);

/* Writes them; a failure only costs the next start its speed. */
void emb__hsdb_store(const char *dir, uint64_t key, size_t ndb, const uint64_t *counts,
                     hs_database_t *const *db);

#endif
