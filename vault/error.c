#include <stddef.h>

#include "error.h"

static const char *const vault_messages[] = {
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
    [-VAULT_E_UNSYNCED] = "the change was made, but the disk did not confirm it",
    [-VAULT_E_CHANGING] = "another PIN change or recovery of this vault came first",
    [-VAULT_E_ACCESS] = "permission denied: this account may not open the file",
    [-VAULT_E_SYMLINK] = "a symbolic link stands where a file must be; links are never followed",
    [-VAULT_E_FILETYPE] = "not a regular file (a FIFO, a device or a directory stands in its "
			  "place), or not a directory",
};

static const char *const proto_messages[] = {
    [-100 - PROTO_E_NOSESSION] = "no open session for this worker and person: unlock first",
    [-100 - PROTO_E_REQUEST] = "malformed request",
    [-100 - PROTO_E_UNKNOWN_OP] = "unknown request",
    [-100 - PROTO_E_AUDIT] = "the audit record could not be written: the action was refused",
    [-100 - PROTO_E_BUSY] = "the agent is busy: too many PIN checks or logins at once",
    [-100 - PROTO_E_CONSENT] = "the person has not allowed assisted logins for this service",
    [-100 - PROTO_E_LOGIN] = "the login page could not be filled",
    [-100 - PROTO_E_TOOBIG] = "the reply would be too long: ask for a smaller page",
    [-100 - PROTO_E_LIMIT] = "this worker already holds as many connections or assisted logins "
			     "as one worker may",
};

static const char *const cdp_messages[] = {
    [-200 - CDP_E_TIMEOUT] = "the browser did not answer in time",
    [-200 - CDP_E_CLOSED] = "the browser closed or crashed",
    [-200 - CDP_E_PROTO] = "the browser sent a malformed message",
    [-200 - CDP_E_COMMAND] = "the browser refused a command",
    [-200 - CDP_E_CANCELLED] = "the login was ended",
    [-200 - CDP_E_NOMEM] = "out of memory",
    [-200 - CDP_E_EVENT] = "a new tab, window or DevTools appeared while a secret was in the page",
};

static const char *const secret_messages[] = {
    [-300 - SECRET_CANCELLED] = "cancelled",
    [-300 - SECRET_FAILED] = "the secret could not be asked (no pinentry, or it failed)",
    [-300 - SECRET_TOOLONG] = "the secret is too long",
    [-300 - SECRET_EOF] = "no more secrets on the descriptor",
    [-300 - SECRET_MISMATCH] = "the two entries differed",
};

/* Each range's table, by the range's first code. */
static const struct {
	int base;
	const char *const *texts;
	size_t n;
} ranges[] = {
    {0, vault_messages, sizeof(vault_messages) / sizeof(vault_messages[0])},
    {-100, proto_messages, sizeof(proto_messages) / sizeof(proto_messages[0])},
    {-200, cdp_messages, sizeof(cdp_messages) / sizeof(cdp_messages[0])},
    {-300, secret_messages, sizeof(secret_messages) / sizeof(secret_messages[0])},
};

const char *vault_strerror(int code)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int at = ranges[i].base - code;
		if (code <= ranges[i].base && code > ranges[i].base - 100 &&
		    (size_t)at < ranges[i].n && ranges[i].texts[at] != NULL)
			return ranges[i].texts[at];
	}
	return "unknown error";
}
