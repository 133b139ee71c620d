/* Every key derived from the device secret, in one place (docs/format.md, "Key hierarchy"):
 * crypto_kdf subkeys of the device secret under one context, each for one purpose. */
#ifndef SESAME_VAULT_KEYS_H
#define SESAME_VAULT_KEYS_H

#include <stdint.h>

#define VAULT_KDF_CONTEXT "SesameV1"
#define VAULT_SUBKEY_FILE_MAC 1	    /* the MAC over each vault file */
#define VAULT_SUBKEY_PIN 2	    /* mixed with Argon2id(PIN) to wrap the data key */
#define VAULT_SUBKEY_RECOVERY 3	    /* mixed with the recovery key to wrap the data key */
#define VAULT_SUBKEY_NAME 4	    /* encrypts the person's name */
#define VAULT_SUBKEY_AUDIT 5	    /* seals the audit log's signing key */
#define VAULT_SUBKEY_PEOPLE_CACHE 6 /* seals the agent's cache of the people index */
#define VAULT_AUDIT_KEY_BYTES 32

/* The key that seals the audit log's signing key (subkey 5). */
void vault_audit_key(const uint8_t *device_secret, uint8_t key[VAULT_AUDIT_KEY_BYTES]);

#endif
