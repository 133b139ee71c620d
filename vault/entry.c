#include <string.h>

#include "bytes.h"
#include "entry.h"
#include "text.h"

/* C1 controls (U+0080..U+009F) are refused like C0 ones: a field is shown on a terminal. */
static size_t utf8_sequence(const uint8_t *p, size_t left)
{
	size_t n = text_utf8_next(p, left);

	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f ? 0 : n;
}

int entry_text_check(const char *s, size_t len, size_t max, int allow_newlines)
{
	const uint8_t *p = (const uint8_t *)s;

	if (len > max)
		return VAULT_E_TOOLONG;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(p + i, len - i);
		if (n == 0)
			return VAULT_E_NOTUTF8;
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) &&
		    !(allow_newlines && (p[i] == '\n' || p[i] == '\t')))
			return VAULT_E_NOTUTF8;
		i += n;
	}
	return VAULT_OK;
}

int entry_clicks_check(const char *s, size_t len)
{
	size_t lines = 0;

	if (len > VAULT_BEFORE_CLICKS_TEXT_MAX)
		return VAULT_E_TOOLONG;
	for (size_t i = 0; i < len;) { /* each line a selector: not empty, no control character */
		const char *nl = memchr(s + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (s + i)) : len - i;
		int ret;
		if (n == 0 || ++lines > VAULT_BEFORE_CLICKS_MAX || (nl != NULL && i + n + 1 == len))
			return VAULT_E_INVAL;
		if ((ret = entry_text_check(s + i, n, VAULT_SELECTOR_MAX, 0)) != VAULT_OK)
			return ret;
		i += n + 1;
	}
	return VAULT_OK;
}

static int field_check(const char *s, size_t max, int required, int newlines)
{
	size_t len;

	if (s == NULL)
		return required ? VAULT_E_INVAL : VAULT_OK;
	len = strnlen(s, max + 1);
	if (required && len == 0)
		return VAULT_E_INVAL;
	return entry_text_check(s, len, max, newlines);
}

int entry_input_check(const struct vault_entry_input *in)
{
	int ret;

	if ((ret = field_check(in->service, VAULT_SERVICE_MAX, 1, 0)) != VAULT_OK ||
	    (ret = field_check(in->url, VAULT_URL_MAX, 1, 0)) != VAULT_OK ||
	    (ret = field_check(in->username, VAULT_USERNAME_MAX, 0, 0)) != VAULT_OK ||
	    (ret = field_check(in->password, VAULT_PASSWORD_MAX, 0, 0)) != VAULT_OK ||
	    (ret = field_check(in->notes, VAULT_NOTES_MAX, 0, 1)) != VAULT_OK ||
	    (ret = field_check(in->username_selector, VAULT_SELECTOR_MAX, 0, 0)) != VAULT_OK ||
	    (ret = field_check(in->password_selector, VAULT_SELECTOR_MAX, 0, 0)) != VAULT_OK ||
	    (ret = field_check(in->submit_selector, VAULT_SELECTOR_MAX, 0, 0)) != VAULT_OK ||
	    (in->before_clicks != NULL &&
	     (ret = entry_clicks_check(in->before_clicks, strlen(in->before_clicks))) != VAULT_OK))
		return ret;
	return VAULT_OK;
}

static int is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int entry_encode(uint8_t *plain, size_t *len, const struct vault_entry_input *in, uint64_t created,
		 uint64_t updated)
{
	const char *fields[VAULT_ENTRY_FIELDS] = {in->service,
						  in->url,
						  in->username,
						  in->password,
						  in->notes,
						  in->username_selector,
						  in->password_selector,
						  in->submit_selector,
						  in->before_clicks};
	/* a higher format only when it says something a lower one cannot: old entries keep their
	 * bytes */
	int v3 = is_set(in->submit_selector) || is_set(in->before_clicks);
	int v2 = !v3 && (is_set(in->username_selector) || is_set(in->password_selector));
	size_t n = VAULT_ENTRY_FIXED_BYTES, count = v3	 ? VAULT_ENTRY_FIELDS
						    : v2 ? VAULT_ENTRY_FIELDS_V2
							 : VAULT_ENTRY_FIELDS_V1;
	int ret;

	if ((ret = entry_input_check(in)) != VAULT_OK)
		return ret;
	plain[0] = v3 ? VAULT_ENTRY_FORMAT_V3 : v2 ? VAULT_ENTRY_FORMAT_V2 : VAULT_ENTRY_FORMAT_V1;
	store_be64(plain + 1, created);
	store_be64(plain + 9, updated);
	plain[17] = in->consent ? VAULT_CONSENT_ASSISTED : 0;
	store_be64(plain + 18, in->consent ? in->consent_until : 0);
	for (size_t i = 0; i < count; i++) {
		size_t flen = fields[i] != NULL ? strlen(fields[i]) : 0;
		store_be16(plain + n, (uint16_t)flen);
		if (flen > 0)
			memcpy(plain + n + 2, fields[i], flen);
		n += 2 + flen;
	}
	*len = n;
	return VAULT_OK;
}

