/* The people index's cache (vault/peoplecache.h, docs/format.md "People cache"): a second start
 * reads no vault file; every kind of damage to the cache is refused and costs only a full read;
 * a failed write leaves the old cache; damaged vault files are never cached. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "keys.h"
#include "peoplecache.h"
#include "testutil.h"
#include "users.h"

#define PIN "284619"
#define PEOPLE 3

struct fixture {
	char dir[PATH_MAX], cache[PATH_MAX + 32];
	uint8_t *secret;
	struct vault_store *store;
	char id[PEOPLE][VAULT_USER_ID_HEX];
};

static const char *const names[PEOPLE] = {"Zoé Blanc", "émile Martin", "Anne Roux"};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vault_policy policy;
	char *recovery = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);

	testutil_tmpdir(fx->dir);
	snprintf(fx->cache, sizeof(fx->cache), "%s/%s", fx->dir, VAULT_PEOPLE_CACHE_FILE);
	fx->secret = sodium_malloc(32);
	randombytes_buf(fx->secret, 32);
	testutil_fast_policy(&policy);
	assert_int_equal(vault_store_open(fx->dir, fx->secret, &fx->store), VAULT_OK);
	for (int i = 0; i < PEOPLE; i++)
		assert_int_equal(
		    vault_user_create(fx->store, names[i], PIN, &policy, fx->id[i], recovery),
		    VAULT_OK);
	sodium_free(recovery);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	vault_store_close(fx->store);
	testutil_rmtree(fx->dir);
	sodium_free(fx->secret);
	free(fx);
	return 0;
}

/* One start: everyone is found by name, with their id. */
static void start_only(struct fixture *fx, struct vault_people_start *st)
{
	struct vault_people *p;

	assert_int_equal(vault_people_start(fx->store, NULL, &p, st), VAULT_OK);
	vault_people_free(p);
}

static void start(struct fixture *fx, struct vault_people_start *st)
{
	struct vault_people *p;
	struct vault_person who;

	assert_int_equal(vault_people_start(fx->store, NULL, &p, st), VAULT_OK);
	for (int i = 0; i < PEOPLE; i++) {
		assert_int_equal(vault_people_find(p, names[i], &who), VAULT_OK);
		assert_string_equal(who.id, fx->id[i]);
	}
	vault_people_free(p);
}

/* A start that refuses the cache with want, reads every file, and writes a good cache again. */
static void refused(struct fixture *fx, int want)
{
	struct vault_people_start st;

	start(fx, &st);
	assert_int_equal(st.cache_read, want);
	assert_int_equal(st.from_files, PEOPLE);
	assert_int_equal(st.from_cache, 0);
	assert_true(st.cache_written);
	assert_int_equal(st.cache_write, VAULT_OK);
	start(fx, &st);
	assert_int_equal(st.cache_read, VAULT_OK);
	assert_int_equal(st.from_cache, PEOPLE);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void test_second_start_reads_nothing(void **state)
{
	struct fixture *fx = *state;
	struct vault_people_start st;

	start(fx, &st);
	assert_int_equal(st.cache_read, VAULT_E_NOTFOUND);
	assert_int_equal(st.from_files, PEOPLE);
	assert_true(st.cache_written);
	assert_int_equal(st.cache_write, VAULT_OK);
	start(fx, &st);
	assert_int_equal(st.cache_read, VAULT_OK);
	assert_int_equal(st.from_cache, PEOPLE);
	assert_int_equal(st.from_files, 0);
	assert_false(st.cache_written); /* nothing changed: not written again */
}

/* The body re-sealed with the right key after change() altered it. */
static void reseal(struct fixture *fx, void (*change)(uint8_t *body, size_t *len))
{
	static uint8_t buf[4096];
	uint8_t key[32];
	unsigned long long plain, sealed;
	size_t len = slurp(fx->cache, buf, sizeof(buf)), body;
	uint8_t *b = buf + PEOPLE_CACHE_HEADER_BYTES, *ad = buf, *nonce = buf + 5;

	crypto_kdf_derive_from_key(key, 32, VAULT_SUBKEY_PEOPLE_CACHE, VAULT_KDF_CONTEXT,
				   fx->secret);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(b, &plain, NULL, b,
								    len - PEOPLE_CACHE_HEADER_BYTES,
								    ad, 5, nonce, key),
			 0);
	body = (size_t)plain;
	change(b, &body);
	crypto_aead_xchacha20poly1305_ietf_encrypt(b, &sealed, b, body, ad, 5, NULL, nonce, key);
	spill(fx->cache, buf, PEOPLE_CACHE_HEADER_BYTES + (size_t)sealed);
	sodium_memzero(key, sizeof(key));
}

static void count_plus_one(uint8_t *body, size_t *len)
{
	(void)len;
	store_be32(body, load_be32(body) + 1);
}

static void trailing_byte(uint8_t *body, size_t *len)
{
	body[(*len)++] = 0;
}

static void ids_swapped(uint8_t *body, size_t *len)
{
	uint8_t first[PEOPLE_CACHE_ENTRY_MAX];
	size_t a = PEOPLE_CACHE_COUNT_BYTES, a_len = PEOPLE_CACHE_ENTRY_FIXED + body[a + 18];

	/* the first entry moved last: ids no longer increase */
	memcpy(first, body + a, a_len);
	memmove(body + a, body + a + a_len, *len - a - a_len);
	memcpy(body + *len - a_len, first, a_len);
}

