/* Talking to the agent: connect to its socket, starting a per-user agent on demand as gpg does,
 * send one request and wait for its reply. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

/* Every wait has a bound, and running out of it says which wait it was (sesame(1), "WAITS"). */
#define CLIENT_CONNECT_WAIT_MS 5000 /* a live agent accepts at once; a full backlog is retried */
#define CLIENT_START_WAIT_MS 10000  /* an agent started on demand opens its socket */
#define CLIENT_ANSWER_WAIT_MS 15000 /* a request the agent's loop answers by itself */
#define CLIENT_REPLY_WAIT_MS 120000 /* a PIN check, which may wait behind others */
#define CLIENT_REFUSAL_WAIT_MS 1000 /* an answer already sent, read after a failed send */
#define CLIENT_RETRY_MS 20
#define CLIENT_START_MESSAGE_MAX 1024 /* what a failing agent says on standard error */

/* A connected socket, or -1 with errno: EAGAIN once the agent's backlog stayed full for
 * CLIENT_CONNECT_WAIT_MS (a stopped or overwhelmed agent), ENOENT or ECONNREFUSED when no agent
 * listens. */
static int connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	long long deadline = proto_now_ms() + CLIENT_CONNECT_WAIT_MS;
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		struct timespec pause = {0, CLIENT_RETRY_MS * 1000 * 1000};
		if (errno != EAGAIN || proto_now_ms() >= deadline) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	return fd;
}

/* sesame-agent beside this program (the build tree, or the installed bindir), else PATH. */
static void agent_path(char *out, size_t cap)
{
	const char *env = getenv("SESAME_AGENT_PROGRAM");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && env[0] == '/') {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, cap, "%s/sesame-agent", self);
			if (access(out, X_OK) == 0)
				return;
			snprintf(out, cap, "%s/../agent/sesame-agent", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "sesame-agent");
}

/* An agent started on demand, while this command waits for its socket: its pid, and the read
 * end of its standard error, so that an agent that cannot start says why. */
struct started {
	pid_t pid;
	int err;
	char said[CLIENT_START_MESSAGE_MAX];
	size_t said_len;
};

/* Start an agent in a session of its own, as gpg starts gpg-agent; it outlives this command,
 * which reaps it only if it ends while we wait. */
