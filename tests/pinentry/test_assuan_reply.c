/* secret_reply_line: the lines a pinentry sends, one at a time, each at the very end of a
 * sodium_malloc buffer so that a read past it faults on the guard page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "secret.h"

struct fixture {
	char *line; /* sodium_malloc, SECRET_ASSUAN_LINE_MAX */
	struct secret_reply r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->line = sodium_malloc(SECRET_ASSUAN_LINE_MAX);
	f->r.data = sodium_malloc(SECRET_MAX);
	*state = f;
	return f->line != NULL && f->r.data != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sodium_free(f->r.data);
	sodium_free(f->line);
	free(f);
	return 0;
}

/* Parses len bytes of text (no LF) placed against the guard page. */
static int parse_n(struct fixture *f, const char *text, size_t len)
{
	char *at = f->line + SECRET_ASSUAN_LINE_MAX - len;

	memcpy(at, text, len);
	return secret_reply_line(&f->r, at, len);
}

static int parse(struct fixture *f, const char *text)
{
	return parse_n(f, text, strlen(text));
}

static void test_getpin_exchange(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "OK Pleased to meet you"), SECRET_LINE_OK);
	assert_int_equal(parse(f, "S PIN_REPEATED"), SECRET_LINE_MORE);
	assert_true(f->r.repeated);
	assert_int_equal(parse(f, "D 50%25\\off 100%25%25"), SECRET_LINE_MORE);
	assert_int_equal(parse(f, "D  and%0Dmore\r"), SECRET_LINE_MORE);
	assert_int_equal(parse(f, "OK"), SECRET_LINE_OK);
	assert_int_equal(f->r.len, strlen("50%\\off 100%% and\rmore"));
	assert_memory_equal(f->r.data, "50%\\off 100%% and\rmore", f->r.len);
	assert_false(f->r.toolong);
}

/* The code is the low 16 bits of the libgpg-error value; text after it does not matter. */
static void test_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "ERR 83886179 Operation cancelled <Pinentry>"), SECRET_LINE_ERR);
	assert_int_equal(f->r.error, 99);
	assert_int_equal(parse(f, "ERR 536871187 Unknown IPC command"), SECRET_LINE_ERR);
	assert_int_equal(f->r.error, 275);
	assert_int_equal(parse(f, "ERR"), SECRET_LINE_ERR);
	assert_int_equal(f->r.error, 0);
	assert_int_equal(parse(f, "ERR 99999999999 eleven digits"), SECRET_LINE_ERR);
	assert_int_equal(f->r.error, 0);
	assert_int_equal(parse(f, "ERROR 99"), SECRET_FAILED);
}

/* Bare words end exactly where the line does: nothing past it is looked at. */
static void test_bare_words(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "S"), SECRET_LINE_MORE);
	assert_false(f->r.repeated);
	assert_int_equal(parse(f, "S PIN_REPEATEDLY"), SECRET_LINE_MORE);
	assert_false(f->r.repeated);
	assert_int_equal(parse(f, "#"), SECRET_LINE_MORE);
	assert_int_equal(parse(f, "INQUIRE"), SECRET_LINE_INQUIRE);
	assert_int_equal(parse(f, "INQUIRE QUALITY 12"), SECRET_LINE_INQUIRE);
	assert_int_equal(parse(f, "OK"), SECRET_LINE_OK);
	assert_int_equal(parse(f, "D"), SECRET_FAILED);
	assert_int_equal(parse(f, ""), SECRET_FAILED);
	assert_int_equal(parse(f, "OKAY"), SECRET_FAILED);
	assert_int_equal(parse(f, "END"), SECRET_FAILED);
	assert_int_equal(f->r.len, 0);
}

/* A NUL, raw or escaped, would cut the secret short; an escape cut by the line's end is bad. */
static void test_bad_data(void **state)
{
	struct fixture *f = *state;
	char *data = f->r.data;

	assert_int_equal(parse_n(f,
				 "D 12\0"
				 "34",
				 7),
			 SECRET_FAILED);
	assert_int_equal(parse_n(f, "OK\0", 3), SECRET_FAILED);
	assert_int_equal(parse(f, "D 12%00"), SECRET_FAILED);
	assert_int_equal(parse(f, "D 12%4"), SECRET_FAILED);
	assert_int_equal(parse(f, "D 12%"), SECRET_FAILED);
	assert_int_equal(parse(f, "D 12%G0"), SECRET_FAILED);
	f->r.data = NULL; /* no data due, e.g. the reply to SETDESC */
	assert_int_equal(parse(f, "D 1234"), SECRET_FAILED);
	f->r.data = data;
}

/* Over SECRET_MAX, the rest is dropped but the reply is still read to its end. */
static void test_toolong(void **state)
{
	struct fixture *f = *state;
	char text[SECRET_ASSUAN_LINE_MAX];

	memset(text, 'a', sizeof(text) - 1);
	memcpy(text, "D ", 2);
	assert_int_equal(parse_n(f, text, sizeof(text) - 1), SECRET_LINE_MORE);
	assert_false(f->r.toolong);
	assert_int_equal(parse_n(f, text, sizeof(text) - 1), SECRET_LINE_MORE);
	assert_true(f->r.toolong);
	assert_int_equal(f->r.len, SECRET_MAX);
	assert_int_equal(parse(f, "OK"), SECRET_LINE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_getpin_exchange, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bare_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_toolong, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
