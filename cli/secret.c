/* Reading a secret from the person, through pinentry and its Assuan protocol, or from a file
 * descriptor. Every buffer that may hold a byte of the secret is a sodium_malloc buffer: the
 * reply lines of the pinentry, the decoded data, the line read from a descriptor.
 *
 * The Assuan client is this file, not libassuan. libassuan reads a reply into line buffers of its
 * context and decodes a D line there in place: plain heap memory from its allocation hooks
 * (malloc, realloc, free), neither locked nor guarded, wiped when the context is released, or
 * after each D line with ASSUAN_CONFIDENTIAL from 3.0 on (Debian 12 has 2.5). The PIN would pass
 * through that memory before any sodium_malloc buffer. It also reads with a blocking read(): a
 * timeout on a hung pinentry would need I/O hooks of our own, which is this loop again. What we
 * use of the protocol is small: one command at a time; OK, ERR, D, S, comments, and INQUIRE,
 * answered with CAN. */
#include "error.h"
#include "fileio.h"
#include "secret.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

extern char **environ;

#define PINENTRY_ENV "SESAME_PINENTRY"
#define PINENTRY_DEFAULT "pinentry"

/* What we send stays within 1000 bytes, newline included, as the protocol asks. */
#define ASSUAN_SEND_MAX 1000

/* libgpg-error codes are 32-bit (10 digits at most); the code is in the low 16 bits, the high
 * bits name the source. */
#define GPG_ERR_DIGITS_MAX 10
#define GPG_ERR_CODE_MASK 0xFFFFu
#define GPG_ERR_CANCELED 99
#define GPG_ERR_FULLY_CANCELED 198

/* How often we ask for a repeated secret ourselves before giving up on a mismatch. */
#define SECRET_REPEAT_TRIES 3
#define SECRET_MISMATCH_DEFAULT "The two entries differ."
/* Sent when the caller gives no label, so the repeat label of a previous round does not stay. */
#define SECRET_PROMPT_DEFAULT "PIN:"

/* Every reply but GETPIN's comes at once; a program that never answers (not a pinentry at all)
 * must not hang the command. GETPIN waits for the person as long as the pinentry does. */
#define PINENTRY_REPLY_TIMEOUT_MS 15000

/* A pinentry that does not go after an error gets this long to exit before SIGKILL. */
#define PINENTRY_KILL_WAIT_MS 1000
#define PINENTRY_KILL_STEP_MS 10

/* Internal only: the pinentry answered ERR to a command (e.g. one it does not know); in the
 * module's range, apart from every code of secret.h. */
#define PE_REFUSED (-399)

struct pinentry {
	pid_t pid;
	int to;	     /* its stdin */
	int from;    /* its stdout */
	char *line;  /* sodium_malloc, SECRET_ASSUAN_LINE_MAX: a reply line may carry the secret */
	int timeout; /* for each byte of a reply, in ms; -1 while the person types */
	bool repeated; /* it sent "S PIN_REPEATED": it asked twice and compared itself */
};

