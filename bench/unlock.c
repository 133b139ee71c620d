/* Unlock cost: the raw Argon2id run at the vault's default parameters against a full
 * open-with-PIN of a vault holding 50 credentials (unlock, then decrypt the list), in pairs
 * taken in one process so both see the same machine; the ratio is the pairs' median. Prints
 * name=value lines. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "benchutil.h"
#include "vault.h"

#define RUNS 15
#define CREDENTIALS 50
#define PIN "284619"

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
	double t = bench_now_s();

	if (crypto_pwhash(key, sizeof(key), PIN, strlen(PIN), salt, p->kdf_ops,
			  (size_t)p->kdf_mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	return bench_now_s() - t;
}

static double time_open(struct vault_store *s, const char *id)
{
	struct vault_entries *es;
	struct vault *v;
	unsigned left;
	double t = bench_now_s();

	if (vault_unlock_pin(s, id, PIN, &v, &left) != VAULT_OK ||
	    vault_entry_list(v, &es) != VAULT_OK || es->n != CREDENTIALS)
		abort();
	vault_entries_free(es);
	vault_close(v);
	return bench_now_s() - t;
}

int main(void)
{
	char dir[] = "/tmp/sesame-bench.XXXXXX", id[VAULT_USER_ID_HEX];
	char *rec = NULL;
	uint8_t *secret = NULL;
	double kdf[RUNS], open[RUNS], ratio[RUNS];
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
	/* interleaved, each pair in turn in either order, so that drift in the machine's speed
	 * and whatever one run leaves to the next hit both alike; the ratio is the median of the
	 * pairs' ratios, which a pair disturbed by another process moves least */
	for (int i = 0; i < RUNS; i++) {
		if (i % 2 == 0) {
			kdf[i] = time_kdf(&policy);
			open[i] = time_open(s, id);
		} else {
			open[i] = time_open(s, id);
			kdf[i] = time_kdf(&policy);
		}
		ratio[i] = open[i] / kdf[i];
	}
	printf("kdf_ops=%u\nkdf_mem_kib=%u\ncredentials=%d\nruns=%d\n", policy.kdf_ops,
	       policy.kdf_mem_kib, CREDENTIALS, RUNS);
	printf("kdf_median_ms=%.1f\n", bench_median(kdf, RUNS) * 1e3);
	printf("open_median_ms=%.1f\n", bench_median(open, RUNS) * 1e3);
	printf("unlock_overhead_ratio=%.3f\n", bench_median(ratio, RUNS));
	vault_store_close(s);
	bench_rmtree(dir);
	sodium_free(secret);
	sodium_free(rec);
	return 0;
}
