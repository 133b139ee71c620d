/* Vault file parser and the whole open path under a fixed device secret. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "vaultfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vault_file f;
	static const uint8_t key[VAULT_KEY_BYTES];
	uint8_t *out;
	size_t out_len;

	if (vault_file_parse(data, size, &f) != 0)
		return 0;
	/* a parsed file re-serialises to the same bytes, MAC aside */
	if (vault_file_build(&f, key, &out, &out_len) != 0 || out_len != size ||
	    memcmp(out, data, size - VAULT_MAC_BYTES) != 0)
		abort();
	free(out);
	vault_file_check_mac(data, size, key);
	return 0;
}
