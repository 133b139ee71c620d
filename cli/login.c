/* sesame login USER SERVICE: the assisted login. This command starts the browser with a fresh
 * private profile and --remote-debugging-pipe, hands the pipe's ends to the agent over the
 * socket (SCM_RIGHTS) and keeps no copy: only the agent talks to the browser, so the password
 * never passes through this process. A small waiter process owns the browser and removes the
 * profile directory when it exits. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

#define LOGIN_DEFAULT_BROWSER "/usr/bin/chromium"
#define LOGIN_REPLY_WAIT_MS 180000 /* the agent's own waits end well before */
#define LOGIN_CLOSE_WAIT_MS 5000   /* the browser exits once the agent closes its pipe */
#define LOGIN_REMOVE_TRIES 20	   /* helpers still writing in the profile, 100 ms apart */
#define LOGIN_ARGS_MAX 32
#define LOGIN_FLAGS_MAX 1024
#define LOGIN_CODE_FAILED (-106) /* the agent's "the login did not fill" (agent/cdp.h) */

struct login_opts {
	const char *user, *service, *purpose, *screenshot;
	int headless, no_submit, keep_open, json, pin_fd;
};

/* The browser's side of things: the waiter's pid, the browser's, and the profile directory. */
struct browser {
	pid_t waiter, pid;
	int to_agent[3]; /* [0] reads the browser's fd 4, [1] writes its fd 3, [2] screenshot */
	char profile[256];
};

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame login USER SERVICE [--headless] [--purpose TEXT] "
		  "[--no-submit]\n"
		  "                    [--keep-open] [--screenshot FILE] [--pin-fd N] "
		  "[--json]\n"
		  "Open the service's login page in a browser and let the agent fill it in: "
		  "the\npassword goes from the vault to the page, never through your hands. "
		  "The person\ntypes their PIN first if no session is open.\n"
		  "With a display the browser stays open for the procedure; headless, it "
		  "closes after\nthe login unless --keep-open. SESAME_BROWSER names the "
		  "browser (default %s),\nSESAME_BROWSER_FLAGS adds flags.\n"),
		LOGIN_DEFAULT_BROWSER);
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Is a session open with this person (id or enrolled name)? */
static int has_session(const struct sesame_home *h, const char *user)
{
	cJSON *req = cJSON_CreateObject(), *reply, *s;
	int found = 0;

	cJSON_AddStringToObject(req, "op", "status");
	if (client_call(h, req, &reply) != 0)
		return -1;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "sessions"))
	{
		const char *id = proto_string(s, "user"), *name = proto_string(s, "name");
		if ((id != NULL && strcmp(id, user) == 0) ||
		    (name != NULL && strcmp(name, user) == 0))
			found = 1;
	}
	cJSON_Delete(reply);
	return found;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static int profile_remove(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT ? -1 : 0;
}

/* The browser must not offer to save the password it saw typed: whoever sits at the keyboard
 * could then read it back from its password manager while the browser is open. */
static int profile_seed(const char *profile)
{
	static const char prefs[] =
	    "{\"credentials_enable_service\":false,\"credentials_enable_autosignin\":false,"
	    "\"profile\":{\"password_manager_enabled\":false},"
	    "\"autofill\":{\"profile_enabled\":false,\"credit_card_enabled\":false}}\n";
	char path[300];
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/Default", profile);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/Default/Preferences", profile);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (write(fd, prefs, sizeof(prefs) - 1) == (ssize_t)sizeof(prefs) - 1)
		ret = 0;
	close(fd);
	return ret;
}

/* The argument vector: the configured browser, its pipe, a private profile, nothing that
 * calls home, and whatever SESAME_BROWSER_FLAGS adds. */
