/* The log in plain words, for the auditor and for the person: times in local time written out,
 * workers by the name of their account, people by name (through the agent), and what each
 * record says happened, in the reader's language (--lang fr|en, else the locale's). */
#ifndef SESAME_CLI_WORDS_H
#define SESAME_CLI_WORDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "audit.h"

#define WORDS_MAX 512 /* one phrase, with the service's name and the attempts left */

/* Speak lang ("fr" or "en") from now on; -1 (reported) for another. */
int words_lang_set(const char *lang);
/* The language messages are in, as an HTML lang attribute: "fr" or "en". */
const char *words_lang(void);

/* A record's RFC 3339 UTC time ("YYYY-MM-DDTHH:MM:SSZ") as seconds; -1 if it is not one. */
int words_utc(const char *rfc3339, time_t *t);
/* A record's RFC 3339 UTC time into local time; -1 if it is not one. */
int words_local(const char *rfc3339, struct tm *tm, time_t *t);
/* A record's time as people say it, in local time: « lundi 30 novembre 2026 à 14 h 05 ». */
void words_when(const char *rfc3339, char *out, size_t cap);
/* A local day as people say it: « lundi 30 novembre 2026 ». */
void words_day(const struct tm *tm, char *out, size_t cap);

/* The worker's display name: the first field of the account's full name (GECOS), else its
 * login; for an account that is gone, the login the record names. Never a bare uid. */
void words_worker(uint32_t uid, const char *login, char *out, size_t cap);

/* What the record says happened: "vault opened", "logged in to CAF", "wrong PIN (2 attempts
 * left)", with its outcome when it is not plain success. */
void words_what(const struct audit_record *r, char *out, size_t cap);

/* Text for a page: < > & " ' escaped, and anything that could rewrite how the line reads
 * (controls but the line feed, bidirectional overrides, bytes that are not UTF-8) as '?'. */
void words_html(FILE *f, const char *s);
/* The same for a terminal: only the characters that could rewrite the line become '?'. */
void words_plain(FILE *f, const char *s);

/* People's names from the agent, for the ids a listing meets (docs/protocol.md, "names"). */
struct words_names;
struct words_names *words_names_new(void);
void words_names_free(struct words_names *n);
/* Remember id to be named (ids that are not 32 hex digits are ignored). */
void words_names_want(struct words_names *n, const char *id);
/* Ask the agent for every wanted id's name. 0, or -1 with why (translated) in why: the agent
 * could not be reached, or this account is not an auditor. */
int words_names_fetch(struct words_names *n, char *why, size_t cap);
/* The name, "" when the agent gave none; *withdrawn (may be NULL) tells a withdrawn person. */
const char *words_names_get(const struct words_names *n, const char *id, int *withdrawn);

#endif
