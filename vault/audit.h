/* The append-only, tamper-evident audit log: JSON Lines records that are the leaves of an
 * RFC 9162 Merkle tree, with C2SP tlog-checkpoints signed by the installation's Ed25519 key.
 * docs/audit-log.md specifies every byte. */
#ifndef SESAME_VAULT_AUDIT_H
#define SESAME_VAULT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "note.h"

/* Files in the log directory. */
#define AUDIT_LOG_NAME "audit.log"
#define AUDIT_CHECKPOINT_NAME "audit.checkpoint"
#define AUDIT_CHECKPOINT_SPARE "audit.checkpoint.spare" /* the next one is written here */
#define AUDIT_KEY_NAME "audit.key"	/* signing key, sealed under the caller's 32-byte key */
#define AUDIT_PUB_NAME "audit.pub"	/* verifier key text, one line */
#define AUDIT_LOCK_NAME "audit.lock"	/* held by the one writer */
#define AUDIT_TORN_PREFIX "audit.torn." /* + decimal offset: bytes of a torn last line */

/* Limits. A record line (without its '\n') is at most AUDIT_LINE_MAX bytes. */
#define AUDIT_LINE_MAX 4096
#define AUDIT_FIELD_MAX 128   /* login, host, user, credential, service, reason, outcome */
#define AUDIT_PURPOSE_MAX 200 /* bytes of purpose text kept after sanitising */
#define AUDIT_EVENT_MAX 32
#define AUDIT_INSTALLATION_MAX 64	 /* [A-Za-z0-9._-] */
#define AUDIT_TIME_LEN 20		 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define AUDIT_DATE_LEN 10		 /* "YYYY-MM-DD" */
#define AUDIT_SEQ_MAX 999999999999999ULL /* cJSON prints integers exactly below 1e15 */
#define AUDIT_ORIGIN_PREFIX "sesame.audit/"
#define AUDIT_CHECKPOINT_MAX 2048
#define AUDIT_READ_CHUNK (256 * 1024) /* streaming readers hold two chunks at most */
#define AUDIT_PROOF_MAX 24576
#define AUDIT_VKEY_MAX NOTE_VKEY_MAX
#define AUDIT_MAX_GROUP 64 /* records in one audit_append_many */

/* Sealed signing key file: magic, version, algorithm, 2 zero bytes, public key, nonce,
 * XChaCha20-Poly1305(seed) with the first 40 bytes as associated data. */
#define AUDIT_KEYFILE_MAGIC "SSAK"
#define AUDIT_KEYFILE_VERSION 1
#define AUDIT_KEYFILE_HDR 40
#define AUDIT_KEYFILE_LEN (AUDIT_KEYFILE_HDR + 24 + NOTE_SEED_LEN + 16)
#define AUDIT_KDF_CONTEXT "sesaudit" /* subkey 1 of the caller's key seals the signing key */
#define AUDIT_SEALING_KEY_LEN 32

/* What the caller knows about an event. vault never reads the clock, the environment or the
 * user database: the agent passes the time, the worker and the host. NULL means absent.
 * attempts_left < 0 means absent. */
struct audit_event {
	const char *event; /* one of audit_event_names[], required */
	const char *time;  /* RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ", required */
	uint32_t worker_uid;
	const char *worker_login; /* required */
	const char *host;	  /* required */
	const char *user;
	const char *credential;
	const char *service;
	const char *purpose; /* free text: cut to AUDIT_PURPOSE_MAX bytes, sanitised */
	const char *outcome; /* required: "ok", "refused", "failed", ... */
	const char *reason;
	int attempts_left;
	/* "YYYY-MM-DD": the last day (the agent's local date) of the consent the credential now
	 * carries; NULL when it has none or no end */
	const char *consent_until;
};

