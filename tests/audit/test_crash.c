/* Crash test: a child appends in a loop and reports each append that returned success over a
 * pipe; the parent SIGKILLs it at random moments. After every kill the log must open, verify,
 * and hold every reported record. The same with appenders on several threads, whose records
 * share fdatasyncs (group commit): none may be reported before it is durable. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"
#include "audit_testutil.h"
#include "error.h"

#define KILLS 300
#define TIME_BUDGET_S 45.0
#define MAX_RECORDS 200000
#define GROUP_THREADS 8
#define GROUP_KILLS 60
#define GROUP_BUDGET_S 25.0

static uint8_t seal_key[AUDIT_SEALING_KEY_LEN];
static uint8_t *reported; /* reported[seq] = 1 + iteration % 250 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct audit_event ctx_event(char *purpose, size_t cap, int iter, uint64_t k)
{
	struct audit_event ev = {.event = "session_opened",
				 .time = "2026-11-28T12:00:00Z",
				 .worker_uid = 1000,
				 .worker_login = "alice",
				 .host = "poste-1",
				 .user = "u-1",
				 .outcome = "ok",
				 .attempts_left = -1};
	snprintf(purpose, cap, "iteration %d append %llu", iter, (unsigned long long)k);
	ev.purpose = purpose;
	return ev;
}

static void child(const char *dir, int iter, int wfd)
{
	struct audit_log *log;
	char purpose[64];
	struct audit_event ev = ctx_event(purpose, sizeof(purpose), iter, 0);
	uint64_t seq;

	if (audit_open(dir, seal_key, &ev, &log) != VAULT_OK)
		_exit(3);
	for (uint64_t k = 0;; k++) {
		ev = ctx_event(purpose, sizeof(purpose), iter, k);
		if (audit_append(log, &ev, &seq) != VAULT_OK)
			_exit(4);
		/* Reported only once append has returned success. */
		if (write(wfd, &seq, sizeof(seq)) != sizeof(seq))
			_exit(5);
	}
}

struct appender {
	struct audit_log *log;
	int iter, wfd, id;
};

static void *append_loop(void *arg)
{
	struct appender *ap = arg;
	char purpose[64];
	struct audit_event ev;
	uint64_t seq;

	for (uint64_t k = 0;; k++) {
		ev = ctx_event(purpose, sizeof(purpose), ap->iter, k * GROUP_THREADS + ap->id);
		if (audit_append(ap->log, &ev, &seq) != VAULT_OK)
			_exit(4);
		/* a pipe write of 8 bytes is atomic: the threads' reports never mix */
		if (write(ap->wfd, &seq, sizeof(seq)) != sizeof(seq))
			_exit(5);
	}
	return NULL;
}

static void child_group(const char *dir, int iter, int wfd)
{
	struct appender ap[GROUP_THREADS];
	pthread_t th[GROUP_THREADS];
	struct audit_log *log;
	char purpose[64];
	struct audit_event ev = ctx_event(purpose, sizeof(purpose), iter, 0);

	if (audit_open(dir, seal_key, &ev, &log) != VAULT_OK)
		_exit(3);
	for (int i = 0; i < GROUP_THREADS; i++) {
		ap[i] = (struct appender){log, iter, wfd, i};
		if (pthread_create(&th[i], NULL, append_loop, &ap[i]) != 0)
			_exit(6);
	}
	pause();
	_exit(7);
}

struct check {
	uint64_t found, bad, recovered;
};

static int check_cb(void *ctx, const struct audit_record *rec, const uint8_t *line, size_t len)
{
	struct check *c = ctx;

	(void)line, (void)len;
	if (strcmp(rec->event, "log_recovered") == 0)
		c->recovered++;
	if (rec->seq < MAX_RECORDS && reported[rec->seq]) {
		/* The record at that number is the one the child was told was durable. */
		if (strstr(rec->purpose, "iteration ") == NULL)
			c->bad++;
		c->found++;
	}
	return 0;
}

static void tear(const char *dir, uint64_t next)
{
	char path[PATH_MAX], torn[128];
	int n = snprintf(torn, sizeof(torn), "{\"seq\":%llu,\"prev\":\"", (unsigned long long)next);
	FILE *f;

	atu_join(path, dir, AUDIT_LOG_NAME);
	f = fopen(path, "ab");
	assert_non_null(f);
	fwrite(torn, 1, (size_t)randombytes_uniform((uint32_t)n) + 1, f);
	fclose(f);
}

static void run_kills(void (*fn)(const char *, int, int), int kills, double budget, int min,
		      uint32_t max_wait_us)
{
	char root[PATH_MAX], dir[PATH_MAX];
	double start = now_s();
	uint64_t total_reported = 0, recovered = 0;
	int iter;

	reported = calloc(MAX_RECORDS, 1);
	atu_tmpdir(root);
	atu_join(dir, root, "log");
	assert_int_equal(audit_init(dir, "crash", seal_key), VAULT_OK);
	/* min kills are always made, however long they take: the budget only stops more */
	for (iter = 0; iter < kills && (iter < min || now_s() - start < budget); iter++) {
		int p[2], status;
		pid_t pid;
		uint64_t seq;
		ssize_t n;
		struct audit_log *log;
		struct audit_verify_report rep;
		struct check c = {0, 0, 0};
		char purpose[64];
		struct audit_event ctx = ctx_event(purpose, sizeof(purpose), -1, 0);

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			fn(dir, iter, p[1]);
		}
		close(p[1]);
		usleep((useconds_t)randombytes_uniform(max_wait_us));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status)); /* never exited on an error of its own */
		while ((n = read(p[0], &seq, sizeof(seq))) == sizeof(seq)) {
			assert_true(seq < MAX_RECORDS);
			assert_false(reported[seq]); /* one record, one number */
			reported[seq] = 1;
			total_reported++;
		}
		close(p[0]);
		/* Opening repairs what the crash left, then the log must verify whole. */
		assert_int_equal(audit_open(dir, seal_key, &ctx, &log), VAULT_OK);
		audit_close(log);
		if (audit_verify(dir, NULL, &rep) != VAULT_OK)
			fail_msg("after kill %d: %s at line %llu: kind %d", iter,
				 vault_strerror(rep.code), (unsigned long long)rep.line,
				 (int)rep.kind);
		assert_int_equal(audit_scan(dir, NULL, check_cb, &c), VAULT_OK);
		assert_int_equal(c.bad, 0);
		assert_int_equal(c.found, total_reported);
		recovered = c.recovered;
		/* Now and then leave a torn line, as a crash inside write() would: the next child
		 * repairs it on open, and may itself be killed while doing so. */
		if (randombytes_uniform(4) == 0)
			tear(dir, rep.records);
	}
	print_message("%d kills in %.1f s, %llu appends reported durable, all present; %llu torn "
		      "lines recovered\n",
		      iter, now_s() - start, (unsigned long long)total_reported,
		      (unsigned long long)recovered);
	assert_true(iter >= min);
	atu_rmtree(root);
	free(reported);
}

static void test_crash(void **state)
{
	(void)state;
	run_kills(child, KILLS, TIME_BUDGET_S, 200, 60000);
}

static void test_crash_group(void **state)
{
	(void)state;
	run_kills(child_group, GROUP_KILLS, GROUP_BUDGET_S, 30, 250000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_crash_group),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(seal_key, sizeof(seal_key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
