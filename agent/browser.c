/* The agent's side of the browser launcher (browser.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "build-config.h"
#include "browser.h"
#include "proto.h"

/* One framed request with descriptors attached to its first byte. */
static int send_with_fds(int sock, const cJSON *req, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} control;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	uint8_t *frame;
	size_t len;
	ssize_t n;
	int ret = -1;

	if (nfds > 2 || proto_frame(req, &frame, &len) != 0)
		return -1;
	memset(&control, 0, sizeof(control));
	iov = (struct iovec){frame, len};
	msg.msg_iov = &iov, msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		goto out;
	/* the rest, without descriptors */
	if (proto_send_all(sock, frame + n, len - (size_t)n) != 0)
		goto out;
	ret = 0;
out:
	proto_frame_free(frame, len);
	return ret;
}

/* sesame-browser beside this program (a build tree, or both in one directory), else the
 * installed one. */
static void launcher_path(char *out, size_t cap)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, cap, "%s/%s", self, BROWSER_PROGRAM);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "%s/%s", SESAME_LIBEXECDIR, BROWSER_PROGRAM);
}

/* Per-user mode: the launcher as a grandchild of ours (no zombie to reap later), on fd 3. */
static int launcher_spawn(int *ctl, char *err, size_t cap)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX + 64], profiles[PATH_MAX];
	char *argv[] = {path, "--child", "--profiles", profiles, NULL};
	int sv[2], status;
	pid_t pid;

	launcher_path(path, sizeof(path));
	snprintf(profiles, sizeof(profiles), "%s", run != NULL && run[0] == '/' ? run : "/tmp");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		goto fail;
	if ((pid = fork()) < 0) {
		close(sv[0]), close(sv[1]);
		goto fail;
	}
	if (pid == 0) { /* only async-signal-safe calls: the agent has threads */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fork() != 0)
			_exit(0);
		if (dup2(sv[1], 3) != 3)
			_exit(127);
		close_range(4, ~0U, 0);
		execv(path, argv);
		_exit(127);
	}
	close(sv[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*ctl = sv[0];
	return 0;
fail:
	snprintf(err, cap, "cannot start %s: %s", path, strerror(errno));
	return -1;
}

/* A launcher's socket, answered by uid and nobody else: the connection, or -1 with errno. */
static int launcher_dial(const char *path, uid_t uid)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != uid) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* System mode: the launcher's socket, answered by the browser account and nobody else. */
static int launcher_connect(const struct sesame_home *h, int *ctl, char *err, size_t cap)
{
	const struct passwd *pw = getpwnam(h->cfg.browser_user);
	const char *path = h->cfg.browser_socket;

	if (pw == NULL || pw->pw_uid == 0 || pw->pw_uid == getuid()) {
		snprintf(err, cap,
			 "browser_user %s is not a separate account: create it (see "
			 "sesame-agent(8))",
			 h->cfg.browser_user);
		return -1;
	}
	if ((*ctl = launcher_dial(path, pw->pw_uid)) < 0) {
		snprintf(err, cap,
			 "cannot reach the browser launcher at %s as %s: %s (is "
			 "sesame-browser-system.socket started?)",
			 path, h->cfg.browser_user, strerror(errno));
		return -1;
	}
	return 0;
}

/* Per-user mode: the user's own launcher service (sesame-browser.socket, beside the agent's
 * socket), which runs outside the agent's sandbox; -1 when there is none. */
static int launcher_user(const struct sesame_home *h, int *ctl)
{
	char path[PATH_MAX + 32];
	const char *slash = strrchr(h->socket, '/');

	if (slash == NULL)
		return -1;
	snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - h->socket), h->socket,
		 BROWSER_USER_SOCKET);
	return (*ctl = launcher_dial(path, getuid())) < 0 ? -1 : 0;
}

/* The launcher for this agent: system mode's service, else the user's service or a child. */
static int launcher_open(const struct sesame_home *h, int *ctl, char *err, size_t cap)
{
	if (h->system)
		return launcher_connect(h, ctl, err, cap);
	if (launcher_user(h, ctl) == 0)
		return 0;
	return launcher_spawn(ctl, err, cap);
}

