#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "recovery.h"
#include "vault.h"

static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void make_key(uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], unsigned seed)
{
	for (size_t i = 0; i < VAULT_RECOVERY_RANDOM_BYTES; i++)
		key[i] = (uint8_t)(seed * 131 + i * 29 + 7);
}

static void round_trip_and_shape(void **state)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], back[VAULT_RECOVERY_RANDOM_BYTES];
	char text[VAULT_RECOVERY_TEXT_BYTES];

	(void)state;
	for (unsigned seed = 0; seed < 64; seed++) {
		make_key(key, seed);
		recovery_encode(text, key);
		assert_int_equal(strlen(text), VAULT_RECOVERY_TEXT_BYTES - 1);
		for (size_t i = 0; text[i] != '\0'; i++)
			assert_true((i % 5 == 4) ? text[i] == '-'
						 : strchr(symbols, text[i]) != NULL);
		assert_int_equal(recovery_decode(back, text), VAULT_OK);
		assert_memory_equal(key, back, sizeof(key));
	}
}

static void typing_variants_are_accepted(void **state)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], back[VAULT_RECOVERY_RANDOM_BYTES];
	char text[VAULT_RECOVERY_TEXT_BYTES], typed[80];
	size_t n = 0;

	(void)state;
	make_key(key, 3);
	recovery_encode(text, key);
	/* lower case, spaces instead of dashes, O for 0 and l for 1 */
	for (size_t i = 0; text[i] != '\0'; i++) {
		char c = text[i];
		c = c == '-' ? ' ' : c == '0' ? 'O' : c == '1' ? 'l' : c;
		typed[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	typed[n] = '\0';
	assert_int_equal(recovery_decode(back, typed), VAULT_OK);
	assert_memory_equal(key, back, sizeof(key));
}

/* Every single-symbol typo and every swap of two neighbours is caught before any key use. */
static void typos_are_caught_by_the_checksum(void **state)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], back[VAULT_RECOVERY_RANDOM_BYTES];
	char text[VAULT_RECOVERY_TEXT_BYTES], bad[VAULT_RECOVERY_TEXT_BYTES];
	size_t caught = 0;

	(void)state;
	for (unsigned seed = 0; seed < 4; seed++) {
		make_key(key, seed);
		recovery_encode(text, key);
		for (size_t i = 0; text[i] != '\0'; i++) {
			if (text[i] == '-')
				continue;
			for (size_t s = 0; s < 32; s++) {
				if (symbols[s] == text[i])
					continue;
				memcpy(bad, text, sizeof(bad));
				bad[i] = symbols[s];
				assert_int_equal(recovery_decode(back, bad), VAULT_E_CHECKSUM);
				caught++;
			}
			if (text[i + 1] != '\0' && text[i + 1] != '-' && text[i + 1] != text[i]) {
				memcpy(bad, text, sizeof(bad));
				bad[i] = text[i + 1];
				bad[i + 1] = text[i];
				assert_int_equal(recovery_decode(back, bad), VAULT_E_CHECKSUM);
			}
		}
	}
	assert_int_equal(caught, 4 * 32 * 31);
}

static void malformed_text_is_refused(void **state)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], back[VAULT_RECOVERY_RANDOM_BYTES];
	char text[VAULT_RECOVERY_TEXT_BYTES], longer[VAULT_RECOVERY_TEXT_BYTES + 2];

	(void)state;
	make_key(key, 9);
	recovery_encode(text, key);
	assert_int_equal(recovery_decode(back, ""), VAULT_E_CHECKSUM);
	assert_int_equal(recovery_decode(back, "U000-0000"), VAULT_E_CHECKSUM);
	snprintf(longer, sizeof(longer), "%sA", text);
	assert_int_equal(recovery_decode(back, longer), VAULT_E_CHECKSUM);
	text[VAULT_RECOVERY_TEXT_BYTES - 2] = '\0';
	assert_int_equal(recovery_decode(back, text), VAULT_E_CHECKSUM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip_and_shape),
	    cmocka_unit_test(typing_variants_are_accepted),
	    cmocka_unit_test(typos_are_caught_by_the_checksum),
	    cmocka_unit_test(malformed_text_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
