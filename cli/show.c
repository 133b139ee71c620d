/* Presentation helpers: dates as people write them, and columns measured by what the terminal
 * shows rather than by bytes (an accent is two bytes and one column, an emoji two columns). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <glib.h>

#include "cli.h"

static const char *const months[] = {
    N_("January"), N_("February"), N_("March"),	    N_("April"),   N_("May"),	   N_("June"),
    N_("July"),	   N_("August"),   N_("September"), N_("October"), N_("November"), N_("December"),
};

void cli_date(long long when, char *out, size_t cap)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, cap, "?");
		return;
	}
	/* TRANSLATORS: a date: the day, the month's name, the year ("30 May 2027") */
	snprintf(out, cap, _("%d %s %d"), tm.tm_mday, _(months[tm.tm_mon]), tm.tm_year + 1900);
}

/* Columns the first len bytes of s take on a terminal; a character it cannot show counts 1. */
static size_t columns(const char *s, size_t len, size_t *bytes_for, size_t max_cols)
{
	mbstate_t st;
	size_t cols = 0, i = 0;

	memset(&st, 0, sizeof(st));
	while (i < len) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s + i, len - i, &st);
		int w;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
			w = 1;
		} else {
			w = wcwidth(wc);
			w = w < 0 ? 1 : w;
		}
		if (bytes_for != NULL && cols + (size_t)w > max_cols)
			break;
		cols += (size_t)w;
		i += n;
	}
	if (bytes_for != NULL)
		*bytes_for = i;
	return cols;
}

size_t cli_width(const char *s)
{
	return columns(s, strlen(s), NULL, 0);
}

void cli_print_cell(const char *s, size_t width)
{
	size_t len, cols, keep;

	if (s == NULL)
		s = "";
	len = strlen(s);
	cols = columns(s, len, NULL, 0);
	if (cols <= width) {
		fputs(s, stdout);
		for (; cols < width; cols++)
			putchar(' ');
		return;
	}
	if (width == 0)
		return;
	/* too wide: cut at a character boundary and mark the cut with an ellipsis */
	cols = columns(s, len, &keep, width - 1);
	fwrite(s, 1, keep, stdout);
	fputs("…", stdout);
	for (cols++; cols < width; cols++)
		putchar(' ');
}

const char *cli_pgettext(const char *ctx_msgid)
{
	const char *t = gettext(ctx_msgid);

	return t != ctx_msgid ? t : strchr(ctx_msgid, '\004') + 1;
}

/* The name starts with a vowel once its accents are set apart (Aïcha, Émile, Yasmine). */
static int starts_with_vowel(const char *name)
{
	char *nfd = g_utf8_normalize(name, -1, G_NORMALIZE_NFD);
	int vowel = nfd != NULL && nfd[0] != '\0' && strchr("AEIOUYaeiouy", nfd[0]) != NULL;

	g_free(nfd);
	return vowel;
}

const char *cli_of(const char *name, char *out, size_t cap)
{
	/* TRANSLATORS: "of" and a person's name, for "Services of %s", "the vault of %s"; the
	 * first form is used before a name that starts with a vowel (French: d'%s) */
	const char *form =
	    starts_with_vowel(name) ? C_("before a vowel", "of %s") : C_("name", "of %s");
	const char *conv = strstr(form, "%s");

	if (conv == NULL)
		snprintf(out, cap, "%s %s", form, name);
	else
		snprintf(out, cap, "%.*s%s%s", (int)(conv - form), form, name, conv + 2);
	return out;
}
