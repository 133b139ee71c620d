/* secret_from_fd: lines from a real pipe, one call per line, nothing read past the line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

/* A pipe holding text, its write end closed: the reader sees the text, then end of file. */
static int pipe_with(const char *text, size_t len)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void expect_line(int fd, const char *want)
{
	char *secret = NULL;

	assert_int_equal(secret_from_fd(fd, &secret), SECRET_OK);
	assert_non_null(secret);
	assert_string_equal(secret, want);
	sodium_free(secret);
}

static void expect_result(int fd, int want)
{
	char *secret = (char *)"not touched";

	assert_int_equal(secret_from_fd(fd, &secret), want);
	assert_null(secret);
}

static void test_lines_in_order(void **state)
{
	static const char text[] = "first\nsecond\r\n\nlast without newline";
	int fd = pipe_with(text, strlen(text));

	expect_line(fd, "first");
	expect_line(fd, "second");
	expect_line(fd, "");
	expect_line(fd, "last without newline");
	expect_result(fd, SECRET_EOF);
	expect_result(fd, SECRET_EOF);
	close(fd);
}

/* Byte by byte: what follows the line is still in the pipe for someone else to read. */
static void test_reads_no_further(void **state)
{
	static const char text[] = "pin\nrest of the input\n";
	char rest[64] = {0};
	int fd = pipe_with(text, strlen(text));

	expect_line(fd, "pin");
	assert_int_equal(read(fd, rest, sizeof(rest) - 1), (ssize_t)strlen("rest of the input\n"));
	assert_string_equal(rest, "rest of the input\n");
	close(fd);
}

static void test_empty_input(void **state)
{
	int fd = pipe_with("", 0);

	expect_result(fd, SECRET_EOF);
	close(fd);
}

static void test_lone_cr(void **state)
{
	int fd = pipe_with("\r\n", 2);

	expect_line(fd, "");
	expect_result(fd, SECRET_EOF);
	close(fd);
}

/* Builds n 'a' then the given end into a buffer of at least n + 8 bytes. */
static size_t long_line(char *buf, size_t n, const char *end)
{
	memset(buf, 'a', n);
	memcpy(buf + n, end, strlen(end));
	return n + strlen(end);
}

static void test_exactly_max(void **state)
{
	char text[SECRET_MAX + 16];
	char *secret = NULL;
	int fd = pipe_with(text, long_line(text, SECRET_MAX, "\r\nnext\n"));

	assert_int_equal(secret_from_fd(fd, &secret), SECRET_OK);
	assert_int_equal(strlen(secret), SECRET_MAX);
	sodium_free(secret);
	expect_line(fd, "next");
	close(fd);
}

static void test_toolong_then_next(void **state)
{
	char text[2 * SECRET_MAX + 16];
	int fd = pipe_with(text, long_line(text, SECRET_MAX + 1, "\nnext\n"));

	expect_result(fd, SECRET_TOOLONG);
	expect_line(fd, "next");
	expect_result(fd, SECRET_EOF);
	close(fd);
}

/* One over the limit even with the CR stripped; a line far longer than any buffer, at EOF. */
static void test_toolong_crlf_and_huge(void **state)
{
	char text[2 * SECRET_MAX + 16];
	int fd = pipe_with(text, long_line(text, SECRET_MAX + 1, "\r\nnext"));

	expect_result(fd, SECRET_TOOLONG);
	expect_line(fd, "next");
	expect_result(fd, SECRET_EOF);
	close(fd);

	fd = pipe_with(text, long_line(text, 2 * SECRET_MAX, ""));
	expect_result(fd, SECRET_TOOLONG);
	expect_result(fd, SECRET_EOF);
	close(fd);
}

static void test_bad_fd(void **state)
{
	expect_result(-1, SECRET_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_in_order),	  cmocka_unit_test(test_reads_no_further),
	    cmocka_unit_test(test_empty_input),		  cmocka_unit_test(test_lone_cr),
	    cmocka_unit_test(test_exactly_max),		  cmocka_unit_test(test_toolong_then_next),
	    cmocka_unit_test(test_toolong_crlf_and_huge), cmocka_unit_test(test_bad_fd),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
