/* Sesame's vault: each user's credentials, encrypted under a data key that only the user's PIN
 * (with the device secret) or the user's recovery key can unwrap. Never prints, never exits:
 * every function returns VAULT_OK or a code from error.h. */
#ifndef SESAME_VAULT_VAULT_H
#define SESAME_VAULT_VAULT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"
#include "format.h"

#define VAULT_USER_ID_HEX (2 * VAULT_USER_ID_BYTES + 1)
#define VAULT_ENTRY_ID_HEX (2 * VAULT_ENTRY_ID_BYTES + 1)

struct vault_policy {
	unsigned pin_min_length; /* VAULT_PIN_MIN_FLOOR .. VAULT_PIN_MAX */
	unsigned retry_limit;	 /* VAULT_RETRY_MIN .. VAULT_RETRY_MAX */
	uint32_t kdf_ops;	 /* Argon2id passes */
	uint32_t kdf_mem_kib;	 /* Argon2id memory, KiB */
};

void vault_policy_default(struct vault_policy *policy);
int vault_policy_check(const struct vault_policy *policy);

/* Why a PIN is refused (VAULT_E_PIN_*), or VAULT_OK. */
int vault_pin_check(const char *pin, const struct vault_policy *policy);

/* The data directory, with the keys derived from the device secret. */
struct vault_store;
int vault_store_open(const char *dir, const uint8_t *device_secret, struct vault_store **out);
void vault_store_close(struct vault_store *store);

/* Argon2id v1.3 of pin into out (VAULT_KEY_BYTES), as crypto_pwhash computes it: 0, or -1.
 * A caller may supply its own, to run the computation elsewhere: the agent runs it in helper
 * processes, whose memory traffic then never stalls its event loop. */
typedef int (*vault_kdf_fn)(void *ctx, uint8_t *out, const char *pin, size_t pin_len,
			    const uint8_t *salt, uint32_t ops, uint32_t mem_kib);
void vault_store_set_kdf(struct vault_store *store, vault_kdf_fn fn, void *ctx);

/* The agent's index of names (users.h): once set, finding a name reads no vault, and enrolment
 * and withdrawal keep the index current. The caller keeps it alive until the store closes. */
struct vault_people;
struct vault_person;
void vault_store_set_people(struct vault_store *store, struct vault_people *people);
/* A new descriptor of the store's directory, for reading it; -1 on failure. */
int vault_store_dirfd_dup(const struct vault_store *store);

