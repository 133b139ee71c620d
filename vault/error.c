#include <stddef.h>

#include "error.h"

static const char *const messages[] = {
    [0] = "success",
    [-VAULT_E_NOMEM] = "out of memory",
    [-VAULT_E_IO] = "input/output error",
    [-VAULT_E_INVAL] = "invalid argument",
    [-VAULT_E_FORMAT] = "the file is malformed",
    [-VAULT_E_VERSION] = "the file has an unknown format version",
    [-VAULT_E_TAMPERED] = "the file was altered or belongs to another installation",
    [-VAULT_E_BADPIN] = "wrong PIN",
    [-VAULT_E_BLOCKED] = "too many wrong PINs: the vault is blocked until the recovery key is used",
    [-VAULT_E_BADRECOVERY] = "the recovery key does not open this vault",
    [-VAULT_E_CHECKSUM] = "the recovery key was mistyped (checksum mismatch)",
    [-VAULT_E_PIN_DIGITS] = "a PIN may contain digits only",
    [-VAULT_E_PIN_LENGTH] = "the PIN is too short or too long",
    [-VAULT_E_PIN_REPEATED] = "the PIN repeats a single digit",
    [-VAULT_E_PIN_SEQUENCE] = "the PIN is a run of consecutive digits",
    [-VAULT_E_PIN_COMMON] = "the PIN is one of the most common PINs",
    [-VAULT_E_NOTFOUND] = "not found",
    [-VAULT_E_EXISTS] = "already exists",
    [-VAULT_E_BUSY] = "the vault is in use by another process",
    [-VAULT_E_TOOLONG] = "a field is too long",
    [-VAULT_E_FULL] = "the vault is full",
    [-VAULT_E_NOSECRET] = "the device secret cannot be found",
    [-VAULT_E_SECRET_SERVICE] = "the Secret Service is not available",
    [-VAULT_E_CRYPTO] = "a cryptographic operation failed",
    [-VAULT_E_NOTUTF8] = "a text field is not valid UTF-8 text",
    [-VAULT_E_PERM] = "a file or directory has unsafe ownership or permissions",
    [-VAULT_E_LOG_SEQUENCE] = "a log record is out of sequence",
    [-VAULT_E_LOG_RECORD] = "a log record is malformed",
    [-VAULT_E_LOG_TORN] = "the log ends in an incomplete record",
    [-VAULT_E_SIGNATURE] = "a signature does not verify",
    [-VAULT_E_INCONSISTENT] = "the log is not consistent with the checkpoint",
    [-VAULT_E_PROOF] = "a proof does not verify",
    [-VAULT_E_KEY] = "a key is malformed or unknown",
    [-VAULT_E_CHECKPOINT] = "a checkpoint is malformed or from another log",
};

const char *vault_strerror(int code)
{
	if (code > 0 || -code >= (int)(sizeof(messages) / sizeof(messages[0])) ||
	    messages[-code] == NULL)
		return "unknown error";
	return messages[-code];
}
