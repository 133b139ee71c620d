/* The people index's cache (peoplecache.h). The whole file is read into one guarded buffer and
 * its body decrypted in place, so that names never sit in plain memory; entries are found there
 * by a binary search over their offsets. A new cache is built the same way and encrypted in
 * place before it is written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "fileio.h"
#include "peoplecache.h"

#define AD_BYTES (PEOPLE_CACHE_MAGIC_BYTES + 1) /* the magic and the version */
#define NONCE_AT AD_BYTES
#define BODY_AT PEOPLE_CACHE_HEADER_BYTES

_Static_assert(PEOPLE_CACHE_HEADER_BYTES == AD_BYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "the header holds the magic, the version and the nonce");
_Static_assert(PEOPLE_CACHE_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "the tag is the AEAD's");
_Static_assert(PEOPLE_CACHE_FILE_MAX < UINT32_MAX, "entry offsets fit 32 bits");

struct people_cache {
	uint8_t *buf; /* sodium_malloc: the file, its body decrypted in place */
	size_t len;
	uint32_t *off; /* each entry's offset in buf, in increasing id order */
	size_t n;
};

struct people_cache_writer {
	uint8_t *buf; /* sodium_malloc: header, count, entries, room for the tag */
	size_t cap, len, n;
};

void people_ident_of(const struct stat *st, struct people_ident *out)
{
	out->dev = (uint64_t)st->st_dev;
	out->ino = (uint64_t)st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* ---------- reading ---------- */

/* Between an empty cache and the largest one. */
static int size_check(size_t len)
{
	size_t min = PEOPLE_CACHE_HEADER_BYTES + PEOPLE_CACHE_COUNT_BYTES + PEOPLE_CACHE_TAG_BYTES;

	return len >= min && len <= PEOPLE_CACHE_FILE_MAX ? VAULT_OK : VAULT_E_FORMAT;
}

/* The whole file into a guarded buffer, its size checked before anything is allocated. */
static int read_file(int dirfd, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd, ret = fileio_open(dirfd, PEOPLE_CACHE_FILE, O_RDONLY, &fd);

	*buf = NULL;
	if (ret != VAULT_OK)
		return ret;
	if (fstat(fd, &st) != 0)
		ret = VAULT_E_IO;
	else if (st.st_size < 0 || size_check((size_t)st.st_size) != VAULT_OK)
		ret = VAULT_E_FORMAT;
	else if ((*buf = sodium_malloc((size_t)st.st_size)) == NULL)
		ret = VAULT_E_NOMEM;
	while (ret == VAULT_OK && got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? VAULT_E_IO : VAULT_E_FORMAT; /* shrank meanwhile */
		else
			got += (size_t)n;
	}
	close(fd);
	*len = got;
	return ret;
}

static int open_body(uint8_t *buf, size_t len, const uint8_t *key)
{
	unsigned long long plain;

	if (memcmp(buf, PEOPLE_CACHE_MAGIC, PEOPLE_CACHE_MAGIC_BYTES) != 0)
		return VAULT_E_FORMAT;
	if (buf[PEOPLE_CACHE_MAGIC_BYTES] != PEOPLE_CACHE_VERSION)
		return VAULT_E_VERSION;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf + BODY_AT, &plain, NULL, buf + BODY_AT,
						       len - BODY_AT, buf, AD_BYTES, buf + NONCE_AT,
						       key) != 0)
		return VAULT_E_TAMPERED;
	return VAULT_OK;
}

/* One entry at *at (within end): well formed, and after the previous one's id. */
static int entry_check(const uint8_t *buf, size_t *at, size_t end, const uint8_t *prev)
{
	const uint8_t *e = buf + *at;
	size_t name_len;

	if (end - *at < PEOPLE_CACHE_ENTRY_FIXED)
		return VAULT_E_FORMAT;
	name_len = e[VAULT_USER_ID_BYTES + 2];
	if (name_len > VAULT_NAME_MAX || end - *at - PEOPLE_CACHE_ENTRY_FIXED < name_len ||
	    e[VAULT_USER_ID_BYTES] > e[VAULT_USER_ID_BYTES + 1] ||
	    memchr(e + PEOPLE_CACHE_ENTRY_FIXED, '\0', name_len) != NULL ||
	    (prev != NULL && memcmp(prev, e, VAULT_USER_ID_BYTES) >= 0))
		return VAULT_E_FORMAT;
	*at += PEOPLE_CACHE_ENTRY_FIXED + name_len;
	return VAULT_OK;
}

