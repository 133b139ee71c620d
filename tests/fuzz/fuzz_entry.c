/* Credential plaintext decoder, formats 1 and 2: whatever decodes must re-encode to the same
 * bytes (format 2 is written only with a selector, and read only with one). */
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
	struct vault_entry_input in = {.service = e.service,
				       .url = e.url,
				       .username = e.username,
				       .password = e.password,
				       .notes = e.notes,
				       .consent = e.consent,
				       .consent_until = e.consent_until,
				       .username_selector = e.username_selector,
				       .password_selector = e.password_selector};
	if (entry_encode(again, &len, &in, e.created, e.updated) != 0 || len != size)
		abort();
	/* without consent the encoder writes no end date: those 8 bytes alone may differ */
	if (!e.consent)
		memcpy(again + 18, data + 18, 8);
	if (memcmp(again, data, size) != 0)
		abort();
	return 0;
}
