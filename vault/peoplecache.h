/* The people index's cache (docs/format.md, "People cache"): for each readable vault file, its
 * person (id, name, retry counter) and the identity of the file they were read from, sealed
 * under the device's cache key (subkey 6). At start an entry stands for its file only while the
 * file's identity is unchanged, so only new and changed files are read again. Internal to the
 * library: the index (users.c) reads and writes it. */
#ifndef SESAME_VAULT_PEOPLECACHE_H
#define SESAME_VAULT_PEOPLECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "users.h"
#include "vault.h"

#define PEOPLE_CACHE_FILE VAULT_PEOPLE_CACHE_FILE
#define PEOPLE_CACHE_TMP ".people.cache.tmp" /* a write's temporary file, before its rename */
#define PEOPLE_CACHE_MAGIC "SSPC"
#define PEOPLE_CACHE_MAGIC_BYTES 4
#define PEOPLE_CACHE_VERSION 1
#define PEOPLE_CACHE_HEADER_BYTES (PEOPLE_CACHE_MAGIC_BYTES + 1 + 24) /* magic, version, nonce */
#define PEOPLE_CACHE_TAG_BYTES 16
#define PEOPLE_CACHE_COUNT_BYTES 4
/* An entry: id 16, failures 1, retry limit 1, name length 1, five 8-byte identity fields, then
 * the name */
#define PEOPLE_CACHE_ENTRY_FIXED (VAULT_USER_ID_BYTES + 3 + 5 * 8)
#define PEOPLE_CACHE_ENTRY_MAX (PEOPLE_CACHE_ENTRY_FIXED + VAULT_NAME_MAX)
#define PEOPLE_CACHE_PEOPLE_MAX 1000000 /* entries in one cache */
#define PEOPLE_CACHE_FILE_MAX                                                                      \
	((size_t)PEOPLE_CACHE_HEADER_BYTES + PEOPLE_CACHE_COUNT_BYTES +                            \
	 (size_t)PEOPLE_CACHE_PEOPLE_MAX * PEOPLE_CACHE_ENTRY_MAX + PEOPLE_CACHE_TAG_BYTES)

/* What identifies the content of a file: an entry is used only if all of it is unchanged. */
struct people_ident {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct people_cache;

void people_ident_of(const struct stat *st, struct people_ident *out);

/* The store's cache, authenticated and checked: VAULT_E_NOTFOUND if there is none, another code
 * if it cannot be used (truncated, altered, another installation's, another version). */
int people_cache_read(int dirfd, const uint8_t *key, struct people_cache **out);
/* The same over a cache's bytes in buf (sodium_malloc), which it takes: kept and decrypted in
 * place if they are a good cache, else freed. */
int people_cache_open(uint8_t *buf, size_t len, const uint8_t *key, struct people_cache **out);
size_t people_cache_count(const struct people_cache *c);
/* The name and counters cached for id if the entry's identity is ident: VAULT_OK, else
 * VAULT_E_NOTFOUND. Safe from several threads. */
int people_cache_find(const struct people_cache *c, const char *id,
		      const struct people_ident *ident, char name[VAULT_NAME_MAX + 1],
		      unsigned *failures, unsigned *retry_limit);
void people_cache_free(struct people_cache *c);

/* A new cache of at most n entries, added in increasing id order, then written (tmp file,
 * rename) and freed by people_cache_commit, which frees it on every path. */
struct people_cache_writer;
int people_cache_writer_new(size_t n, struct people_cache_writer **out);
void people_cache_writer_add(struct people_cache_writer *w, const char *id, const char *name,
			     unsigned failures, unsigned retry_limit,
			     const struct people_ident *ident);
int people_cache_commit(struct people_cache_writer *w, int dirfd, const uint8_t *key);

/* The store's cache key and directory (vault.c), for the index. */
const uint8_t *vault_store_people_cache_key(const struct vault_store *store);
int vault_store_dirfd(const struct vault_store *store);

#endif
