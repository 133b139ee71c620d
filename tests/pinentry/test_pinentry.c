/* secret_pinentry against the real pinentry-tty, in a pseudo-terminal. A child process whose
 * stdin, stdout and stderr are the pty's slave calls secret_pinentry and reports the result's
 * code, length and hash (never the secret) on a pipe; the test reads the pty's screen, waits
 * for the texts the person would see, and types as the person would. Every wait is bounded,
 * so a stuck pinentry fails the test instead of hanging it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

#ifndef PINENTRY_TTY
#define PINENTRY_TTY "/usr/bin/pinentry-tty"
#endif
#ifndef PINENTRY_NOREPEAT
#define PINENTRY_NOREPEAT "pinentry_norepeat"
#endif

#define STEP_TIMEOUT_MS 10000
#define SCREEN_MAX 65536
#define RESULT_MAX 256
#define HASH_HEX (2 * crypto_generichash_BYTES + 1)
/* secret.c waits 15 s for a reply other than GETPIN's. */
#define SILENT_MIN_MS 14000
#define SILENT_MAX_MS 30000
#define EXIT_SKIP 77 /* meson's code for a skipped test */

#define ERROR_TEXT "Wrong PIN, 3 attempts left"
#define MISMATCH_TEXT "Les deux codes diffèrent"

struct session {
	pid_t pid;
	int master;  /* the pty: what the person sees and types */
	int result;  /* the child's report */
	bool closed; /* the slave side is gone */
	char screen[SCREEN_MAX];
	size_t len;
	size_t seen; /* the screen before this was matched by an earlier wait */
};

struct outcome {
	int ret;
	size_t len;
	char hash[HASH_HEX];
};

static void hash_hex(const char *secret, size_t len, char hex[HASH_HEX])
{
	unsigned char hash[crypto_generichash_BYTES];

	crypto_generichash(hash, sizeof(hash), (const unsigned char *)secret, len, NULL, 0);
	sodium_bin2hex(hex, HASH_HEX, hash, sizeof(hash));
}

/* In the child: ask, then report "code length hash" and leave without running cmocka's code. */
static void child_run(const char *pinentry, const struct secret_prompt *prompt, int out)
{
	char report[RESULT_MAX], hex[HASH_HEX];
	char *secret = NULL;
	size_t len = 0;
	int ret, n;

	setenv("SESAME_PINENTRY", pinentry, 1);
	setenv("PINENTRY_NOREPEAT_REAL", PINENTRY_TTY, 1);
	setenv("TERM", "dumb", 1);
	setlocale(LC_ALL, "C.UTF-8");
	ret = secret_pinentry(prompt, &secret);
	if (secret != NULL)
		len = strlen(secret);
	hash_hex(secret != NULL ? secret : "", len, hex);
	sodium_free(secret);
	n = snprintf(report, sizeof(report), "%d %zu %s\n", ret, len, hex);
	_exit(write(out, report, (size_t)n) == n ? 0 : 1);
}

static struct session *session_start(const char *pinentry, const struct secret_prompt *prompt)
{
	struct session *s = calloc(1, sizeof(*s));
	int fds[2];

	assert_non_null(s);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	s->pid = forkpty(&s->master, NULL, NULL, NULL);
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(fds[0]);
		child_run(pinentry, prompt, fds[1]);
	}
	close(fds[1]);
	s->result = fds[0];
	return s;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Adds what the pty shows within timeout_ms to the screen. */
static void session_pump(struct session *s, int timeout_ms)
{
	struct pollfd pfd = {.fd = s->master, .events = POLLIN};
	ssize_t n;

	if (s->closed || poll(&pfd, 1, timeout_ms) <= 0)
		return;
	assert_true(s->len < sizeof(s->screen));
	n = read(s->master, s->screen + s->len, sizeof(s->screen) - s->len);
	if (n > 0)
		s->len += (size_t)n;
	else if (n == 0 || errno != EINTR)
		s->closed = true; /* EIO: every slave descriptor is closed */
}

/* Waits until text shows on the screen after what earlier waits matched. */
static bool session_wait_for(struct session *s, const char *text)
{
	long deadline = now_ms() + STEP_TIMEOUT_MS;
	const char *found;

	for (;;) {
		found = memmem(s->screen + s->seen, s->len - s->seen, text, strlen(text));
		if (found != NULL) {
			s->seen = (size_t)(found - s->screen) + strlen(text);
			return true;
		}
		if (s->closed || now_ms() > deadline)
			break;
		session_pump(s, 50);
	}
	print_error("never saw \"%s\"; the screen:\n%.*s\n", text, (int)s->len, s->screen);
	return false;
}

