/* The names people type: a person's name at enrolment, a service at "add". Written the way it
 * will be read back (NFC, no stray spaces) and compared the way a reader compares them, so that
 * "Jean Müller", "jean müller" and "Jean  Müller" (two spaces, a combining diaeresis) are one
 * person. The agent decides; the command checks the same way before anyone types a secret. */
#ifndef SESAME_COMMON_NAMES_H
#define SESAME_COMMON_NAMES_H

#include <stddef.h>

/* The spelling to keep: Unicode NFC, no white space at either end, every inner run of white
 * space as one space. out holds cap bytes. Returns 0; VAULT_E_NOTUTF8 for invalid UTF-8 or a
 * control character; VAULT_E_INVAL if nothing is left; VAULT_E_TOOLONG if the result needs
 * more than max bytes (or does not fit cap). */
int name_normalise(const char *in, size_t max, char *out, size_t cap);

/* 1 if a and b are the same name to a reader: equal once normalised, case-folded and without
 * accents; else 0 (also when either is not valid UTF-8). */
int name_same(const char *a, const char *b);

/* The key name_same compares, into out (cap bytes, cut to fit; "" for invalid UTF-8): names
 * are the same exactly when their keys are. Sorting by it puts "élodie" beside "Elodie". */
void name_key(const char *name, char *out, size_t cap);

#endif
