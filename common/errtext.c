/* Error codes in words for people (errtext.h). */
#include <libintl.h>
#include <stddef.h>

#include "errtext.h"
#include "error.h"

#define _(s) gettext(s)
#define N_(s) (s)

/* Every code in words for people, so that the command and the agent say it translated. */
static const struct {
	int code;
	const char *text;
} messages[] = {
    {VAULT_E_NOMEM, N_("out of memory")},
    {VAULT_E_IO, N_("a file could not be read or written")},
    {VAULT_E_INVAL, N_("invalid value")},
    {VAULT_E_FORMAT, N_("a file is damaged (malformed)")},
    {VAULT_E_VERSION, N_("a file was written by a newer version of Sesame")},
    {VAULT_E_TAMPERED, N_("a file was altered or belongs to another installation")},
    {VAULT_E_BADPIN, N_("wrong PIN")},
    {VAULT_E_BLOCKED, N_("too many wrong PINs: the vault is blocked; unblock it with the "
			 "recovery sheet (sesame recover)")},
    {VAULT_E_BADRECOVERY, N_("this recovery key does not open this vault")},
    {VAULT_E_CHECKSUM, N_("the recovery key was mistyped: check each group of four")},
    {VAULT_E_PIN_DIGITS, N_("the PIN must contain digits only")},
    {VAULT_E_PIN_LENGTH, N_("the PIN is too short or too long")},
    {VAULT_E_PIN_REPEATED, N_("the PIN repeats one digit: choose another")},
    {VAULT_E_PIN_SEQUENCE, N_("the PIN is a run of consecutive digits: choose another")},
    {VAULT_E_PIN_COMMON, N_("the PIN is too common: choose another")},
    {VAULT_E_NOTFOUND, N_("not found")},
    {VAULT_E_EXISTS, N_("already exists")},
    {VAULT_E_BUSY, N_("the vault is in use; try again")},
    {VAULT_E_TOOLONG, N_("a value is too long")},
    {VAULT_E_FULL, N_("this vault holds the maximum number of credentials")},
    {VAULT_E_NOSECRET, N_("the device secret is missing: was \"sesame init\" run?")},
    {VAULT_E_SECRET_SERVICE, N_("the Secret Service (keyring) does not answer")},
    {VAULT_E_CRYPTO, N_("a cryptographic operation failed")},
    {VAULT_E_NOTUTF8, N_("a value holds invalid characters")},
    {VAULT_E_PERM, N_("a file or directory has unsafe permissions")},
    {VAULT_E_LOG_SEQUENCE, N_("a record of the audit log is out of sequence")},
    {VAULT_E_LOG_RECORD, N_("a record of the audit log is malformed")},
    {VAULT_E_LOG_TORN, N_("the audit log ends in an incomplete record")},
    {VAULT_E_SIGNATURE, N_("a signature does not verify")},
    {VAULT_E_INCONSISTENT, N_("the audit log is not consistent with the kept checkpoint")},
    {VAULT_E_PROOF, N_("a proof does not verify")},
    {VAULT_E_KEY, N_("a key is malformed or unknown")},
    {VAULT_E_CHECKPOINT, N_("a checkpoint is malformed or from another log")},
    {VAULT_E_UNSYNCED, N_("the change was made and recorded, but the disk did not confirm it: "
			  "it may be lost if the computer stops now; check the disk, then check "
			  "the change is there")},
    {VAULT_E_CHANGING, N_("another PIN change or recovery of this person is under way: nothing "
			  "was changed; try again when it has ended")},
    {VAULT_E_ACCESS, N_("permission denied: this account may not open the file")},
    {VAULT_E_SYMLINK, N_("a symbolic link stands where a file must be: replace it with the file "
			 "itself")},
    {VAULT_E_FILETYPE, N_("not a regular file: a FIFO, a device or a directory stands in its "
			  "place; remove it")},
    {PROTO_E_NOSESSION, N_("no open session for this person: unlock first (sesame unlock)")},
    {PROTO_E_REQUEST, N_("malformed request")},
    {PROTO_E_UNKNOWN_OP, N_("the agent does not know this request")},
    {PROTO_E_AUDIT, N_("the audit log cannot be written: the action was refused")},
    {PROTO_E_BUSY, N_("the agent is busy (too many PIN checks or logins at once); try again")},
    {PROTO_E_TOOBIG, N_("the agent's reply would be too long: ask for fewer people or "
			"credentials at once")},
    {PROTO_E_CONSENT, N_("the person has not allowed assisted logins for this service")},
    {PROTO_E_LOGIN, N_("the login page could not be filled: fill it in by hand with the person")},
    {PROTO_E_LIMIT,
     N_("this account already holds as many agent connections or assisted logins "
	"as one worker may: end some (sesame lock closes kept browsers) and try again")},
};

const char *sesame_strerror(int code)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (messages[i].code == code)
			return _(messages[i].text);
	return _(vault_strerror(code));
}
