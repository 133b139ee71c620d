/* The KDBX export's cost: 100 credentials written to a synced file (key derivation, XML,
 * encryption, blocks, write) against the export's Argon2id alone at its default cost
 * (KDBX_ARGON2_*), runs taken in turn in one process. The ratio is of the fastest runs: on a
 * shared machine the slower ones measure the neighbours, not the export. The part of the
 * export after its KDF is timed on its own too. Prints name=value lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "fileio.h"
#include "kdbx.h"

#define RUNS 7
#define CREDENTIALS 100
#define PASSPHRASE "cheval agrafe pile correct"

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The KDF alone: Argon2id of the composite key, as the export runs it. */
static double kdf_once(void)
{
	uint8_t salt[KDBX_SALT_BYTES], composite[KDBX_KEY_BYTES], key[KDBX_KEY_BYTES];
	double t0 = seconds();

	randombytes_buf(salt, sizeof(salt));
	if (kdbx_composite(PASSPHRASE, strlen(PASSPHRASE), composite) != VAULT_OK ||
	    crypto_pwhash(key, sizeof(key), (const char *)composite, sizeof(composite), salt,
			  KDBX_ARGON2_PASSES, KDBX_ARGON2_MEMORY,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		exit(1);
	return seconds() - t0;
}

/* The whole export of items to a new file, synced; *rest: the part after the KDF. */
static double export_once(const struct kdbx_item *items, const char *path, double *rest)
{
	struct kdbx_random r;
	uint8_t key[KDBX_KEY_BYTES], *out;
	size_t len;
	double t0 = seconds(), t1;
	int fd;

	kdbx_random_fill(&r);
	if (kdbx_derive(PASSPHRASE, strlen(PASSPHRASE), r.salt, key) != VAULT_OK)
		exit(1);
	t1 = seconds();
	if (kdbx_build(&r, key, "Jeanne Dupont", items, CREDENTIALS, &out, &len) != VAULT_OK)
		exit(1);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fileio_write_all(fd, out, len) != VAULT_OK || fsync(fd) != 0)
		exit(1);
	close(fd);
	sodium_free(out);
	*rest = seconds() - t1;
	return seconds() - t0;
}

int main(void)
{
	static char fields[CREDENTIALS][4][64];
	struct kdbx_item items[CREDENTIALS];
	char path[] = "/tmp/sesame-bench-export.XXXXXX";
	double kdf[RUNS], exp[RUNS], rest[RUNS];
	int fd;

	if (sodium_init() < 0 || (fd = mkstemp(path)) < 0)
		return 1;
	close(fd);
	for (int i = 0; i < CREDENTIALS; i++) {
		snprintf(fields[i][0], 64, "Service %d", i);
		snprintf(fields[i][1], 64, "https://service%d.example.org/login", i);
		snprintf(fields[i][2], 64, "user.%d@example.org", i);
		snprintf(fields[i][3], 64, "Pw-%d-été-€-%08x", i, randombytes_random());
		items[i] = (struct kdbx_item){fields[i][0], fields[i][1], fields[i][2],
					      fields[i][3], "notes"};
	}
	for (int i = 0; i < RUNS; i++) {
		kdf[i] = kdf_once();
		exp[i] = export_once(items, path, &rest[i]);
	}
	unlink(path);
	qsort(kdf, RUNS, sizeof(double), cmp_double);
	qsort(exp, RUNS, sizeof(double), cmp_double);
	qsort(rest, RUNS, sizeof(double), cmp_double);
	printf("export_kdf_s=%.3f\n", kdf[0]);
	printf("export_100_s=%.3f\n", exp[0]);
	printf("export_after_kdf_ms=%.1f\n", rest[RUNS / 2] * 1000);
	printf("export_kdf_median_s=%.3f\n", kdf[RUNS / 2]);
	printf("export_100_median_s=%.3f\n", exp[RUNS / 2]);
	printf("export_overhead_ratio=%.3f\n", exp[0] / kdf[0]);
	return 0;
}
