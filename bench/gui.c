/* The desktop application's start: the time from exec of sesame-gtk to its window mapped on
 * an X server (Xvfb), with an agent serving 1,000 enrolled people, in a desktop session as a
 * worker's (a session bus, on which the accessibility bus starts on first use).
 * Usage: bench-gui SESAME SESAME-AGENT SESAME-GTK [PEOPLE [RUNS]].
 * The population is enrolled once, at the lowest KDF cost a configuration allows, under
 * $BENCH_GUI_DIR (default /var/tmp), and kept for the next run. The first start of a session
 * (gui_start_first_ms) also starts the accessibility bus; the next RUNS starts (default 7) give
 * the median (gui_start_ms) and the slowest (gui_start_max_ms). Prints name=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <sodium.h>

#include "benchutil.h"
#include "home.h"
#include "proto.h"
#include "users.h"
#include "vault.h"

#define PIN "284619"
#define PEOPLE 1000
#define RUNS 7
#define RUNS_MAX 101
#define ENROL_THREADS 2
#define READY_MARK "population-complete"
#define START_LIMIT_S 120.0 /* a start this slow is a failure to start, not a measure */

static char home[128], sock[108], conf[108];
static pid_t agent, xvfb;

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static void die(const char *what)
{
	fprintf(stderr, "bench-gui: %s\n", what);
	stop(&agent);
	stop(&xvfb);
	exit(1);
}

static pid_t spawn(char *const argv[], int quiet)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		if (quiet)
			dup2(null, 1), dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int run(char *const argv[])
{
	pid_t pid = spawn(argv, 1);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the population ---- */

struct enrol_ctx {
	struct vault_store *store;
	struct vault_policy policy;
	size_t from, n;
	int failed;
};

static void *enrol_part(void *arg)
{
	static const char *const first[] = {"Marie", "Élodie",	"Jean",	 "Fatou", "Łukasz",
					    "Anne",  "Mohamed", "Chloé", "Paul",  "Inès"};
	struct enrol_ctx *c = arg;
	char *rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES), id[VAULT_USER_ID_HEX], name[64];

	for (size_t i = c->from; rec != NULL && i < c->n && !c->failed; i += ENROL_THREADS) {
		int ret;
		snprintf(name, sizeof(name), "%s Personne-%05zu", first[i % 10], i);
		do /* the enrolment lock is shared by the threads: busy is a turn to wait */
			ret = vault_user_create(c->store, name, PIN, &c->policy, id, rec);
		while (ret == VAULT_E_BUSY);
		if (ret != VAULT_OK && ret != VAULT_E_EXISTS) /* EXISTS: a run resumed */
			c->failed = 1;
	}
	c->failed |= rec == NULL;
	sodium_free(rec);
	return NULL;
}

static int enrol(size_t n)
{
	struct sesame_home h;
	struct vault_store *store = NULL;
	struct vault_people *people = NULL;
	struct enrol_ctx ctx[ENROL_THREADS];
	pthread_t th[ENROL_THREADS];
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES);
	size_t unreadable;
	int ret = -1;

	if (secret == NULL || home_resolve(&h, 0) != VAULT_OK ||
	    home_read_installation(&h) != VAULT_OK ||
	    home_device_secret(&h, secret, NULL) != VAULT_OK ||
	    vault_store_open(h.vaults, secret, &store) != VAULT_OK ||
	    vault_people_load(store, NULL, &people, &unreadable) != VAULT_OK)
		goto out;
	vault_store_set_people(store, people);
	for (int i = 0; i < ENROL_THREADS; i++) {
		ctx[i] = (struct enrol_ctx){store, h.cfg.policy, (size_t)i, n, 0};
		pthread_create(&th[i], NULL, enrol_part, &ctx[i]);
	}
	ret = 0;
	for (int i = 0; i < ENROL_THREADS; i++) {
		pthread_join(th[i], NULL);
		ret |= ctx[i].failed ? -1 : 0;
	}
out:
	if (store != NULL)
		vault_store_set_people(store, NULL);
	vault_people_free(people);
	vault_store_close(store);
	sodium_free(secret);
	return ret;
}