static cJSON *start_request(const struct sesame_home *h, const struct browser_display *d,
			    int headless, const char **flags, int nflags)
{
	cJSON *req = cJSON_CreateObject(), *arr, *disp;
	char hex[2 * BROWSER_XAUTH_MAX + 1];

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	cJSON_AddStringToObject(req, "op", "start");
	cJSON_AddStringToObject(req, "program", h->cfg.browser);
	arr = cJSON_AddArrayToObject(req, "flags");
	for (int i = 0; i < nflags; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(flags[i]));
	cJSON_AddBoolToObject(req, "headless", headless || d->x11[0] == '\0');
	if (!headless && d->x11[0] != '\0') {
		disp = cJSON_AddObjectToObject(req, "display");
		cJSON_AddStringToObject(disp, "x11", d->x11);
		sodium_bin2hex(hex, sizeof(hex), d->cookie, d->cookie_len);
		cJSON_AddStringToObject(disp, "xauth", hex);
		sodium_memzero(hex, sizeof(hex));
	}
	return req;
}

/* Send the request with the browser's ends of the pipe, and read the launcher's answer. */
static int launcher_exchange(struct browser *b, cJSON *req, char *err, size_t cap)
{
	int cmd[2] = {-1, -1}, ev[2] = {-1, -1}, theirs[2], ret = -1;
	cJSON *rep = NULL;
	long long pid;

	if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(ev, O_CLOEXEC) != 0) {
		snprintf(err, cap, "cannot make the browser's pipe: %s", strerror(errno));
		goto out;
	}
	theirs[0] = cmd[0], theirs[1] = ev[1]; /* the browser reads fd 3, writes fd 4 */
	if (send_with_fds(b->ctl, req, theirs, 2) != 0 ||
	    proto_recv(b->ctl, &rep, BROWSER_START_MS) != 0) {
		snprintf(err, cap, "the browser launcher did not answer: %s", strerror(errno));
		goto out;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "ok")) ||
	    proto_int(rep, "pid", &pid) != 0 || pid <= 0) {
		const char *why = proto_string(rep, "error");
		snprintf(err, cap, "%s", why != NULL ? why : "the browser launcher refused");
		goto out;
	}
	b->pid = (pid_t)pid;
	b->wfd = cmd[1], b->rfd = ev[0];
	cmd[1] = ev[0] = -1;
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (cmd[i] >= 0)
			close(cmd[i]);
		if (ev[i] >= 0)
			close(ev[i]);
	}
	cJSON_Delete(rep);
	return ret;
}

int browser_start(const struct sesame_home *h, const struct browser_display *d, int headless,
		  struct browser *b, char *err, size_t cap)
{
	char flags_buf[CONFIG_BROWSER_FLAGS_MAX];
	const char *flags[BROWSER_FLAGS_MAX], *bad;
	cJSON *req;
	int n, ret;

	memset(b, 0, sizeof(*b));
	b->rfd = b->wfd = b->ctl = -1;
	snprintf(b->program, sizeof(b->program), "%s", h->cfg.browser);
	snprintf(flags_buf, sizeof(flags_buf), "%s", h->cfg.browser_flags);
	if ((n = browser_flags_split(flags_buf, flags, BROWSER_FLAGS_MAX, &bad)) < 0) {
		const char *why = browser_flag_refused(bad);
		snprintf(err, cap, "sesame.conf: browser_flags: %.60s is refused (%s): remove it",
			 bad, why != NULL ? why : "too many flags");
		return -1;
	}
	if (launcher_open(h, &b->ctl, err, cap) != 0)
		return -1;
	req = start_request(h, d, headless, flags, n);
	ret = launcher_exchange(b, req, err, cap);
	cJSON_Delete(req); /* wiped by the hooks: it held the display's cookie */
	if (ret != 0)
		browser_end(b);
	return ret;
}

void browser_end(struct browser *b)
{
	long long left = BROWSER_END_MS;

	if (b->rfd >= 0)
		close(b->rfd);
	if (b->wfd >= 0)
		close(b->wfd);
	b->rfd = b->wfd = -1;
	if (b->ctl < 0)
		return;
	shutdown(b->ctl, SHUT_WR); /* the launcher ends the browser, then closes its side */
	while (left > 0) {
		struct pollfd p = {b->ctl, POLLIN, 0};
		char junk[64];
		int r = poll(&p, 1, 100);
		if (r > 0 && read(b->ctl, junk, sizeof(junk)) <= 0)
			break;
		if (r < 0 && errno != EINTR)
			break;
		left -= 100;
	}
	close(b->ctl);
	b->ctl = -1;
}
