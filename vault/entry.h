/* Credential plaintext (inside each entry's ciphertext): encoding, decoding, validation. */
#ifndef SESAME_VAULT_ENTRY_H
#define SESAME_VAULT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "vault.h"

/* Validate UTF-8 of at most max bytes, without control characters (allow_newlines admits \n, \t).
 */
int entry_text_check(const char *s, size_t len, size_t max, int allow_newlines);

/* The clicks before filling: up to VAULT_BEFORE_CLICKS_MAX selectors, one a line (separated by
 * line feeds, none empty), each a field of at most VAULT_SELECTOR_MAX bytes. */
int entry_clicks_check(const char *s, size_t len);

/* Check every field of in against the format's limits. */
int entry_input_check(const struct vault_entry_input *in);

/* Encode in with its times into plain (capacity VAULT_ENTRY_PLAIN_MAX); *len receives the size. */
int entry_encode(uint8_t *plain, size_t *len, const struct vault_entry_input *in, uint64_t created,
		 uint64_t updated);

/* Decode plain into e; its strings are copied NUL-terminated to *strings, which advances. */
int entry_decode(const uint8_t *plain, size_t len, struct vault_entry *e, char **strings);

#endif
