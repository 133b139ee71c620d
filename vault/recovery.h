/* The recovery key as printed on the user's sheet: 144 random bits and a 16-bit checksum. */
#ifndef SESAME_VAULT_RECOVERY_H
#define SESAME_VAULT_RECOVERY_H

#include <stdint.h>

#include "format.h"

/* Write key and its checksum as 8 dash-separated groups of 4 Crockford base32 symbols. */
void recovery_encode(char text[VAULT_RECOVERY_TEXT_BYTES],
		     const uint8_t key[VAULT_RECOVERY_RANDOM_BYTES]);

/* Read a typed recovery key (case, dashes and spaces ignored; O, I, L read as 0, 1, 1).
 * VAULT_E_CHECKSUM if it is malformed or its checksum fails: no key material is derived. */
int recovery_decode(uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], const char *text);

#endif
