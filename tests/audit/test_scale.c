/* A large log: opening it reads O(log n) bytes from the stored tree (counted by the kernel in
 * /proc/self/io, not timed), and falls back to, and rebuilds through, a full pass when the
 * stored tree is gone or wrong; receipts and consistency proofs from the stored tree are byte
 * for byte those of the full streaming computation, and verify. Concurrent appenders share
 * fdatasyncs and every append that returned is in the log. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"
#include "audit_testutil.h"
#include "error.h"

#define RECORDS 200000
#define BATCH 64
#define APPENDERS 16
#define APPENDS_EACH 40

static uint8_t seal_key[AUDIT_SEALING_KEY_LEN];
static char root[PATH_MAX], dir[PATH_MAX];

static struct audit_event event(char *purpose, size_t cap, uint64_t i)
{
	struct audit_event ev = {.event = "pin_ok",
				 .time = "2026-11-30T09:00:00Z",
				 .worker_uid = 1000,
				 .worker_login = "alice",
				 .host = "poste-1",
				 .user = "0123456789abcdef0123456789abcdef",
				 .outcome = "ok",
				 .attempts_left = -1};
	snprintf(purpose, cap, "dossier %llu", (unsigned long long)i);
	ev.purpose = purpose;
	return ev;
}

/* Bytes this process has read so far, as the kernel counts them (read, pread). */
static uint64_t bytes_read(void)
{
	char io[1024], *p;
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, io, sizeof(io) - 1);
	close(fd);
	assert_true(n > 0);
	io[n] = '\0';
	p = strstr(io, "rchar: ");
	assert_non_null(p);
	return strtoull(p + 7, NULL, 10);
}

static uint64_t open_close_bytes(void)
{
	struct audit_event ctx = {.event = "log_recovered",
				  .time = "2026-11-30T09:00:00Z",
				  .worker_login = "alice",
				  .host = "poste-1",
				  .outcome = "ok",
				  .attempts_left = -1};
	struct audit_log *log;
	uint64_t before = bytes_read();

	assert_int_equal(audit_open(dir, seal_key, &ctx, &log), VAULT_OK);
	assert_int_equal(audit_size(log), RECORDS);
	audit_close(log);
	return bytes_read() - before;
}

