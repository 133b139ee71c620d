/* Parsing and serialising vault files (format version 1), with no cryptography but the file MAC.
 * Parsing is a pure function from bytes to a struct, so fuzzers call it directly. */
#ifndef SESAME_VAULT_VAULTFILE_H
#define SESAME_VAULT_VAULTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct vault_file_entry {
	uint8_t id[VAULT_ENTRY_ID_BYTES];
	uint8_t nonce[VAULT_NONCE_BYTES];
	const uint8_t *box; /* points into the parsed buffer, or into the caller's memory */
	uint32_t box_len;
};

struct vault_file {
	uint8_t user_id[VAULT_USER_ID_BYTES];
	uint8_t retry_limit;
	uint8_t failures;
	uint32_t kdf_ops;
	uint32_t kdf_mem_kib;
	uint8_t pin_salt[VAULT_SALT_BYTES];
	uint64_t created;
	uint8_t pin_nonce[VAULT_NONCE_BYTES];
	uint8_t pin_box[VAULT_SLOT_BOX_BYTES];
	uint8_t rec_nonce[VAULT_NONCE_BYTES];
	uint8_t rec_box[VAULT_SLOT_BOX_BYTES];
	uint8_t name_nonce[VAULT_NONCE_BYTES];
	const uint8_t *name_box;
	uint16_t name_box_len;
	uint16_t n_entries;
	struct vault_file_entry entries[VAULT_ENTRIES_MAX];
};

/* Check every field of buf (magic, version, algorithm, bounds, lengths, no trailing bytes) and
 * fill f, whose pointers then refer into buf. The MAC is not checked here. */
int vault_file_parse(const uint8_t *buf, size_t len, struct vault_file *f);

/* Check the file MAC over buf, which vault_file_parse accepted. */
int vault_file_check_mac(const uint8_t *buf, size_t len, const uint8_t mac_key[VAULT_KEY_BYTES]);

/* Serialise f and append its MAC into a malloc'd buffer; nothing in it is secret. */
int vault_file_build(const struct vault_file *f, const uint8_t mac_key[VAULT_KEY_BYTES],
		     uint8_t **out, size_t *out_len);

/* Associated data binding a ciphertext to the format version, user and (for entries) entry. */
#define VAULT_AD_MAX (VAULT_MAGIC_BYTES + 2 + VAULT_USER_ID_BYTES + 1 + VAULT_ENTRY_ID_BYTES)
size_t vault_file_ad(uint8_t ad[VAULT_AD_MAX], const uint8_t user_id[VAULT_USER_ID_BYTES],
		     uint8_t tag, const uint8_t *entry_id);

#endif
