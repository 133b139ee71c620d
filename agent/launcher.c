/* sesame-browser: starts the browser of one assisted login for sesame-agent, and ends it and
 * removes its profile when the agent lets go. browser.h says why it exists; docs/protocol.md
 * ("The browser launcher") specifies the exchange.
 *
 *   sesame-browser --child --profiles DIR       per-user mode: the agent's own child, on fd 3
 *   sesame-browser --serve --profiles DIR [--socket PATH]
 *                                                per-user mode, as a service of the user's
 *   sesame-browser --serve --agent-user USER --profiles DIR [--socket PATH]
 *                                                system mode, as the browser account */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "browser.h"
#include "proto.h"

#define LAUNCHER_REQUEST_MAX 16384
#define LAUNCHER_REMOVE_TRIES 20 /* helpers still writing in the profile, 100 ms apart */
#define SD_LISTEN_FDS_START 3

static volatile sig_atomic_t quit;

struct start {
	struct launch_request r;
	int fds[2]; /* the browser's fd 3 (commands) and fd 4 (answers) */
};

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* One framed request with its two descriptors. */
static int recv_request(int fd, cJSON **req, int fds[2])
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} control;
	uint8_t *buf = malloc(LAUNCHER_REQUEST_MAX + PROTO_HEADER_BYTES);
	size_t got = 0, want = PROTO_HEADER_BYTES;
	int nfds = 0, ret = -1;

	fds[0] = fds[1] = -1;
	while (buf != NULL && got < want) {
		struct iovec iov = {buf + got, want - got};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		msg.msg_control = control.buf, msg.msg_controllen = sizeof(control.buf);
		if (poll(&p, 1, BROWSER_START_MS) != 1 ||
		    (n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) <= 0)
			goto out;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		     cm = CMSG_NXTHDR(&msg, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int in[2];
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || k > 2)
				continue;
			memcpy(in, CMSG_DATA(cm), k * sizeof(int));
			for (size_t i = 0; i < k; i++)
				if (nfds < 2)
					fds[nfds++] = in[i];
				else
					close(in[i]);
		}
		got += (size_t)n;
		if (got == PROTO_HEADER_BYTES && want == PROTO_HEADER_BYTES) {
			want = load_be32(buf);
			if (want == 0 || want > LAUNCHER_REQUEST_MAX)
				goto out;
			want += PROTO_HEADER_BYTES;
		}
	}
	if (buf != NULL && nfds == 2 &&
	    proto_parse(buf + PROTO_HEADER_BYTES, want - PROTO_HEADER_BYTES, req) == 0)
		ret = 0;
out:
	if (buf != NULL) {
		sodium_memzero(buf, LAUNCHER_REQUEST_MAX + PROTO_HEADER_BYTES);
		free(buf);
	}
	return ret;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), ret = -1;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) == (ssize_t)len && fsync(fd) == 0)
		ret = 0;
	close(fd);
	return ret;
}

/* The browser must not offer to save or fill a password: whoever sits at the keyboard could
 * then read it back from its password manager while the browser is open. */
static int profile_seed(const char *profile)
{
	static const char prefs[] =
	    "{\"credentials_enable_service\":false,\"credentials_enable_autosignin\":false,"
	    "\"profile\":{\"password_manager_enabled\":false},"
	    "\"autofill\":{\"profile_enabled\":false,\"credit_card_enabled\":false}}\n";
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/Default", profile);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/Default/Preferences", profile);
	return write_file(path, prefs, sizeof(prefs) - 1);
}