static void browser_argv(const struct login_opts *o, const char *profile, char *flags,
			 char *profile_arg, size_t cap, char **argv)
{
	const char *env = getenv("SESAME_BROWSER");
	size_t n = 0;

	argv[n++] = (char *)(env != NULL && env[0] == '/' ? env : LOGIN_DEFAULT_BROWSER);
	argv[n++] = "--remote-debugging-pipe";
	snprintf(profile_arg, cap, "--user-data-dir=%s", profile);
	argv[n++] = profile_arg;
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = "--disable-quic";
	argv[n++] = "--password-store=basic";
	if (o->headless) {
		argv[n++] = "--headless=new";
		argv[n++] = "--disable-gpu";
	}
	if (geteuid() == 0) /* Chromium refuses to start as root otherwise */
		argv[n++] = "--no-sandbox";
	for (char *save = NULL, *f = strtok_r(flags, " ", &save);
	     f != NULL && n < LOGIN_ARGS_MAX - 2; f = strtok_r(NULL, " ", &save))
		argv[n++] = f;
	argv[n++] = "about:blank";
	argv[n] = NULL;
}

/* In the browser's process: its pipe ends become fds 3 and 4, nothing else is inherited. */
static void browser_exec(char **argv, int cmd_read, int ev_write)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* above every target first, so no dup2 below overwrites a descriptor still needed */
	int n = fcntl(null, F_DUPFD, 10), r = fcntl(cmd_read, F_DUPFD, 10);
	int w = fcntl(ev_write, F_DUPFD, 10);

	if (null < 0 || n < 0 || r < 0 || w < 0 || dup2(n, 0) != 0 || dup2(n, 1) != 1 ||
	    dup2(n, 2) != 2 || dup2(r, 3) != 3 || dup2(w, 4) != 4)
		_exit(127);
	close_range(5, ~0U, 0);
	execv(argv[0], argv);
	_exit(127);
}

/* The waiter: starts the browser, tells us its pid, and cleans the profile up at its exit. */
static void waiter_run(char **argv, const char *profile, int cmd_read, int ev_write, int report)
{
	pid_t pid = fork();
	int status, null;

	if (pid == 0) {
		setpgid(0, 0); /* the browser and its helpers, to be ended together */
		browser_exec(argv, cmd_read, ev_write);
	}
	if (pid > 0)
		setpgid(pid, pid); /* as the child does: whoever runs first */
	close(cmd_read);
	close(ev_write);
	(void)!write(report, &pid, sizeof(pid));
	close(report);
	/* holds nothing of the command's: its output, the agent's socket, --pin-fd */
	if ((null = open("/dev/null", O_RDWR)) >= 0)
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
	close_range(3, ~0U, 0);
	signal(SIGHUP, SIG_IGN); /* a kept browser outlives the terminal */
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0)
		kill(-pid,
		     SIGKILL); /* helpers that outlive the browser would write in the profile */
	for (int i = 0; i < LOGIN_REMOVE_TRIES && profile_remove(profile) != 0; i++) {
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	_exit(0);
}

static int browser_start(const struct login_opts *o, struct browser *b)
{
	const char *tmp = getenv("XDG_RUNTIME_DIR");
	char flags[LOGIN_FLAGS_MAX], profile_arg[300], *argv[LOGIN_ARGS_MAX];
	const char *env_flags = getenv("SESAME_BROWSER_FLAGS");
	int cmd[2], ev[2], report[2];

	snprintf(b->profile, sizeof(b->profile), "%s/sesame-browser-XXXXXX",
		 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(b->profile) == NULL) { /* mode 0700 */
		cli_error(_("cannot create the browser's profile directory: %s"), strerror(errno));
		return -1;
	}
	if (profile_seed(b->profile) != 0) {
		cli_error(_("cannot prepare the browser's profile directory: %s"), strerror(errno));
		return -1;
	}
	snprintf(flags, sizeof(flags), "%s", env_flags != NULL ? env_flags : "");
	browser_argv(o, b->profile, flags, profile_arg, sizeof(profile_arg), argv);
	if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(ev, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC))
		return -1;
	if ((b->waiter = fork()) < 0)
		return -1;
	if (b->waiter == 0) {
		close(cmd[1]), close(ev[0]), close(report[0]);
		waiter_run(argv, b->profile, cmd[0], ev[1], report[1]);
	}
	close(cmd[0]), close(ev[1]), close(report[1]);
	b->to_agent[0] = ev[0], b->to_agent[1] = cmd[1];
	if (read(report[0], &b->pid, sizeof(b->pid)) != sizeof(b->pid) || b->pid <= 0) {
		close(report[0]);
		cli_error(_("cannot start the browser %s"), argv[0]);
		return -1;
	}
	close(report[0]);
	return 0;
}

