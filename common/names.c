/* Names through GLib's Unicode tables: NFC to keep, NFD without marks and case-folded to
 * compare. */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "error.h"
#include "names.h"

/* s with its white space runs made one space and its ends trimmed, in a new GLib string. */
static char *collapse_spaces(const char *s)
{
	GString *out = g_string_sized_new(strlen(s));
	int space = 0;

	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_isspace(c)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = 0;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

static int has_control(const char *s)
{
	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c) && !g_unichar_isspace(c))
			return 1;
	}
	return 0;
}

int name_normalise(const char *in, size_t max, char *out, size_t cap)
{
	char *nfc, *clean;
	size_t len;
	int ret = VAULT_OK;

	if (!g_utf8_validate(in, -1, NULL) || has_control(in))
		return VAULT_E_NOTUTF8;
	if ((nfc = g_utf8_normalize(in, -1, G_NORMALIZE_NFC)) == NULL)
		return VAULT_E_NOTUTF8;
	clean = collapse_spaces(nfc);
	g_free(nfc);
	len = strlen(clean);
	if (len == 0)
		ret = VAULT_E_INVAL;
	else if (len > max || len >= cap)
		ret = VAULT_E_TOOLONG;
	else
		memcpy(out, clean, len + 1);
	g_free(clean);
	return ret;
}

/* The comparison key: decomposed, marks dropped, case-folded, spaces collapsed. */
static char *fold(const char *s)
{
	char *nfd, *bare, *folded, *key;
	GString *b;

	if (!g_utf8_validate(s, -1, NULL) ||
	    (nfd = g_utf8_normalize(s, -1, G_NORMALIZE_NFKD)) == NULL)
		return NULL;
	b = g_string_sized_new(strlen(nfd));
	for (const char *p = nfd; *p != '\0'; p = g_utf8_next_char(p))
		if (!g_unichar_ismark(g_utf8_get_char(p)))
			g_string_append_unichar(b, g_utf8_get_char(p));
	g_free(nfd);
	bare = g_string_free(b, FALSE);
	folded = g_utf8_casefold(bare, -1);
	g_free(bare);
	key = collapse_spaces(folded);
	g_free(folded);
	return key;
}

void name_key(const char *name, char *out, size_t cap)
{
	char *k = fold(name);

	if (cap == 0)
		return;
	snprintf(out, cap, "%s", k != NULL ? k : "");
	g_free(k);
}

int name_same(const char *a, const char *b)
{
	char *ka = fold(a), *kb = fold(b);
	int same = ka != NULL && kb != NULL && strcmp(ka, kb) == 0;

	g_free(ka);
	g_free(kb);
	return same;
}
