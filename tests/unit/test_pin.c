#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vault.h"

struct pin_case {
	const char *pin;
	int expect;
};

static void check_cases(const struct pin_case *cases, size_t n, unsigned min_length)
{
	struct vault_policy p;

	vault_policy_default(&p);
	p.pin_min_length = min_length;
	for (size_t i = 0; i < n; i++) {
		int got = vault_pin_check(cases[i].pin, &p);
		if (got != cases[i].expect)
			fail_msg("PIN \"%s\": expected %d, got %d", cases[i].pin, cases[i].expect,
				 got);
	}
}

static void weak_pins_are_refused_with_a_reason(void **state)
{
	static const struct pin_case cases[] = {
	    {"12a456", VAULT_E_PIN_DIGITS},   {"12 3456", VAULT_E_PIN_DIGITS},
	    {"", VAULT_E_PIN_LENGTH},	      {"28461", VAULT_E_PIN_LENGTH},
	    {"2846", VAULT_E_PIN_LENGTH},     {"2846193750284", VAULT_E_PIN_LENGTH},
	    {"000000", VAULT_E_PIN_REPEATED}, {"99999999", VAULT_E_PIN_REPEATED},
	    {"123456", VAULT_E_PIN_SEQUENCE}, {"987654", VAULT_E_PIN_SEQUENCE},
	    {"789012", VAULT_E_PIN_SEQUENCE}, {"3210987", VAULT_E_PIN_SEQUENCE},
	    {"121212", VAULT_E_PIN_COMMON},   {"123123", VAULT_E_PIN_COMMON},
	    {"112233", VAULT_E_PIN_COMMON},   {"159753", VAULT_E_PIN_COMMON},
	    {"12341234", VAULT_E_PIN_COMMON}, {"696969", VAULT_E_PIN_COMMON},
	};
	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 6);
}

static void ordinary_pins_are_accepted(void **state)
{
	static const struct pin_case cases[] = {
	    {"284619", VAULT_OK},	{"730512", VAULT_OK},  {"135792", VAULT_OK},
	    {"502817463921", VAULT_OK}, {"1357924", VAULT_OK},
	};
	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 6);
}

static void four_digits_only_when_configured(void **state)
{
	static const struct pin_case cases[] = {
	    {"2846", VAULT_OK},
	    {"1234", VAULT_E_PIN_SEQUENCE},
	    {"1111", VAULT_E_PIN_REPEATED},
	    {"2580", VAULT_E_PIN_COMMON},
	    {"1212", VAULT_E_PIN_COMMON},
	    {"284", VAULT_E_PIN_LENGTH},
	};
	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]), 4);
}

static void policy_bounds_are_enforced(void **state)
{
	struct vault_policy p;

	(void)state;
	vault_policy_default(&p);
	assert_int_equal(vault_policy_check(&p), VAULT_OK);
	p.pin_min_length = 3;
	assert_int_equal(vault_policy_check(&p), VAULT_E_INVAL);
	vault_policy_default(&p);
	p.retry_limit = 2;
	assert_int_equal(vault_policy_check(&p), VAULT_E_INVAL);
	p.retry_limit = 11;
	assert_int_equal(vault_policy_check(&p), VAULT_E_INVAL);
	p.retry_limit = 10;
	assert_int_equal(vault_policy_check(&p), VAULT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(weak_pins_are_refused_with_a_reason),
	    cmocka_unit_test(ordinary_pins_are_accepted),
	    cmocka_unit_test(four_digits_only_when_configured),
	    cmocka_unit_test(policy_bounds_are_enforced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