/* A parsed record (every string NUL-terminated, empty when absent). */
struct audit_record {
	uint64_t seq;
	uint8_t prev[MERKLE_HASH_LEN];
	char time[AUDIT_TIME_LEN + 1];
	char event[AUDIT_EVENT_MAX + 1];
	char installation[AUDIT_INSTALLATION_MAX + 1];
	uint32_t worker_uid;
	char worker_login[AUDIT_FIELD_MAX + 1];
	char host[AUDIT_FIELD_MAX + 1];
	char user[AUDIT_FIELD_MAX + 1];
	char credential[AUDIT_FIELD_MAX + 1];
	char service[AUDIT_FIELD_MAX + 1];
	char purpose[AUDIT_PURPOSE_MAX + 1];
	char outcome[AUDIT_FIELD_MAX + 1];
	char reason[AUDIT_FIELD_MAX + 1];
	int attempts_left; /* -1 when absent */
	char consent_until[AUDIT_DATE_LEN + 1];
	char torn_sha256[65];		  /* log_recovered only: hex SHA-256 of the torn bytes */
	int64_t torn_length, torn_offset; /* log_recovered only; -1 when absent */
};

extern const char *const audit_event_names[]; /* NULL-terminated */

/* Formats t (seconds since the epoch) as RFC 3339 UTC. */
int audit_time_format(int64_t t, char out[AUDIT_TIME_LEN + 1]);

/* An event by worker (uid, login) on host, now, outcome "ok", no attempts count: the fields
 * every writer fills alike. time_buf must outlive the event. */
struct audit_event audit_event_now(const char *event, uint32_t worker_uid, const char *login,
				   const char *host, char time_buf[AUDIT_TIME_LEN + 1]);
/* Parses one line (without '\n') into rec: VAULT_E_LOG_RECORD unless the line is exactly the
 * canonical serialisation of rec. A function from buffer to struct, for fuzzers. */
int audit_record_parse(const uint8_t *line, size_t len, struct audit_record *rec);
/* The same without the canonical check (serialising rec again and comparing), for a reader
 * whose caller verifies the whole log (audit_verify) and takes its verdict from that: a line
 * the signed checkpoint covers was canonical when it was written. Every field is still checked
 * for its type and bounds, and the members for their order (one out of its place reads as
 * absent). */
int audit_record_parse_verified(const uint8_t *line, size_t len, struct audit_record *rec);
/* Canonical serialisation of rec (without '\n'): VAULT_E_TOOLONG past AUDIT_LINE_MAX. */
int audit_record_format(const struct audit_record *rec, char *out, size_t cap, size_t *len);

/* Creates dir (0700) with a new signing key sealed under sealing_key, its verifier key, an
 * empty log and a signed checkpoint of size 0. installation names the log: the checkpoint
 * origin and key name are AUDIT_ORIGIN_PREFIX installation. VAULT_E_EXISTS if a log is there. */
int audit_init(const char *dir, const char *installation,
	       const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN]);

struct audit_log;

/* Opens the log for appending and takes the writer's lock. From the stored tree (audit.tree and
 * audit.index) when it matches the log and the signed checkpoint: O(log n) reads, then the
 * records after it. Otherwise reads the whole log once, rebuilding the stored tree: checks
 * every record's sequence number and link, and that the tree matches the signed checkpoint.
 * Refuses (VAULT_E_INCONSISTENT) a log shorter than its checkpoint: nothing a checkpoint covers
 * is ever dropped. A torn last line (a crash mid-write) is copied to AUDIT_TORN_PREFIX<offset>,
 * cut from the log, and a "log_recovered" record carrying its SHA-256, length and offset is
 * appended; ctx gives that record's time, worker and host (its event and outcome are set
 * here). */
int audit_open(const char *dir, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
	       const struct audit_event *ctx, struct audit_log **out);
void audit_close(struct audit_log *log);

/* Appends one record. THE FAIL-CLOSED CONTRACT: VAULT_OK means the record is on stable storage
 * (one write(), then fdatasync) and a signed checkpoint covering it has replaced the checkpoint
 * file. Any other return means the guarded action (unlock, session, login, release of a secret)
 * MUST NOT happen. A record may exist without its action, never an action without its record.
 * Thread-safe: appends from several threads share one fdatasync (group commit), and none
 * returns before its own record is durable. After a failed write or fdatasync the log is cut
 * back to what was durable before the next append (audit_writable). *seq (may be NULL)
 * receives the record's number. */
