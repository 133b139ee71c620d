/* Keys derived from the device secret (keys.h). */
#include <sodium.h>

#include "keys.h"

void vault_audit_key(const uint8_t *device_secret, uint8_t key[VAULT_AUDIT_KEY_BYTES])
{
	crypto_kdf_derive_from_key(key, VAULT_AUDIT_KEY_BYTES, VAULT_SUBKEY_AUDIT,
				   VAULT_KDF_CONTEXT, device_secret);
}