/* An Xauthority file with the one cookie: the worker's display and nothing else of theirs. */
static int xauth_write(const char *profile, const struct browser_display *d)
{
	uint8_t
	    rec[6 + BROWSER_DISPLAY_MAX + 2 + sizeof(XAUTH_COOKIE_NAME) + 2 + BROWSER_XAUTH_MAX];
	size_t len = xauth_record(d, rec, sizeof(rec));
	char path[PATH_MAX];
	int ret;

	if (d->cookie_len == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/Xauthority", profile);
	ret = len > 0 ? write_file(path, rec, len) : -1;
	sodium_memzero(rec, sizeof(rec));
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static void profile_remove(const char *dir)
{
	for (int i = 0; i < LAUNCHER_REMOVE_TRIES; i++) {
		struct timespec pause = {0, 100 * 1000 * 1000};
		if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT)
			return;
		nanosleep(&pause, NULL);
	}
}

/* The argument vector: the pipe, the private profile, nothing that calls home or fills. */
static void browser_argv(const struct start *s, const char *profile, char *profile_arg, size_t cap,
			 char **argv)
{
	static const char *const fixed[] = {
	    "--remote-debugging-pipe",
	    "--no-first-run",
	    "--no-default-browser-check",
	    "--disable-background-networking",
	    "--disable-component-update",
	    "--disable-sync",
	    "--disable-extensions",
	    "--disable-quic",
	    "--password-store=basic",
	    "--disable-features=AutofillServerCommunication,PasswordManagerOnboarding",
	};
	size_t n = 0;

	argv[n++] = (char *)s->r.program;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = (char *)fixed[i];
	snprintf(profile_arg, cap, "--user-data-dir=%s", profile);
	argv[n++] = profile_arg;
	if (s->r.headless) {
		argv[n++] = "--headless=new";
		argv[n++] = "--disable-gpu";
	}
	if (geteuid() == 0) /* Chromium refuses to start as root otherwise */
		argv[n++] = "--no-sandbox";
	for (int i = 0; i < s->r.nflags && n < BROWSER_ARGS_MAX - 2; i++)
		argv[n++] = (char *)s->r.flags[i];
	argv[n++] = "about:blank";
	argv[n] = NULL;
}

/* A minimal environment: nothing of the agent's or the worker's but the display. */
static void browser_env(const struct start *s, const char *profile, char env[6][PATH_MAX + 32],
			char **envp)
{
	size_t n = 0;

	snprintf(env[n], sizeof(env[n]), "HOME=%s", profile), envp[n] = env[n], n++;
	snprintf(env[n], sizeof(env[n]), "XDG_CONFIG_HOME=%s/.config", profile), envp[n] = env[n],
										 n++;
	snprintf(env[n], sizeof(env[n]), "XDG_CACHE_HOME=%s/.cache", profile), envp[n] = env[n],
									       n++;
	snprintf(env[n], sizeof(env[n]), "PATH=/usr/bin:/bin"), envp[n] = env[n], n++;
	if (!s->r.headless && s->r.display.x11[0] != '\0') {
		snprintf(env[n], sizeof(env[n]), "DISPLAY=%s", s->r.display.x11), envp[n] = env[n],
										  n++;
		snprintf(env[n], sizeof(env[n]), "XAUTHORITY=%s/Xauthority", profile),
		    envp[n] = env[n], n++;
	}
	envp[n] = NULL;
}

/* Fork the browser in its own process group; an exec failure comes back on a pipe. */
static pid_t browser_fork(const struct start *s, const char *profile, const char **why)
{
	char profile_arg[PATH_MAX + 32], *argv[BROWSER_ARGS_MAX], env[6][PATH_MAX + 32], *envp[7];
	int report[2], err = 0;
	pid_t pid;

	browser_argv(s, profile, profile_arg, sizeof(profile_arg), argv);
	browser_env(s, profile, env, envp);
	if (pipe2(report, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		*why = "cannot start the browser";
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int n = fcntl(null, F_DUPFD, 10), r = fcntl(s->fds[0], F_DUPFD, 10);
		int w = fcntl(s->fds[1], F_DUPFD, 10), e = fcntl(report[1], F_DUPFD_CLOEXEC, 10);
		setpgid(0, 0);
		if (null >= 0 && n >= 0 && r >= 0 && w >= 0 && e >= 0 && dup2(n, 0) == 0 &&
		    dup2(n, 1) == 1 && dup2(n, 2) == 2 && dup2(r, 3) == 3 && dup2(w, 4) == 4) {
			close_range(5, (unsigned)e - 1, 0);
			close_range((unsigned)e + 1, ~0U, 0);
			execve(argv[0], argv, envp);
		}
		err = errno;
		(void)!write(e, &err, sizeof(err));
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whoever runs first */
	close(report[1]);
	if (read(report[0], &err, sizeof(err)) == sizeof(err)) {
		*why = "the browser program could not be run";
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(report[0]);
	return pid;
}

static void reply(int fd, int ok, long long pid, const char *error)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(r, "v", PROTO_VERSION);
	cJSON_AddBoolToObject(r, "ok", ok);
	if (ok)
		cJSON_AddNumberToObject(r, "pid", (double)pid);
	else
		cJSON_AddStringToObject(r, "error", error);
	proto_send(fd, r);
	cJSON_Delete(r);
}

/* Until the agent lets go of fd or the browser exits; then end the browser's whole group. */
static void watch(int fd, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
	long long grace;

	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
		char junk[64];
		int r = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 200);
		if (r < 0 && errno != EINTR)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			pid = -pid; /* reaped: its group may live on */
			break;
		}
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    read(fd, junk, sizeof(junk)) <= 0)
			break;
	}
	if (pid > 0) {
		kill(-pid, SIGTERM);
		for (grace = proto_now_ms() + BROWSER_TERM_GRACE_MS; proto_now_ms() < grace;) {
			struct timespec pause = {0, 20 * 1000 * 1000};
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			nanosleep(&pause, NULL);
		}
	}
	kill(pid > 0 ? -pid : pid,
	     SIGKILL); /* helpers that outlive it would write in the profile */
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (pidfd >= 0)
		close(pidfd);
}

