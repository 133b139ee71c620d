/* One request to sesame-agent on a worker thread. The socket, the start on demand and the
 * bounded waits follow the sesame command's client (cli/client.c); the failures come back as
 * a GError in the person's words instead of a line on standard error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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

#include <glib/gi18n.h>
#include <sodium.h>

#include "agent.h"
#include "home.h"
#include "launch.h"
#include "proto.h"

G_DEFINE_QUARK(sesame - gui - agent - error - quark, gui_agent_error)

/* A connected socket, or -1 with errno (EAGAIN: the backlog stayed full). */
static int agent_connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	long long deadline = proto_now_ms() + GUI_AGENT_CONNECT_WAIT_MS;
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		struct timespec pause = {0, GUI_AGENT_RETRY_MS * 1000 * 1000};
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

/* sesame-agent beside this program (installed bindir, or the build tree), else PATH. */
static void agent_program(char *out, size_t cap)
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

/* Start an agent in a session of its own, its standard error on a pipe we read while we wait.
 * posix_spawn, not fork: this process has threads (GTK's, GLib's). */
static int agent_start(pid_t *pid, int *err)
{
	char path[PATH_MAX + 32];
	char *argv[] = {"sesame-agent", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2], ret;

	agent_program(path, sizeof(path));
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	ret = posix_spawnp(pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (ret != 0) {
		close(pipefd[0]);
		errno = ret;
		return -1;
	}
	*err = pipefd[0];
	return 0;
}

static void agent_reaped(GPid pid, gint status, gpointer data)
{
	g_spawn_close_pid(pid);
}

/* Wait for the started agent's socket, or its end (its standard error closes: then say what it
 * said), or the bound. The main loop reaps it (agent_reaped), so its end is seen on the pipe. */
static int agent_started_connect(const struct sesame_home *home, pid_t pid, int err, GError **error)
{
	long long deadline = proto_now_ms() + GUI_AGENT_START_WAIT_MS;
	char said[GUI_AGENT_SAID_MAX], chunk[256];
	size_t len = 0;
	int fd;

	while (proto_now_ms() < deadline) {
		struct pollfd pfd = {err, POLLIN, 0};
		ssize_t n;

		if ((fd = agent_connect_to(home->socket)) >= 0)
			return fd;
		if (poll(&pfd, 1, GUI_AGENT_RETRY_MS) <= 0)
			continue;
		if ((n = read(err, chunk, sizeof(chunk))) > 0) {
			size_t take = MIN((size_t)n, sizeof(said) - 1 - len);
			memcpy(said + len, chunk, take);
			len += take;
			continue;
		}
		said[len] = '\0';
		said[strcspn(said, "\n")] = '\0';
		g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_UNREACHABLE,
			    _("the agent could not start: %s"),
			    said[0] != '\0' ? said : _("it said nothing"));
		return -1;
	}
	g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_UNREACHABLE,
		    _("the agent started (pid %ld) but did not open %s within %d s"), (long)pid,
		    home->socket, GUI_AGENT_START_WAIT_MS / 1000);
	return -1;
}

/* No agent listens: start one, unless the installation is missing. */
static int agent_start_connect(const struct sesame_home *home, GError **error)
{
	char path[PATH_MAX + 32];
	struct stat st;
	pid_t pid;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", home->dir, VAULT_INSTALLATION_FILE);
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_NOT_INSTALLED,
			    _("Sesame is not installed in %s yet: run \"sesame init\" first"),
			    home->dir);
		return -1;
	}
	if (agent_start(&pid, &err) != 0) {
		g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_UNREACHABLE,
			    _("cannot reach the agent at %s: %s"), home->socket, g_strerror(errno));
		return -1;
	}
	g_child_watch_add(pid, agent_reaped, NULL); /* reaped whenever it ends */
	fd = agent_started_connect(home, pid, err, error);
	close(err);
	return fd;
}

/* A socket to the agent, starting one when none listens. Requests run on several threads at
 * once (the people and the status at start): one of them starts the agent, the others wait
 * for it and then connect, so that two agents never race for one socket. */
static int agent_connect(const struct sesame_home *home, GError **error)
{
	static GMutex starting;
	int fd = agent_connect_to(home->socket);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		if (getenv("SESAME_AGENT_SOCK") == NULL &&
		    (fd = agent_connect_to(HOME_SYSTEM_SOCKET)) >= 0)
			return fd; /* a structure's shared agent */
		g_mutex_lock(&starting);
		if ((fd = agent_connect_to(home->socket)) < 0 &&
		    (errno == ENOENT || errno == ECONNREFUSED))
			fd = agent_start_connect(home, error);
		else if (fd < 0)
			g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_UNREACHABLE,
				    _("cannot reach the agent at %s: %s"), home->socket,
				    g_strerror(errno));
		g_mutex_unlock(&starting);
		return fd;
	}
	g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_UNREACHABLE,
		    _("cannot reach the agent at %s: %s"), home->socket, g_strerror(errno));
	return -1;
}