static int start_agent(struct started *st)
{
	char path[PATH_MAX + 32];
	int pipefd[2];

	agent_path(path, sizeof(path));
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	if ((st->pid = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (st->pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		setsid();
		dup2(null, 0), dup2(null, 1), dup2(pipefd[1], 2);
		close_range(3, ~0U, 0); /* --pin-fd pipes and the like stay with us */
		execlp(path, "sesame-agent", (char *)NULL);
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	st->err = pipefd[0];
	return 0;
}

/* Keep what the starting agent writes, up to the buffer's size; waits at most ms. */
static void started_listen(struct started *st, int ms)
{
	struct pollfd pfd = {st->err, POLLIN, 0};
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return;
	n = read(st->err, st->said + st->said_len, sizeof(st->said) - 1 - st->said_len);
	if (n > 0)
		st->said_len += (size_t)n;
	st->said[st->said_len] = '\0';
}

/* The agent ended before it listened: say what it said. */
static void started_failed(struct started *st, int status)
{
	size_t len;

	started_listen(st, 0);
	len = strcspn(st->said, "\n");
	st->said[len] = '\0';
	if (len > 0)
		cli_error(_("the agent could not start: %s"), st->said);
	else
		cli_error(_("the agent could not start (exit status %d) and said nothing"),
			  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Wait for the started agent's socket, or its end, or the bound. */
static int started_connect(const struct sesame_home *home, struct started *st)
{
	long long deadline = proto_now_ms() + CLIENT_START_WAIT_MS;
	int fd = -1, status;

	while (proto_now_ms() < deadline) {
		if ((fd = connect_to(home->socket)) >= 0)
			return fd;
		if (waitpid(st->pid, &status, WNOHANG) == st->pid) {
			started_failed(st, status);
			return -1;
		}
		started_listen(st, CLIENT_RETRY_MS);
	}
	cli_error(_("the agent started (pid %ld) but did not open %s within %d s; it may be stuck "
		    "on a file of the installation (stop it with kill %ld)"),
		  (long)st->pid, home->socket, CLIENT_START_WAIT_MS / 1000, (long)st->pid);
	return -1;
}

/* Before sesame init, or with an unsafe directory, an agent started on demand could only
 * exit: say so at once. */
static int can_start(const struct sesame_home *home)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", home->dir, VAULT_INSTALLATION_FILE);
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		cli_error(_("Sesame is not installed in %s yet: run \"sesame init\" first"),
			  home->dir);
		return 0;
	}
	if (home_unsafe_path(home, path, sizeof(path))) {
		cli_unsafe(path);
		return 0;
	}
	return 1; /* else the agent says what is wrong */
}

/* A socket to the agent, starting one when none listens; reports its own failures. */
static int connect_agent(const struct sesame_home *home)
{
	struct started st = {.err = -1};
	int fd = connect_to(home->socket);

	if (fd < 0 && errno == EAGAIN) {
		cli_error(_("the agent at %s accepts no connection within %d s: it is stopped, or "
			    "too many connections wait"),
			  home->socket, CLIENT_CONNECT_WAIT_MS / 1000);
		return -1;
	}
	if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
		goto out;
	if (getenv("SESAME_AGENT_SOCK") == NULL &&
	    (fd = connect_to(HOME_SYSTEM_SOCKET)) >= 0) /* a structure's shared agent */
		return fd;
	if (!can_start(home))
		return -1;
	if (start_agent(&st) != 0)
		goto out;
	fd = started_connect(home, &st);
	close(st.err);
	return fd;
out:
	if (fd < 0)
		cli_error(_("cannot reach the agent at %s: %s"), home->socket, strerror(errno));
	return fd;
}

/* How long a request may wait for its reply: PIN checks queue behind each other. */
static int reply_wait(const cJSON *req, int wait_ms)
{
	static const char *const pin_ops[] = {"unlock", "enroll", "pin", "recover", "export"};
	const char *op = proto_string(req, "op");

	if (wait_ms >= 0)
		return wait_ms;
	for (size_t i = 0; op != NULL && i < sizeof(pin_ops) / sizeof(pin_ops[0]); i++)
		if (strcmp(op, pin_ops[i]) == 0)
			return CLIENT_REPLY_WAIT_MS;
	return CLIENT_ANSWER_WAIT_MS;
}

/* No reply within the bound: the agent is alive (it accepted) but does not answer. */
static void report_silence(int fd, int wait_ms)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		cli_error(
		    _("the agent (pid %ld) does not answer: no reply within %d s; it is stopped "
		      "or stuck (kill -CONT %ld, or restart it)"),
		    (long)cred.pid, wait_ms / 1000, (long)cred.pid);
	else
		cli_error(
		    _("the agent does not answer: no reply within %d s; it is stopped or stuck"),
		    wait_ms / 1000);
}

/* The request, with the descriptor file beside its first byte (SCM_RIGHTS). */
static int send_with_fd(int fd, const cJSON *req, int file)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	uint8_t *buf;
	size_t len;
	ssize_t n;
	int ret = -1;

	if (proto_frame(req, &buf, &len) != 0)
		return -1;
	memset(&control, 0, sizeof(control));
	iov = (struct iovec){buf, len};
	msg.msg_iov = &iov, msg.msg_iovlen = 1;
	msg.msg_control = control.buf, msg.msg_controllen = sizeof(control.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &file, sizeof(int));
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		ret = proto_send_all(fd, buf + n, len - (size_t)n);
	proto_frame_free(buf, len);
	return ret;
}

/* Send the request (with file, unless it is -1) and wait for the reply, each within wait_ms. */
static int exchange(int fd, const cJSON *req, cJSON **reply, int wait_ms, int file)
{
	struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	if ((file >= 0 ? send_with_fd(fd, req, file) : proto_send(fd, req)) != 0) {
		int e = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
		/* an agent that refuses a connection (PROTO_E_LIMIT) answers and hangs up at once,
		 * maybe before our request went: its answer is still there to read */
		if (e == EPIPE && proto_recv(fd, reply, CLIENT_REFUSAL_WAIT_MS) == 0)
			return 0;
		errno = e;
		return -1;
	}
	return proto_recv(fd, reply, wait_ms);
}

int client_call(const struct sesame_home *home, cJSON *req, cJSON **reply)
{
	return client_call_wait(home, req, reply, -1);
}

int client_call_wait(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms)
{
	return client_call_file(home, req, reply, wait_ms, -1);
}

int client_call_file(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms,
		     int file)
{
	int fd, ret = -1;

	*reply = NULL;
	wait_ms = reply_wait(req, wait_ms);
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if ((fd = connect_agent(home)) < 0)
		goto out;
	if (exchange(fd, req, reply, wait_ms, file) != 0) {
		if (errno == ETIMEDOUT)
			report_silence(fd, wait_ms);
		else if (errno == EPIPE || errno == ECONNRESET)
			/* the agent hangs up before a reply on a peer it does not accept, or it
			 * died */
			cli_error(_("the agent refused this connection or stopped: is this account "
				    "in the structure's worker group? (else see the agent's log)"));
		else
			cli_error(_("the agent did not answer: %s"), strerror(errno));
	} else {
		ret = 0;
	}
	close(fd);
out:
	cJSON_Delete(req);
	return ret;
}

int client_failed(const cJSON *reply, int json)
{
	long long code = VAULT_E_IO;
	char text[CLI_MESSAGE_MAX];

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return EXIT_OK;
	proto_int(reply, "code", &code);
	if (!json)
		cli_damaged_report(reply); /* the files a refusal is about come first */
	if (json)
		cli_json_print(cJSON_Duplicate(reply, 1));
	else if (code == VAULT_E_PERM && proto_string(reply, "path") != NULL)
		cli_unsafe(proto_string(reply, "path"));
	else if (proto_string(reply, "path") != NULL)
		cli_error("%s: %s", proto_string(reply, "path"), cli_strerror((int)code));
	else if (cli_reply_message(reply, text, sizeof(text)) == 0)
		cli_error("%s", text);
	else
		cli_error("%s", cli_strerror((int)code));
	return cli_exit_for((int)code);
}

int cli_run(const struct sesame_home *home, cJSON *req, int json,
	    void (*show)(const cJSON *reply, void *ctx), void *ctx)
{
	cJSON *reply;
	int ret;

	if (client_call(home, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else if (show != NULL)
			show(reply, ctx);
	}
	cJSON_Delete(reply);
	return ret;
}