/* Close the browser unless it is to stay; the waiter then removes the profile. */
static void browser_finish(struct browser *b, int keep)
{
	int status;

	for (int i = 0; i < 3; i++)
		if (b->to_agent[i] >= 0)
			close(b->to_agent[i]);
	b->to_agent[0] = b->to_agent[1] = b->to_agent[2] = -1;
	if (b->waiter <= 0 || keep)
		return;
	if (b->pid > 0) /* headless and done: nobody will use it, no need to wait for it */
		kill(-b->pid, SIGTERM);
	for (int waited = 0; waited < LOGIN_CLOSE_WAIT_MS; waited += 50) {
		struct timespec pause = {0, 50 * 1000 * 1000};
		if (waitpid(b->waiter, &status, WNOHANG) == b->waiter)
			return;
		nanosleep(&pause, NULL);
	}
	if (b->pid > 0) /* a browser that ignores its closed pipe, or never read it */
		kill(-b->pid, SIGKILL);
	waitpid(b->waiter, &status, 0);
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One framed request with descriptors attached to its first byte. */
static int send_with_fds(int sock, const cJSON *req, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} control;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	uint8_t *frame;
	size_t len, off = 0;
	ssize_t n;
	int ret = -1;

	if (proto_frame(req, &frame, &len) != 0)
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
	for (off = (size_t)n; off < len; off += (size_t)n) /* the rest, without descriptors */
		if ((n = send(sock, frame + off, len - off, MSG_NOSIGNAL)) <= 0)
			goto out;
	ret = 0;
out:
	proto_frame_free(frame, len);
	return ret;
}

static cJSON *login_request(const struct login_opts *o)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "login");
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	cJSON_AddStringToObject(req, "user", o->user);
	cJSON_AddStringToObject(req, "service", o->service);
	if (o->purpose != NULL)
		cJSON_AddStringToObject(req, "purpose", o->purpose);
	cJSON_AddBoolToObject(req, "no_submit", o->no_submit);
	cJSON_AddBoolToObject(req, "keep_open", o->keep_open);
	return req;
}

/* Hand the pipes to the agent and wait for the outcome; our copies are closed either way. */
static int agent_login(const struct sesame_home *h, const struct login_opts *o, struct browser *b,
		       cJSON **reply)
{
	cJSON *req = login_request(o);
	size_t nfds = b->to_agent[2] >= 0 ? 3 : 2;
	int sock = connect_socket(h->socket), ret = -1;

	if (sock < 0 && getenv("SESAME_AGENT_SOCK") == NULL)
		sock = connect_socket(HOME_SYSTEM_SOCKET);
	if (sock < 0) {
		cli_error(_("cannot reach the agent at %s: %s"), h->socket, strerror(errno));
		goto out;
	}
	if (send_with_fds(sock, req, b->to_agent, nfds) != 0) {
		cli_error(_("cannot send the request to the agent: %s"), strerror(errno));
		goto out;
	}
	for (int i = 0; i < 3; i++) /* the agent holds them now */
		if (b->to_agent[i] >= 0)
			close(b->to_agent[i]);
	b->to_agent[0] = b->to_agent[1] = b->to_agent[2] = -1;
	if (proto_recv(sock, reply, LOGIN_REPLY_WAIT_MS) != 0)
		cli_error(_("the agent did not answer: %s"), strerror(errno));
	else
		ret = 0;
out:
	if (sock >= 0)
		close(sock);
	cJSON_Delete(req);
	return ret;
}

/* What the worker should do now, for each reason the agent gives. */
static const char *advice(const char *reason)
{
	static const struct {
		const char *reason, *text;
	} table[] = {
	    {"origin", N_("the page is not on the site recorded for this service: nothing was "
			  "filled.\nCheck the address with the person before going on.")},
	    {"not_found", N_("the login page has changed: fill it in by hand with the person.")},
	    {"not_filled", N_("the login page has changed: fill it in by hand with the person.")},
	    {"selectors", N_("the login page has changed and its recorded field selectors find "
			     "nothing:\nfill it in by hand with the person, then correct them "
			     "(sesame add --replace).")},
	    {"insecure_url",
	     N_("the recorded login address is not https: Sesame does not fill "
		"it.\nCorrect the address with the person (sesame add --replace).")},
	    {"unreachable", N_("the login page could not be opened: check the network and the "
			       "recorded address.")},
	    {"timeout", N_("the browser did not answer in time: nothing more was filled.")},
	    {"browser", N_("the browser closed or stopped answering: nothing more was filled.")},
	};

	for (size_t i = 0; reason != NULL && i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(reason, table[i].reason) == 0)
			return _(table[i].text);
	return _("the login could not be completed: fill it in by hand with the person.");
}