/* How long a request may wait for its reply. */
static int agent_reply_wait(const cJSON *req)
{
	static const char *const pin_ops[] = {"unlock", "enroll", "pin", "pin_check", "recover"};
	const char *op = proto_string(req, "op");

	if (op != NULL && strcmp(op, "login") == 0)
		return GUI_AGENT_LOGIN_WAIT_MS;
	for (size_t i = 0; op != NULL && i < G_N_ELEMENTS(pin_ops); i++)
		if (strcmp(op, pin_ops[i]) == 0)
			return GUI_AGENT_PIN_WAIT_MS;
	return GUI_AGENT_ANSWER_WAIT_MS;
}

static cJSON *agent_exchange(int fd, const cJSON *req, GError **error)
{
	int wait_ms = agent_reply_wait(req), flags = fcntl(fd, F_GETFL);
	struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
	cJSON *reply = NULL;

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    proto_send(fd, req) != 0 || proto_recv(fd, &reply, wait_ms) != 0) {
		if (errno == ETIMEDOUT || errno == EAGAIN)
			g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_SILENT,
				    _("the agent does not answer: no reply within %d s; it is "
				      "stopped or stuck"),
				    wait_ms / 1000);
		else
			g_set_error(error, GUI_AGENT_ERROR, GUI_AGENT_ERROR_GONE,
				    _("the agent stopped before it answered: try again (it is "
				      "started again on demand)"));
		return NULL;
	}
	return reply;
}

static void agent_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	cJSON *req = data, *reply = NULL;
	struct sesame_home home;
	GError *error = NULL;
	int fd;

	if (home_resolve(&home, 0) != VAULT_OK) {
		g_task_return_new_error(task, GUI_AGENT_ERROR, GUI_AGENT_ERROR_CONFIG,
					_("%s cannot be read: correct it (man sesame-agent lists "
					  "the settings)"),
					home.config_path[0] != '\0' ? home.config_path
								    : "sesame.conf");
		return;
	}
	if ((fd = agent_connect(&home, &error)) >= 0) {
		reply = agent_exchange(fd, req, &error);
		close(fd);
	}
	if (reply != NULL)
		g_task_return_pointer(task, reply, (GDestroyNotify)cJSON_Delete);
	else
		g_task_return_error(task, error);
}

void gui_agent_call_async(cJSON *req, GAsyncReadyCallback cb, gpointer data)
{
	GTask *task = g_task_new(NULL, NULL, cb, data);

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	g_task_set_task_data(task, req, (GDestroyNotify)cJSON_Delete);
	g_task_run_in_thread(task, agent_thread);
	g_object_unref(task);
}

cJSON *gui_agent_call_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* The worker's cookie for display number num, from $XAUTHORITY or ~/.Xauthority. */
static size_t agent_xauth_cookie(const char *num, uint8_t cookie[BROWSER_XAUTH_MAX])
{
	const char *file = getenv("XAUTHORITY");
	uint8_t *buf = sodium_malloc(XAUTH_FILE_MAX);
	char path[PATH_MAX], host[256] = "";
	size_t n = 0, len = 0;
	ssize_t r;
	int fd;

	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/.Xauthority", g_get_home_dir());
	if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		sodium_free(buf);
		return 0;
	}
	while (n < XAUTH_FILE_MAX && (r = read(fd, buf + n, XAUTH_FILE_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	gethostname(host, sizeof(host) - 1);
	len = xauth_find(buf, n, num, host, cookie);
	sodium_free(buf); /* wiped: it held every cookie of the worker's */
	return len;
}

cJSON *gui_agent_display(void)
{
	const char *display = getenv("DISPLAY"), *colon;
	char num[16], hex[2 * BROWSER_XAUTH_MAX + 1];
	uint8_t cookie[BROWSER_XAUTH_MAX];
	size_t clen;
	cJSON *d;

	if (display == NULL || (colon = strrchr(display, ':')) == NULL)
		return NULL;
	snprintf(num, sizeof(num), "%.*s", (int)strcspn(colon + 1, "."), colon + 1);
	clen = agent_xauth_cookie(num, cookie);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "x11", display);
	if (clen > 0) {
		sodium_bin2hex(hex, sizeof(hex), cookie, clen);
		cJSON_AddStringToObject(d, "xauth", hex); /* the hooks wipe the tree */
	}
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(hex, sizeof(hex));
	return d;
}
