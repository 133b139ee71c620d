/* The installation's device secret: 32 random bytes that never sit next to the vault files. */
#ifndef SESAME_VAULT_DEVSECRET_H
#define SESAME_VAULT_DEVSECRET_H

#include <stdint.h>

#define DEVSECRET_BYTES 32
#define DEVSECRET_ID_BYTES 16 /* installation id, hex in the Secret Service attribute */

enum devsecret_backend {
	DEVSECRET_AUTO = 0,       /* the Secret Service if it answers, else the key file */
	DEVSECRET_SECRET_SERVICE, /* the Secret Service only */
	DEVSECRET_FILE,           /* the 0600 key file only */
};

struct devsecret_config {
	enum devsecret_backend backend;
	const char *installation_id; /* 32 lowercase hex characters; names the stored item */
	const char *key_file;        /* absolute path of the key file (FILE, and AUTO's fallback) */
};

/* Create a fresh device secret and store it through the configured backend. Fails with
 * VAULT_E_EXISTS if one is already stored. *used tells which backend took it. */
int devsecret_create(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		     enum devsecret_backend *used);

/* Load the device secret into secret (a sodium_malloc buffer of the caller's). */
int devsecret_load(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		   enum devsecret_backend *used);

/* Remove the stored device secret (uninstall); VAULT_E_NOTFOUND if none is stored. */
int devsecret_delete(const struct devsecret_config *cfg);

#endif