static int index_entries(struct people_cache *c)
{
	size_t end = c->len - PEOPLE_CACHE_TAG_BYTES, at = BODY_AT + PEOPLE_CACHE_COUNT_BYTES;
	uint32_t count = load_be32(c->buf + BODY_AT);

	if (count > PEOPLE_CACHE_PEOPLE_MAX || (size_t)count * PEOPLE_CACHE_ENTRY_FIXED > end - at)
		return VAULT_E_FORMAT;
	if (count > 0 && (c->off = malloc(count * sizeof(*c->off))) == NULL)
		return VAULT_E_NOMEM;
	for (c->n = 0; c->n < count; c->n++) {
		c->off[c->n] = (uint32_t)at;
		if (entry_check(c->buf, &at, end, c->n > 0 ? c->buf + c->off[c->n - 1] : NULL) !=
		    VAULT_OK)
			return VAULT_E_FORMAT;
	}
	return at == end ? VAULT_OK : VAULT_E_FORMAT; /* the count says every entry */
}

int people_cache_open(uint8_t *buf, size_t len, const uint8_t *key, struct people_cache **out)
{
	struct people_cache *c = calloc(1, sizeof(*c));
	int ret = c == NULL ? VAULT_E_NOMEM : size_check(len);

	*out = NULL;
	if (c == NULL) {
		sodium_free(buf);
		return ret;
	}
	c->buf = buf;
	c->len = len;
	if (ret == VAULT_OK)
		ret = open_body(c->buf, c->len, key);
	if (ret == VAULT_OK)
		ret = index_entries(c);
	if (ret != VAULT_OK) {
		people_cache_free(c);
		return ret;
	}
	*out = c;
	return VAULT_OK;
}

int people_cache_read(int dirfd, const uint8_t *key, struct people_cache **out)
{
	uint8_t *buf;
	size_t len = 0;
	int ret = read_file(dirfd, &buf, &len);

	*out = NULL;
	if (ret != VAULT_OK) {
		sodium_free(buf);
		return ret;
	}
	return people_cache_open(buf, len, key, out);
}

size_t people_cache_count(const struct people_cache *c)
{
	return c->n;
}

static void entry_ident(const uint8_t *e, struct people_ident *out)
{
	const uint8_t *p = e + VAULT_USER_ID_BYTES + 3;

	out->dev = load_be64(p);
	out->ino = load_be64(p + 8);
	out->size = load_be64(p + 16);
	out->mtime_ns = (int64_t)load_be64(p + 24);
	out->ctime_ns = (int64_t)load_be64(p + 32);
}