int audit_append(struct audit_log *log, const struct audit_event *ev, uint64_t *seq);
/* The same for n <= AUDIT_MAX_GROUP records: one write() each, one fdatasync, one checkpoint. */
int audit_append_many(struct audit_log *log, const struct audit_event *evs, size_t n,
		      uint64_t *first_seq);
/* Whether an append can be made now: repairs the log after a failed append, and reserves room
 * for the next records. VAULT_E_IO while the disk cannot take them: an action that changes
 * state without a record (a PIN check moves the failure counter) must then not start. */
int audit_writable(struct audit_log *log);
/* Records in the log, and the signed checkpoint last written (NUL-terminated). */
uint64_t audit_size(const struct audit_log *log);
int audit_checkpoint_text(const struct audit_log *log, char *out, size_t cap);

/* Reads dir's verifier key (AUDIT_PUB_NAME). */
int audit_key_read(const char *dir, struct note_verifier *v);

struct audit_verify_opts {
	/* The key the auditor trusts. NULL: the log directory's own AUDIT_PUB_NAME, which proves
	 * integrity only against someone who cannot also replace that file. */
	const struct note_verifier *key;
	/* An older signed checkpoint the auditor kept (NULL: none). */
	const uint8_t *old_checkpoint;
	size_t old_len;
};

/* What audit_verify found, and the numbers n[0..2] each kind carries (lines are 1-based). */
enum audit_verify_kind {
	AUDIT_VERIFY_INTACT = 0,
	AUDIT_VERIFY_HASH,	   /* line n0 altered: its hash is not the link in line n1 */
	AUDIT_VERIFY_HASH_OR_LINK, /* line n0, or the link in line n1, altered */
	AUDIT_VERIFY_LINK,	   /* line n0 altered: its link is not line n1's hash */
	AUDIT_VERIFY_FIRST_LINK,   /* line 1 altered: its link is not zero */
	AUDIT_VERIFY_INSERTED,	   /* line n0 inserted: line n1 repeats its number, links to n2 */
	AUDIT_VERIFY_SEQ_DELETED,  /* line n0 has number n1 where n2 was due: records deleted */
	AUDIT_VERIFY_SEQ_INSERTED, /* line n0 has number n1 where n2 was due: records inserted */
	AUDIT_VERIFY_SIGNED_ROOT,  /* the first n0 records are not the signed checkpoint's, by n1 */
	AUDIT_VERIFY_KEPT_ROOT,	   /* the first n0 records are not the kept checkpoint's */
	AUDIT_VERIFY_MALFORMED,	   /* line n0 is not a well-formed record */
	AUDIT_VERIFY_TOO_LONG,	   /* line n0 is longer than n1 bytes */
	AUDIT_VERIFY_TORN,	   /* line n0 is incomplete (n1 bytes) */
	AUDIT_VERIFY_MISSING,	   /* records from line n0 on missing: n1 records, checkpoint n2 */
	AUDIT_VERIFY_MISSING_KEPT, /* the same against the kept checkpoint */
	AUDIT_VERIFY_ROLLED_BACK,  /* the checkpoint (size n0) is older than the kept one (n1) */
	AUDIT_VERIFY_PROOF,	   /* the consistency proof does not verify */
	AUDIT_VERIFY_EMPTY_ROOT,   /* the empty checkpoint's root is wrong */
	AUDIT_VERIFY_OPEN_DIR,	   /* the log directory cannot be opened: code says why */
	AUDIT_VERIFY_OPEN_LOG,	   /* the log cannot be opened */
	AUDIT_VERIFY_READ_LOG,	   /* the log cannot be read */
	AUDIT_VERIFY_KEY,	   /* the verifier key cannot be read */
	AUDIT_VERIFY_CHECKPOINT,   /* the log's checkpoint is refused: code says why */
	AUDIT_VERIFY_KEPT_CHECKPOINT, /* the kept checkpoint is refused: code says why */
	AUDIT_VERIFY_NOMEM,
};