struct vault_user_info {
	char id[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
	unsigned failures;
	unsigned retry_limit;
	int blocked;
	uint64_t created;
};

/* Enrol a user. recovery receives the recovery key text (VAULT_RECOVERY_TEXT_BYTES, a
 * sodium_malloc buffer of the caller's): show it once, never store it. */
int vault_user_create(struct vault_store *store, const char *name, const char *pin,
		      const struct vault_policy *policy, char id[VAULT_USER_ID_HEX],
		      char *recovery);

/* Resolve an id (32 hex characters) or an enrolled name to an id. */
int vault_user_find(struct vault_store *store, const char *name_or_id, char id[VAULT_USER_ID_HEX]);
int vault_user_info(struct vault_store *store, const char *id, struct vault_user_info *info);
/* The same, and *st: the identity (fstat) of the very descriptor the vault file was read from. */
int vault_user_info_stat(struct vault_store *store, const char *id, struct vault_user_info *info,
			 struct stat *st);

/* All enrolled users, sorted by name; free with free(). Files that fail to open are skipped and
 * counted in *skipped, so one damaged file does not hide everyone else. */
int vault_user_list(struct vault_store *store, struct vault_user_info **users, size_t *n,
		    size_t *skipped);

/* Withdrawal: remove the user's vault file, and with it the only copies of the wrapped data key,
 * then every other file of theirs: undo files and temporary files a crash left. */
int vault_user_destroy(struct vault_store *store, const char *id);

/* A withdrawn person's name, kept so that their records in the audit log stay attributable
 * (docs/format.md, "Withdrawn names"): "withdrawn.<id>" in the store, the name sealed under
 * the name key (subkey 4), readable only with the device secret. Written before the vault is
 * destroyed; read by the agent for an auditor. VAULT_E_NOTFOUND when there is none. */
#define VAULT_WITHDRAWN_PREFIX "withdrawn."
#define VAULT_WITHDRAWN_MAGIC "SSWN"
#define VAULT_WITHDRAWN_VERSION 1
#define VAULT_WITHDRAWN_MAX (4 + 1 + VAULT_NONCE_BYTES + VAULT_NAME_BOX_MAX)
int vault_withdrawn_write(struct vault_store *store, const char *id, const char *name);
int vault_withdrawn_read(struct vault_store *store, const char *id, char name[VAULT_NAME_MAX + 1]);

/* An unlocked vault: holds the user's data key until vault_close. */
struct vault;

/* Open with the PIN. The failure counter is durably incremented before the KDF runs and reset on
 * success. VAULT_E_BADPIN leaves *attempts_left set; VAULT_E_BLOCKED means no PIN was tried.
 * When the KDF itself fails (VAULT_E_CRYPTO, VAULT_E_NOMEM) no slot was tried either, and the
 * attempt is given back. */
int vault_unlock_pin(struct vault_store *store, const char *id, const char *pin, struct vault **out,
		     unsigned *attempts_left);

/* Open with the recovery key, set new_pin and replace the recovery key (new_recovery, as for
 * vault_user_create): the old sheet stops working. Unblocks a blocked vault. */
int vault_unlock_recovery(struct vault_store *store, const char *id, const char *recovery,
			  const char *new_pin, const struct vault_policy *policy,
			  char *new_recovery, struct vault **out);

int vault_change_pin(struct vault *vault, const char *new_pin, const struct vault_policy *policy);

/* The same three changes in steps, so that a caller can record its intent first and undo a change
 * whose outcome it could not record or report (docs/audit-log.md, "Changes and their records"):
 * prepare runs the KDF and writes nothing; apply makes the change durable, with an undo file
 * beside the vault; commit removes the undo file; undo puts the vault back as it was (a created
 * vault is removed), keeping any wrong PIN counted since. Applying fails with VAULT_E_CHANGING if
 * another PIN change or recovery of the vault came after prepare, and with VAULT_E_EXISTS if the
 * name was enrolled meanwhile. vault_user_create, vault_unlock_recovery and vault_change_pin are
 * prepare, apply and commit in one call. */
struct vault_change;
int vault_create_prepare(struct vault_store *store, const char *name, const char *pin,
			 const struct vault_policy *policy, char id[VAULT_USER_ID_HEX],
			 char *recovery, struct vault_change **out);
int vault_recover_prepare(struct vault_store *store, const char *id, const char *recovery,
			  const char *new_pin, const struct vault_policy *policy,
			  char *new_recovery, struct vault_change **out);
int vault_pin_prepare(struct vault *vault, const char *new_pin, const struct vault_policy *policy,
		      struct vault_change **out);
int vault_change_apply(struct vault_change *change);
int vault_change_commit(struct vault_change *change);
int vault_change_undo(struct vault_change *change);
/* A recovery applied: the vault it opened (the change gives up the data key). */
int vault_change_open(struct vault_change *change, struct vault **out);
void vault_change_free(struct vault_change *change);

/* The vault file's bytes as they are (malloc'd, free with free()), and putting them back, with
 * the larger failure counter kept: how a caller undoes a change it could not record. */
int vault_snapshot(struct vault_store *store, const char *id, uint8_t **buf, size_t *len);
int vault_snapshot_restore(struct vault_store *store, const char *id, const uint8_t *buf,
			   size_t len);

/* After a crash: remove temporary files (each a whole copy of a vault) and put back every vault
 * an undo file holds, calling cb for each with the id, the event of the change undone
 * ("pin_changed", "recovery_used", "user_enrolled") and the result. Call before serving. */
typedef void (*vault_tidy_fn)(void *ctx, const char *id, const char *event, int result);
int vault_store_tidy(struct vault_store *store, vault_tidy_fn cb, void *ctx);
const char *vault_user_id(const struct vault *vault);
void vault_close(struct vault *vault);

/* What the user records; strings are NUL-terminated UTF-8 (password in a sodium_malloc buffer). */
struct vault_entry_input {
	const char *service;
	const char *url;
	const char *username;
	const char *password;
	const char *notes;	/* may be NULL */
	int consent;		/* the user allows assisted logins with this credential */
	uint64_t consent_until; /* unix time the consent ends, or 0 for no end */
	/* CSS selectors of the fields on a site the finder's heuristics get wrong; NULL or "" for
	 * none. Either one set makes the entry format 2. */
	const char *username_selector, *password_selector;
	/* The submit control's selector, and the selectors clicked before filling, one a line
	 * (at most VAULT_BEFORE_CLICKS_MAX); NULL or "" for none. Either one makes format 3. */
	const char *submit_selector, *before_clicks;
};

struct vault_entry {
	char id[VAULT_ENTRY_ID_HEX];
	const char *service, *url, *username, *password, *notes;
	uint64_t created, updated;
	int consent;
	uint64_t consent_until;
	const char *username_selector, *password_selector; /* "" when none */
	const char *submit_selector, *before_clicks;	   /* "" when none */
};

/* Decrypted entries; strings live in one guarded buffer wiped by vault_entries_free. */
struct vault_entries {
	size_t n;
	struct vault_entry *entry;
	uint8_t *plain; /* sodium_malloc */
};

int vault_entry_list(struct vault *vault, struct vault_entries **out);
void vault_entries_free(struct vault_entries *entries);
/* The entry whose service name matches (ASCII case-insensitive), or NULL. */
const struct vault_entry *vault_entries_find(const struct vault_entries *entries,
					     const char *service);

int vault_entry_add(struct vault *vault, const struct vault_entry_input *in,
		    char id[VAULT_ENTRY_ID_HEX]);
int vault_entry_update(struct vault *vault, const char *id, const struct vault_entry_input *in);
int vault_entry_remove(struct vault *vault, const char *id);

#endif
