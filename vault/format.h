/* Vault file format version 1, credential plaintext formats 1 and 2: constants and limits.
 * docs/format.md is the byte-level reference. */
#ifndef SESAME_VAULT_FORMAT_H
#define SESAME_VAULT_FORMAT_H

#include "keys.h" /* the device-secret subkeys */

#include <sodium.h>

#define VAULT_MAGIC "SESAMEVF"
#define VAULT_MAGIC_BYTES 8
#define VAULT_FORMAT_VERSION 1
#define VAULT_FILE_SUFFIX ".vault"
#define VAULT_LOCK_SUFFIX ".lock"

#define VAULT_USER_ID_BYTES 16
#define VAULT_ENTRY_ID_BYTES 16
#define VAULT_KEY_BYTES 32 /* data key and every wrapping key */
#define VAULT_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES /* 24 */
#define VAULT_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES      /* 16 */
#define VAULT_SLOT_BOX_BYTES (VAULT_KEY_BYTES + VAULT_TAG_BYTES)       /* 48 */
#define VAULT_SALT_BYTES crypto_pwhash_SALTBYTES		       /* 16 */
#define VAULT_MAC_BYTES 32

/* KDF: Argon2id v1.3 only; bounds keep a forged file from asking for absurd work. */
#define VAULT_KDF_ARGON2ID13 1
#define VAULT_KDF_OPS_MIN 1
#define VAULT_KDF_OPS_MAX 32
#define VAULT_KDF_MEM_KIB_MIN 8192U    /* 8 MiB */
#define VAULT_KDF_MEM_KIB_MAX 4194304U /* 4 GiB */
/* Defaults: about half a second to a second on an ordinary 2-core machine (bench/unlock). */
#define VAULT_KDF_OPS_DEFAULT 3
#define VAULT_KDF_MEM_KIB_DEFAULT 262144U /* 256 MiB */

/* Retry counter */
#define VAULT_RETRY_MIN 3
#define VAULT_RETRY_MAX 10
#define VAULT_RETRY_DEFAULT 5

/* PIN policy */
#define VAULT_PIN_MIN_FLOOR 4 /* the shortest PIN a configuration may allow */
#define VAULT_PIN_MIN_DEFAULT 6
#define VAULT_PIN_MAX 12

/* Field limits, in bytes of UTF-8 */
#define VAULT_NAME_MAX 128
#define VAULT_SERVICE_MAX 128
#define VAULT_URL_MAX 2048
#define VAULT_USERNAME_MAX 256
#define VAULT_PASSWORD_MAX 1024
#define VAULT_NOTES_MAX 4096
/* A CSS selector for the username or password field of a site the finder's heuristics miss. */
#define VAULT_SELECTOR_MAX 256
/* Clicks made before filling (an identity-provider chooser, a consent window): at most this
 * many selectors, each a line of VAULT_SELECTOR_MAX bytes at most. */
#define VAULT_BEFORE_CLICKS_MAX 4
#define VAULT_BEFORE_CLICKS_TEXT_MAX (VAULT_BEFORE_CLICKS_MAX * (VAULT_SELECTOR_MAX + 1) - 1)
#define VAULT_ENTRIES_MAX 256

/* Entry plaintext: format byte, created, updated, consent flags, consent expiry, then five
 * strings (format 1), seven (format 2: the two field selectors follow the notes) or nine (format
 * 3: then the submit control's selector and the clicks before filling). Each credential is
 * written in the lowest format that holds what it says, so older ones keep their bytes. */
#define VAULT_ENTRY_FORMAT_V1 1
#define VAULT_ENTRY_FORMAT_V2 2
#define VAULT_ENTRY_FORMAT_V3 3
#define VAULT_ENTRY_FIXED_BYTES (1 + 8 + 8 + 1 + 8)
#define VAULT_ENTRY_FIELDS_V1 5
#define VAULT_ENTRY_FIELDS_V2 7
#define VAULT_ENTRY_FIELDS 9 /* the most strings an entry holds (format 3) */
#define VAULT_ENTRY_PLAIN_MAX                                                                      \
	(VAULT_ENTRY_FIXED_BYTES + 2 * VAULT_ENTRY_FIELDS + VAULT_SERVICE_MAX + VAULT_URL_MAX +    \
	 VAULT_USERNAME_MAX + VAULT_PASSWORD_MAX + VAULT_NOTES_MAX + 3 * VAULT_SELECTOR_MAX +      \
	 VAULT_BEFORE_CLICKS_TEXT_MAX)
#define VAULT_ENTRY_BOX_MIN (VAULT_ENTRY_FIXED_BYTES + 2 * VAULT_ENTRY_FIELDS_V1 + VAULT_TAG_BYTES)
#define VAULT_ENTRY_BOX_MAX (VAULT_ENTRY_PLAIN_MAX + VAULT_TAG_BYTES)
#define VAULT_CONSENT_ASSISTED 0x01

/* Associated-data tags: which part of the file a ciphertext belongs to. */
#define VAULT_AD_PIN_SLOT 1
#define VAULT_AD_RECOVERY_SLOT 2
#define VAULT_AD_NAME 3
#define VAULT_AD_ENTRY 4

/* Layout: fixed header, then variable parts. */
#define VAULT_HEADER_BYTES 64
#define VAULT_SLOTS_BYTES (2 * (VAULT_NONCE_BYTES + VAULT_SLOT_BOX_BYTES))
#define VAULT_NAME_BOX_MAX (VAULT_NAME_MAX + VAULT_TAG_BYTES)
#define VAULT_ENTRY_HEAD_BYTES (VAULT_ENTRY_ID_BYTES + VAULT_NONCE_BYTES + 4)
#define VAULT_FILE_MIN                                                                             \
	(VAULT_HEADER_BYTES + VAULT_SLOTS_BYTES + VAULT_NONCE_BYTES + 2 + VAULT_TAG_BYTES + 1 +    \
	 2 + VAULT_MAC_BYTES)
#define VAULT_FILE_MAX                                                                             \
	(VAULT_HEADER_BYTES + VAULT_SLOTS_BYTES + VAULT_NONCE_BYTES + 2 + VAULT_NAME_BOX_MAX + 2 + \
	 VAULT_ENTRIES_MAX * (VAULT_ENTRY_HEAD_BYTES + VAULT_ENTRY_BOX_MAX) + VAULT_MAC_BYTES)

/* Recovery key: 18 random bytes and a 2-byte checksum, 32 Crockford base32 symbols in groups. */
#define VAULT_RECOVERY_RANDOM_BYTES 18
#define VAULT_RECOVERY_CHECK_BYTES 2
#define VAULT_RECOVERY_SYMBOLS 32
#define VAULT_RECOVERY_GROUP 4
#define VAULT_RECOVERY_TEXT_BYTES 40 /* 8 groups of 4, 7 dashes, NUL */

#endif
