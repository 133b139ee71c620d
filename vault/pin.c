#include <string.h>

#include "error.h"
#include "format.h"
#include "vault.h"

/* The most used PINs that the run and repetition rules below do not already catch. */
static const char *const common_pins[] = {
    "1004",   "1122",	"1313",	  "2000",   "2001",   "2580",	    "6969",   "1212",
    "1998",   "1999",	"0852",	  "1379",   "112233", "121212",	    "123123", "123321",
    "131313", "159753", "147258", "258369", "102030", "101010",	    "111222", "696969",
    "654123", "123654", "789456", "147852", "963852", "142536",	    "110110", "000111",
    "852456", "456123", "100200", "202020", "252525", "123456789a",
};

static int is_repeated(const char *pin, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (pin[i] != pin[0])
			return 0;
	return 1;
}

/* A run such as 123456, 987654 or 789012 (counting on a ten-digit wheel). */
static int is_run(const char *pin, size_t len)
{
	int up = 1, down = 1;

	for (size_t i = 1; i < len; i++) {
		int d = pin[i] - pin[i - 1];
		up &= d == 1 || d == -9;
		down &= d == -1 || d == 9;
	}
	return up || down;
}

/* A short group said again and again: 121212, 123123, 12341234. */
static int is_repeated_group(const char *pin, size_t len)
{
	for (size_t period = 2; period <= len / 2; period++) {
		size_t i;
		if (len % period != 0)
			continue;
		for (i = period; i < len && pin[i] == pin[i - period]; i++)
			;
		if (i == len)
			return 1;
	}
	return 0;
}

static int is_common(const char *pin)
{
	for (size_t i = 0; i < sizeof(common_pins) / sizeof(common_pins[0]); i++)
		if (strcmp(pin, common_pins[i]) == 0)
			return 1;
	return 0;
}

int vault_pin_check(const char *pin, const struct vault_policy *policy)
{
	size_t len = strnlen(pin, VAULT_PIN_MAX + 1);

	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return VAULT_E_PIN_DIGITS;
	if (len < policy->pin_min_length || len > VAULT_PIN_MAX)
		return VAULT_E_PIN_LENGTH;
	if (is_repeated(pin, len))
		return VAULT_E_PIN_REPEATED;
	if (is_run(pin, len))
		return VAULT_E_PIN_SEQUENCE;
	if (is_common(pin) || is_repeated_group(pin, len))
		return VAULT_E_PIN_COMMON;
	return VAULT_OK;
}
