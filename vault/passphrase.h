/* Generated passphrases for a KDBX export: words drawn uniformly from a bundled French list
 * (vault/words-fr.txt), easy to read aloud and to type on a phone. Never prints. */
#ifndef SESAME_VAULT_PASSPHRASE_H
#define SESAME_VAULT_PASSPHRASE_H

#include <stddef.h>

#define PASSPHRASE_WORDS 5    /* 5 of 1,681 words: 53 bits */
#define PASSPHRASE_WORD_MAX 8 /* letters in the longest word */
#define PASSPHRASE_MAX (PASSPHRASE_WORDS * (PASSPHRASE_WORD_MAX + 1))

/* The number of words in the list. */
size_t passphrase_words(void);

/* PASSPHRASE_WORDS words separated by single spaces into a new sodium_malloc buffer (free with
 * sodium_free), each drawn with randombytes_uniform. VAULT_OK or VAULT_E_NOMEM. */
int passphrase_generate(char **out);

#endif
