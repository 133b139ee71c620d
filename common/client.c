/* Talking to the agent (client.h): the socket, the start on demand and the bounded waits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
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

#include "client.h"
#include "proto.h"

extern char **environ;

static void client_fail(struct client_error *e, enum client_failure what, int err)
{
	e->what = what;
	e->err = err;
}

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

/* sesame-agent beside this program (the installed bindir, or the build tree), else PATH. */
static void agent_path(char *out, size_t cap)
{
	const char *env = getenv("SESAME_AGENT_PROGRAM");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && env[0] == '/') {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
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

/* An agent started on demand, while the caller waits for its socket: its pid, and the read end
 * of its standard error, so that an agent that cannot start says why. */
struct started {
	pid_t pid;
	int err;
	size_t said_len;
};

/* Start an agent in a session of its own, as gpg starts gpg-agent; it outlives the caller.
 * posix_spawn, not fork: the caller may have threads (GTK's, GLib's). */
static int start_agent(struct started *st, struct client_error *e)
{
	char path[PATH_MAX + 32];
	char *argv[] = {"sesame-agent", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2], ret;

	agent_path(path, sizeof(path));
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		client_fail(e, CLIENT_FAIL_UNREACHABLE, errno);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* --pin-fd pipes and the like */
	ret = posix_spawnp(&st->pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (ret != 0) {
		close(pipefd[0]);
		client_fail(e, CLIENT_FAIL_START, 0);
		e->status = 127 << 8; /* as a shell says of a program it cannot run */
		snprintf(e->said, sizeof(e->said), "%.*s: %s", CLIENT_START_MESSAGE_MAX / 2, path,
			 strerror(ret));
		return -1;
	}
	st->err = pipefd[0];
	return 0;
}

/* Keep what the starting agent writes, up to the buffer's size; waits at most ms. */
static void started_listen(struct started *st, char *said, size_t cap, int ms)
{
	struct pollfd pfd = {st->err, POLLIN, 0};
	ssize_t n;

	if (poll(&pfd, 1, ms) > 0 &&
	    (n = read(st->err, said + st->said_len, cap - 1 - st->said_len)) > 0)
		st->said_len += (size_t)n;
	said[st->said_len] = '\0';
}

/* Wait for the started agent's socket, or its end (then keep the first line it said), or the
 * bound. */
static int started_connect(const struct sesame_home *home, struct started *st,
			   struct client_error *e)
{
	long long deadline = proto_now_ms() + CLIENT_START_WAIT_MS;
	int fd, status;

	e->said[0] = '\0';
	while (proto_now_ms() < deadline) {
		if ((fd = connect_to(home->socket)) >= 0)
			return fd;
		if (waitpid(st->pid, &status, WNOHANG) == st->pid) {
			started_listen(st, e->said, sizeof(e->said), 0);
			e->said[strcspn(e->said, "\n")] = '\0';
			client_fail(e, CLIENT_FAIL_START, 0);
			e->status = status;
			st->pid = 0; /* reaped */
			return -1;
		}
		started_listen(st, e->said, sizeof(e->said), CLIENT_RETRY_MS);
	}
	client_fail(e, CLIENT_FAIL_START_WAIT, 0);
	e->pid = (long)st->pid;
	return -1;
}

/* Before sesame init, or with an unsafe directory, an agent started on demand could only exit:
 * say so at once. */
static int can_start(const struct sesame_home *home, struct client_error *e)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", home->dir, VAULT_INSTALLATION_FILE);
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		client_fail(e, CLIENT_FAIL_NOT_INSTALLED, ENOENT);
		return 0;
	}
	if (home_unsafe_path(home, e->path, sizeof(e->path))) {
		client_fail(e, CLIENT_FAIL_UNSAFE, 0);
		return 0;
	}
	return 1; /* else the agent says what is wrong */
}

/* No agent listens on home's socket: start one, unless another thread did meanwhile. */
static int start_connect(const struct sesame_home *home, pid_t *started, struct client_error *e)
{
	static pthread_mutex_t starting = PTHREAD_MUTEX_INITIALIZER;
	struct started st = {.err = -1};
	int fd;

	pthread_mutex_lock(&starting);
	if ((fd = connect_to(home->socket)) >= 0)
		goto out;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		client_fail(e, CLIENT_FAIL_UNREACHABLE, errno);
		goto out;
	}
	if (!can_start(home, e) || start_agent(&st, e) != 0)
		goto out;
	fd = started_connect(home, &st, e);
	close(st.err);
	*started = st.pid;
out:
	pthread_mutex_unlock(&starting);
	return fd;
}

int client_connect(const struct sesame_home *home, pid_t *started, struct client_error *e)
{
	int fd = connect_to(home->socket);

	*started = 0;
	if (fd >= 0)
		return fd;
	if (errno == EAGAIN) {
		client_fail(e, CLIENT_FAIL_BACKLOG, EAGAIN);
		e->wait_ms = CLIENT_CONNECT_WAIT_MS;
		return -1;
	}
	if (errno != ENOENT && errno != ECONNREFUSED) {
		client_fail(e, CLIENT_FAIL_UNREACHABLE, errno);
		return -1;
	}
	if (getenv("SESAME_AGENT_SOCK") == NULL &&
	    (fd = connect_to(HOME_SYSTEM_SOCKET)) >= 0) /* a structure's shared agent */
		return fd;
	return start_connect(home, started, e);
}

int client_reply_wait(const cJSON *req)
{
	/* a PIN check, which may wait behind others, or a read of the whole log on the pool */
	static const char *const pin_ops[] = {"unlock",	 "enroll", "pin",     "pin_check",
					      "recover", "export", "history", "mine"};
	const char *op = proto_string(req, "op");

	if (op != NULL && strcmp(op, "login") == 0)
		return CLIENT_LOGIN_WAIT_MS;
	for (size_t i = 0; op != NULL && i < sizeof(pin_ops) / sizeof(pin_ops[0]); i++)
		if (strcmp(op, pin_ops[i]) == 0)
			return CLIENT_PIN_WAIT_MS;
	return CLIENT_ANSWER_WAIT_MS;
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

static int send_recv(int fd, const cJSON *req, cJSON **reply, int wait_ms, int file)
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

int client_exchange(int fd, const cJSON *req, cJSON **reply, int wait_ms, int file,
		    struct client_error *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*reply = NULL;
	if (send_recv(fd, req, reply, wait_ms, file) == 0)
		return 0;
	if (errno == ETIMEDOUT || errno == EAGAIN) {
		client_fail(e, CLIENT_FAIL_SILENT, ETIMEDOUT);
		e->wait_ms = wait_ms;
		e->pid = 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
			e->pid = (long)cred.pid;
	} else if (errno == EPIPE || errno == ECONNRESET) {
		/* the agent hangs up before a reply on a peer it does not accept, or it died */
		client_fail(e, CLIENT_FAIL_HUNG_UP, errno);
	} else {
		client_fail(e, CLIENT_FAIL_EXCHANGE, errno);
	}
	return -1;
}

int client_request(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms, int file,
		   pid_t *started, struct client_error *e)
{
	int fd, ret;

	*reply = NULL;
	if (wait_ms < 0)
		wait_ms = client_reply_wait(req);
	if (cJSON_GetObjectItemCaseSensitive(req, "v") == NULL)
		cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if ((fd = client_connect(home, started, e)) < 0)
		return -1;
	ret = client_exchange(fd, req, reply, wait_ms, file, e);
	close(fd);
	return ret;
}
