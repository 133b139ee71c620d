/* Credential plaintext decoder: whatever decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char strings[VAULT_ENTRY_PLAIN_MAX + VAULT_ENTRY_FIELDS];
	static uint8_t again[VAULT_ENTRY_PLAIN_MAX];
	struct vault_entry e;
	char *p = strings;
	size_t len;

	if (size > VAULT_ENTRY_PLAIN_MAX || entry_decode(data, size, &e, &p) != 0)
		return 0;
	struct vault_entry_input in = {e.service, e.url,     e.username,     e.password,
				       e.notes,	  e.consent, e.consent_until};
	if (entry_encode(again, &len, &in, e.created, e.updated) != 0 || len != size ||
	    (e.consent && memcmp(again, data, size) != 0))
		abort();
	return 0;
}