static int populate(const char *sesame, size_t n)
{
	char mark[160];
	char *init[] = {(char *)sesame, "init", NULL};
	FILE *f;

	snprintf(mark, sizeof(mark), "%.90s/" READY_MARK, home);
	if (access(mark, F_OK) == 0)
		return 0;
	if (mkdir(home, 0700) != 0 && errno != EEXIST)
		return -1;
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	/* the lowest cost a configuration allows: the population is not what is measured */
	fprintf(f, "kdf_passes = %d\nkdf_memory_mib = %u\ndevice_secret = file\n",
		VAULT_KDF_OPS_MIN, VAULT_KDF_MEM_KIB_MIN / 1024);
	fclose(f);
	snprintf(mark, sizeof(mark), "%.90s/installation", home);
	if (access(mark, F_OK) != 0 && run(init) != 0) /* else a run that stopped resumes */
		return -1;
	if (enrol(n) != 0)
		return -1;
	snprintf(mark, sizeof(mark), "%.90s/" READY_MARK, home);
	return (f = fopen(mark, "w")) != NULL && fclose(f) == 0 ? 0 : -1;
}

/* ---- the agent ---- */

static cJSON *call(int fd, const char *op)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;

	cJSON_AddStringToObject(req, "op", op);
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if (proto_send(fd, req) != 0 || proto_recv(fd, &reply, 600000) != 0)
		reply = NULL;
	cJSON_Delete(req);
	return reply;
}

/* Started, and its index of people loaded (a first `users` answered). */
static int start_agent(const char *program)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *argv[] = {(char *)program, NULL};
	double t0 = bench_now_s();
	cJSON *r;
	int fd = -1;

	unlink(sock);
	if ((agent = spawn(argv, 1)) < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	while (bench_now_s() - t0 < START_LIMIT_S) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		close(fd);
		fd = -1;
		if (waitpid(agent, NULL, WNOHANG) == agent)
			return -1;
		usleep(2000);
	}
	if (fd < 0 || (r = call(fd, "users")) == NULL)
		return -1;
	cJSON_Delete(r);
	close(fd);
	return 0;
}

/* ---- the X server ---- */

/* Xvfb on a display it picks (-displayfd); the display's name in display. */
static int start_xvfb(char *display, size_t cap)
{
	int p[2];
	char fd[16], num[16] = "";
	ssize_t got = 0, r;
	struct pollfd pf;

	if (pipe(p) != 0)
		return -1;
	snprintf(fd, sizeof(fd), "%d", p[1]);
	char *argv[] = {"Xvfb",	       "-displayfd", fd,    "-screen", "0",
			"1280x800x24", "-nolisten",  "tcp", NULL};
	if ((xvfb = spawn(argv, 1)) < 0)
		return -1;
	close(p[1]);
	pf = (struct pollfd){.fd = p[0], .events = POLLIN};
	while ((size_t)got < sizeof(num) - 1 && strchr(num, '\n') == NULL &&
	       poll(&pf, 1, (int)(START_LIMIT_S * 1000)) == 1 &&
	       (r = read(p[0], num + got, sizeof(num) - 1 - (size_t)got)) > 0)
		got += r;
	close(p[0]);
	if (strchr(num, '\n') == NULL)
		return -1;
	*strchr(num, '\n') = '\0';
	snprintf(display, cap, ":%s", num);
	return 0;
}

/* The pid a client wrote on its window (_NET_WM_PID), or 0. */
static long window_pid(Display *dpy, Window w)
{
	Atom type, pid_atom = XInternAtom(dpy, "_NET_WM_PID", False);
	int format;
	unsigned long n, after;
	unsigned char *data = NULL;
	long pid = 0;

	if (XGetWindowProperty(dpy, w, pid_atom, 0, 1, False, XA_CARDINAL, &type, &format, &n,
			       &after, &data) == Success &&
	    data != NULL && n == 1 && format == 32)
		pid = *(long *)data;
	if (data != NULL)
		XFree(data);
	return pid;
}

/* Exec the application; seconds until one of its top-level windows is mapped, or < 0. */
static double launch_once(Display *dpy, const char *program, pid_t *app)
{
	char *argv[] = {(char *)program, NULL};
	int xfd = ConnectionNumber(dpy);
	double t0;
	XEvent ev;

	XSync(dpy, True); /* nothing from an earlier run is read as this one's */
	t0 = bench_now_s();
	if ((*app = spawn(argv, 1)) < 0)
		return -1;
	while (bench_now_s() - t0 < START_LIMIT_S) {
		struct pollfd pf = {.fd = xfd, .events = POLLIN};
		while (XPending(dpy) > 0) {
			XNextEvent(dpy, &ev);
			if (ev.type == MapNotify && !ev.xmap.override_redirect &&
			    window_pid(dpy, ev.xmap.window) == (long)*app)
				return bench_now_s() - t0;
		}
		if (waitpid(*app, NULL, WNOHANG) == *app) {
			*app = 0;
			return -1;
		}
		poll(&pf, 1, 50);
	}
	return -1;
}