struct audit_verify_report {
	int code;      /* VAULT_OK or the first problem found */
	uint64_t line; /* 1-based line it was found at, 0 when no single line is to blame */
	enum audit_verify_kind kind;
	uint64_t n[3];	  /* the kind's numbers */
	uint64_t records; /* complete lines read */
	uint8_t root[MERKLE_HASH_LEN];
	struct checkpoint latest, old;
	int have_old;
	uint64_t uncovered; /* records past the latest checkpoint (a crash before it was signed) */
};

/* Streaming verify with bounded memory (two read chunks and O(log n) hashes). Returns
 * report->code: VAULT_OK (intact); VAULT_E_IO, VAULT_E_NOTFOUND, VAULT_E_PERM, VAULT_E_NOMEM
 * (cannot read); anything else (tampered). See audit_verify_is_read_error. */
int audit_verify(const char *dir, const struct audit_verify_opts *opts,
		 struct audit_verify_report *report);
int audit_verify_is_read_error(int code);

/* Filters for audit_scan: NULL fields match everything; times compare as RFC 3339 strings. */
struct audit_filter {
	const char *user;
	const char *worker; /* login name or decimal uid */
	const char *event;
	const char *since; /* inclusive */
	const char *until; /* exclusive */
};

int audit_filter_match(const struct audit_filter *f, const struct audit_record *rec);
/* Calls cb for every record matching f, in order; stops on cb's first non-zero return. */
int audit_scan(const char *dir, const struct audit_filter *f,
	       int (*cb)(void *ctx, const struct audit_record *rec, const uint8_t *line,
			 size_t len),
	       void *ctx);
/* audit_scan reading with audit_record_parse_verified: for a caller that runs audit_verify on
 * the same log and says its verdict (sesame audit report). */
int audit_scan_verified(const char *dir, const struct audit_filter *f,
			int (*cb)(void *ctx, const struct audit_record *rec, const uint8_t *line,
				  size_t len),
			void *ctx);

#define AUDIT_CSV_HEADER                                                                           \
	"seq,time,event,installation,worker_uid,worker_login,host,user,credential,service,"        \
	"purpose,outcome,reason,attempts_left,consent_until"
#define AUDIT_CSV_MAX (4 * AUDIT_LINE_MAX)
/* One CSV row (RFC 4180 quoting; a cell starting with = + - @, also after spaces or tabs, or
 * starting with a tab or a carriage return, gets a leading ' so spreadsheets do not run it),
 * without the line break. */
int audit_record_csv(const struct audit_record *rec, char *out, size_t cap);

/* Receipt for record seq against the current checkpoint, in C2SP tlog-proof form:
 * "c2sp.org/tlog-proof@v1\nextra base64(line)\nindex N\n" hashes "\n" checkpoint. */
int audit_prove(const char *dir, uint64_t seq, char *out, size_t cap, size_t *len);
/* Checks a receipt against v: the checkpoint's signature and the inclusion of the line. */
int audit_receipt_verify(const uint8_t *receipt, size_t len, const struct note_verifier *v,
			 uint64_t *index);
/* Consistency proof between tree sizes size1 <= size2 (size2 0: the current checkpoint's):
 * "size1 N\nsize2 M\nroot1 b64\nroot2 b64\n" then one base64 hash per line. */
int audit_consistency(const char *dir, uint64_t size1, uint64_t size2, char *out, size_t cap,
		      size_t *len);

/* Benchmark hook for generating big logs: while on, appends on this handle skip fdatasync and
 * the checkpoint, so they break the fail-closed contract; turning it off (or audit_close) syncs
 * and signs a checkpoint. Never used by the agent. */
int audit_set_unsafe_fast(struct audit_log *log, int on);

#endif