/* An empty cache written over the store's by a store of another device secret. */
static void other_installation(struct fixture *fx)
{
	struct people_cache_writer *w;
	struct vault_store *other;
	uint8_t *secret = sodium_malloc(32);

	randombytes_buf(secret, 32);
	assert_int_equal(vault_store_open(fx->dir, secret, &other), VAULT_OK);
	assert_int_equal(people_cache_writer_new(0, &w), VAULT_OK);
	assert_int_equal(
	    people_cache_commit(w, vault_store_dirfd(other), vault_store_people_cache_key(other)),
	    VAULT_OK);
	vault_store_close(other);
	sodium_free(secret);
}

static void test_damaged_cache_refused(void **state)
{
	struct fixture *fx = *state;
	struct vault_people_start st;
	static uint8_t buf[4096];
	size_t len;

	start(fx, &st);
	len = slurp(fx->cache, buf, sizeof(buf));
	spill(fx->cache, buf, len - 1); /* truncated */
	refused(fx, VAULT_E_TAMPERED);
	spill(fx->cache, buf, 10); /* shorter than a header */
	refused(fx, VAULT_E_FORMAT);
	len = slurp(fx->cache, buf, sizeof(buf));
	buf[len / 2] ^= 1; /* a flipped byte */
	spill(fx->cache, buf, len);
	refused(fx, VAULT_E_TAMPERED);
	len = slurp(fx->cache, buf, sizeof(buf));
	buf[PEOPLE_CACHE_MAGIC_BYTES] = PEOPLE_CACHE_VERSION + 1;
	spill(fx->cache, buf, len);
	refused(fx, VAULT_E_VERSION);
	len = slurp(fx->cache, buf, sizeof(buf));
	buf[0] = 'X';
	spill(fx->cache, buf, len);
	refused(fx, VAULT_E_FORMAT);
	/* oversized: refused by its size, before anything is allocated (a sparse file) */
	assert_int_equal(truncate(fx->cache, (off_t)PEOPLE_CACHE_FILE_MAX + 1), 0);
	refused(fx, VAULT_E_FORMAT);
	/* authentic, but a count that does not say the entries, bytes after them, ids out of
	 * order */
	reseal(fx, count_plus_one);
	refused(fx, VAULT_E_FORMAT);
	reseal(fx, trailing_byte);
	refused(fx, VAULT_E_FORMAT);
	reseal(fx, ids_swapped);
	refused(fx, VAULT_E_FORMAT);
	other_installation(fx);
	refused(fx, VAULT_E_TAMPERED);
}

/* A write that fails leaves the cache there was; a leftover temporary file goes at the next
 * write. */
static void test_write_fails(void **state)
{
	struct fixture *fx = *state;
	struct vault_people_start st;
	char tmp[PATH_MAX + 32], vault[PATH_MAX + 64];
	static uint8_t before[4096], after[4096];
	size_t len;

	snprintf(tmp, sizeof(tmp), "%s/%s", fx->dir, PEOPLE_CACHE_TMP);
	snprintf(vault, sizeof(vault), "%s/%s.vault", fx->dir, fx->id[1]);
	start(fx, &st);
	len = slurp(fx->cache, before, sizeof(before));
	assert_int_equal(mkdir(tmp, 0700), 0); /* the temporary file cannot be made */
	assert_int_equal(truncate(vault, 0), 0);
	start_only(fx, &st);
	assert_int_equal(st.unreadable, 1);
	assert_true(st.cache_written);
	assert_int_not_equal(st.cache_write, VAULT_OK);
	assert_int_equal(slurp(fx->cache, after, sizeof(after)), len);
	assert_memory_equal(before, after, len);
	assert_int_equal(rmdir(tmp), 0);
	spill(tmp, (const uint8_t *)"junk", 4); /* a leftover of a write that failed */
	assert_int_equal(unlink(fx->cache), 0);
	start_only(fx, &st);
	assert_int_equal(st.cache_write, VAULT_OK);
	assert_int_equal(access(tmp, F_OK), -1);
	/* the damaged file is not cached: the next start reads it again, and still lists it */
	start_only(fx, &st);
	assert_int_equal(st.cache_read, VAULT_OK);
	assert_int_equal(st.from_cache, PEOPLE - 1);
	assert_int_equal(st.from_files, 0);
	assert_int_equal(st.unreadable, 1);
	assert_false(st.cache_written);
}

/* A withdrawal removes the cache, which holds the person's name. */
static void test_withdrawal(void **state)
{
	struct fixture *fx = *state;
	struct vault_people_start st;
	struct vault_people *p;
	struct vault_person who;

	start(fx, &st);
	assert_int_equal(access(fx->cache, F_OK), 0);
	assert_int_equal(vault_user_destroy(fx->store, fx->id[2]), VAULT_OK);
	assert_int_equal(access(fx->cache, F_OK), -1);
	assert_int_equal(vault_people_start(fx->store, NULL, &p, &st), VAULT_OK);
	assert_int_equal(st.cache_read, VAULT_E_NOTFOUND);
	assert_int_equal(st.from_files, PEOPLE - 1);
	assert_int_equal(vault_people_find(p, names[2], &who), VAULT_E_NOTFOUND);
	vault_people_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_second_start_reads_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_cache_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_withdrawal, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
