/* sesame-agent: see agent.h. Started by systemd (socket activation), or by the sesame command
 * on demand, or by hand; it runs in the foreground and logs problems to standard error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "build-config.h"
#include "agent.h"
#include "errtext.h"
#include "fileio.h"
#include "proto.h"

#define _(s) gettext(s)
#define N_(s) (s)

#define SD_LISTEN_FDS_START 3
#define LISTEN_BACKLOG 64

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		agent_reload = 1;
	else
		agent_quit = 1;
}

/* The socket to remove when the stop runs out of time (a copy: the handler reads no struct). */
static char stop_socket[PATH_MAX];

/* The stop took longer than AGENT_STOP_MAX_S: something that should have ended (a login, a
 * stuck KDF helper) did not. Leave now; the helpers die with us (PR_SET_PDEATHSIG). */
static void on_stop_timeout(int sig)
{
	static const char msg[] = "sesame-agent: the stop took too long (a login or a KDF helper "
				  "did not end): leaving without waiting\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	if (stop_socket[0] != '\0')
		unlink(stop_socket);
	_exit(1);
}

/* From here on the stop ends within AGENT_STOP_MAX_S, whatever clients or helpers do. */
static void stop_bound(const struct agent *a)
{
	struct sigaction sa;

	if (a->bound)
		snprintf(stop_socket, sizeof(stop_socket), "%s", a->home.socket);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_timeout;
	sigaction(SIGALRM, &sa, NULL);
	alarm(AGENT_STOP_MAX_S);
}

static int usage(FILE *out)
{
	fputs(_("Usage: sesame-agent [--system] [--reload]\n"
		"Holds unlocked vaults for the length of an appointment and answers the sesame\n"
		"command on a Unix socket ($SESAME_AGENT_SOCK, default\n"
		"$XDG_RUNTIME_DIR/sesame/agent.sock; /run/sesame/agent.sock with --system).\n"
		"--reload: check sesame.conf, then have the running agent read it again "
		"(SIGHUP).\n"),
	      out);
	return out == stdout ? 0 : 2;
}

/* What is wrong with sesame.conf, for the administrator: the line, the key, what it takes. */
static void config_report(const struct sesame_home *h, int ret)
{
	static const char *const takes[] = {
	    [CONFIG_KIND_NONE] = "",
	    [CONFIG_KIND_NUMBER] = N_("a whole number"),
	    [CONFIG_KIND_BOOL] = N_("yes or no (oui or non)"),
	    [CONFIG_KIND_PATH] = N_("an absolute path"),
	    [CONFIG_KIND_NAME] = N_("an account or group name"),
	    [CONFIG_KIND_BACKEND] = N_("auto, secret-service or file"),
	    [CONFIG_KIND_TEXT] = N_("text"),
	    [CONFIG_KIND_HOURS] = N_("opening hours, such as mon-fri 08:30-18:00"),
	};
	const struct sesame_config *c = &h->cfg;

	if (c->line > 0 && c->problem == CONFIG_PROBLEM_KEY && c->suggestion != NULL)
		fprintf(stderr,
			_("sesame-agent: %s line %u: unknown setting \"%s\" (did you mean "
			  "\"%s\"?)\n"),
			h->config_path, c->line, c->problem_key, c->suggestion);
	else if (c->line > 0 && c->problem == CONFIG_PROBLEM_KEY)
		fprintf(stderr, _("sesame-agent: %s line %u: unknown setting \"%s\"\n"),
			h->config_path, c->line, c->problem_key);
	else if (c->line > 0 && c->problem == CONFIG_PROBLEM_VALUE)
		fprintf(stderr, _("sesame-agent: %s line %u: \"%s\" takes %s (%lu to %lu)\n"),
			h->config_path, c->line, c->problem_key, _(takes[c->problem_kind]),
			c->problem_min, c->problem_max);
	else
		fprintf(stderr, _("sesame-agent: %s line %u: %s\n"), h->config_path, c->line,
			sesame_strerror(ret));
}

/* Messages in the language of the account that starts the agent (text domain "sesame", as the
 * command's). Only messages and character types: numbers and dates in records and replies stay
 * in the C locale. */
static void i18n_init(void)
{
	const char *dir = getenv("SESAME_LOCALEDIR");

	setlocale(LC_MESSAGES, "");
	setlocale(LC_CTYPE, "");
	bindtextdomain("sesame", dir != NULL && dir[0] == '/' ? dir : LOCALEDIR);
	bind_textdomain_codeset("sesame", "UTF-8");
	textdomain("sesame");
}

