/* The index of enrolled people: each vault's name decrypted once and kept in guarded memory,
 * looked up by name or id in O(log n) and read in pages sorted by name, so no request has to
 * read every vault. Thread-safe: the agent's loop reads it while its workers enrol. */
#ifndef SESAME_VAULT_USERS_H
#define SESAME_VAULT_USERS_H

#include <stddef.h>

#include "vault.h"

#define VAULT_PEOPLE_PAGE_MAX 200 /* people in one page */
/* A cursor: the last person of a page, as "<id>:<name>" */
#define VAULT_PEOPLE_CURSOR_MAX (VAULT_USER_ID_HEX + VAULT_NAME_MAX + 1)

struct vault_people;

struct vault_person {
	char id[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
};

/* Reads every vault of the store once. *unreadable counts files that could not be opened. */
int vault_people_load(struct vault_store *store, struct vault_people **out, size_t *unreadable);
void vault_people_free(struct vault_people *people);
size_t vault_people_count(struct vault_people *people);
size_t vault_people_unreadable(struct vault_people *people);

/* An id (32 hex characters) or an exact enrolled name: the person, or VAULT_E_NOTFOUND. */
int vault_people_find(struct vault_people *people, const char *name_or_id,
		      struct vault_person *out);
int vault_people_add(struct vault_people *people, const char *id, const char *name);
int vault_people_remove(struct vault_people *people, const char *id);

/* Up to limit (<= VAULT_PEOPLE_PAGE_MAX) people after cursor (NULL or "": from the first),
 * whose names start with prefix, ignoring case and accents (NULL or "": everyone). Sorted by
 * name without case and accents, then by name, then by id. *more tells whether others follow;
 * next (VAULT_PEOPLE_CURSOR_MAX bytes) is the cursor of the next page. out is the caller's
 * (names are sensitive: guarded memory). VAULT_E_INVAL for a malformed cursor. */
int vault_people_page(struct vault_people *people, const char *cursor, const char *prefix,
		      size_t limit, struct vault_person *out, size_t *n, int *more, char *next);

/* name folded for search and ordering: lowercase ASCII, Latin letters without their accents
 * (é -> e, Œ -> oe); other characters as they are. out has room for VAULT_NAME_MAX + 1. */
void vault_people_fold(const char *name, char *out, size_t cap);

#endif