static int report(const struct login_opts *o, cJSON *reply)
{
	long long code = VAULT_E_IO;
	int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));

	proto_int(reply, "code", &code);
	if (!ok && code != LOGIN_CODE_FAILED)
		return client_failed(reply, o->json);
	if (o->json) {
		cli_json_print(cJSON_Duplicate(reply, 1));
	} else if (ok) {
		printf(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "submitted"))
			   ? _("The login page of %s was filled in and sent.\n")
			   : _("The login page of %s was filled in (not sent).\n"),
		       o->service);
		if (o->screenshot != NULL &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "screenshot")))
			printf(_("Screenshot: %s\n"), o->screenshot);
	} else {
		const char *detail = proto_string(reply, "error");
		cli_error("%s", advice(proto_string(reply, "reason")));
		if (detail !=
		    NULL) /* the agent's words: never a secret, sometimes the page's site */
			fprintf(stderr, "(%s)\n", detail);
	}
	return ok ? EXIT_OK : EXIT_FAIL;
}

static int parse_opts(int argc, char **argv, struct login_opts *o)
{
	static const struct option opts[] = {{"headless", no_argument, NULL, 'H'},
					     {"purpose", required_argument, NULL, 'u'},
					     {"no-submit", no_argument, NULL, 'n'},
					     {"keep-open", no_argument, NULL, 'k'},
					     {"screenshot", required_argument, NULL, 's'},
					     {"pin-fd", required_argument, NULL, 'p'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int opt;

	memset(o, 0, sizeof(*o));
	o->pin_fd = -1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p' && cli_fd_arg(optarg, &o->pin_fd) == 0)
			continue;
		if (opt == 'H')
			o->headless = 1;
		else if (opt == 'u')
			o->purpose = optarg;
		else if (opt == 'n')
			o->no_submit = 1;
		else if (opt == 'k')
			o->keep_open = 1;
		else if (opt == 's')
			o->screenshot = optarg;
		else if (opt == 'j')
			o->json = 1;
		else
			return opt == 'h' ? 1 : -1;
	}
	if (optind + 2 != argc)
		return -1;
	o->user = argv[optind];
	o->service = argv[optind + 1];
	if (getenv("DISPLAY") == NULL && getenv("WAYLAND_DISPLAY") == NULL)
		o->headless = 1;
	if (!o->headless) /* with a display, the browser is the worker's for the procedure */
		o->keep_open = 1;
	return 0;
}

int cmd_login(int argc, char **argv)
{
	struct browser b = {.to_agent = {-1, -1, -1}};
	struct login_opts o;
	struct sesame_home h;
	cJSON *reply = NULL;
	int ret, open_session;

	if ((ret = parse_opts(argc, argv, &o)) != 0)
		return usage(ret > 0 ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((open_session = has_session(&h, o.user)) < 0)
		return EXIT_AGENT;
	if (!open_session &&
	    (ret = cli_unlock(&h, o.user, o.pin_fd, o.purpose, o.json, !o.json)) != EXIT_OK)
		return ret; /* no PIN, no browser */
	if (o.screenshot != NULL &&
	    (b.to_agent[2] = open(
		 o.screenshot, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		cli_error(_("cannot write %s: %s"), o.screenshot, strerror(errno));
		return EXIT_FAIL;
	}
	if (browser_start(&o, &b) != 0) {
		browser_finish(&b, 0);
		return EXIT_FAIL;
	}
	if (agent_login(&h, &o, &b, &reply) != 0)
		ret = EXIT_AGENT;
	else
		ret = report(&o, reply);
	cJSON_Delete(reply);
	if (o.keep_open && ret == EXIT_OK && !o.json)
		printf(_("The browser stays open: close it at the end of the procedure.\n"));
	browser_finish(&b, o.keep_open);
	return ret;
}