static int setup(void **state)
{
	struct audit_log *log;
	struct audit_event evs[BATCH];
	char purposes[BATCH][32];

	(void)state;
	atu_tmpdir(root);
	atu_join(dir, root, "log");
	assert_int_equal(audit_init(dir, "scale", seal_key), VAULT_OK);
	assert_int_equal(audit_open(dir, seal_key, NULL, &log), VAULT_OK);
	assert_int_equal(audit_set_unsafe_fast(log, 1), VAULT_OK); /* a log made quickly */
	for (uint64_t i = 0; i < RECORDS; i += BATCH) {
		for (size_t k = 0; k < BATCH; k++)
			evs[k] = event(purposes[k], sizeof(purposes[k]), i + k);
		assert_int_equal(audit_append_many(log, evs, BATCH, NULL), VAULT_OK);
	}
	audit_close(log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	atu_rmtree(root);
	return 0;
}

static uint64_t file_size(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	atu_join(path, dir, name);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void test_open_reads_log_n(void **state)
{
	char path[PATH_MAX], moved[PATH_MAX];
	uint64_t log_bytes = file_size(AUDIT_LOG_NAME), stored, full, again;

	(void)state;
	stored = open_close_bytes();
	/* the stored tree gone: one full pass, which stores it again */
	atu_join(path, dir, "audit.tree");
	atu_join(moved, dir, "audit.tree.moved");
	assert_int_equal(rename(path, moved), 0);
	full = open_close_bytes();
	again = open_close_bytes();
	print_message("log %llu bytes; open read %llu bytes from the stored tree, %llu in a full "
		      "pass, then %llu\n",
		      (unsigned long long)log_bytes, (unsigned long long)stored,
		      (unsigned long long)full, (unsigned long long)again);
	assert_true(log_bytes > 40u * 1024 * 1024);
	/* the keys, the checkpoint, ~2 log2(n) hashes and one record: a few KiB */
	assert_true(stored < 64 * 1024);
	assert_true(full >= log_bytes);
	assert_true(again < 64 * 1024);
	/* a stored tree that does not match the log is not believed */
	assert_int_equal(unlink(path), 0);
	atu_write(path, "not a tree, not a tree, not a tree", 34);
	assert_true(open_close_bytes() >= log_bytes);
	assert_int_equal(unlink(moved), 0);
}

/* The same proof with and without the stored tree. */
static void both_ways(int receipt, uint64_t a, uint64_t b)
{
	static char with[AUDIT_PROOF_MAX], without[AUDIT_PROOF_MAX];
	char path[PATH_MAX], moved[PATH_MAX];
	size_t n1, n2;
	uint64_t before = bytes_read(), idx;
	struct note_verifier v;

	if (receipt)
		assert_int_equal(audit_prove(dir, a, with, sizeof(with), &n1), VAULT_OK);
	else
		assert_int_equal(audit_consistency(dir, a, b, with, sizeof(with), &n1), VAULT_OK);
	assert_true(bytes_read() - before < 64 * 1024); /* no pass over the log */
	atu_join(path, dir, "audit.tree");
	atu_join(moved, dir, "audit.tree.moved");
	assert_int_equal(rename(path, moved), 0);
	if (receipt)
		assert_int_equal(audit_prove(dir, a, without, sizeof(without), &n2), VAULT_OK);
	else
		assert_int_equal(audit_consistency(dir, a, b, without, sizeof(without), &n2),
				 VAULT_OK);
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(with, without, n1);
	if (receipt) {
		assert_int_equal(audit_key_read(dir, &v), VAULT_OK);
		assert_int_equal(audit_receipt_verify((uint8_t *)with, n1, &v, &idx), VAULT_OK);
		assert_int_equal(idx, a);
	}
}

static void test_proofs_agree(void **state)
{
	const uint64_t seqs[] = {0,	 1,	 2,	 3,	      63,	   64,	       65,
				 131071, 131072, 131073, RECORDS / 2, RECORDS - 2, RECORDS - 1};
	const uint64_t pairs[][2] = {{0, 0},	  {1, 0},      {7, 0},		 {64, 65},
				     {100, 1000}, {131072, 0}, {131073, 199999}, {RECORDS, 0}};

	(void)state;
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		both_ways(1, seqs[i], 0);
	for (int i = 0; i < 6; i++)
		both_ways(1, randombytes_uniform(RECORDS), 0);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		both_ways(0, pairs[i][0], pairs[i][1]);
}

struct appender {
	struct audit_log *log;
	int id;
	uint64_t seqs[APPENDS_EACH];
};

static void *append_some(void *arg)
{
	struct appender *ap = arg;
	char purpose[32];

	for (int i = 0; i < APPENDS_EACH; i++) {
		struct audit_event ev = event(purpose, sizeof(purpose), (uint64_t)ap->id);
		if (audit_append(ap->log, &ev, &ap->seqs[i]) != VAULT_OK)
			ap->seqs[i] = UINT64_MAX;
	}
	return NULL;
}

/* Sixteen appenders at once: every record numbered once, all in the log, and the log intact. */
static void test_concurrent_appenders(void **state)
{
	static struct appender ap[APPENDERS];
	static uint8_t seen[APPENDERS * APPENDS_EACH];
	pthread_t th[APPENDERS];
	struct audit_log *log;
	struct audit_verify_report rep;

	(void)state;
	assert_int_equal(audit_open(dir, seal_key, NULL, &log), VAULT_OK);
	for (int i = 0; i < APPENDERS; i++) {
		ap[i] = (struct appender){.log = log, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, append_some, &ap[i]), 0);
	}
	for (int i = 0; i < APPENDERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < APPENDERS; i++)
		for (int k = 0; k < APPENDS_EACH; k++) {
			uint64_t s = ap[i].seqs[k];
			assert_true(s >= RECORDS && s < RECORDS + APPENDERS * APPENDS_EACH);
			assert_false(seen[s - RECORDS]);
			seen[s - RECORDS] = 1;
		}
	assert_int_equal(audit_size(log), RECORDS + APPENDERS * APPENDS_EACH);
	audit_close(log);
	assert_int_equal(audit_verify(dir, NULL, &rep), VAULT_OK);
	assert_int_equal(rep.records, RECORDS + APPENDERS * APPENDS_EACH);
	assert_int_equal(rep.uncovered, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_reads_log_n),
	    cmocka_unit_test(test_proofs_agree),
	    cmocka_unit_test(test_concurrent_appenders),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(seal_key, sizeof(seal_key));
	return cmocka_run_group_tests(tests, setup, teardown);
}
