/* Audit log benchmark: (a) raw SHA-256 leaf hashing of a log's records, (b) streaming verify of
 * a 1,000,000-record log, (c) durable appends per second. Prints name=value lines. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "benchutil.h"
#include "error.h"
#include "merkle.h"

#define RECORDS 1000000
#define APPEND_SECONDS 3.0

static long max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void die(const char *what, int code)
{
	fprintf(stderr, "bench-audit: %s: %s\n", what, vault_strerror(code));
	exit(1);
}

/* The bench's records (benchutil.h), with its own time and person. */
static struct audit_event event_n(uint64_t i, char *purpose, size_t cap)
{
	return bench_event(i, "2026-11-28T10:00:00Z", "u-7f3a9c", purpose, cap);
}

static void generate(const char *dir, const uint8_t *key, uint64_t n)
{
	enum { G = AUDIT_MAX_GROUP };
	struct audit_event evs[G];
	char purposes[G][48];
	struct audit_log *log;
	int ret = audit_init(dir, "bench", key);

	if (ret != VAULT_OK)
		die("init", ret);
	ret = audit_open(dir, key, &evs[0], &log);
	if (ret != VAULT_OK)
		die("open", ret);
	/* The fast path skips fdatasync and checkpoints; closing syncs and signs one. */
	audit_set_unsafe_fast(log, 1);
	for (uint64_t i = 0; i < n; i += G) {
		size_t k = n - i < G ? (size_t)(n - i) : G;
		for (size_t j = 0; j < k; j++)
			evs[j] = event_n(i + j, purposes[j], sizeof(purposes[j]));
		ret = audit_append_many(log, evs, k, NULL);
		if (ret != VAULT_OK)
			die("append", ret);
	}
	audit_close(log);
}

int main(void)
{
	char root[PATH_MAX], dir[PATH_MAX], dir2[PATH_MAX], path[PATH_MAX];
	uint8_t key[AUDIT_SEALING_KEY_LEN], h[MERKLE_HASH_LEN], acc = 0;
	struct audit_verify_report rep;
	struct stat st;
	double t0, gen_s, verify_s, hash_s, append_s;
	long rss0, rss1;
	uint64_t lines = 0, appends = 0;
	const uint8_t *map, *p, *end;
	struct audit_log *log;
	int fd, ret;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	if (bench_tmpdir(root, sizeof(root), "audit") != 0)
		return 1;
	if (snprintf(dir, sizeof(dir), "%s/log", root) >= (int)sizeof(dir) ||
	    snprintf(dir2, sizeof(dir2), "%s/durable", root) >= (int)sizeof(dir2))
		return 1;

	t0 = bench_now_s();
	generate(dir, key, RECORDS);
	gen_s = bench_now_s() - t0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_LOG_NAME) >= (int)sizeof(path) ||
	    stat(path, &st) != 0)
		return 1;
	printf("audit_records=%d\n", RECORDS);
	printf("audit_log_bytes=%lld\n", (long long)st.st_size);
	printf("audit_generate_s=%.2f\n", gen_s);

	/* (b) full verify, streaming; the peak RSS must not grow with the log. */
	rss0 = max_rss_kb();
	t0 = bench_now_s();
	ret = audit_verify(dir, NULL, &rep);
	verify_s = bench_now_s() - t0;
	rss1 = max_rss_kb();
	if (ret != VAULT_OK || rep.records != RECORDS)
		die("verify", ret);
	printf("audit_verify_s=%.3f\n", verify_s);
	printf("audit_verify_peak_rss_growth_kb=%ld\n", rss1 - rss0);

	/* (a) raw leaf hashing of the same records, already in memory. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 1;
	for (p = map, end = map + st.st_size; p < end; p += 4096)
		acc ^= *p; /* fault the pages in before timing */
	t0 = bench_now_s();
	for (p = map; p < end;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		merkle_leaf_hash(p, (size_t)(nl - p), h);
		acc ^= h[0];
		lines++;
		p = nl + 1;
	}
	hash_s = bench_now_s() - t0;
	munmap((void *)map, (size_t)st.st_size);
	close(fd);
	printf("audit_hash_records_per_s=%.0f\n", (double)lines / hash_s);
	printf("audit_hash_mb_per_s=%.1f\n", (double)st.st_size / hash_s / 1e6);
	printf("audit_checksum=%u\n", acc);

	/* (c) durable appends: one write, fdatasync, signed checkpoint written atomically. */
	ret = audit_init(dir2, "bench-durable", key);
	if (ret == VAULT_OK) {
		char purpose[48];
		struct audit_event ev = event_n(0, purpose, sizeof(purpose));
		ret = audit_open(dir2, key, &ev, &log);
		if (ret != VAULT_OK)
			die("open", ret);
		t0 = bench_now_s();
		while ((append_s = bench_now_s() - t0) < APPEND_SECONDS) {
			ev = event_n(appends, purpose, sizeof(purpose));
			ret = audit_append(log, &ev, NULL);
			if (ret != VAULT_OK)
				die("durable append", ret);
			appends++;
		}
		audit_close(log);
	} else {
		die("init", ret);
	}
	sodium_memzero(key, sizeof(key));
	bench_rmtree(root);

	printf("audit_verify_records_per_s=%.0f\n", (double)RECORDS / verify_s);
	printf("audit_verify_vs_hash_ratio=%.2f\n",
	       ((double)RECORDS / verify_s) / ((double)lines / hash_s));
	printf("audit_append_per_s=%.0f\n", (double)appends / append_s);
	return 0;
}