/* Limits, in plaintext order; field 4 (notes) alone may hold line feeds and tabs, field 8 (the
 * clicks before filling) is checked line by line. */
static const size_t field_max[VAULT_ENTRY_FIELDS] = {
    VAULT_SERVICE_MAX,	VAULT_URL_MAX,	    VAULT_USERNAME_MAX,
    VAULT_PASSWORD_MAX, VAULT_NOTES_MAX,    VAULT_SELECTOR_MAX,
    VAULT_SELECTOR_MAX, VAULT_SELECTOR_MAX, VAULT_BEFORE_CLICKS_TEXT_MAX,
};

/* String i of the plaintext at *off: checked, then copied NUL-terminated to *strings. */
static int string_take(const uint8_t *plain, size_t len, size_t *off, size_t i, const char **out,
		       char **strings)
{
	size_t flen;

	if (len - *off < 2)
		return VAULT_E_FORMAT;
	flen = load_be16(plain + *off);
	*off += 2;
	if (flen > len - *off || (i < 2 && flen == 0) ||
	    (i == 8 ? entry_clicks_check((const char *)plain + *off, flen)
		    : entry_text_check((const char *)plain + *off, flen, field_max[i], i == 4)) !=
		VAULT_OK)
		return VAULT_E_FORMAT;
	memcpy(*strings, plain + *off, flen);
	(*strings)[flen] = '\0';
	*out = *strings;
	*strings += flen + 1;
	*off += flen;
	return VAULT_OK;
}

int entry_decode(const uint8_t *plain, size_t len, struct vault_entry *e, char **strings)
{
	const char **out[VAULT_ENTRY_FIELDS] = {&e->service,
						&e->url,
						&e->username,
						&e->password,
						&e->notes,
						&e->username_selector,
						&e->password_selector,
						&e->submit_selector,
						&e->before_clicks};
	size_t off = VAULT_ENTRY_FIXED_BYTES, count;

	if (len < VAULT_ENTRY_FIXED_BYTES || plain[0] < VAULT_ENTRY_FORMAT_V1 ||
	    plain[0] > VAULT_ENTRY_FORMAT_V3 || (plain[17] & ~VAULT_CONSENT_ASSISTED) != 0)
		return VAULT_E_FORMAT;
	count = plain[0] == VAULT_ENTRY_FORMAT_V3   ? VAULT_ENTRY_FIELDS
		: plain[0] == VAULT_ENTRY_FORMAT_V2 ? VAULT_ENTRY_FIELDS_V2
						    : VAULT_ENTRY_FIELDS_V1;
	e->created = load_be64(plain + 1);
	e->updated = load_be64(plain + 9);
	e->consent = plain[17] & VAULT_CONSENT_ASSISTED;
	e->consent_until = load_be64(plain + 18);
	/* format 1 has none of these, format 2 none of the last two */
	e->username_selector = e->password_selector = e->submit_selector = e->before_clicks = "";
	for (size_t i = 0; i < count; i++)
		if (string_take(plain, len, &off, i, out[i], strings) != VAULT_OK)
			return VAULT_E_FORMAT;
	if (off != len)
		return VAULT_E_FORMAT;
	/* a format that says nothing the lower one could is never written: one encoding per
	 * credential */
	if (count == VAULT_ENTRY_FIELDS_V2 && !is_set(e->username_selector) &&
	    !is_set(e->password_selector))
		return VAULT_E_FORMAT;
	if (count == VAULT_ENTRY_FIELDS && !is_set(e->submit_selector) && !is_set(e->before_clicks))
		return VAULT_E_FORMAT;
	return VAULT_OK;
}
