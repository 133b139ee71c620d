/* The KDBX 4 writer: a known answer with fixed random inputs (tests/data/kdbx/kat.kdbx, which
 * the export suite also opens with keepassxc-cli), and the refusals. `test_kdbx --write FILE`
 * writes the known answer anew after a deliberate change of the format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "error.h"
#include "kdbx.h"
#include "passphrase.h"

#define KAT_PASSPHRASE "cheval agrafe pile correct"
#define KAT_MAX (64 * 1024)

static const struct kdbx_item kat_items[] = {
    {"CAF", "https://www.caf.fr/", "1234567", "mot de passe <&> \"été\"", "note\nsur deux lignes"},
    {"ameli", "https://assure.ameli.fr/", "2 85 07 75 123 456", "Ünïcödé€ 🔑", NULL},
    {"impots.gouv", "https://cfspart.impots.gouv.fr/", "jean.dupont@example.org", "x", "a & b"},
};

static void kat_random(struct kdbx_random *r)
{
	uint8_t *b = (uint8_t *)r;

	for (size_t i = 0; i < sizeof(*r); i++)
		b[i] = (uint8_t)(i * 37 + 11);
}

static int kat_build(uint8_t **out, size_t *len)
{
	struct kdbx_random r;
	uint8_t key[KDBX_KEY_BYTES];
	int ret;

	kat_random(&r);
	if ((ret = kdbx_derive(KAT_PASSPHRASE, strlen(KAT_PASSPHRASE), r.salt, key)) != VAULT_OK)
		return ret;
	return kdbx_build(&r, key, "Jeanne Dupont", kat_items, 3, out, len);
}

static void known_answer(void **state)
{
	char path[4096];
	uint8_t *got, *want = malloc(KAT_MAX);
	size_t got_len, want_len;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/kdbx/kat.kdbx", getenv("SESAME_TEST_DATA"));
	assert_non_null(f = fopen(path, "rb"));
	want_len = fread(want, 1, KAT_MAX, f);
	fclose(f);
	assert_int_equal(kat_build(&got, &got_len), VAULT_OK);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	sodium_free(got);
	free(want);
}

/* Random inputs differ from one file to the next, and so does every byte after the header. */
static void random_inputs_differ(void **state)
{
	struct kdbx_random a, b;

	(void)state;
	kdbx_random_fill(&a);
	kdbx_random_fill(&b);
	assert_memory_not_equal(&a, &b, sizeof(a));
}

static void refusals(void **state)
{
	struct kdbx_random r;
	uint8_t key[KDBX_KEY_BYTES] = {0}, *out = (uint8_t *)1;
	size_t len = 1;
	struct kdbx_item bad = {"CAF", "https://www.caf.fr/",
				"a\x01"
				"b",
				"pw", NULL};
	struct kdbx_item none = {"CAF", NULL, "u", "pw", NULL};

	(void)state;
	kat_random(&r);
	assert_int_equal(kdbx_build(&r, key, "x", &bad, 1, &out, &len), VAULT_E_NOTUTF8);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(kdbx_build(&r, key, "x", &none, 1, &out, &len), VAULT_E_INVAL);
	assert_int_equal(kdbx_build(&r, key, "x", kat_items, KDBX_ITEMS_MAX + 1, &out, &len),
			 VAULT_E_INVAL);
	char *long_pass = malloc(KDBX_PASSPHRASE_MAX + 2);
	memset(long_pass, 'a', KDBX_PASSPHRASE_MAX + 1);
	assert_int_equal(kdbx_derive(long_pass, KDBX_PASSPHRASE_MAX + 1, r.salt, key),
			 VAULT_E_TOOLONG);
	free(long_pass);
}

/* An empty vault is a valid database with no entries. */
static void empty(void **state)
{
	struct kdbx_random r;
	uint8_t key[KDBX_KEY_BYTES] = {0}, *out;
	size_t len;

	(void)state;
	kdbx_random_fill(&r);
	assert_int_equal(kdbx_build(&r, key, "x", NULL, 0, &out, &len), VAULT_OK);
	assert_true(len > 200);
	sodium_free(out);
}

/* Five words of the list's 1,681, lowercase letters, one space apart; two draws differ. */
static void generated_passphrase(void **state)
{
	char *a, *b;
	int words = 1;

	(void)state;
	assert_int_equal(passphrase_words(), 1681);
	assert_int_equal(passphrase_generate(&a), VAULT_OK);
	assert_int_equal(passphrase_generate(&b), VAULT_OK);
	for (const char *p = a; *p != '\0'; p++) {
		assert_true((*p >= 'a' && *p <= 'z') || (*p == ' ' && p[1] != ' ' && p[1] != '\0'));
		words += *p == ' ';
	}
	assert_int_equal(words, PASSPHRASE_WORDS);
	assert_true(strlen(a) >= 5 * 4 + 4 && strlen(a) <= PASSPHRASE_MAX);
	assert_string_not_equal(a, b);
	sodium_free(a);
	sodium_free(b);
}

static int write_kat(const char *path)
{
	uint8_t *out;
	size_t len;
	FILE *f = fopen(path, "wb");

	if (f == NULL || kat_build(&out, &len) != VAULT_OK || fwrite(out, 1, len, f) != len)
		return 1;
	sodium_free(out);
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_answer),
	    cmocka_unit_test(random_inputs_differ),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(empty),
	    cmocka_unit_test(generated_passphrase),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_kat(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