/* One byte per read(2), so nothing past the line is consumed: 1 read, 0 end of file, -1 error. */
static int fd_read_byte(int fd, char *c)
{
	ssize_t n;

	do
		n = read(fd, c, 1);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : (int)n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* 1 when fd can be read, 0 after timeout_ms (-1: no limit) without, -1 on error. */
static int fd_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Reads one reply line into pe->line; *len counts its bytes before the LF. */
static int pe_read_line(struct pinentry *pe, size_t *len)
{
	size_t n = 0;

	for (;;) {
		if (n == SECRET_ASSUAN_LINE_MAX || fd_wait(pe->from, pe->timeout) != 1 ||
		    fd_read_byte(pe->from, pe->line + n) != 1)
			return SECRET_FAILED;
		if (pe->line[n] == '\n')
			break;
		n++;
	}
	*len = n;
	return SECRET_OK;
}

/* Appends the percent-decoded payload of a "D " line, straight into the guarded buffer. */
static int reply_data(struct secret_reply *r, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = 0, lo = 0;

		if (r->len == SECRET_MAX) {
			/* Keep reading the reply so the protocol stays in step. */
			r->toolong = true;
			return SECRET_LINE_MORE;
		}
		if (s[i] != '%') {
			r->data[r->len++] = s[i];
			continue;
		}
		hi = i + 1 < len ? text_hex_digit(s[i + 1]) : -1;
		lo = hi < 0 || i + 2 >= len ? -1 : text_hex_digit(s[i + 2]);
		/* A NUL inside would make the C string lie about the secret's length. */
		if (lo < 0 || (hi | lo) == 0)
			return SECRET_FAILED;
		r->data[r->len++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return SECRET_LINE_MORE;
}

/* "WORD" alone or followed by a space and arguments. */
static bool reply_is(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

/* The code of "ERR code description", 0 if there is none. */
static unsigned reply_error(const char *s, size_t len)
{
	unsigned long long code = 0;
	size_t i = 0, digits = 0;

	while (i < len && s[i] == ' ')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (digits == GPG_ERR_DIGITS_MAX)
			return 0;
		code = code * 10 + (unsigned long long)(s[i] - '0');
	}
	return (unsigned)(code & GPG_ERR_CODE_MASK);
}

int secret_reply_line(struct secret_reply *r, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* A NUL could only cut a secret short, or hide the rest of a line. */
	if (memchr(line, '\0', len) != NULL)
		return SECRET_FAILED;
	if (reply_is(line, len, "OK"))
		return SECRET_LINE_OK;
	if (reply_is(line, len, "ERR")) {
		r->error = reply_error(line + 3, len - 3);
		return SECRET_LINE_ERR;
	}
	if (len >= 2 && line[0] == 'D' && line[1] == ' ')
		return r->data != NULL ? reply_data(r, line + 2, len - 2) : SECRET_FAILED;
	if (reply_is(line, len, "S")) {
		if (len > 2 && reply_is(line + 2, len - 2, "PIN_REPEATED"))
			r->repeated = true;
		return SECRET_LINE_MORE;
	}
	if (len > 0 && line[0] == '#')
		return SECRET_LINE_MORE;
	if (reply_is(line, len, "INQUIRE"))
		return SECRET_LINE_INQUIRE;
	return SECRET_FAILED;
}

/* Reads lines up to OK or ERR into r, whose data may be NULL when none is due. */
static int pe_read_reply(struct pinentry *pe, struct secret_reply *r)
{
	size_t len = 0;
	int ret;

	do {
		ret = pe_read_line(pe, &len);
		if (ret == SECRET_OK)
			ret = secret_reply_line(r, pe->line, len);
		sodium_memzero(pe->line, SECRET_ASSUAN_LINE_MAX);
		/* We never have anything to give; CAN makes the pinentry finish with ERR. */
		if (ret == SECRET_LINE_INQUIRE && fileio_write_all(pe->to, "CAN\n", 4) != VAULT_OK)
			ret = SECRET_FAILED;
	} while (ret == SECRET_LINE_MORE || ret == SECRET_LINE_INQUIRE);
	if (ret == SECRET_LINE_ERR)
		return r->error == GPG_ERR_CANCELED || r->error == GPG_ERR_FULLY_CANCELED
			   ? SECRET_CANCELLED
			   : PE_REFUSED;
	return ret == SECRET_LINE_OK ? SECRET_OK : ret;
}

/* A command's reply that carries no data. */
static int pe_read_ack(struct pinentry *pe)
{
	struct secret_reply none = {0};

	return pe_read_reply(pe, &none);
}

/* Percent-encodes text into out so it fits in room bytes. A longer text is cut at the start of
 * a UTF-8 character, so the pinentry never shows half of one. Returns the length written. */
static size_t assuan_encode(char *out, size_t room, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text;
	size_t len = 0, boundary = 0;

	for (; *p != '\0'; p++) {
		/* CR and LF would end the line; '%' would start an escape; escape all controls. */
		bool escape = *p == '%' || *p < 0x20 || *p == 0x7f;

		if ((*p & 0xC0) != 0x80)
			boundary = len;
		if (len + (escape ? 3 : 1) > room)
			return boundary;
		if (!escape) {
			out[len++] = (char)*p;
			continue;
		}
		out[len++] = '%';
		out[len++] = hex[*p >> 4];
		out[len++] = hex[*p & 0xF];
	}
	return len;
}

/* Sends "VERB" or "VERB arg", the argument percent-encoded and cut to fit one line. */
static int pe_send(struct pinentry *pe, const char *verb, const char *arg)
{
	char line[ASSUAN_SEND_MAX];
	size_t len = strlen(verb);

	memcpy(line, verb, len);
	if (arg != NULL) {
		line[len++] = ' ';
		len += assuan_encode(line + len, sizeof(line) - len - 1, arg);
	}
	line[len++] = '\n';
	return fileio_write_all(pe->to, line, len) == VAULT_OK ? SECRET_OK : SECRET_FAILED;
}

static int pe_transact(struct pinentry *pe, const char *verb, const char *arg)
{
	int ret = pe_send(pe, verb, arg);

	return ret == SECRET_OK ? pe_read_ack(pe) : ret;
}

/* Option values go unencoded (Assuan does not decode them), so one that could break the line
 * or smuggle a command, e.g. a hostile $TERM, is simply not sent. */
static bool option_value_ok(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '%')
			return false;
	return true;
}

static int pe_option(struct pinentry *pe, const char *name, const char *value)
{
	char line[ASSUAN_SEND_MAX];
	int n = 0, ret = SECRET_OK;

	if (value == NULL || !option_value_ok(value))
		return SECRET_OK;
	n = snprintf(line, sizeof(line), "OPTION %s=%s\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return SECRET_OK;
	if (fileio_write_all(pe->to, line, (size_t)n) != VAULT_OK)
		return SECRET_FAILED;
	ret = pe_read_ack(pe);
	/* An option this pinentry does not know is not a reason to fail. */
	return ret == PE_REFUSED ? SECRET_OK : ret;
}

/* Where and in which language to ask: the terminal of stdin, and our locale. */
static int pe_options(struct pinentry *pe)
{
	char tty[PATH_MAX];
	int ret = SECRET_OK;

	if (isatty(STDIN_FILENO) && ttyname_r(STDIN_FILENO, tty, sizeof(tty)) == 0) {
		ret = pe_option(pe, "ttyname", tty);
		if (ret == SECRET_OK)
			ret = pe_option(pe, "ttytype", getenv("TERM"));
	}
	if (ret == SECRET_OK)
		ret = pe_option(pe, "lc-ctype", setlocale(LC_CTYPE, NULL));
	if (ret == SECRET_OK)
		ret = pe_option(pe, "lc-messages", setlocale(LC_MESSAGES, NULL));
	return ret;
}

static int pe_set_text(struct pinentry *pe, const char *verb, const char *text)
{
	return text != NULL ? pe_transact(pe, verb, text) : SECRET_OK;
}

static int pe_describe(struct pinentry *pe, const struct secret_prompt *prompt)
{
	int ret = pe_set_text(pe, "SETTITLE", prompt->title);

	if (ret == SECRET_OK)
		ret = pe_set_text(pe, "SETDESC", prompt->description);
	/* a pinentry without labels of its own keeps its buttons: not a reason to fail */
	if (ret == SECRET_OK && (ret = pe_set_text(pe, "SETOK", prompt->ok)) == PE_REFUSED)
		ret = SECRET_OK;
	if (ret == SECRET_OK && (ret = pe_set_text(pe, "SETCANCEL", prompt->cancel)) == PE_REFUSED)
		ret = SECRET_OK;
	return ret;
}

/* The pipes are O_CLOEXEC and every other descriptor is closed in the child: the pinentry gets
 * only its stdin, stdout and our stderr. SIGPIPE, ignored here during the exchange, goes back
 * to its default there, and no signal stays blocked. */
static int pe_spawn(struct pinentry *pe, const char *program, int in, int out)
{
	char *argv[] = {(char *)program, NULL};
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t sigdefault, sigmask;
	int ret = SECRET_FAILED;

	if (posix_spawn_file_actions_init(&actions) != 0)
		return SECRET_FAILED;
	if (posix_spawnattr_init(&attr) != 0)
		goto out_actions;
	sigemptyset(&sigdefault);
	sigaddset(&sigdefault, SIGPIPE);
	sigemptyset(&sigmask);
	/* in was created first, so it is below out and the two dup2 cannot clobber each other. */
	if (posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO) != 0 ||
	    posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &sigdefault) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &sigmask) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0)
		goto out;
	if (posix_spawnp(&pe->pid, program, &actions, &attr, argv, environ) != 0) {
		pe->pid = -1;
		goto out;
	}
	ret = SECRET_OK;
