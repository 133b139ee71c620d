/* Every byte of a vault file matters: flips, truncations, trailing bytes and moved ciphertexts
 * are refused before anything is decrypted; and the committed version-1 vault still opens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "testutil.h"
#include "fileio.h"
#include "vault.h"
#include "vaultfile.h"

#define PIN "284619"
#define KAT_PIN "246810"
#define KAT_NAME "Mme Exemple"

struct fixture {
	char dir[PATH_MAX];
	uint8_t *secret;
	struct vault_store *store;
	struct vault_policy policy;
	char id[VAULT_USER_ID_HEX], other[VAULT_USER_ID_HEX];
	uint8_t *good; /* the pristine file */
	size_t good_len;
	int dirfd;
};

static const struct vault_entry_input entries[] = {
    {.service = "CAF",
     .url = "https://caf.fr/login",
     .username = "1234567",
     .password = "pass-caf",
     .notes = "",
     .consent = 1},
    {.service = "impots.gouv",
     .url = "https://cfspart.impots.gouv.fr",
     .username = "1701234567890",
     .password = "pass-impots",
     .notes = "note",
     .consent = 1,
     .consent_until = 1893456000},
};

static void vault_name(const char *id, char name[64])
{
	snprintf(name, 64, "%s.vault", id);
}

static void add_entries(struct vault_store *s, const char *id, const char *pin)
{
	char eid[VAULT_ENTRY_ID_HEX];
	struct vault *v;
	unsigned left;

	assert_int_equal(vault_unlock_pin(s, id, pin, &v, &left), VAULT_OK);
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		assert_int_equal(vault_entry_add(v, &entries[i], eid), VAULT_OK);
	vault_close(v);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char *rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES), name[64];

	testutil_tmpdir(fx->dir);
	fx->secret = sodium_malloc(32);
	randombytes_buf(fx->secret, 32);
	testutil_fast_policy(&fx->policy);
	assert_int_equal(vault_store_open(fx->dir, fx->secret, &fx->store), VAULT_OK);
	assert_int_equal(vault_user_create(fx->store, "A", PIN, &fx->policy, fx->id, rec),
			 VAULT_OK);
	assert_int_equal(vault_user_create(fx->store, "B", PIN, &fx->policy, fx->other, rec),
			 VAULT_OK);
	add_entries(fx->store, fx->id, PIN);
	add_entries(fx->store, fx->other, PIN);
	assert_int_equal(fileio_dir_open(fx->dir, 0, &fx->dirfd), VAULT_OK);
	fx->good = malloc(VAULT_FILE_MAX);
	vault_name(fx->id, name);
	assert_int_equal(fileio_read(fx->dirfd, name, fx->good, VAULT_FILE_MAX, &fx->good_len),
			 VAULT_OK);
	sodium_free(rec);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	close(fx->dirfd);
	vault_store_close(fx->store);
	testutil_rmtree(fx->dir);
	sodium_free(fx->secret);
	free(fx->good);
	free(fx);
	return 0;
}

static void put_file(struct fixture *fx, const char *id, const uint8_t *buf, size_t len)
{
	char name[64];

	vault_name(id, name);
	assert_int_equal(fileio_write_atomic(fx->dirfd, name, buf, len), VAULT_OK);
}

/* Whatever is wrong with the file, no operation succeeds and the error names a file problem. */
static void expect_refused(struct fixture *fx, const char *what, size_t at)
{
	struct vault_user_info info;
	struct vault *v;
	unsigned left;
	int a, b;

	a = vault_user_info(fx->store, fx->id, &info);
	b = vault_unlock_pin(fx->store, fx->id, PIN, &v, &left);
	if (a == VAULT_OK || b == VAULT_OK || v != NULL)
		fail_msg("%s at byte %zu was accepted", what, at);
	if ((a != VAULT_E_FORMAT && a != VAULT_E_VERSION && a != VAULT_E_TAMPERED) || a != b)
		fail_msg("%s at byte %zu: unclear error %d / %d", what, at, a, b);
}

static void every_flipped_bit_is_refused(void **state)
{
	struct fixture *fx = *state;
	uint8_t *bad = malloc(fx->good_len);

	for (size_t i = 0; i < fx->good_len; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			memcpy(bad, fx->good, fx->good_len);
			bad[i] ^= (uint8_t)(1U << bit);
			put_file(fx, fx->id, bad, fx->good_len);
			expect_refused(fx, "a flipped bit", i);
		}
	}
	free(bad);
}

static void truncations_and_trailing_bytes_are_refused(void **state)
{
	struct fixture *fx = *state;
	uint8_t *bad = malloc(fx->good_len + 1);

	for (size_t len = 0; len < fx->good_len; len++) {
		put_file(fx, fx->id, fx->good, len);
		expect_refused(fx, "a truncation", len);
	}
	memcpy(bad, fx->good, fx->good_len);
	bad[fx->good_len] = 0;
	put_file(fx, fx->id, bad, fx->good_len + 1);
	expect_refused(fx, "a trailing byte", fx->good_len);
	free(bad);
}

