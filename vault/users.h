/* The index of enrolled people: each vault's name decrypted once and kept in guarded memory,
 * looked up by name or id in O(log n) and read in pages sorted by name, so no request has to
 * read every vault. Each person's retry counter is kept beside the name, set by the store
 * whenever it writes the vault (vault.c, save), so that a page or a resolve reads no file.
 * Thread-safe: the agent's loop reads it while its workers enrol and count attempts. */
#ifndef SESAME_VAULT_USERS_H
#define SESAME_VAULT_USERS_H

#include <stddef.h>

#include "vault.h"

#define VAULT_PEOPLE_PAGE_MAX 200 /* people in one page */
/* A name's sort and search key, NUL included; a longer key is cut (decomposition and case
 * folding can make a key longer than its name) */
#define VAULT_PEOPLE_KEY_MAX (3 * VAULT_NAME_MAX + 1)
/* A cursor: the last person of a page, as "<id>:<name>" */
#define VAULT_PEOPLE_CURSOR_MAX (VAULT_USER_ID_HEX + VAULT_NAME_MAX + 1)

struct vault_people;

struct vault_person {
	char id[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
	unsigned failures;    /* consecutive PIN failures, as in the vault file */
	unsigned retry_limit; /* failures == retry_limit: blocked */
};

/* A vault file the index could not read: its id, which is its file's name, and why (a vault
 * error; VAULT_E_EXISTS: it claims a name another vault holds). Its person would otherwise
 * vanish from every list unsaid. */
struct vault_damaged {
	char id[VAULT_USER_ID_HEX];
	int code;
};

/* A name's key for ordering, search and sameness, into out (cap bytes). */
typedef void (*vault_people_key_fn)(const char *name, char *out, size_t cap);

/* Reads every vault of the store once. key makes each name's key (NULL: vault_people_fold).
 * *unreadable counts files that could not be read (vault_people_damaged names them). */
int vault_people_load(struct vault_store *store, vault_people_key_fn key, struct vault_people **out,
		      size_t *unreadable);
/* The index's cache in the store (docs/format.md, "People cache") */
#define VAULT_PEOPLE_CACHE_FILE "people.cache"

/* How a start's load went (docs/format.md, "People cache"). */
struct vault_people_start {
	size_t unreadable; /* files that could not be read (vault_people_damaged names them) */
	size_t from_cache; /* people taken from the cache, their files not opened */
	size_t from_files; /* people read from their vault files */
	int cache_read;	   /* VAULT_OK, VAULT_E_NOTFOUND (no cache yet), or why it was refused */
	int cache_written; /* 1 if a fresh cache was written, or tried */
	int cache_write;   /* VAULT_OK, or why it could not be written */
};

/* The same as vault_people_load, with the store's cache of the index: a file whose identity
 * (device, inode, size, modification and change times) is the one cached is not read; the
 * others are, and then a fresh cache is written. A cache that cannot be used only makes every
 * file read (start->cache_read says why). */
int vault_people_start(struct vault_store *store, vault_people_key_fn key,
		       struct vault_people **out, struct vault_people_start *start);
void vault_people_free(struct vault_people *people);
size_t vault_people_count(struct vault_people *people);
size_t vault_people_unreadable(struct vault_people *people);
/* The damaged vault files, the first max of them into out (unsorted): returns how many there
 * are. */
size_t vault_people_damaged(struct vault_people *people, struct vault_damaged *out, size_t max);
/* Reads each damaged file again: one that reads now joins the index, one that is gone is
 * forgotten, the others stay with what reading them says now. */
int vault_people_recheck(struct vault_people *people, struct vault_store *store);

/* An id (32 hex characters) or an exact enrolled name: the person, or VAULT_E_NOTFOUND. */
int vault_people_find(struct vault_people *people, const char *name_or_id,
		      struct vault_person *out);
/* Someone whose name has the same key as name (a name a reader would take for it). */
int vault_people_find_same(struct vault_people *people, const char *name, struct vault_person *out);
/* A new person: the vault file with these counters is already written. */
int vault_people_add(struct vault_people *people, const char *id, const char *name,
		     unsigned failures, unsigned retry_limit);
int vault_people_remove(struct vault_people *people, const char *id);
/* The counters the store has just written into id's vault; VAULT_E_NOTFOUND if id is not
 * indexed (a vault being created is added once it is whole). */
int vault_people_set_counter(struct vault_people *people, const char *id, unsigned failures,
			     unsigned retry_limit);

/* Up to limit (<= VAULT_PEOPLE_PAGE_MAX) people after cursor (NULL or "": from the first),
 * whose names' keys start with prefix's key (NULL or "": everyone). Sorted by key, then by
 * name, then by id. *more tells whether others follow;
 * next (VAULT_PEOPLE_CURSOR_MAX bytes) is the cursor of the next page. out is the caller's
 * (names are sensitive: guarded memory). VAULT_E_INVAL for a malformed cursor. */
int vault_people_page(struct vault_people *people, const char *cursor, const char *prefix,
		      size_t limit, struct vault_person *out, size_t *n, int *more, char *next);

/* The default key: lowercase ASCII, Latin letters without their accents (é -> e, Œ -> oe);
 * other characters as they are. Never longer than the name. */
void vault_people_fold(const char *name, char *out, size_t cap);

#endif
