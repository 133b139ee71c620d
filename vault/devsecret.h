/* The installation's device secret: 32 random bytes that never sit next to the vault files. */
#ifndef SESAME_VAULT_DEVSECRET_H
#define SESAME_VAULT_DEVSECRET_H

#include <stddef.h>
#include <stdint.h>

#define DEVSECRET_BYTES 32
#define DEVSECRET_ID_BYTES 16 /* installation id, hex in the Secret Service attribute */

/* Secret Service item (docs/format.md): schema name, attributes, label. The secret is the
 * 64 lowercase hex characters of the 32 bytes, with no newline. */
#define DEVSECRET_SCHEMA_NAME "org.sesame.DeviceSecret"
#define DEVSECRET_LIBSECRET_SONAME "libsecret-1.so.0" /* loaded at first use (devsecret.c) */
#define DEVSECRET_ATTR_INSTALLATION "installation"    /* the installation id, 32 lowercase hex */
#define DEVSECRET_ATTR_KIND "kind"
#define DEVSECRET_KIND "device-secret"
#define DEVSECRET_LABEL "Sesame device secret"

/* Key file (docs/format.md): exactly DEVSECRET_FILE_LEN bytes, the ASCII text
 * DEVSECRET_FILE_HEADER, the standard padded base64 (RFC 4648 section 4) of the 32 bytes
 * (44 characters), and one '\n'. Nothing else: no other whitespace, no trailing bytes. */
#define DEVSECRET_FILE_MAGIC "sesame-device-secret-v" /* a file starting so has a version */
#define DEVSECRET_FILE_HEADER "sesame-device-secret-v1 "
#define DEVSECRET_FILE_B64_LEN 44
#define DEVSECRET_FILE_LEN (sizeof(DEVSECRET_FILE_HEADER) - 1 + DEVSECRET_FILE_B64_LEN + 1)

enum devsecret_backend {
	DEVSECRET_AUTO = 0,	  /* the Secret Service if it answers, else the key file */
	DEVSECRET_SECRET_SERVICE, /* the Secret Service only */
	DEVSECRET_FILE,		  /* the 0600 key file only */
};

struct devsecret_config {
	enum devsecret_backend backend;
	const char *installation_id; /* 32 lowercase hex characters; names the stored item */
	/* Absolute path of the key file (FILE, and AUTO's fallback). It must lie outside the vault
	 * directory, so a copy of that directory does not carry it; its parent directory is created
	 * 0700 if missing and must be the caller's and closed to group and others. */
	const char *key_file;
};

/* Create a fresh device secret and store it through the configured backend. Fails with
 * VAULT_E_EXISTS if one is already stored (in AUTO mode: in the Secret Service or as the key
 * file, so a new secret never shadows an old one). *used (may be NULL) tells which backend took
 * it, or on failure which backend reported the error. AUTO falls back to the key file only when
 * the Secret Service does not answer (VAULT_E_SECRET_SERVICE), never on other errors.
 * secret is wiped on failure. */
int devsecret_create(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		     enum devsecret_backend *used);

/* Load the device secret into secret (a sodium_malloc buffer of the caller's). VAULT_E_NOSECRET
 * if none is stored; VAULT_E_FORMAT (or VAULT_E_VERSION) for a stored item or key file that is
 * malformed; VAULT_E_SYMLINK for a key file that is a symbolic link, VAULT_E_FILETYPE for one that
 * is not a regular file, VAULT_E_ACCESS for one this account may not open, VAULT_E_PERM for one
 * not ours or open to group or others. AUTO tries the Secret Service, then the key file if the
 * Secret Service has no item or does not answer; if neither holds it, the result is
 * VAULT_E_NOSECRET, or VAULT_E_SECRET_SERVICE when the Secret Service did not answer. secret is
 * wiped on failure. */
int devsecret_load(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		   enum devsecret_backend *used);

/* Remove the stored device secret (uninstall); VAULT_E_NOTFOUND if none is stored. AUTO removes
 * both the Secret Service item and the key file, and succeeds if either was there. */
int devsecret_delete(const struct devsecret_config *cfg);

/* Parse a key file's bytes (the format above) into secret; VAULT_E_VERSION for another version,
 * VAULT_E_FORMAT for anything else that is not exactly that format, and secret wiped on any
 * failure. For tests and fuzzers. */
int devsecret_file_parse(const uint8_t *buf, size_t len, uint8_t secret[DEVSECRET_BYTES]);

#endif