static void header_fields_get_precise_errors(void **state)
{
	struct fixture *fx = *state;
	uint8_t *bad = malloc(fx->good_len);
	struct vault_file *f = malloc(sizeof(*f));

	memcpy(bad, fx->good, fx->good_len);
	bad[9] = 2; /* version */
	assert_int_equal(vault_file_parse(bad, fx->good_len, f), VAULT_E_VERSION);
	memcpy(bad, fx->good, fx->good_len);
	bad[0] = 'X'; /* magic */
	assert_int_equal(vault_file_parse(bad, fx->good_len, f), VAULT_E_FORMAT);
	memcpy(bad, fx->good, fx->good_len);
	bad[30] = bad[29] + 1; /* more failures than the limit */
	assert_int_equal(vault_file_parse(bad, fx->good_len, f), VAULT_E_FORMAT);
	memcpy(bad, fx->good, fx->good_len);
	bad[36] = 0xff; /* an absurd KDF memory cost */
	assert_int_equal(vault_file_parse(bad, fx->good_len, f), VAULT_E_FORMAT);
	memcpy(bad, fx->good, fx->good_len);
	bad[33] = 0x40; /* an absurd KDF pass count */
	assert_int_equal(vault_file_parse(bad, fx->good_len, f), VAULT_E_FORMAT);
	assert_int_equal(vault_file_parse(fx->good, fx->good_len, f), VAULT_OK);
	assert_int_equal(f->n_entries, 2);
	free(f);
	free(bad);
}

/* Rebuild a file the way only a holder of the device secret could: a valid MAC over edits. */
static void rebuild_with_mac(struct fixture *fx, const char *id, const struct vault_file *f)
{
	uint8_t mac_key[VAULT_KEY_BYTES], *buf;
	size_t len;

	crypto_kdf_derive_from_key(mac_key, sizeof(mac_key), VAULT_SUBKEY_FILE_MAC,
				   VAULT_KDF_CONTEXT, fx->secret);
	assert_int_equal(vault_file_build(f, mac_key, &buf, &len), VAULT_OK);
	put_file(fx, id, buf, len);
	free(buf);
}

static int list_entries(struct fixture *fx, const char *id)
{
	struct vault_entries *es = NULL;
	struct vault *v;
	unsigned left;
	int ret;

	assert_int_equal(vault_unlock_pin(fx->store, id, PIN, &v, &left), VAULT_OK);
	ret = vault_entry_list(v, &es);
	if (ret != VAULT_OK)
		assert_null(es);
	vault_entries_free(es);
	vault_close(v);
	return ret;
}

static void swapped_entries_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct vault_file *f = malloc(sizeof(*f)), *g = malloc(sizeof(*g));
	uint8_t *other = malloc(VAULT_FILE_MAX), *copy = malloc(fx->good_len), *built;
	struct vault_file_entry tmp;
	size_t other_len;
	char name[64];

	/* whole records swapped by someone without the device secret: the file MAC fails */
	memcpy(copy, fx->good, fx->good_len);
	assert_int_equal(vault_file_parse(copy, fx->good_len, f), VAULT_OK);
	tmp = f->entries[0];
	f->entries[0] = f->entries[1];
	f->entries[1] = tmp;
	assert_int_equal(vault_file_build(f, (uint8_t[32]){0}, &built, &other_len), VAULT_OK);
	put_file(fx, fx->id, built, other_len);
	expect_refused(fx, "swapped records", 0);
	free(built);
	free(copy);

	/* ciphertexts swapped between positions, MAC recomputed: the AEAD fails on the entry id */
	assert_int_equal(vault_file_parse(fx->good, fx->good_len, f), VAULT_OK);
	memcpy(tmp.nonce, f->entries[0].nonce, VAULT_NONCE_BYTES);
	tmp.box = f->entries[0].box, tmp.box_len = f->entries[0].box_len;
	memcpy(f->entries[0].nonce, f->entries[1].nonce, VAULT_NONCE_BYTES);
	f->entries[0].box = f->entries[1].box, f->entries[0].box_len = f->entries[1].box_len;
	memcpy(f->entries[1].nonce, tmp.nonce, VAULT_NONCE_BYTES);
	f->entries[1].box = tmp.box, f->entries[1].box_len = tmp.box_len;
	rebuild_with_mac(fx, fx->id, f);
	assert_int_equal(list_entries(fx, fx->id), VAULT_E_TAMPERED);

	/* an entry moved into another user's file, MAC recomputed: the AEAD fails on the user id */
	vault_name(fx->other, name);
	assert_int_equal(fileio_read(fx->dirfd, name, other, VAULT_FILE_MAX, &other_len), VAULT_OK);
	assert_int_equal(vault_file_parse(other, other_len, g), VAULT_OK);
	assert_int_equal(vault_file_parse(fx->good, fx->good_len, f), VAULT_OK);
	g->entries[0] = f->entries[0];
	rebuild_with_mac(fx, fx->other, g);
	assert_int_equal(list_entries(fx, fx->other), VAULT_E_TAMPERED);

	/* and the untouched original still opens */
	put_file(fx, fx->id, fx->good, fx->good_len);
	assert_int_equal(list_entries(fx, fx->id), VAULT_OK);
	free(f);
	free(g);
	free(other);
}