/* One login's browser, from request to removed profile; fd is closed last. */
static void serve_one(int fd, const char *profiles)
{
	struct start *s = calloc(1, sizeof(*s));
	char profile[PATH_MAX];
	const char *why = NULL;
	cJSON *req = NULL;
	pid_t pid = -1;

	profile[0] = '\0';
	if (s == NULL || recv_request(fd, &req, s->fds) != 0) {
		why = "malformed request";
		goto out;
	}
	if ((why = launch_request_parse(req, &s->r)) != NULL)
		goto out;
	if (access(s->r.program, X_OK) != 0) {
		why = "the browser program cannot be run";
		goto out;
	}
	snprintf(profile, sizeof(profile), "%s/" BROWSER_PROFILE_PREFIX "XXXXXX", profiles);
	if (mkdtemp(profile) == NULL || profile_seed(profile) != 0 ||
	    xauth_write(profile, &s->r.display) != 0) {
		why = "cannot create the browser's profile directory";
		goto out;
	}
	pid = browser_fork(s, profile, &why);
out:
	if (s != NULL) {
		for (int i = 0; i < 2; i++)
			if (s->fds[i] >= 0)
				close(s->fds[i]); /* the browser holds them now */
		sodium_memzero(&s->r.display, sizeof(s->r.display));
		free(s);
	}
	cJSON_Delete(req);
	reply(fd, pid > 0, pid, why);
	if (pid > 0)
		watch(fd, pid);
	if (profile[0] != '\0' && strncmp(profile + strlen(profile) - 6, "XXXXXX", 6) != 0)
		profile_remove(profile);
	close(fd);
}

/* System mode: the profiles directory is ours alone, and a profile still in it at start was
 * left by a launcher that was killed. It holds a person's logged-in accounts: remove it. */
static void profiles_sweep(const char *profiles)
{
	DIR *d = opendir(profiles);
	const struct dirent *e;
	char path[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, BROWSER_PROFILE_PREFIX, strlen(BROWSER_PROFILE_PREFIX)) ==
			0 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", profiles, e->d_name) <
			sizeof(path))
			profile_remove(path);
	closedir(d);
}

static int listen_socket(const char *path)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid() &&
	    strtol(fds, NULL, 10) >= 1) {
		fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
		return SD_LISTEN_FDS_START;
	}
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0666) != 0 || /* the directory and the peer check keep others out */
	    listen(fd, 16) != 0)
		return -1;
	return fd;
}

/* Accept the agent's connections, each served by its own child: the agent_user's (system
 * mode, another account) or, without it, our own uid's (per-user mode). */
static int serve(const char *path, const char *agent_user, const char *profiles)
{
	const struct passwd *pw = agent_user != NULL ? getpwnam(agent_user) : NULL;
	uid_t agent_uid = pw != NULL ? pw->pw_uid : getuid();
	struct sigaction sa = {0};
	int lfd;

	if (agent_user != NULL && (pw == NULL || pw->pw_uid == getuid())) {
		fprintf(stderr, "sesame-browser: --agent-user %s is not another account\n",
			agent_user);
		return 1;
	}
	if (agent_user != NULL)
		profiles_sweep(profiles);
	lfd = listen_socket(path);
	if (lfd < 0) {
		fprintf(stderr, "sesame-browser: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!quit) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), status;
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		if (fd < 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    cred.uid != agent_uid) {
			close(fd); /* only the agent's uid: refused before a byte is read */
			continue;
		}
		if (fork() == 0) {
			close(lfd);
			serve_one(fd, profiles);
			_exit(0);
		}
		close(fd);
	}
	if (path != NULL)
		unlink(path);
	return 0;
}

static int usage(FILE *out)
{
	fprintf(out, "Usage: sesame-browser --child --profiles DIR\n"
		     "       sesame-browser --serve [--agent-user USER] --profiles DIR "
		     "[--socket PATH]\n"
		     "Starts the browser of an assisted login for sesame-agent; not for people.\n");
	return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"child", no_argument, NULL, 'c'},
					     {"serve", no_argument, NULL, 's'},
					     {"profiles", required_argument, NULL, 'p'},
					     {"socket", required_argument, NULL, 'S'},
					     {"agent-user", required_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *profiles = NULL, *sock = NULL, *agent_user = NULL;
	int opt, mode = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c' || opt == 's')
			mode = opt;
		else if (opt == 'p')
			profiles = optarg;
		else if (opt == 'S')
			sock = optarg;
		else if (opt == 'a')
			agent_user = optarg;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (mode == 0 || profiles == NULL || profiles[0] != '/' || optind != argc)
		return usage(stderr);
	if (sodium_init() < 0)
		return 1;
	proto_init();
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (mode == 'c') {
		serve_one(3, profiles);
		return 0;
	}
	return serve(sock, agent_user, profiles);
}
