/* A record of the log in plain words, for the auditor and for the person, shared by the sesame
 * command and sesame-gtk: times in local time written out, workers by the name of their account,
 * and what each record says happened, in the reader's language. The person's history (the agent
 * op "history") and the appointment's receipt (the lock's proofs) read through here, so that the
 * command's pages and the application's screens say the same. */
#ifndef SESAME_COMMON_RECWORDS_H
#define SESAME_COMMON_RECWORDS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit.h"

#define WORDS_MAX 512 /* one phrase, with the service's name and the attempts left */

/* Speak lang ("fr" or "en") from now on; -1 for another. */
int words_lang_use(const char *lang);
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

/* One record as the person reads it. */
#define WORDS_WHEN_MAX 256
#define WORDS_WHO_MAX 256
struct words_row {
	unsigned long long seq;
	char when[WORDS_WHEN_MAX];	 /* words_when */
	char who[WORDS_WHO_MAX];	 /* words_worker */
	char what[WORDS_MAX];		 /* words_what */
	char why[AUDIT_PURPOSE_MAX + 1]; /* the purpose the worker gave, "" for none */
};
void words_row(const struct audit_record *r, struct words_row *row);

/* The records of a history reply ({"records": [log line, …]}), parsed, those that do not parse
 * left out: an array to free(), *n set; NULL when memory runs out. */
struct audit_record *words_history_records(const cJSON *reply, size_t *n);

/* The record a receipt's proof carries on its "extra" line (docs/audit-log.md, "Inclusion
 * proof"): 0, or -1 for a proof that does not carry one. */
int words_proof_record(const char *proof, struct audit_record *r);

#endif
