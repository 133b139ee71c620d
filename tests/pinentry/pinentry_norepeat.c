/* A pinentry without SETREPEAT, as older ones were: it runs the real pinentry given in argv[1]
 * (or $PINENTRY_NOREPEAT_REAL) and relays the Assuan exchange, except SETREPEAT and
 * SETREPEATERROR, which it refuses itself. It lets the tests drive secret.c's own
 * "ask twice and compare" path through the real pinentry-tty. Test code: the PIN passes
 * through stdio buffers here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048
/* What a pinentry answers to a command it does not know (GPG_ERR_ASS_UNKNOWN_CMD). */
#define REFUSE_REPLY "ERR 536871187 Unknown IPC command <User defined source 1>\n"

static int spawn(const char *program, FILE **to, FILE **from, pid_t *pid)
{
	int in[2], out[2];

	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl(program, program, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = fdopen(in[1], "w");
	*from = fdopen(out[0], "r");
	return *to != NULL && *from != NULL ? 0 : -1;
}

/* Copies reply lines from the real pinentry to our client, up to OK or ERR. */
static int relay_reply(FILE *from)
{
	char line[LINE_MAX_BYTES];

	while (fgets(line, sizeof(line), from) != NULL) {
		fputs(line, stdout);
		fflush(stdout);
		if (strncmp(line, "OK", 2) == 0 || strncmp(line, "ERR", 3) == 0)
			return 0;
	}
	return -1;
}

static int is_command(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	return strncmp(line, verb, n) == 0 && (line[n] == ' ' || line[n] == '\n');
}

int main(int argc, char **argv)
{
	const char *real = argc > 1 ? argv[1] : getenv("PINENTRY_NOREPEAT_REAL");
	char line[LINE_MAX_BYTES];
	FILE *to = NULL, *from = NULL;
	pid_t pid = -1;
	int status = 0;

	if (real == NULL || spawn(real, &to, &from, &pid) != 0 || relay_reply(from) != 0)
		return 1;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (is_command(line, "SETREPEAT") || is_command(line, "SETREPEATERROR")) {
			/* On the pinentry's terminal, so a test can see this path was taken. */
			fprintf(stderr, "norepeat: refused %.*s\n", (int)strcspn(line, " \n"),
				line);
			fputs(REFUSE_REPLY, stdout);
			fflush(stdout);
			continue;
		}
		fputs(line, to);
		fflush(to);
		if (relay_reply(from) != 0)
			break;
	}
	fclose(to);
	fclose(from);
	waitpid(pid, &status, 0);
	return 0;
}
