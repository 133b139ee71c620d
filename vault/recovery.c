#include <string.h>

#include <sodium.h>

#include "error.h"
#include "format.h"
#include "recovery.h"

/* Crockford's base32: no I, L, O or U, so a sheet read aloud or retyped is hard to misread. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const unsigned char checksum_personal[crypto_generichash_blake2b_PERSONALBYTES] =
    "sesame-recovery";

#define RAW_BYTES (VAULT_RECOVERY_RANDOM_BYTES + VAULT_RECOVERY_CHECK_BYTES)

static void checksum(uint8_t out[VAULT_RECOVERY_CHECK_BYTES],
		     const uint8_t key[VAULT_RECOVERY_RANDOM_BYTES])
{
	uint8_t h[crypto_generichash_blake2b_BYTES_MIN];

	crypto_generichash_blake2b_salt_personal(h, sizeof(h), key, VAULT_RECOVERY_RANDOM_BYTES,
						 NULL, 0, NULL, checksum_personal);
	memcpy(out, h, VAULT_RECOVERY_CHECK_BYTES);
	sodium_memzero(h, sizeof(h));
}

/* Symbol value of c, or -1; accepts lower case and the usual confusions (O for 0, I and L for 1).
 */
static int symbol_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	if (c == 'I' || c == 'L')
		c = '1';
	for (int i = 0; i < 32; i++)
		if (alphabet[i] == c)
			return i;
	return -1;
}

void recovery_encode(char text[VAULT_RECOVERY_TEXT_BYTES],
		     const uint8_t key[VAULT_RECOVERY_RANDOM_BYTES])
{
	uint8_t raw[RAW_BYTES];
	size_t out = 0;

	memcpy(raw, key, VAULT_RECOVERY_RANDOM_BYTES);
	checksum(raw + VAULT_RECOVERY_RANDOM_BYTES, key);
	for (size_t s = 0; s < VAULT_RECOVERY_SYMBOLS; s++) {
		size_t bit = s * 5;
		unsigned v = ((unsigned)raw[bit / 8] << 8) |
			     (bit / 8 + 1 < RAW_BYTES ? raw[bit / 8 + 1] : 0);
		if (s > 0 && s % VAULT_RECOVERY_GROUP == 0)
			text[out++] = '-';
		text[out++] = alphabet[(v >> (11 - bit % 8)) & 31];
	}
	text[out] = '\0';
	sodium_memzero(raw, sizeof(raw));
}

int recovery_decode(uint8_t key[VAULT_RECOVERY_RANDOM_BYTES], const char *text)
{
	uint8_t raw[RAW_BYTES] = {0};
	uint8_t check[VAULT_RECOVERY_CHECK_BYTES];
	size_t nsym = 0;
	int ret = VAULT_E_CHECKSUM;

	for (const char *p = text; *p != '\0'; p++) {
		int v;
		if (*p == '-' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			continue;
		if ((v = symbol_value(*p)) < 0 || nsym == VAULT_RECOVERY_SYMBOLS)
			goto out;
		for (unsigned b = 0; b < 5; b++) {
			size_t bit = nsym * 5 + b;
			if ((unsigned)v & (0x10U >> b))
				raw[bit / 8] |= (uint8_t)(0x80U >> (bit % 8));
		}
		nsym++;
	}
	if (nsym != VAULT_RECOVERY_SYMBOLS)
		goto out;
	checksum(check, raw);
	if (sodium_memcmp(check, raw + VAULT_RECOVERY_RANDOM_BYTES, sizeof(check)) != 0)
		goto out;
	memcpy(key, raw, VAULT_RECOVERY_RANDOM_BYTES);
	ret = VAULT_OK;
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(check, sizeof(check));
	return ret;
}