static void harden(void)
{
	struct rlimit none = {0, 0};
	struct sigaction sa;

	/* keys must never reach a core file or another process of the same user */
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* systemd socket activation: the listening socket is fd 3 when LISTEN_PID is ours. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid() ||
	    strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	fcntl(SD_LISTEN_FDS_START, F_SETFL, O_NONBLOCK);
	return SD_LISTEN_FDS_START;
}

static int make_socket_dir(const char *path, int system, gid_t gid)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, system ? 0750 : 0700) != 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		errno = EPERM; /* a link, a file, or someone else's directory */
		return -1;
	}
	if (system)
		return chown(dir, (uid_t)-1, gid) == 0 && chmod(dir, 0750) == 0 ? 0 : -1;
	if ((st.st_mode & 077) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Whether an agent answers on path: asked before the vaults and the log are opened, since a
 * running agent holds their locks and a second one would wait on them before saying so. */
static int agent_answers(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, ok;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* Bind the socket, replacing a stale one but never a live agent's. */
static int bind_socket(struct agent *a)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *path = a->home.socket;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, _("sesame-agent: socket path too long: %s\n"), path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (make_socket_dir(path, a->home.system, a->worker_gid) != 0) {
		fprintf(stderr,
			_("sesame-agent: unsafe or unusable socket directory for %s: %s%s\n"), path,
			strerror(errno),
			a->home.system ? _(" (the service user must belong to worker_group, or "
					   "start through sesame-agent-system.socket)")
				       : "");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (agent_answers(path)) {
		fprintf(stderr, _("sesame-agent: an agent already answers on %s\n"), path);
		close(fd);
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, a->home.system ? 0660 : 0600) != 0 ||
	    (a->home.system && chown(path, (uid_t)-1, a->worker_gid) != 0) ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		fprintf(stderr, "sesame-agent: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* open_state's failure, naming the file it is about: the step's own, and the very file fileio
 * failed on when that is another one (a vault, the log, a lock). */
static void state_error(const char *what, int ret)
{
	const char *file = fileio_failed_name();

	const char *init = ret == VAULT_E_NOTFOUND ? _(" (run \"sesame init\" first)") : "";

	if (file[0] != '\0' && strcmp(file, what) != 0 && strstr(what, file) == NULL)
		fprintf(stderr, _("sesame-agent: %s: %s: %s%s\n"), what, file, sesame_strerror(ret),
			init);
	else
		fprintf(stderr, _("sesame-agent: %s: %s%s\n"), what, sesame_strerror(ret), init);
}

/* The device secret has no check value of its own (the key file is exactly the secret): a
 * malformed key file, or a log that its secret does not open, is said of the key file too, so
 * that a damaged key file is not taken for a missing one or for a damaged log. */
static void key_error(const struct agent *a, int ret)
{
	if (ret == VAULT_E_FORMAT)
		fprintf(stderr,
			_("sesame-agent: %s: the key file is damaged: restore it from a backup\n"),
			a->home.key_file);
	else if (ret == VAULT_E_TAMPERED)
		fprintf(
		    stderr,
		    _("sesame-agent: %s: the key file is damaged or belongs to another "
		      "installation: its device secret does not open the audit log; restore the "
		      "key file from a backup\n"),
		    a->home.key_file);
}

static int open_state(struct agent *a)
{
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES), audit_key[32];
	char t[AUDIT_TIME_LEN + 1], login[AGENT_LOGIN_MAX], inst[PATH_MAX + 32];
	struct audit_event ctx;
	enum devsecret_backend used = DEVSECRET_AUTO;
	const char *what = inst;
	int ret;

	if (secret == NULL)
		return VAULT_E_NOMEM;
	snprintf(inst, sizeof(inst), "%s/%s", a->home.dir, VAULT_INSTALLATION_FILE);
	if ((ret = home_read_installation(&a->home)) != VAULT_OK)
		goto out;
	what = a->home.key_file;
	if ((ret = home_device_secret(&a->home, secret, &used)) != VAULT_OK) {
		if (ret == VAULT_E_FORMAT && used == DEVSECRET_FILE)
			key_error(a, ret);
		goto out;
	}
	what = a->home.vaults;
	if ((ret = vault_store_open(a->home.vaults, secret, &a->store)) != VAULT_OK)
		goto out;
	what = a->home.audit;
	vault_audit_key(secret, audit_key);
	ctx = agent_event(a, "log_recovered", getuid(),
			  agent_login_of(getuid(), login, sizeof(login)), t);
	ret = audit_open(a->home.audit, audit_key, &ctx, &a->log);
	sodium_memzero(audit_key, sizeof(audit_key));
	if (ret == VAULT_E_TAMPERED)
		key_error(a, ret);
out:
	sodium_free(secret);
	if (ret != VAULT_OK)
		state_error(what, ret);
	return ret;
}

static int record_self(struct agent *a, const char *event, const char *reason)
{
	char t[AUDIT_TIME_LEN + 1], login[AGENT_LOGIN_MAX];
	struct audit_event ev =
	    agent_event(a, event, getuid(), agent_login_of(getuid(), login, sizeof(login)), t);

	ev.reason = reason;
	return agent_audit(a, &ev);
}

/* A change the agent applied but had not confirmed when it stopped was put back by
 * vault_store_tidy: record each, as the end of the intent record it left. */
static void tidied(void *ctx, const char *id, const char *event, int result)
{
	struct agent *a = ctx;
	char t[AUDIT_TIME_LEN + 1], login[AGENT_LOGIN_MAX];
	struct audit_event ev =
	    agent_event(a, event, getuid(), agent_login_of(getuid(), login, sizeof(login)), t);

	ev.user = id;
	ev.outcome = result == VAULT_OK ? "undone" : "failed";
	ev.reason = "the agent stopped before the change was confirmed";
	agent_audit(a, &ev);
}

/* auditor_group's gid into *gid, *have 0 when none is set; -1 for a group that does not
 * exist: a typo must not leave the names readable by nobody, or by the wrong group, unsaid. */
static int auditor_group(const struct sesame_home *h, gid_t *gid, int *have)
{
	struct group *g;

	*have = 0;
	if (h->cfg.auditor_group[0] == '\0')
		return 0;
	if ((g = getgrnam(h->cfg.auditor_group)) == NULL) {
		fprintf(stderr, _("sesame-agent: no group %s (auditor_group in %s)\n"),
			h->cfg.auditor_group, h->config_path);
		return -1;
	}
	*gid = g->gr_gid;
	*have = 1;
	return 0;
}

static int worker_group(struct agent *a)
{
	struct group *g = getgrnam(a->home.cfg.worker_group);

	if (g == NULL) {
		fprintf(stderr, _("sesame-agent: no group %s (worker_group in %s)\n"),
			a->home.cfg.worker_group, a->home.config_path);
		return -1;
	}
	a->worker_gid = g->gr_gid;
	return auditor_group(&a->home, &a->auditor_gid, &a->have_auditor_gid);
}

void agent_reload_config(struct agent *a)
{
	struct sesame_home fresh;
	struct group *g = NULL;
	gid_t auditor_gid = 0;
	int have_auditor = 0, ret = home_resolve(&fresh, a->home.system);

	if (ret == VAULT_OK && a->home.system && (g = getgrnam(fresh.cfg.worker_group)) == NULL) {
		fprintf(stderr, _("sesame-agent: no group %s (worker_group in %s)\n"),
			fresh.cfg.worker_group, fresh.config_path);
		ret = VAULT_E_INVAL;
	} else if (ret == VAULT_OK && a->home.system &&
		   auditor_group(&fresh, &auditor_gid, &have_auditor) != 0) {
		ret = VAULT_E_INVAL;
	} else if (ret != VAULT_OK) {
		config_report(&fresh, ret);
	}
	if (ret != VAULT_OK) {
		fprintf(stderr,
			_("sesame-agent: %s not reloaded: the settings stay as they were\n"),
			fresh.config_path);
		return;
	}
	/* the pool's threads copy the PIN rules under this lock when they take a job */
	pthread_mutex_lock(&a->pool.lock);
	a->home.cfg = fresh.cfg;
	pthread_mutex_unlock(&a->pool.lock);
	if (g != NULL)
		a->worker_gid = g->gr_gid;
	/* connections already open keep what they were given at accept */
	a->auditor_gid = auditor_gid;
	a->have_auditor_gid = have_auditor;
	fprintf(stderr, _("sesame-agent: %s reloaded\n"), fresh.config_path);
}

/* --reload: the file is checked first (a wrong one is said here, and the agent keeps its
 * settings), then the agent behind the socket, as the kernel names it, gets SIGHUP. */
static int reload_running(const struct sesame_home *h)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, ret = 1;

	if (strlen(h->socket) >= sizeof(sun.sun_path))
		return 1;
	memcpy(sun.sun_path, h->socket, strlen(h->socket) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fprintf(stderr, _("sesame-agent: no agent answers on %s: %s\n"), h->socket,
			strerror(errno));
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0)
		fprintf(stderr, _("sesame-agent: cannot tell which process serves %s\n"),
			h->socket);
	else if (kill(cred.pid, SIGHUP) != 0)
		fprintf(stderr, _("sesame-agent: cannot signal process %d: %s\n"), (int)cred.pid,
			strerror(errno));
	else
		ret = printf(_("sesame-agent: %s checked; process %d reads it again\n"),
			     h->config_path, (int)cred.pid) < 0;
	close(fd);
	return ret;
}

static int run(struct agent *a)
{
	int ret, stuck;

	if (getenv("LISTEN_FDS") == NULL && agent_answers(a->home.socket)) {
		fprintf(stderr, _("sesame-agent: an agent already answers on %s\n"),
			a->home.socket);
		return 1;
	}
	/* forked first, while no secret is in memory and no thread exists */
	if (kdf_helpers_start(&a->kdf, AGENT_KDF_THREADS) != 0) {
		fprintf(stderr, _("sesame-agent: cannot start the KDF helpers: %s\n"),
			strerror(errno));
		return 1;
	}
	if (open_state(a) != VAULT_OK)
		return 1;
	if ((a->listen_fd = activated_socket()) < 0) {
		if ((a->listen_fd = bind_socket(a)) < 0)
			return 1;
		a->bound = 1;
	}
	vault_store_set_kdf(a->store, kdf_remote, NULL);
	if (pool_start(&a->pool, a->store, &a->home.cfg.policy, &a->kdf) != 0) {
		fputs(_("sesame-agent: cannot start the PIN check threads (out of memory or of "
			"threads)\n"),
		      stderr);
		return 1;
	}
	/* no record, no service: an agent that cannot write its log answers nobody */
	if (record_self(a, "agent_started", a->home.system ? "system" : "user") != VAULT_OK) {
		fprintf(stderr, _("sesame-agent: cannot write the audit log in %s\n"),
			a->home.audit);
		return 1;
	}
	/* what a crash left: temporary copies of vaults, and changes never confirmed */
	if ((ret = vault_store_tidy(a->store, tidied, a)) != VAULT_OK)
		fprintf(stderr, _("sesame-agent: %s: cannot tidy up after a crash: %s\n"),
			a->home.vaults, sesame_strerror(ret));
	if (agent_people_start(a) != 0)
		return 1;
	agent_loop(a);
	stop_bound(a);
	/* running logins end as "agent_stopping" (not as their session's end): login threads post
	 * to the pool, so they end first, browsers closed, and how they ended is recorded before
	 * the sessions close and before the agent's end */
	stuck = agent_login_stop(AGENT_STOP_MAX_S / 2);
	agent_jobs_finish(a);
	session_close_all(a, "agent_stop");
	record_self(a, "agent_stopped", "signal");
	while (stuck > 0) /* they still hold the pool: the bound ends the process */
		pause();
	pool_stop(&a->pool);
	agent_people_stop(a);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"system", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"reload", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct agent a;
	int system = 0, reload = 0, opt, ret;

	if (argc == 2 && strcmp(argv[1], KDF_HELPER_ARG) == 0) { /* a replacement helper (kdf.c) */
		if (sodium_init() < 0)
			return 1;
		kdf_helper_main(KDF_HELPER_FD);
	}

	i18n_init();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			system = 1;
		else if (opt == 'r')
			reload = 1;
		else if (opt == 'h')
			return usage(stdout);
		else if (opt == 'V')
			return printf("sesame-agent %s\n", SESAME_VERSION) < 0;
		else
			return usage(stderr);
	}
	if (optind != argc)
		return usage(stderr);
	harden();
	if (sodium_init() < 0)
		return 1;
	proto_init();
	memset(&a, 0, sizeof(a));
	a.listen_fd = -1;
	a.pid = getpid();
	if (gethostname(a.host, sizeof(a.host) - 1) != 0)
		snprintf(a.host, sizeof(a.host), "localhost");
	if ((ret = home_resolve(&a.home, system)) != VAULT_OK) {
		config_report(&a.home, ret);
		return 1;
	}
	if (reload)
		return reload_running(&a.home);
	if (system && worker_group(&a) != 0)
		return 1;
	ret = run(&a);
	kdf_helpers_stop(&a.kdf);
	if (a.bound)
		unlink(a.home.socket); /* ours: a socket from systemd is systemd's */
	if (a.listen_fd >= 0)
		close(a.listen_fd);
	audit_close(a.log);
	vault_store_close(a.store);
	return ret;
}