out:
	posix_spawnattr_destroy(&attr);
out_actions:
	posix_spawn_file_actions_destroy(&actions);
	return ret;
}

static int pe_start(struct pinentry *pe)
{
	const char *program = getenv(PINENTRY_ENV);
	int to[2] = {-1, -1}, from[2] = {-1, -1};
	int ret = SECRET_FAILED;

	if (program == NULL || *program == '\0')
		program = PINENTRY_DEFAULT;
	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
		goto out;
	ret = pe_spawn(pe, program, to[0], from[1]);
	if (ret != SECRET_OK)
		goto out;
	pe->to = to[1];
	pe->from = from[0];
	to[1] = from[0] = -1;
out:
	close_fd(&to[0]);
	close_fd(&to[1]);
	close_fd(&from[0]);
	close_fd(&from[1]);
	return ret;
}

static pid_t wait_child(pid_t pid, int flags)
{
	int status = 0;
	pid_t r;

	do
		r = waitpid(pid, &status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

/* SIGTERM lets a curses pinentry restore the terminal; SIGKILL if it does not go in time. */
static void pe_kill(pid_t pid)
{
	const struct timespec step = {0, PINENTRY_KILL_STEP_MS * 1000000L};
	int waited = 0;

	kill(pid, SIGTERM);
	for (; waited < PINENTRY_KILL_WAIT_MS; waited += PINENTRY_KILL_STEP_MS) {
		if (wait_child(pid, WNOHANG) != 0)
			return;
		nanosleep(&step, NULL);
	}
	kill(pid, SIGKILL);
	wait_child(pid, 0);
}

/* After a clean exchange BYE ends it; after an error it may be stuck, so it is killed. */
static void pe_stop(struct pinentry *pe, bool clean)
{
	if (pe->pid > 0 && clean && pe_transact(pe, "BYE", NULL) != SECRET_OK)
		clean = false;
	close_fd(&pe->to);
	close_fd(&pe->from);
	if (pe->pid > 0 && clean)
		wait_child(pe->pid, 0);
	else if (pe->pid > 0)
		pe_kill(pe->pid);
	pe->pid = -1;
}

/* One GETPIN, with its label and an optional error shown above it. */
static int pe_getpin(struct pinentry *pe, const char *label, const char *error, char **pin)
{
	struct secret_reply r = {0};
	int ret = pe_set_text(pe, "SETERROR", error);

	*pin = NULL;
	if (ret == SECRET_OK)
		ret = pe_set_text(pe, "SETPROMPT", label);
	if (ret != SECRET_OK)
		return ret;
	r.data = sodium_malloc(SECRET_MAX + 1);
	if (r.data == NULL)
		return SECRET_FAILED;
	pe->timeout = -1;
	ret = pe_send(pe, "GETPIN", NULL);
	if (ret == SECRET_OK)
		ret = pe_read_reply(pe, &r);
	pe->timeout = PINENTRY_REPLY_TIMEOUT_MS;
	pe->repeated = r.repeated;
	if (ret == SECRET_OK && r.toolong)
		ret = SECRET_TOOLONG;
	if (ret != SECRET_OK) {
		sodium_free(r.data);
		return ret;
	}
	r.data[r.len] = '\0';
	*pin = r.data;
	return SECRET_OK;
}

/* Lengths first (that much leaks anyway), then the bytes in constant time. */
static bool secret_equal(const char *a, const char *b)
{
	size_t len = strlen(a);

	return len == strlen(b) && sodium_memcmp(a, b, len) == 0;
}

/* Asks the pinentry to repeat the question itself; one that cannot gets asked twice by us. */
static int pe_set_repeat(struct pinentry *pe, const char *repeat, const char *mismatch)
{
	int ret = pe_transact(pe, "SETREPEAT", repeat);

	if (ret == SECRET_OK)
		ret = pe_transact(pe, "SETREPEATERROR", mismatch);
	return ret == PE_REFUSED ? SECRET_OK : ret;
}

static int pe_ask(struct pinentry *pe, const struct secret_prompt *prompt, char **secret)
{
	const char *mismatch = prompt->mismatch ? prompt->mismatch : SECRET_MISMATCH_DEFAULT;
	const char *label = prompt->prompt ? prompt->prompt : SECRET_PROMPT_DEFAULT;
	const char *error = prompt->error;
	char *first = NULL, *second = NULL;
	int ret = SECRET_OK, tries = 0;

	if (prompt->repeat != NULL)
		ret = pe_set_repeat(pe, prompt->repeat, mismatch);
	for (; ret == SECRET_OK && tries < SECRET_REPEAT_TRIES; tries++) {
		ret = pe_getpin(pe, label, error, &first);
		/* PIN_REPEATED: the pinentry already made the person type it twice, identically. */
		if (ret != SECRET_OK || prompt->repeat == NULL || pe->repeated)
			goto out;
		ret = pe_getpin(pe, prompt->repeat, NULL, &second);
		if (ret != SECRET_OK || secret_equal(first, second))
			goto out;
		sodium_free(first);
		sodium_free(second);
		first = second = NULL;
		error = mismatch;
	}
	if (ret == SECRET_OK)
		ret = SECRET_MISMATCH;
out:
	sodium_free(second);
	if (ret == SECRET_OK)
		*secret = first;
	else
		sodium_free(first);
	return ret;
}

int secret_pinentry(const struct secret_prompt *prompt, char **secret)
{
	struct pinentry pe = {
	    .pid = -1, .to = -1, .from = -1, .timeout = PINENTRY_REPLY_TIMEOUT_MS};
	struct sigaction ignore = {.sa_handler = SIG_IGN}, saved;
	int ret = SECRET_FAILED;

	*secret = NULL;
	/* A pinentry that dies must give us EPIPE, not kill us with SIGPIPE. */
	sigemptyset(&ignore.sa_mask);
	if (sigaction(SIGPIPE, &ignore, &saved) != 0)
		return SECRET_FAILED;
	pe.line = sodium_malloc(SECRET_ASSUAN_LINE_MAX);
	if (pe.line == NULL)
		goto out;
	ret = pe_start(&pe);
	if (ret == SECRET_OK)
		ret = pe_read_ack(&pe); /* the greeting, "OK ..." */
	if (ret == SECRET_OK)
		ret = pe_options(&pe);
	if (ret == SECRET_OK)
		ret = pe_describe(&pe, prompt);
	if (ret == SECRET_OK)
		ret = pe_ask(&pe, prompt, secret);
	pe_stop(&pe, ret == SECRET_OK || ret == SECRET_CANCELLED || ret == SECRET_TOOLONG ||
			 ret == SECRET_MISMATCH);
	if (ret == PE_REFUSED)
		ret = SECRET_FAILED;
out:
	sodium_free(pe.line);
	sigaction(SIGPIPE, &saved, NULL);
	return ret;
}

/* Reads and drops the rest of an over-long line, so the next call starts on the next line. */
static int fd_skip_line(int fd)
{
	char c = 0;
	int r;

	do
		r = fd_read_byte(fd, &c);
	while (r == 1 && c != '\n');
	sodium_memzero(&c, sizeof(c));
	return r < 0 ? SECRET_FAILED : SECRET_TOOLONG;
}

int secret_from_fd(int fd, char **secret)
{
	/* Room for SECRET_MAX bytes, a CR before the newline, one byte to tell "too long", NUL. */
	const size_t room = SECRET_MAX + 2;
	char *buf = sodium_malloc(room + 1);
	size_t len = 0;
	int ret = SECRET_FAILED, r = 0;

	*secret = NULL;
	if (buf == NULL)
		return SECRET_FAILED;
	for (;;) {
		if (len == room) {
			ret = fd_skip_line(fd);
			goto out;
		}
		r = fd_read_byte(fd, buf + len);
		if (r < 0)
			goto out;
		if (r == 0 || buf[len] == '\n')
			break;
		len++;
	}
	ret = SECRET_OK;
	if (r == 0 && len == 0)
		ret = SECRET_EOF;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > SECRET_MAX)
		ret = SECRET_TOOLONG;
	buf[len] = '\0';
out:
	if (ret == SECRET_OK)
		*secret = buf;
	else
		sodium_free(buf);
	return ret;
}
