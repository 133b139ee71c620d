/* The log in plain words, for the auditor and for the person: a record's words are common/
 * recwords.h's (the desktop application says them too); here, the command's --lang, the text
 * for a page or a terminal, and people by name (through the agent). */
#ifndef SESAME_CLI_WORDS_H
#define SESAME_CLI_WORDS_H

#include <stdio.h>

#include "recwords.h"

/* Speak lang ("fr" or "en") from now on; -1 (reported) for another. */
int words_lang_set(const char *lang);

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
