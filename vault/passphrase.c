/* Generated passphrases: the list is embedded at build time (tools/embed-js.py drops its
 * comment lines), one lowercase word a line. */
#include <string.h>

#include <sodium.h>

#include "error.h"
#include "passphrase.h"
#include "words_fr.h"

size_t passphrase_words(void)
{
	size_t n = 0;

	for (const char *p = words_fr; *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

/* Word i of the list: its start, and its length in *len. */
static const char *word_at(size_t i, size_t *len)
{
	const char *p = words_fr;

	while (i-- > 0)
		p = strchr(p, '\n') + 1;
	*len = (size_t)(strchr(p, '\n') - p);
	return p;
}

int passphrase_generate(char **out)
{
	size_t n = passphrase_words(), used = 0, len;
	char *s = sodium_malloc(PASSPHRASE_MAX + 1);
	const char *w;

	*out = NULL;
	if (s == NULL)
		return VAULT_E_NOMEM;
	for (int k = 0; k < PASSPHRASE_WORDS; k++) {
		w = word_at(randombytes_uniform((uint32_t)n), &len);
		if (k > 0)
			s[used++] = ' ';
		memcpy(s + used, w, len);
		used += len;
	}
	s[used] = '\0';
	*out = s;
	return VAULT_OK;
}
