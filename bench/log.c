/* Audit log at scale, in one run, on a log of RECORDS records (default 10,000,000) generated
 * once under $BENCH_LOG_DIR (default /var/tmp) and kept: opening it (time and bytes read), a
 * receipt and a consistency proof (medians), durable appends from one writer against a raw
 * write+fdatasync loop on the same file system (interleaved rounds, the median of their
 * ratios), sixteen concurrent appenders against one, and with BENCH_LOG_VERIFY=1 a full verify from
 * the page cache. With BENCH_LOG_DROP_CACHES=1 (root; it slows every process on the machine) also
 * the open and the verify after dropping the page cache. Usage: bench-log [RECORDS]. Prints
 * name=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "benchutil.h"
#include "error.h"

#define ROUNDS 11
#define ROUND_S 0.5
#define PROOFS 101
#define THREADS 16
#define KEY_FILL 0x5e /* the bench's sealing key: the log is kept between runs */

static uint8_t key[AUDIT_SEALING_KEY_LEN];
static char dir[PATH_MAX];

static void die(const char *what, int code)
{
	fprintf(stderr, "bench-log: %s: %s\n", what, vault_strerror(code));
	exit(1);
}

/* The bench's records (benchutil.h), with its own time and person. */
static struct audit_event event_n(uint64_t i, char *purpose, size_t cap)
{
	return bench_event(i, "2026-11-30T10:00:00Z", "7f3a9c0e7f3a9c0e7f3a9c0e7f3a9c0e", purpose,
			   cap);
}

static uint64_t bytes_read(void)
{
	char io[1024], *p;
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, io, sizeof(io) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	io[n] = '\0';
	p = strstr(io, "rchar: ");
	return p != NULL ? strtoull(p + 7, NULL, 10) : 0;
}

/* Records up to n, written without syncs (audit_set_unsafe_fast), then one sync and signature. */
static void generate(uint64_t n)
{
	enum { G = AUDIT_MAX_GROUP };
	struct audit_event evs[G];
	char purposes[G][48];
	struct audit_log *log;
	int ret = audit_init(dir, "bench", key);

	if (ret != VAULT_OK && ret != VAULT_E_EXISTS)
		die("init", ret);
	if ((ret = audit_open(dir, key, NULL, &log)) != VAULT_OK)
		die("open", ret);
	audit_set_unsafe_fast(log, 1);
	for (uint64_t i = audit_size(log); i < n; i += G) {
		size_t k = n - i < G ? (size_t)(n - i) : G;
		for (size_t j = 0; j < k; j++)
			evs[j] = event_n(i + j, purposes[j], sizeof(purposes[j]));
		if ((ret = audit_append_many(log, evs, k, NULL)) != VAULT_OK)
			die("append", ret);
	}
	audit_close(log);
}

static struct audit_log *open_timed(double *ms, uint64_t *bytes)
{
	struct audit_log *log;
	uint64_t b0 = bytes_read();
	double t0 = bench_now_s();
	int ret = audit_open(dir, key, NULL, &log);

	if (ret != VAULT_OK)
		die("open", ret);
	*ms = (bench_now_s() - t0) * 1e3;
	*bytes = bytes_read() - b0;
	return log;
}

static void proofs(uint64_t n)
{
	static char out[AUDIT_PROOF_MAX];
	double prove[PROOFS], cons[PROOFS];
	size_t len;
	int ret;

	for (int i = 0; i < PROOFS; i++) {
		uint64_t seq =
		    (uint64_t)randombytes_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX : n));
		double t0 = bench_now_s();
		if ((ret = audit_prove(dir, seq, out, sizeof(out), &len)) != VAULT_OK)
			die("prove", ret);
		prove[i] = bench_now_s() - t0;
		t0 = bench_now_s();
		if ((ret = audit_consistency(dir, seq, 0, out, sizeof(out), &len)) != VAULT_OK)
			die("consistency", ret);
		cons[i] = bench_now_s() - t0;
	}
	printf("audit_prove_ms=%.3f\n", bench_median(prove, PROOFS) * 1e3);
	printf("audit_consistency_ms=%.3f\n", bench_median(cons, PROOFS) * 1e3);
}

/* A raw write of a record-sized line and fdatasync, in a loop, for seconds: per second. */
static double raw_rate(double seconds)
{
	char path[PATH_MAX + 16], line[300];
	double t0 = bench_now_s();
	long n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/raw", dir);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		die("raw file", VAULT_E_IO);
	while (bench_now_s() - t0 < seconds) {
		if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line) || fdatasync(fd) != 0)
			die("raw write", VAULT_E_IO);
		n++;
	}
	close(fd);
	unlink(path);
	return (double)n / (bench_now_s() - t0);
}

