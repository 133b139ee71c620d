/* A KeePass KDBX 4 database written with libsodium alone (docs/format.md, "The KDBX 4 export"):
 * Argon2id, ChaCha20 outside, HMAC-SHA-256 blocks, ChaCha20 inner stream, no compression. The
 * person opens it in KeePassXC, KeePassDX, Strongbox or KeeWeb. Never prints. */
#ifndef SESAME_VAULT_KDBX_H
#define SESAME_VAULT_KDBX_H

#include <stddef.h>
#include <stdint.h>

/* The Argon2id cost of an export: 64 MiB and 8 passes, with parallelism 1 (libsodium's), open
 * in about a second on a phone. A file is read back with whatever its header says. */
#define KDBX_ARGON2_MEMORY (64u * 1024 * 1024)
#define KDBX_ARGON2_PASSES 8u
#define KDBX_SALT_BYTES 16 /* libsodium's crypto_pwhash salt; the header carries its length */
#define KDBX_KEY_BYTES 32
#define KDBX_PASSPHRASE_MAX 1024	/* bytes of a passphrase */
#define KDBX_ITEMS_MAX 10000		/* the most credentials one file holds */
#define KDBX_TITLE_MAX 256		/* bytes of the database's name */
#define KDBX_BLOCK_BYTES (1024u * 1024) /* the HMAC block stream's block size, as KeePass */

/* What the file draws at random: drawn by kdbx_random_fill; fixed only by a known-answer test. */
struct kdbx_random {
	uint8_t master_seed[32];
	uint8_t iv[12]; /* ChaCha20's nonce */
	uint8_t salt[KDBX_SALT_BYTES];
	uint8_t inner_key[64];
	uint8_t uuid_key[32]; /* the group's and entries' UUIDs are keyed hashes of their index */
};

/* One credential; strings are NUL-terminated UTF-8, notes may be NULL. */
struct kdbx_item {
	const char *title, *url, *username, *password, *notes;
};

void kdbx_random_fill(struct kdbx_random *r);

/* The KDBX composite key of a passphrase alone: SHA-256(SHA-256(passphrase)). */
int kdbx_composite(const char *passphrase, size_t len, uint8_t composite[KDBX_KEY_BYTES]);

/* Argon2id v1.3 (KDBX_ARGON2_*, parallelism 1) of the composite key: the slow part, which a
 * caller may also run where it runs its KDFs (the agent: in its helper processes). */
int kdbx_derive(const char *passphrase, size_t len, const uint8_t salt[KDBX_SALT_BYTES],
		uint8_t key[KDBX_KEY_BYTES]);

/* The file's bytes for items under the key kdbx_derive gave with r->salt: a sodium_malloc
 * buffer (free with sodium_free) in *out. Fields with characters XML cannot carry (controls
 * other than tab and line breaks) are VAULT_E_NOTUTF8. */
int kdbx_build(const struct kdbx_random *r, const uint8_t key[KDBX_KEY_BYTES], const char *title,
	       const struct kdbx_item *items, size_t n, uint8_t **out, size_t *out_len);

#endif
