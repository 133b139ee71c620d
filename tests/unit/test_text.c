#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bytes.h"
#include "text.h"

struct utf8_case {
	const char *bytes;
	size_t next; /* what text_utf8_next says of the first sequence */
};

static void utf8_refuses_overlongs_surrogates_and_past_u10ffff(void **state)
{
	static const struct utf8_case cases[] = {
	    {"a", 1},
	    {"\xc3\xa9", 2},
	    {"\xe2\x80\x94", 3},
	    {"\xf0\x9f\x94\x91", 4},
	    {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
	    {"\xc0\xaf", 0},	     /* overlong '/' */
	    {"\xc1\xbf", 0},
	    {"\xe0\x9f\xbf", 0},     /* overlong U+07FF */
	    {"\xf0\x8f\xbf\xbf", 0}, /* overlong U+FFFF */
	    {"\xed\xa0\x80", 0},     /* U+D800 */
	    {"\xed\xbf\xbf", 0},     /* U+DFFF */
	    {"\xf4\x90\x80\x80", 0}, /* U+110000 */
	    {"\xf5\x80\x80\x80", 0},
	    {"\x80", 0},
	    {"\xe2\x80", 0}, /* truncated */
	    {"\xc3\x28", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *p = (const uint8_t *)cases[i].bytes;
		size_t len = strlen(cases[i].bytes);
		if (text_utf8_next(p, len) != cases[i].next)
			fail_msg("case %zu: expected %zu", i, cases[i].next);
		assert_int_equal(text_utf8_valid(p, len), cases[i].next == len);
	}
	assert_int_equal(text_utf8_next((const uint8_t *)"a", 0), 0);
	assert_int_equal(text_utf8_valid((const uint8_t *)"", 0), 1);
}

static void hex_lower_is_digits_and_a_to_f_only(void **state)
{
	(void)state;
	assert_int_equal(text_hex_lower("0123456789abcdef", 16), 1);
	assert_int_equal(text_hex_lower("0123456789ABCDEF", 16), 0);
	assert_int_equal(text_hex_lower("abcg", 4), 0);
	assert_int_equal(text_hex_lower("ab\0c", 4), 0);
	assert_int_equal(text_hex_digit('7'), 7);
	assert_int_equal(text_hex_digit('b'), 11);
	assert_int_equal(text_hex_digit('F'), 15);
	assert_int_equal(text_hex_digit('g'), -1);
}

/* Everything that could rewrite a shown line, and nothing a name or a purpose needs. */
static void unsafe_chars_are_controls_separators_and_bidi(void **state)
{
	static const char *const unsafe[] = {"\n",	     "\x1b",	     "\x7f",
					     "\xc2\x85",     "\xd8\x9c",     "\xe2\x80\x8e",
					     "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9",
					     "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9"};
	static const char *const safe[] = {
	    "a", " ", "\xc3\xa9", "\xe2\x80\x99", "\xe2\x82\xac", "\xf0\x9f\x94\x91"};

	(void)state;
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		assert_true(text_char_unsafe((const uint8_t *)unsafe[i], strlen(unsafe[i])));
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		assert_false(text_char_unsafe((const uint8_t *)safe[i], strlen(safe[i])));
}

static void big_endian_round_trips(void **state)
{
	uint8_t b[8];

	(void)state;
	store_be16(b, 0x1234);
	assert_memory_equal(b, "\x12\x34", 2);
	assert_int_equal(load_be16(b), 0x1234);
	store_be32(b, 0x89abcdefu);
	assert_memory_equal(b, "\x89\xab\xcd\xef", 4);
	assert_int_equal(load_be32(b), 0x89abcdefu);
	store_be64(b, 0x0102030405060708ull);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(load_be64(b) == 0x0102030405060708ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(utf8_refuses_overlongs_surrogates_and_past_u10ffff),
	    cmocka_unit_test(hex_lower_is_digits_and_a_to_f_only),
	    cmocka_unit_test(unsafe_chars_are_controls_separators_and_bidi),
	    cmocka_unit_test(big_endian_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
