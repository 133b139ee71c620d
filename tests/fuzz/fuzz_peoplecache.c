/* The people index's cache: the whole file as given (the tag check), or, when the first byte is
 * SEAL_MARK, the rest as a body sealed with the fuzzer's key, so that the body's parser sees
 * every input. A cache accepted holds at most the maximum of entries, each found by its id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "peoplecache.h"

#define SEAL_MARK 0x01 /* a first byte that asks for the rest to be sealed */

static const uint8_t key[32] = {0x42};

/* header, then body sealed: the file a writer with this key would make */
static uint8_t *sealed(const uint8_t *body, size_t n, size_t *len)
{
	uint8_t *buf = sodium_malloc(PEOPLE_CACHE_HEADER_BYTES + n + PEOPLE_CACHE_TAG_BYTES);
	unsigned long long c;

	if (buf == NULL)
		return NULL;
	memcpy(buf, PEOPLE_CACHE_MAGIC, PEOPLE_CACHE_MAGIC_BYTES);
	buf[PEOPLE_CACHE_MAGIC_BYTES] = PEOPLE_CACHE_VERSION;
	memset(buf + PEOPLE_CACHE_MAGIC_BYTES + 1, 0, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + PEOPLE_CACHE_HEADER_BYTES, &c, body, n,
						   buf, PEOPLE_CACHE_MAGIC_BYTES + 1, NULL,
						   buf + PEOPLE_CACHE_MAGIC_BYTES + 1, key);
	*len = PEOPLE_CACHE_HEADER_BYTES + (size_t)c;
	return buf;
}

static void probe(const struct people_cache *c, const uint8_t *body, size_t n)
{
	struct people_ident ident = {0};
	char id[VAULT_USER_ID_HEX], name[VAULT_NAME_MAX + 1];
	unsigned failures, limit;

	if (people_cache_count(c) > PEOPLE_CACHE_PEOPLE_MAX)
		abort();
	if (n < PEOPLE_CACHE_COUNT_BYTES + VAULT_USER_ID_BYTES)
		return;
	sodium_bin2hex(id, sizeof(id), body + PEOPLE_CACHE_COUNT_BYTES, VAULT_USER_ID_BYTES);
	if (people_cache_find(c, id, &ident, name, &failures, &limit) == VAULT_OK &&
	    (strlen(name) > VAULT_NAME_MAX || failures > limit))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct people_cache *c;
	uint8_t *buf;
	size_t len = size;
	int seal = size > 0 && data[0] == SEAL_MARK;

	if (sodium_init() < 0)
		abort();
	if (seal)
		buf = sealed(data + 1, size - 1, &len);
	else if ((buf = sodium_malloc(size > 0 ? size : 1)) != NULL)
		memcpy(buf, data, size);
	if (buf == NULL)
		return 0;
	if (people_cache_open(buf, len, key, &c) == VAULT_OK) {
		if (!seal)
			abort(); /* nothing unsealed authenticates */
		probe(c, data + 1, size - 1);
		people_cache_free(c);
	}
	return 0;
}