/* A file copied over another user's file name belongs to that user no longer. */
static void renamed_file_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct vault_user_info info;

	put_file(fx, fx->other, fx->good, fx->good_len);
	assert_int_equal(vault_user_info(fx->store, fx->other, &info), VAULT_E_TAMPERED);
}

/* --- the committed known-answer vault (tests/data/kat-v1) --- */

static void read_secret(const char *dir, uint8_t secret[32])
{
	char path[PATH_MAX + 32], hex[80] = {0};
	FILE *fp;

	snprintf(path, sizeof(path), "%s/device-secret.hex", dir);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(hex, sizeof(hex), fp));
	fclose(fp);
	assert_int_equal(sodium_hex2bin(secret, 32, hex, 64, NULL, NULL, NULL), 0);
}

static void known_answer_vault_opens(void **state)
{
	const char *data = getenv("SESAME_TEST_DATA");
	char src[PATH_MAX], dir[PATH_MAX], id[VAULT_USER_ID_HEX], name[64];
	uint8_t *secret = sodium_malloc(32), *buf = malloc(VAULT_FILE_MAX);
	struct vault_entries *es;
	struct vault_store *s;
	struct vault *v;
	size_t len;
	unsigned left;
	int sfd, dfd;

	(void)state;
	assert_non_null(data);
	snprintf(src, sizeof(src), "%s/kat-v1", data);
	read_secret(src, secret);
	/* open a copy: unlocking rewrites the failure counter */
	testutil_tmpdir(dir);
	assert_int_equal(fileio_dir_open(dir, 0, &dfd), VAULT_OK);
	assert_true((sfd = open(src, O_RDONLY | O_DIRECTORY)) >= 0);
	snprintf(name, sizeof(name), "%s", "user.id");
	assert_int_equal(fileio_read(sfd, name, (uint8_t *)id, sizeof(id) - 1, &len), VAULT_OK);
	id[32] = '\0';
	vault_name(id, name);
	assert_int_equal(fileio_read(sfd, name, buf, VAULT_FILE_MAX, &len), VAULT_OK);
	assert_int_equal(fileio_create_atomic(dfd, name, buf, len), VAULT_OK);
	assert_int_equal(vault_store_open(dir, secret, &s), VAULT_OK);
	assert_int_equal(vault_user_find(s, KAT_NAME, name), VAULT_OK);
	assert_string_equal(name, id);
	assert_int_equal(vault_unlock_pin(s, id, KAT_PIN, &v, &left), VAULT_OK);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_int_equal(es->n, 2);
	for (size_t i = 0; i < es->n; i++) {
		assert_string_equal(es->entry[i].service, entries[i].service);
		assert_string_equal(es->entry[i].url, entries[i].url);
		assert_string_equal(es->entry[i].username, entries[i].username);
		assert_string_equal(es->entry[i].password, entries[i].password);
		assert_string_equal(es->entry[i].notes, entries[i].notes);
		assert_int_equal(es->entry[i].consent_until, entries[i].consent_until);
		/* format 1: no selectors */
		assert_string_equal(es->entry[i].username_selector, "");
		assert_string_equal(es->entry[i].password_selector, "");
	}
	vault_entries_free(es);
	vault_close(v);
	vault_store_close(s);
	close(sfd);
	close(dfd);
	testutil_rmtree(dir);
	sodium_free(secret);
	free(buf);
}

/* Write a fresh known-answer vault into dir (used once, to create tests/data/kat-v1). */
static int generate(const char *dir)
{
	uint8_t *secret = sodium_malloc(32);
	char *rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES), id[VAULT_USER_ID_HEX];
	struct vault_policy policy;
	struct vault_store *s;
	FILE *fp;
	char path[PATH_MAX + 32];

	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	testutil_fast_policy(&policy);
	if (vault_store_open(dir, secret, &s) != VAULT_OK ||
	    vault_user_create(s, KAT_NAME, KAT_PIN, &policy, id, rec) != VAULT_OK)
		return 1;
	add_entries(s, id, KAT_PIN);
	snprintf(path, sizeof(path), "%s/user.id", dir);
	fp = fopen(path, "w");
	fputs(id, fp);
	fclose(fp);
	printf("user %s recovery %s\n", id, rec);
	vault_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(every_flipped_bit_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncations_and_trailing_bytes_are_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(header_fields_get_precise_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(swapped_entries_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(renamed_file_is_refused, setup, teardown),
	    cmocka_unit_test(known_answer_vault_opens),
	};
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--generate") == 0)
		return generate(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