struct appender {
	struct audit_log *log;
	double until;
	long count;
	uint64_t base;
};

static void *append_loop(void *arg)
{
	struct appender *ap = arg;
	char purpose[48];

	while (bench_now_s() < ap->until) {
		struct audit_event ev =
		    event_n(ap->base + (uint64_t)ap->count, purpose, sizeof(purpose));
		int ret = audit_append(ap->log, &ev, NULL);
		if (ret != VAULT_OK)
			die("durable append", ret);
		ap->count++;
	}
	return NULL;
}

/* Durable appends per second from threads appenders at once. */
static double append_rate(struct audit_log *log, int threads, double seconds)
{
	struct appender ap[THREADS];
	pthread_t th[THREADS];
	double t0 = bench_now_s();
	long total = 0;

	for (int i = 0; i < threads; i++) {
		ap[i] = (struct appender){log, t0 + seconds, 0, (uint64_t)i << 32};
		pthread_create(&th[i], NULL, append_loop, &ap[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += ap[i].count;
	}
	return (double)total / (bench_now_s() - t0);
}

static void appends(struct audit_log *log)
{
	double raw[ROUNDS], one[ROUNDS], many[ROUNDS], one_raw[ROUNDS], many_one[ROUNDS];

	/* interleaved, raw and one writer adjacent in either order: this disk's speed drifts by
	 * half within seconds, so each ratio is the median of the rounds' own ratios */
	for (int i = 0; i < ROUNDS; i++) {
		if (i % 2 == 0)
			raw[i] = raw_rate(ROUND_S);
		one[i] = append_rate(log, 1, ROUND_S);
		if (i % 2 != 0)
			raw[i] = raw_rate(ROUND_S);
		many[i] = append_rate(log, THREADS, ROUND_S);
		one_raw[i] = one[i] / raw[i];
		many_one[i] = many[i] / one[i];
	}
	printf("raw_write_fdatasync_per_s=%.0f\n", bench_median(raw, ROUNDS));
	printf("audit_append_per_s=%.0f\n", bench_median(one, ROUNDS));
	printf("audit_append_vs_raw_ratio=%.3f\n", bench_median(one_raw, ROUNDS));
	printf("audit_append_%d_writers_per_s=%.0f\n", THREADS, bench_median(many, ROUNDS));
	printf("audit_append_%d_writers_vs_one_ratio=%.2f\n", THREADS,
	       bench_median(many_one, ROUNDS));
}

static void verify_timed(const char *name)
{
	struct audit_verify_report rep;
	double t0 = bench_now_s();
	int ret = audit_verify(dir, NULL, &rep);

	if (ret != VAULT_OK)
		die("verify", ret);
	printf("%s=%.2f\n", name, bench_now_s() - t0);
}

static int drop_caches(void)
{
	int fd, ok;

	if (getenv("BENCH_LOG_DROP_CACHES") == NULL)
		return -1;
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	sync();
	ok = fd >= 0 && write(fd, "3\n", 2) == 2;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *base = getenv("BENCH_LOG_DIR") ? getenv("BENCH_LOG_DIR") : "/var/tmp";
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000, bytes;
	struct audit_log *log;
	double t0, ms;
	struct stat st;
	char path[PATH_MAX + 16];

	if (sodium_init() < 0 || n == 0)
		return 2;
	memset(key, KEY_FILL, sizeof(key));
	snprintf(dir, sizeof(dir), "%s/sesame-bench-log-%llu", base, (unsigned long long)n);
	t0 = bench_now_s();
	generate(n);
	printf("audit_records=%llu\n", (unsigned long long)n);
	printf("audit_generate_s=%.1f\n", bench_now_s() - t0);
	snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_LOG_NAME);
	if (stat(path, &st) == 0)
		printf("audit_log_bytes=%lld\n", (long long)st.st_size);
	log = open_timed(&ms, &bytes); /* the page cache may hold the stored tree: see below */
	audit_close(log);
	log = open_timed(&ms, &bytes);
	printf("audit_open_ms=%.1f\n", ms);
	printf("audit_open_bytes_read=%llu\n", (unsigned long long)bytes);
	proofs(audit_size(log));
	appends(log);
	audit_close(log);
	if (drop_caches() == 0) {
		log = open_timed(&ms, &bytes);
		audit_close(log);
		printf("audit_open_cold_ms=%.1f\n", ms);
	}
	if (getenv("BENCH_LOG_VERIFY") != NULL) {
		verify_timed("audit_verify_cached_s");
		if (drop_caches() == 0)
			verify_timed("audit_verify_cold_s");
	}
	return 0;
}
