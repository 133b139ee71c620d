/* Unlock cost: the raw Argon2id run at the vault's default parameters against a full
 * open-with-PIN of a vault holding 50 credentials (unlock, then decrypt the list), medians of
 * runs taken in one process so both see the same machine. Prints name=value lines. */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vault.h"

#define RUNS 9
#define CREDENTIALS 50
#define PIN "284619"

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

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int fill(struct vault_store *s, const char *id)
{
	struct vault_entry_input in = {.service = "",
				       .url = "https://example.org/login",
				       .username = "user",
				       .password = "password",
				       .notes = "",
				       .consent = 1};
	char service[32], eid[VAULT_ENTRY_ID_HEX];
	struct vault *v;
	unsigned left;
	int ret;

	if ((ret = vault_unlock_pin(s, id, PIN, &v, &left)) != VAULT_OK)
		return ret;
	for (int i = 0; i < CREDENTIALS && ret == VAULT_OK; i++) {
		snprintf(service, sizeof(service), "service-%02d", i);
		in.service = service;
		ret = vault_entry_add(v, &in, eid);
	}
	vault_close(v);
	return ret;
}

static double time_kdf(const struct vault_policy *p)
{
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES] = {0};
	double t = seconds();

	if (crypto_pwhash(key, sizeof(key), PIN, strlen(PIN), salt, p->kdf_ops,
			  (size_t)p->kdf_mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	return seconds() - t;
}

static double time_open(struct vault_store *s, const char *id)
{
	struct vault_entries *es;
	struct vault *v;
	unsigned left;
	double t = seconds();

	if (vault_unlock_pin(s, id, PIN, &v, &left) != VAULT_OK ||
	    vault_entry_list(v, &es) != VAULT_OK || es->n != CREDENTIALS)
		abort();
	vault_entries_free(es);
	vault_close(v);
	return seconds() - t;
}

int main(void)
{
	char dir[] = "/tmp/sesame-bench.XXXXXX", id[VAULT_USER_ID_HEX];
	char *rec = NULL;
	uint8_t *secret = NULL;
	double kdf[RUNS], open[RUNS];
	struct vault_policy policy;
	struct vault_store *s;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	secret = sodium_malloc(32);
	rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	randombytes_buf(secret, 32);
	vault_policy_default(&policy);
	if (vault_store_open(dir, secret, &s) != VAULT_OK ||
	    vault_user_create(s, "bench", PIN, &policy, id, rec) != VAULT_OK || fill(s, id) != 0)
		return 1;
	/* interleave the two measurements so drift in the machine's speed hits both alike */
	for (int i = 0; i < RUNS; i++) {
		kdf[i] = time_kdf(&policy);
		open[i] = time_open(s, id);
	}
	printf("kdf_ops=%u\nkdf_mem_kib=%u\ncredentials=%d\nruns=%d\n", policy.kdf_ops,
	       policy.kdf_mem_kib, CREDENTIALS, RUNS);
	printf("kdf_median_ms=%.1f\n", median(kdf, RUNS) * 1e3);
	printf("open_median_ms=%.1f\n", median(open, RUNS) * 1e3);
	printf("unlock_overhead_ratio=%.3f\n", median(open, RUNS) / median(kdf, RUNS));
	vault_store_close(s);
	nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS);
	sodium_free(secret);
	sodium_free(rec);
	return 0;
}
