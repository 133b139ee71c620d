/* The pinentry's replies (cli/secret.c): the pinentry is a program found on PATH, and its replies
 * carry the PIN. The input is a transcript, split into lines at LF as secret.c reads them, with
 * replies ending at OK or ERR; it is parsed twice, with data due (GETPIN) and without. Whatever
 * the bytes, every line is OK, ERR, more, an inquiry or refused, the data stays within SECRET_MAX
 * and holds no NUL, and no byte past a line is read: each line sits at the very end of a
 * sodium_malloc buffer, against its guard page, and so does the data. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "secret.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_reply(const struct secret_reply *r, int ret)
{
	check(ret == SECRET_FAILED || ret == SECRET_LINE_MORE || ret == SECRET_LINE_OK ||
	      ret == SECRET_LINE_ERR || ret == SECRET_LINE_INQUIRE);
	check(r->len <= SECRET_MAX && (r->data != NULL || r->len == 0));
	check(!r->toolong || r->len == SECRET_MAX);
	check(r->error <= 0xFFFF);
	check(r->len == 0 || memchr(r->data, '\0', r->len) == NULL);
}

/* A data line without '%' adds its payload as it is, the CR before the LF aside. */
static void check_plain_data(const struct secret_reply *r, size_t before, const char *line,
			     size_t len, int ret)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (ret != SECRET_LINE_MORE || r->data == NULL || r->toolong || len < 2 ||
	    memcmp(line, "D ", 2) != 0 || memchr(line, '%', len) != NULL)
		return;
	check(r->len == before + len - 2 && memcmp(r->data + before, line + 2, len - 2) == 0);
}

static void run(const uint8_t *data, size_t size, char *line, char *buf)
{
	struct secret_reply r = {.data = buf};
	size_t off = 0;

	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl != NULL ? (size_t)(nl - data) - off : 0, before = r.len;
		char *at = line + SECRET_ASSUAN_LINE_MAX - n;
		int ret;

		/* secret.c gives up on a line too long or never ended */
		if (nl == NULL || n >= SECRET_ASSUAN_LINE_MAX)
			break;
		memcpy(at, data + off, n);
		ret = secret_reply_line(&r, at, n);
		sodium_memzero(at, n);
		check_reply(&r, ret);
		check_plain_data(&r, before, (const char *)data + off, n, ret);
		if (ret == SECRET_FAILED)
			break;
		if (ret == SECRET_LINE_OK ||
		    ret == SECRET_LINE_ERR) { /* the next command's reply */
			if (buf != NULL)
				sodium_memzero(buf, SECRET_MAX);
			r = (struct secret_reply){.data = buf};
		}
		off += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Kept for the whole run, wiped after each input: a sodium_malloc costs four system calls.
	 */
	static char *line, *buf;

	if (line == NULL) {
		check(sodium_init() >= 0);
		line = sodium_malloc(SECRET_ASSUAN_LINE_MAX);
		/* exactly what the parser may fill; secret.c's caller adds one byte for the NUL */
		buf = sodium_malloc(SECRET_MAX);
		check(line != NULL && buf != NULL);
	}
	run(data, size, line, buf);
	run(data, size, line, NULL);
	sodium_memzero(buf, SECRET_MAX);
	return 0;
}
