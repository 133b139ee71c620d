/* The one set of error codes: the vault library's, and beside them, each in its own range, the
 * agent protocol's, the DevTools client's and the secret reader's. */
#ifndef SESAME_VAULT_ERROR_H
#define SESAME_VAULT_ERROR_H

/* Every function returns VAULT_OK (0) or one of these negative codes. Codes are part of the
 * library's interface: never renumber one, only append. docs/format.md lists them.
 *
 * Each module has its own range, so a code names one thing wherever it travels:
 *   -1 to -99     the vault library (here)
 *   -100 to -199  the agent protocol (PROTO_E_*)
 *   -200 to -299  the DevTools client (CDP_E_*)
 *   -300 to -399  reading a secret (SECRET_*) */
enum vault_error {
	VAULT_OK = 0,
	VAULT_E_NOMEM = -1,  /* out of memory (or of locked memory) */
	VAULT_E_IO = -2,     /* a read, write, fsync or rename failed */
	VAULT_E_INVAL = -3,  /* a caller passed an argument outside its documented range */
	VAULT_E_FORMAT = -4, /* a file is malformed: bad magic, lengths, bounds or trailing bytes */
	VAULT_E_VERSION = -5,	  /* a file has a format version this build does not know */
	VAULT_E_TAMPERED = -6,	  /* a file's authentication failed: altered, or another device's */
	VAULT_E_BADPIN = -7,	  /* the PIN is wrong; the failure was counted */
	VAULT_E_BLOCKED = -8,	  /* too many wrong PINs: only the recovery key opens the vault */
	VAULT_E_BADRECOVERY = -9, /* the recovery key is well formed but does not open the vault */
	VAULT_E_CHECKSUM = -10,	  /* the recovery key was mistyped: its checksum does not match */
	VAULT_E_PIN_DIGITS = -11, /* a PIN must contain digits only */
	VAULT_E_PIN_LENGTH = -12, /* a PIN is shorter or longer than allowed */
	VAULT_E_PIN_REPEATED = -13,   /* a PIN made of one repeated digit */
	VAULT_E_PIN_SEQUENCE = -14,   /* a PIN that counts up or down (123456, 987654) */
	VAULT_E_PIN_COMMON = -15,     /* a PIN on the list of the most used PINs */
	VAULT_E_NOTFOUND = -16,	      /* no such user or credential */
	VAULT_E_EXISTS = -17,	      /* a credential with that service name already exists */
	VAULT_E_BUSY = -18,	      /* another process holds the vault's lock */
	VAULT_E_TOOLONG = -19,	      /* a field is longer than the format allows */
	VAULT_E_FULL = -20,	      /* the vault holds the maximum number of credentials */
	VAULT_E_NOSECRET = -21,	      /* the device secret cannot be found */
	VAULT_E_SECRET_SERVICE = -22, /* the Secret Service did not answer or refused */
	VAULT_E_CRYPTO = -23,  /* a cryptographic primitive failed (e.g. KDF out of memory) */
	VAULT_E_NOTUTF8 = -24, /* a text field is not valid UTF-8 or holds control characters */
	VAULT_E_PERM = -25,    /* a file or directory has unsafe ownership or permissions */
	/* audit log and checkpoints */
	VAULT_E_LOG_SEQUENCE = -26, /* a log record is out of sequence */
	VAULT_E_LOG_RECORD = -27,   /* a log record is malformed */
	VAULT_E_LOG_TORN = -28,	    /* the log ends in a torn (incomplete) record */
	VAULT_E_SIGNATURE = -29,    /* a checkpoint signature does not verify */
	VAULT_E_INCONSISTENT = -30, /* the log is not a consistent extension of a checkpoint */
	VAULT_E_PROOF = -31,	    /* an inclusion or consistency proof does not verify */
	VAULT_E_KEY = -32,	    /* a verifier or signing key is malformed or unknown */
	VAULT_E_CHECKPOINT = -33,   /* a checkpoint is malformed or from another log */
	/* the change is in place, but the directory's fsync failed: a power cut may lose it */
	VAULT_E_UNSYNCED = -34,
	VAULT_E_CHANGING = -35, /* another PIN change or recovery of this vault came first */
	/* what stands where a file must be */
	VAULT_E_ACCESS = -36,	/* this account may not open the file (EACCES, EPERM) */
	VAULT_E_SYMLINK = -37,	/* a symbolic link, which is never followed */
	VAULT_E_FILETYPE = -38, /* a FIFO, device or directory instead of a file, or the reverse */
};

/* The agent protocol's own codes (common/proto.h frames them; docs/protocol.md). */
enum proto_error {
	PROTO_E_NOSESSION = -100, /* no open session for this worker and user: unlock first */
	PROTO_E_REQUEST = -101,	  /* a field is missing or of the wrong type */
	PROTO_E_UNKNOWN_OP = -102,
	PROTO_E_AUDIT = -103,	/* the audit record could not be written: the action was refused */
	PROTO_E_BUSY = -104,	/* too many PIN checks queued */
	PROTO_E_CONSENT = -105, /* the user has not allowed (or no longer allows) assisted logins */
	PROTO_E_LOGIN = -106,	/* the login page could not be filled: the reason says why */
	PROTO_E_TOOBIG = -107,	/* the reply would outgrow what the client takes: ask for less */
	PROTO_E_LIMIT = -108,	/* this worker holds as many connections or logins as one may */
};

/* The DevTools client's codes (agent/cdp.h). */
enum cdp_error {
	CDP_OK = 0,
	CDP_E_TIMEOUT = -201,	/* the browser did not answer in time */
	CDP_E_CLOSED = -202,	/* the browser closed the pipe, crashed or detached us */
	CDP_E_PROTO = -203,	/* a malformed or oversized message */
	CDP_E_COMMAND = -204,	/* the browser answered the command with an error */
	CDP_E_CANCELLED = -205, /* the login was ended: lock, time-out, client gone, agent stop */
	CDP_E_NOMEM = -206,
	CDP_E_EVENT = -207, /* the event hook asked to stop: something appeared that must not */
};

/* Reading a secret from a descriptor or pinentry (cli/secret.h). */
enum secret_result {
	SECRET_OK = 0,
	SECRET_CANCELLED = -301, /* the person pressed Cancel or closed the prompt */
	SECRET_FAILED = -302,	 /* no pinentry program, protocol error, I/O error */
	SECRET_TOOLONG = -303,	 /* longer than the longest secret accepted */
	SECRET_EOF = -304,	 /* the descriptor had no more lines */
	SECRET_MISMATCH = -305,	 /* asked twice (repeat), the entries differed every time */
};

/* A short English sentence for any code of any range; never NULL. Callers translate it. */
const char *vault_strerror(int code);

#endif