static void setup_env(const char *display)
{
	setenv("SESAME_HOME", home, 1);
	setenv("SESAME_CONFIG", conf, 1);
	setenv("SESAME_AGENT_SOCK", sock, 1);
	setenv("SESAME_AGENT_PROGRAM", "/bin/false", 1); /* this run's agent, never another */
	setenv("XDG_CONFIG_HOME", home, 1);
	setenv("DISPLAY", display, 1);
	setenv("GDK_BACKEND", "x11", 1);
	setenv("GSETTINGS_BACKEND", "memory", 1);
	unsetenv("WAYLAND_DISPLAY");
}

int main(int argc, char **argv)
{
	const char *dir = getenv("BENCH_GUI_DIR") ? getenv("BENCH_GUI_DIR") : "/var/tmp";
	size_t people = argc > 4 ? strtoul(argv[4], NULL, 10) : PEOPLE;
	size_t runs = argc > 5 ? strtoul(argv[5], NULL, 10) : RUNS;
	static double t[RUNS_MAX];
	char display[32], env_arg[64];
	double first = 0;
	Display *dpy;
	pid_t app;

	if (argc < 4 || people == 0 || runs == 0 || runs > RUNS_MAX || sodium_init() < 0) {
		fprintf(stderr,
			"usage: bench-gui SESAME SESAME-AGENT SESAME-GTK [PEOPLE [RUNS]]\n");
		return 2;
	}
	if (getenv("BENCH_GUI_SESSION") == NULL) { /* a desktop session's own bus */
		char **args = calloc((size_t)argc + 3, sizeof(*args));
		setenv("BENCH_GUI_SESSION", "1", 1);
		args[0] = "dbus-run-session", args[1] = "--";
		memcpy(args + 2, argv, (size_t)argc * sizeof(*args));
		execvp(args[0], args);
		die("cannot run dbus-run-session");
	}
	proto_init();
	snprintf(home, sizeof(home), "%.60s/sesame-bench-gui-%zu", dir, people);
	snprintf(sock, sizeof(sock), "%.90s/agent.sock", home);
	snprintf(conf, sizeof(conf), "%.90s/sesame.conf", home);
	if (start_xvfb(display, sizeof(display)) != 0)
		die("cannot start Xvfb");
	setup_env(display);
	/* the accessibility bus, started by the session bus, finds the display this way */
	snprintf(env_arg, sizeof(env_arg), "dict:string:string:DISPLAY,%s", display);
	char *update[] = {"dbus-send",
			  "--session",
			  "--type=method_call",
			  "--print-reply",
			  "--dest=org.freedesktop.DBus",
			  "/org/freedesktop/DBus",
			  "org.freedesktop.DBus.UpdateActivationEnvironment",
			  env_arg,
			  NULL};
	if (run(update) != 0)
		die("cannot give the session bus the display");
	if (populate(argv[1], people) != 0)
		die("cannot enrol the population");
	if (start_agent(argv[2]) != 0)
		die("the agent does not start");
	if ((dpy = XOpenDisplay(display)) == NULL)
		die("cannot open the display");
	XSelectInput(dpy, DefaultRootWindow(dpy), SubstructureNotifyMask);
	for (size_t i = 0; i <= runs; i++) {
		double s = launch_once(dpy, argv[3], &app);
		if (s < 0)
			die("the application's window was not mapped");
		stop(&app);
		if (i == 0)
			first = s;
		else
			t[i - 1] = s;
	}
	printf("gui_people=%zu\n", people);
	printf("gui_start_first_ms=%.0f\n", first * 1e3);
	printf("gui_start_ms=%.0f\n", bench_median(t, runs) * 1e3);
	printf("gui_start_max_ms=%.0f\n", t[runs - 1] * 1e3);
	XCloseDisplay(dpy);
	stop(&agent);
	stop(&xvfb);
	return 0;
}
