/* The log's keys: the verifier key text (AUDIT_PUB_NAME), and the signing key's seed sealed
 * under a subkey of the caller's key (AUDIT_KEY_NAME, laid out in audit.h). */
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit-internal.h"
#include "error.h"
#include "fileio.h"

#define KEYFILE_NONCE (AUDIT_KEYFILE_HDR)
#define KEYFILE_BOX (AUDIT_KEYFILE_HDR + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define KEYFILE_PUB 8 /* after magic, version, algorithm and two zero bytes */
#define SEALING_SUBKEY_ID 1

static int read_text_file(int dirfd, const char *name, char *buf, size_t cap, size_t *len)
{
	int ret = fileio_read(dirfd, name, (uint8_t *)buf, cap - 1, len);

	if (ret == VAULT_OK)
		buf[*len] = '\0';
	return ret;
}

int audit_key_read_at(int dirfd, struct note_verifier *v)
{
	char text[AUDIT_VKEY_MAX + 2];
	size_t len;
	int ret = read_text_file(dirfd, AUDIT_PUB_NAME, text, sizeof(text), &len);

	if (ret == VAULT_E_TOOLONG)
		return VAULT_E_KEY;
	if (ret != VAULT_OK)
		return ret;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	return note_verifier_parse(text, len, v);
}

int audit_key_read(const char *dir, struct note_verifier *v)
{
	int dirfd, ret = fileio_dir_open(dir, 0, &dirfd);

	memset(v, 0, sizeof(*v));
	if (ret != VAULT_OK)
		return ret;
	ret = audit_key_read_at(dirfd, v);
	close(dirfd);
	return ret;
}

static int sealing_subkey(const uint8_t key[AUDIT_SEALING_KEY_LEN], uint8_t **sub)
{
	*sub = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (*sub == NULL)
		return VAULT_E_NOMEM;
	if (crypto_kdf_derive_from_key(*sub, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
				       SEALING_SUBKEY_ID, AUDIT_KDF_CONTEXT, key) != 0) {
		sodium_free(*sub);
		*sub = NULL;
		return VAULT_E_CRYPTO;
	}
	return VAULT_OK;
}

static int key_seal(const uint8_t key[AUDIT_SEALING_KEY_LEN], const uint8_t pub[NOTE_PUB_LEN],
		    const uint8_t *seed, uint8_t file[AUDIT_KEYFILE_LEN])
{
	uint8_t *sub = NULL;
	int ret = sealing_subkey(key, &sub);

	if (ret != VAULT_OK)
		return ret;
	memset(file, 0, AUDIT_KEYFILE_LEN);
	memcpy(file, AUDIT_KEYFILE_MAGIC, 4);
	file[4] = AUDIT_KEYFILE_VERSION;
	file[5] = NOTE_ALG_ED25519;
	memcpy(file + KEYFILE_PUB, pub, NOTE_PUB_LEN);
	randombytes_buf(file + KEYFILE_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(file + KEYFILE_BOX, NULL, seed, NOTE_SEED_LEN,
						   file, AUDIT_KEYFILE_HDR, NULL,
						   file + KEYFILE_NONCE, sub);
	sodium_free(sub);
	return VAULT_OK;
}

/* The seed and secret key of one Ed25519 key pair, both in guarded memory. */
static int key_pair_alloc(uint8_t **seed, uint8_t **sk)
{
	*seed = sodium_malloc(NOTE_SEED_LEN);
	*sk = sodium_malloc(NOTE_SK_LEN);
	return *seed == NULL || *sk == NULL ? VAULT_E_NOMEM : VAULT_OK;
}

int audit_key_create(const char *name, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
		     struct note_verifier *v, uint8_t file[AUDIT_KEYFILE_LEN], uint8_t **skp)
{
	uint8_t pub[NOTE_PUB_LEN];
	uint8_t *seed = NULL, *sk = NULL;
	int ret = key_pair_alloc(&seed, &sk);

	*skp = NULL;
	if (ret != VAULT_OK)
		goto out;
	randombytes_buf(seed, NOTE_SEED_LEN);
	crypto_sign_seed_keypair(pub, sk, seed);
	ret = note_verifier_init(v, name, pub);
	if (ret == VAULT_OK)
		ret = key_seal(sealing_key, pub, seed, file);
	if (ret != VAULT_OK)
		goto out;
	*skp = sk;
	sk = NULL;
out:
	sodium_free(seed);
	sodium_free(sk);
	return ret;
}

/* Magic, version, algorithm and padding, checked before any crypto runs. */
static int keyfile_check(const uint8_t *file, size_t len, const struct note_verifier *v)
{
	static const uint8_t zero[2];

	if (len != AUDIT_KEYFILE_LEN || memcmp(file, AUDIT_KEYFILE_MAGIC, 4) != 0 ||
	    file[5] != NOTE_ALG_ED25519 || memcmp(file + 6, zero, 2) != 0)
		return VAULT_E_FORMAT;
	if (file[4] != AUDIT_KEYFILE_VERSION)
		return VAULT_E_VERSION;
	if (sodium_memcmp(file + KEYFILE_PUB, v->pub, NOTE_PUB_LEN) != 0)
		return VAULT_E_KEY;
	return VAULT_OK;
}

int audit_key_unseal(int dirfd, const uint8_t key[AUDIT_SEALING_KEY_LEN],
		     const struct note_verifier *v, uint8_t **skp)
{
	uint8_t file[AUDIT_KEYFILE_LEN + 1], pub[NOTE_PUB_LEN];
	uint8_t *sub = NULL, *seed = NULL, *sk = NULL;
	size_t len;
	int ret;

	*skp = NULL;
	ret = fileio_read(dirfd, AUDIT_KEY_NAME, file, sizeof(file), &len);
	if (ret == VAULT_OK)
		ret = keyfile_check(file, len, v);
	if (ret == VAULT_OK)
		ret = sealing_subkey(key, &sub);
	if (ret != VAULT_OK)
		return ret;
	ret = key_pair_alloc(&seed, &sk);
	if (ret != VAULT_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		seed, NULL, NULL, file + KEYFILE_BOX,
		NOTE_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES, file, AUDIT_KEYFILE_HDR,
		file + KEYFILE_NONCE, sub) != 0) {
		ret = VAULT_E_TAMPERED;
		goto out;
	}
	crypto_sign_seed_keypair(pub, sk, seed);
	if (sodium_memcmp(pub, v->pub, NOTE_PUB_LEN) != 0) {
		ret = VAULT_E_KEY;
		goto out;
	}
	*skp = sk;
	sk = NULL;
out:
	sodium_free(sub);
	sodium_free(seed);
	sodium_free(sk);
	return ret;
}