static int ident_equal(const struct people_ident *a, const struct people_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static const uint8_t *entry_of(const struct people_cache *c, const uint8_t id[VAULT_USER_ID_BYTES])
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(c->buf + c->off[mid], id, VAULT_USER_ID_BYTES);
		if (cmp == 0)
			return c->buf + c->off[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int people_cache_find(const struct people_cache *c, const char *id,
		      const struct people_ident *ident, char name[VAULT_NAME_MAX + 1],
		      unsigned *failures, unsigned *retry_limit)
{
	uint8_t bin[VAULT_USER_ID_BYTES];
	struct people_ident was;
	const uint8_t *e;
	size_t bin_len, name_len;

	if (sodium_hex2bin(bin, sizeof(bin), id, strlen(id), NULL, &bin_len, NULL) != 0 ||
	    bin_len != sizeof(bin) || (e = entry_of(c, bin)) == NULL)
		return VAULT_E_NOTFOUND;
	entry_ident(e, &was);
	if (!ident_equal(&was, ident))
		return VAULT_E_NOTFOUND;
	name_len = e[VAULT_USER_ID_BYTES + 2];
	memcpy(name, e + PEOPLE_CACHE_ENTRY_FIXED, name_len);
	name[name_len] = '\0';
	*failures = e[VAULT_USER_ID_BYTES];
	*retry_limit = e[VAULT_USER_ID_BYTES + 1];
	return VAULT_OK;
}

void people_cache_free(struct people_cache *c)
{
	if (c == NULL)
		return;
	sodium_free(c->buf); /* sodium_free wipes it */
	free(c->off);
	free(c);
}

/* ---------- writing ---------- */

int people_cache_writer_new(size_t n, struct people_cache_writer **out)
{
	struct people_cache_writer *w;

	*out = NULL;
	if (n > PEOPLE_CACHE_PEOPLE_MAX)
		return VAULT_E_TOOLONG;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return VAULT_E_NOMEM;
	w->cap = PEOPLE_CACHE_HEADER_BYTES + PEOPLE_CACHE_COUNT_BYTES + n * PEOPLE_CACHE_ENTRY_MAX +
		 PEOPLE_CACHE_TAG_BYTES;
	if ((w->buf = sodium_malloc(w->cap)) == NULL) {
		free(w);
		return VAULT_E_NOMEM;
	}
	w->len = BODY_AT + PEOPLE_CACHE_COUNT_BYTES;
	*out = w;
	return VAULT_OK;
}

/* The caller adds at most the n entries it asked room for, each id once, in increasing order. */
void people_cache_writer_add(struct people_cache_writer *w, const char *id, const char *name,
			     unsigned failures, unsigned retry_limit,
			     const struct people_ident *ident)
{
	uint8_t *e = w->buf + w->len, *p = e + VAULT_USER_ID_BYTES + 3;
	size_t name_len = strlen(name), bin_len;

	(void)sodium_hex2bin(e, VAULT_USER_ID_BYTES, id, VAULT_USER_ID_HEX - 1, NULL, &bin_len,
			     NULL);
	e[VAULT_USER_ID_BYTES] = (uint8_t)failures;
	e[VAULT_USER_ID_BYTES + 1] = (uint8_t)retry_limit;
	e[VAULT_USER_ID_BYTES + 2] = (uint8_t)name_len;
	store_be64(p, ident->dev);
	store_be64(p + 8, ident->ino);
	store_be64(p + 16, ident->size);
	store_be64(p + 24, (uint64_t)ident->mtime_ns);
	store_be64(p + 32, (uint64_t)ident->ctime_ns);
	memcpy(e + PEOPLE_CACHE_ENTRY_FIXED, name, name_len);
	w->len += PEOPLE_CACHE_ENTRY_FIXED + name_len;
	w->n++;
}

static void seal(struct people_cache_writer *w, const uint8_t *key)
{
	unsigned long long sealed;

	memcpy(w->buf, PEOPLE_CACHE_MAGIC, PEOPLE_CACHE_MAGIC_BYTES);
	w->buf[PEOPLE_CACHE_MAGIC_BYTES] = PEOPLE_CACHE_VERSION;
	randombytes_buf(w->buf + NONCE_AT, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	store_be32(w->buf + BODY_AT, (uint32_t)w->n);
	crypto_aead_xchacha20poly1305_ietf_encrypt(w->buf + BODY_AT, &sealed, w->buf + BODY_AT,
						   w->len - BODY_AT, w->buf, AD_BYTES, NULL,
						   w->buf + NONCE_AT, key);
	w->len = BODY_AT + (size_t)sealed;
}

/* A fresh temporary file (a leftover one, from a write that failed, is removed first), then
 * the rename. No fsync: a cache lost or torn in a crash fails to authenticate, and the next
 * start reads every vault file instead, which is what a start without a cache does. */
static int write_file(int dirfd, const uint8_t *buf, size_t len)
{
	int fd, ret;

	(void)unlinkat(dirfd, PEOPLE_CACHE_TMP, 0);
	fd = openat(dirfd, PEOPLE_CACHE_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    FILEIO_FILE_MODE);
	if (fd < 0)
		return VAULT_E_IO;
	ret = fileio_write_all(fd, buf, len);
	if (close(fd) != 0 && ret == VAULT_OK)
		ret = VAULT_E_IO;
	if (ret == VAULT_OK && renameat(dirfd, PEOPLE_CACHE_TMP, dirfd, PEOPLE_CACHE_FILE) != 0)
		ret = VAULT_E_IO;
	if (ret != VAULT_OK)
		(void)unlinkat(dirfd, PEOPLE_CACHE_TMP, 0); /* never left to replace the cache */
	return ret;
}

int people_cache_commit(struct people_cache_writer *w, int dirfd, const uint8_t *key)
{
	int ret;

	seal(w, key);
	ret = write_file(dirfd, w->buf, w->len);
	sodium_free(w->buf);
	free(w);
	return ret;
}
