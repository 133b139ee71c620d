/* The auditor's report on a big log: a log of RECORDS records (default 1,000,000) generated
 * once under $BENCH_LOG_DIR (default /var/tmp) and kept, as an office's would be: 40 workers,
 * 5,000 people, 90 days of appointments (wrong PINs, sessions, logins, closes), then the time
 * `sesame audit report` takes to verify it, read it and write the page, without names (no
 * agent), in one run. Usage: bench-report SESAME [RECORDS]. Prints name=value lines. */
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "error.h"

#define WORKERS 40
#define PEOPLE 5000
#define DAYS 90
#define KEY_FILL 0x6e	  /* the bench's sealing key: the log is kept between runs */
#define DAY0 1787731200LL /* 2026-08-26T00:00:00Z */

extern char **environ;

static uint8_t key[AUDIT_SEALING_KEY_LEN];
static char dir[PATH_MAX];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int code)
{
	fprintf(stderr, "bench-report: %s: %s\n", what, vault_strerror(code));
	exit(1);
}

/* Record i of an appointment of 8 records: two wrong PINs one time in eight, else the right
 * one, a session, a login asked, a browser, the login filled, the session closed. */
struct gen {
	char time[AUDIT_TIME_LEN + 1], login[16], user[33], purpose[48];
};

static struct audit_event event_n(uint64_t i, struct gen *g)
{
	static const char *const events[] = {"pin_wrong",      "pin_ok",	  "session_opened",
					     "login_started",  "browser_started", "login_filled",
					     "session_closed", "pin_wrong"};
	static const char *const services[] = {"CAF", "Ameli", "Impots", "France Travail"};
	uint64_t appt = i / 8, k = i % 8;
	unsigned worker = (unsigned)(appt % WORKERS), person = (unsigned)((appt * 7919) % PEOPLE);
	/* 8 h 30 to 17 h 30 on each day, a few minutes between appointments */
	int64_t t = DAY0 + (int64_t)(appt % DAYS) * 86400 + 30600 +
		    (int64_t)((appt / DAYS) % 540) * 60 + (int64_t)k * 30;
	struct audit_event ev = {.event = events[k],
				 .worker_uid = 2000 + worker,
				 .host = "poste-3",
				 .service = services[appt % 4],
				 .outcome = "ok",
				 .attempts_left = -1};

	if (k == 0 || k == 7) { /* a wrong PIN, in one appointment of eight */
		ev.event = appt % 8 == 0 ? "pin_wrong" : "pin_ok";
		ev.attempts_left = appt % 8 == 0 ? 4 : -1;
		ev.outcome = appt % 8 == 0 ? "refused" : "ok";
	}
	audit_time_format(t, g->time);
	snprintf(g->login, sizeof(g->login), "worker%02u", worker);
	snprintf(g->user, sizeof(g->user), "%032x", person);
	snprintf(g->purpose, sizeof(g->purpose), "rendez-vous %u", (unsigned)(appt % 50));
	ev.time = g->time;
	ev.worker_login = g->login;
	ev.user = g->user;
	ev.purpose = g->purpose;
	if (k == 6)
		ev.reason = "lock";
	return ev;
}

/* Records up to n, written without syncs (audit_set_unsafe_fast), then one sync and signature. */
static void generate(uint64_t n)
{
	enum { G = AUDIT_MAX_GROUP };
	struct audit_event evs[G];
	static struct gen gens[G];
	struct audit_log *log;
	int ret = audit_init(dir, "bench-report", key);

	if (ret != VAULT_OK && ret != VAULT_E_EXISTS)
		die("init", ret);
	if ((ret = audit_open(dir, key, NULL, &log)) != VAULT_OK)
		die("open", ret);
	audit_set_unsafe_fast(log, 1);
	for (uint64_t i = audit_size(log); i < n; i += G) {
		size_t k = n - i < G ? (size_t)(n - i) : G;
		for (size_t j = 0; j < k; j++)
			evs[j] = event_n(i + j, &gens[j]);
		if ((ret = audit_append_many(log, evs, k, NULL)) != VAULT_OK)
			die("append", ret);
	}
	audit_close(log);
}

/* sesame audit --dir DIR report --html PAGE --no-names, timed from spawn to exit; *cpu its
 * processor time (user and system, both its threads): on a busy machine the wall time says the
 * load as much as the program. */
static double run_report(const char *sesame, const char *page, double *cpu)
{
	char *argv[] = {(char *)sesame, "audit",      "--dir",		dir,  "report", "--html",
			(char *)page,	"--no-names", (char *)"--lang", "en", NULL};
	double t0 = now_s();
	struct rusage ru;
	int status;
	pid_t pid;

	unlink(page);
	if (posix_spawn(&pid, sesame, NULL, NULL, argv, environ) != 0 ||
	    wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-report: %s audit report failed\n", sesame);
		exit(1);
	}
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	const char *base = getenv("BENCH_LOG_DIR");
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	char page[PATH_MAX + 32];
	struct stat st;
	double s, cpu;

	if (argc < 2 || n == 0 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench-report SESAME [RECORDS]\n");
		return 2;
	}
	memset(key, KEY_FILL, sizeof(key));
	snprintf(dir, sizeof(dir), "%s/sesame-bench-report-%llu", base ? base : "/var/tmp",
		 (unsigned long long)n);
	generate(n);
	snprintf(page, sizeof(page), "%s/report.html", dir);
	s = run_report(argv[1], page, &cpu);
	if (stat(page, &st) != 0)
		die("report", VAULT_E_NOTFOUND);
	printf("records=%llu\n", (unsigned long long)n);
	printf("%s=%.2f\n", n == 1000000 ? "report_1m_s" : "report_s", s);
	printf("%s=%.2f\n", n == 1000000 ? "report_1m_cpu_s" : "report_cpu_s", cpu);
	printf("report_bytes=%lld\n", (long long)st.st_size);
	unlink(page);
	return 0;
}
