/* Device secret key file parser: only the exact 69-byte form is accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devsecret.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t secret[DEVSECRET_BYTES];

	if (devsecret_file_parse(data, size, secret) == 0 &&
	    (size != DEVSECRET_FILE_LEN ||
	     memcmp(data, DEVSECRET_FILE_HEADER, sizeof(DEVSECRET_FILE_HEADER) - 1) != 0))
		abort();
	return 0;
}
