/* Recovery key reader: accepted keys re-encode to a text that decodes to the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "recovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], back[VAULT_RECOVERY_RANDOM_BYTES];
	char text[256], again[VAULT_RECOVERY_TEXT_BYTES];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (recovery_decode(key, text) != 0)
		return 0;
	recovery_encode(again, key);
	if (recovery_decode(back, again) != 0 || sodium_memcmp(key, back, sizeof(key)) != 0)
		abort();
	return 0;
}