static void session_type(struct session *s, const char *keys)
{
	assert_int_equal(write(s->master, keys, strlen(keys)), (ssize_t)strlen(keys));
}

static bool screen_has(const struct session *s, const char *text)
{
	return memmem(s->screen, s->len, text, strlen(text)) != NULL;
}

/* Reads the child's report, showing the pty meanwhile so its output never blocks. */
static void session_outcome(struct session *s, struct outcome *out)
{
	char report[RESULT_MAX] = {0};
	long deadline = now_ms() + STEP_TIMEOUT_MS;
	size_t len = 0;
	ssize_t n;

	while (memchr(report, '\n', len) == NULL) {
		struct pollfd pfd = {.fd = s->result, .events = POLLIN};

		assert_true(now_ms() < deadline);
		session_pump(s, 0);
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(s->result, report + len, sizeof(report) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	assert_int_equal(sscanf(report, "%d %zu %64s", &out->ret, &out->len, out->hash), 3);
}

/* Kills what is left (the child, and with the pty's hangup its pinentry) and reaps the child. */
static void session_end(struct session *s)
{
	int status = 0;

	if (waitpid(s->pid, &status, WNOHANG) == 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
	close(s->master);
	close(s->result);
	free(s);
}

static void assert_outcome(struct session *s, int ret, const char *pin)
{
	struct outcome out = {0};
	char hex[HASH_HEX];

	session_outcome(s, &out);
	assert_int_equal(out.ret, ret);
	if (pin == NULL)
		return;
	hash_hex(pin, strlen(pin), hex);
	assert_int_equal(out.len, strlen(pin));
	assert_string_equal(out.hash, hex);
}

static const struct secret_prompt pin_prompt = {
    .title = "Sesame",
    .description = "Rendez-vous CAF : 100% sûr\nTapez votre code",
    .prompt = "Code PIN:",
    .error = ERROR_TEXT,
};

/* The person sees the description (escaped %, line break, UTF-8) and the error, types a PIN
 * containing '%', and it comes back decoded and was never echoed. */
static void test_pin_once(void **state)
{
	struct session *s = session_start(PINENTRY_TTY, &pin_prompt);

	assert_true(session_wait_for(s, ERROR_TEXT));
	assert_true(session_wait_for(s, "Rendez-vous CAF : 100% sûr\r\nTapez votre code"));
	assert_true(session_wait_for(s, "Code PIN:"));
	session_type(s, "12%34\r");
	assert_outcome(s, SECRET_OK, "12%34");
	assert_false(screen_has(s, "12%34"));
	session_end(s);
}

/* Ctrl-D on the empty field is end of file for pinentry-tty: "Operation cancelled". */
static void test_cancel(void **state)
{
	struct session *s = session_start(PINENTRY_TTY, &pin_prompt);

	assert_true(session_wait_for(s, "Code PIN:"));
	session_type(s, "\x04");
	assert_outcome(s, SECRET_CANCELLED, NULL);
	session_end(s);
}

static void type_pin(struct session *s, const char *label, const char *pin)
{
	assert_true(session_wait_for(s, label));
	session_type(s, pin);
}

static const struct secret_prompt twice_prompt = {
    .title = "Sesame",
    .description = "Choisissez votre code",
    .prompt = "Code PIN:",
    .repeat = "Encore une fois:",
    .mismatch = MISMATCH_TEXT,
};

/* Two different entries show the mismatch text, then two equal ones are accepted. */
static void run_twice(const char *pinentry, bool proxied)
{
	struct session *s = session_start(pinentry, &twice_prompt);

	type_pin(s, "Code PIN:", "1111\r");
	type_pin(s, "Encore une fois:", "2222\r");
	assert_true(session_wait_for(s, MISMATCH_TEXT));
	type_pin(s, "Code PIN:", "3333\r");
	type_pin(s, "Encore une fois:", "3333\r");
	assert_outcome(s, SECRET_OK, "3333");
	assert_true(screen_has(s, "norepeat: refused SETREPEAT") == proxied);
	session_end(s);
}

/* pinentry-tty does SETREPEAT itself. */
static void test_twice_native(void **state)
{
	run_twice(PINENTRY_TTY, false);
}

/* Behind a proxy that refuses SETREPEAT, secret.c asks twice and compares. */
static void test_twice_fallback(void **state)
{
	run_twice(PINENTRY_NOREPEAT, true);
}

static void test_twice_fallback_gives_up(void **state)
{
	struct session *s = session_start(PINENTRY_NOREPEAT, &twice_prompt);
	int i;

	for (i = 0; i < 3; i++) {
		type_pin(s, "Code PIN:", "1111\r");
		type_pin(s, "Encore une fois:", "2222\r");
		if (i < 2)
			assert_true(session_wait_for(s, MISMATCH_TEXT));
	}
	assert_outcome(s, SECRET_MISMATCH, NULL);
	session_end(s);
}

/* A PIN of exactly SECRET_MAX bytes comes in more than one D line; one more is refused. */
static void run_long_pin(size_t len, int ret)
{
	struct session *s = session_start(PINENTRY_TTY, &pin_prompt);
	char pin[SECRET_MAX + 8];

	assert_true(len < sizeof(pin) - 1);
	memset(pin, 'x', len);
	pin[len] = '\0';
	type_pin(s, "Code PIN:", pin);
	session_type(s, "\r");
	assert_outcome(s, ret, ret == SECRET_OK ? pin : NULL);
	session_end(s);
}

static void test_pin_max(void **state)
{
	run_long_pin(SECRET_MAX, SECRET_OK);
}

static void test_pin_toolong(void **state)
{
	run_long_pin(SECRET_MAX + 1, SECRET_TOOLONG);
}

/* A description too long for one Assuan line is cut, and cut between two characters. */
static void test_long_description(void **state)
{
	static const char e_acute[] = "\xc3\xa9";
	struct secret_prompt prompt = pin_prompt;
	char description[1500 * 2 + 8] = {0};
	struct session *s;
	const char *p;
	int i;

	for (i = 0; i < 1500; i++)
		strcat(description, e_acute);
	strcat(description, "FIN");
	prompt.description = description;
	prompt.error = NULL;
	s = session_start(PINENTRY_TTY, &prompt);
	type_pin(s, "Code PIN:", "1\r");
	assert_outcome(s, SECRET_OK, "1");
	p = memmem(s->screen, s->len, e_acute, 2);
	assert_non_null(p);
	while (memcmp(p, e_acute, 2) == 0)
		p += 2;
	assert_memory_equal(p, "\r\n", 2);
	assert_true((p - (const char *)memmem(s->screen, s->len, e_acute, 2)) / 2 > 400);
	assert_false(screen_has(s, "FIN"));
	session_end(s);
}

/* Whatever secret_pinentry started was reaped. */
static void assert_no_children(void)
{
	int status = 0;

	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* No pinentry, or a program that does not speak Assuan: an error, not a hang. */
static void test_no_pinentry(void **state)
{
	static const char *const programs[] = {"/nonexistent/pinentry", "/bin/true"};
	char *secret = NULL;
	size_t i;

	for (i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		setenv("SESAME_PINENTRY", programs[i], 1);
		assert_int_equal(secret_pinentry(&pin_prompt, &secret), SECRET_FAILED);
		assert_null(secret);
		assert_no_children();
	}
	unsetenv("SESAME_PINENTRY");
}

/* A program that never greets (cat waits for us as we wait for it) is given up on after the
 * reply timeout, and killed. Slow by nature, so a test of its own. */
static void test_silent_program(void **state)
{
	char *secret = NULL;
	long start = now_ms(), elapsed;

	setenv("SESAME_PINENTRY", "cat", 1);
	assert_int_equal(secret_pinentry(&pin_prompt, &secret), SECRET_FAILED);
	elapsed = now_ms() - start;
	assert_null(secret);
	assert_true(elapsed >= SILENT_MIN_MS && elapsed < SILENT_MAX_MS);
	assert_no_children();
	unsetenv("SESAME_PINENTRY");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pin_once),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_twice_native),
	    cmocka_unit_test(test_twice_fallback),
	    cmocka_unit_test(test_twice_fallback_gives_up),
	    cmocka_unit_test(test_pin_max),
	    cmocka_unit_test(test_pin_toolong),
	    cmocka_unit_test(test_long_description),
	    cmocka_unit_test(test_no_pinentry),
	};
	const struct CMUnitTest slow_tests[] = {
	    cmocka_unit_test(test_silent_program),
	};

	if (access(PINENTRY_TTY, X_OK) != 0) {
		fprintf(stderr, "SKIP: %s missing (Debian package pinentry-tty)\n", PINENTRY_TTY);
		return EXIT_SKIP;
	}
	if (sodium_init() < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "slow") == 0)
		return cmocka_run_group_tests(slow_tests, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
