/* RFC 9162 Merkle tree: published vectors, then every proof of every small tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_testutil.h"
#include "error.h"
#include "merkle.h"

#define NV 16

struct vec {
	uint64_t a, b;
	size_t n;
	uint8_t h[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
};

static uint8_t leaves[8][16];
static size_t leaflen[8];
static uint8_t roots[9][MERKLE_HASH_LEN];
static struct vec incl[NV], cons[NV];
static size_t nincl, ncons;

static void hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	assert_int_equal(sodium_hex2bin(out, cap, s, strlen(s), NULL, len, NULL), 0);
}

static int load_vectors(void **state)
{
	char *text = atu_data("rfc6962-vectors.txt", NULL), *save = NULL, *line;

	(void)state;
	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[3 + MERKLE_MAX_PROOF], *s2 = NULL;
		size_t nt = 0, len;
		if (line[0] == '#')
			continue;
		for (char *t = strtok_r(line, " ", &s2); t && nt < 3 + MERKLE_MAX_PROOF;
		     t = strtok_r(NULL, " ", &s2))
			tok[nt++] = t;
		if (strcmp(tok[0], "leaf") == 0) {
			unsigned i = (unsigned)atoi(tok[1]);
			if (strcmp(tok[2], "-") == 0)
				leaflen[i] = 0;
			else
				hex(tok[2], leaves[i], sizeof(leaves[i]), &leaflen[i]);
		} else if (strcmp(tok[0], "root") == 0) {
			hex(tok[2], roots[atoi(tok[1])], MERKLE_HASH_LEN, &len);
		} else {
			struct vec *v = tok[0][0] == 'i' ? &incl[nincl++] : &cons[ncons++];
			v->a = strtoull(tok[1], NULL, 10);
			v->b = strtoull(tok[2], NULL, 10);
			v->n = nt - 3;
			for (size_t k = 0; k < v->n; k++)
				hex(tok[3 + k], v->h[k], MERKLE_HASH_LEN, &len);
		}
	}
	free(text);
	assert_int_equal(nincl, 5);
	assert_int_equal(ncons, 5);
	return 0;
}

static void leaf_hashes(uint8_t (*lh)[MERKLE_HASH_LEN], size_t n)
{
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(leaves[i % 8], leaflen[i % 8], lh[i]);
}

/* Proof by spans and the streaming prover, as the log computes it. */
static size_t make_proof(int consistency, uint64_t a, uint64_t b, uint8_t (*lh)[MERKLE_HASH_LEN],
			 uint8_t (*out)[MERKLE_HASH_LEN])
{
	struct merkle_span spans[MERKLE_MAX_PROOF];
	struct merkle_prover p;
	size_t n;

	assert_int_equal(consistency ? merkle_consistency_spans(a, b, spans, &n)
				     : merkle_inclusion_spans(a, b, spans, &n),
			 VAULT_OK);
	assert_int_equal(merkle_prover_init(&p, spans, n), VAULT_OK);
	for (uint64_t i = 0; i < b; i++)
		merkle_prover_leaf(&p, i, lh[i]);
	assert_int_equal(merkle_prover_finish(&p, out), VAULT_OK);
	return n;
}

static void root_of(uint8_t (*lh)[MERKLE_HASH_LEN], uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
	struct merkle_range r;

	merkle_range_init(&r);
	for (uint64_t i = 0; i < n; i++)
		merkle_range_append(&r, lh[i]);
	merkle_range_root(&r, out);
}

static void test_roots(void **state)
{
	uint8_t lh[8][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];

	(void)state;
	leaf_hashes(lh, 8);
	for (uint64_t n = 0; n <= 8; n++) {
		root_of(lh, n, root);
		assert_memory_equal(root, roots[n], MERKLE_HASH_LEN);
	}
}

static void test_inclusion_vectors(void **state)
{
	uint8_t lh[8][MERKLE_HASH_LEN], proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint8_t bad[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];

	(void)state;
	leaf_hashes(lh, 8);
	for (size_t t = 0; t < nincl; t++) {
		const struct vec *v = &incl[t];
		size_t n = make_proof(0, v->a, v->b, lh, proof);
		assert_int_equal(n, v->n);
		assert_memory_equal(proof, v->h[0], n * MERKLE_HASH_LEN);
		assert_int_equal(
		    merkle_verify_inclusion(v->a, v->b, lh[v->a], v->h[0], v->n, roots[v->b]),
		    VAULT_OK);
		/* The corruptions of transparency-dev/merkle's verifierCheck. */
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a + 1, v->b, lh[v->a], v->h[0], v->n, roots[v->b]),
		    VAULT_OK);
		if (v->a > 0)
			assert_int_not_equal(merkle_verify_inclusion(v->a - 1, v->b, lh[v->a],
								     v->h[0], v->n, roots[v->b]),
					     VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a ^ 2, v->b, lh[v->a], v->h[0], v->n, roots[v->b]),
		    VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a, v->b * 2, lh[v->a], v->h[0], v->n, roots[v->b]),
		    VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a, v->b / 2, lh[v->a], v->h[0], v->n, roots[v->b]),
		    VAULT_OK);
		assert_int_not_equal(merkle_verify_inclusion(v->a, v->b, lh[(v->a + 1) % 8],
							     v->h[0], v->n, roots[v->b]),
				     VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a, v->b, lh[v->a], v->h[0], v->n, roots[0]),
		    VAULT_OK);
		memcpy(bad, v->h[0], sizeof(bad));
		memcpy(bad[v->n], roots[v->b], MERKLE_HASH_LEN);
		assert_int_not_equal(
		    merkle_verify_inclusion(v->a, v->b, lh[v->a], bad[0], v->n + 1, roots[v->b]),
		    VAULT_OK);
		for (size_t i = 0; i < v->n; i++) {
			memcpy(bad, v->h[0], sizeof(bad));
			bad[i][0] ^= 8;
			assert_int_not_equal(merkle_verify_inclusion(v->a, v->b, lh[v->a], bad[0],
								     v->n, roots[v->b]),
					     VAULT_OK);
		}
		if (v->n > 0)
			assert_int_not_equal(merkle_verify_inclusion(v->a, v->b, lh[v->a], v->h[0],
								     v->n - 1, roots[v->b]),
					     VAULT_OK);
	}
	/* index >= size never verifies. */
	assert_int_not_equal(merkle_verify_inclusion(0, 0, lh[0], proof[0], 0, roots[0]), VAULT_OK);
	assert_int_not_equal(merkle_verify_inclusion(2, 1, lh[0], proof[0], 0, lh[0]), VAULT_OK);
}

static void test_consistency_vectors(void **state)
{
	uint8_t lh[8][MERKLE_HASH_LEN], proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint8_t bad[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];

	(void)state;
	leaf_hashes(lh, 8);
	for (size_t t = 0; t < ncons; t++) {
		const struct vec *v = &cons[t];
		const uint8_t *r1 = roots[v->a], *r2 = roots[v->b];
		size_t n = make_proof(1, v->a, v->b, lh, proof);
		assert_int_equal(n, v->n);
		assert_memory_equal(proof, v->h[0], n * MERKLE_HASH_LEN);
		assert_int_equal(merkle_verify_consistency(v->a, v->b, r1, r2, v->h[0], v->n),
				 VAULT_OK);
		if (v->n == 0)
			continue;
		assert_int_not_equal(
		    merkle_verify_consistency(v->a - 1, v->b, r1, r2, v->h[0], v->n), VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_consistency(v->a + 1, v->b, r1, r2, v->h[0], v->n), VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_consistency(v->a, v->b * 2, r1, r2, v->h[0], v->n), VAULT_OK);
		assert_int_not_equal(merkle_verify_consistency(v->a, v->b, r2, r1, v->h[0], v->n),
				     VAULT_OK);
		assert_int_not_equal(merkle_verify_consistency(v->a, v->b, r1, r2, v->h[0], 0),
				     VAULT_OK);
		assert_int_not_equal(
		    merkle_verify_consistency(v->a, v->b, r1, r2, v->h[0], v->n - 1), VAULT_OK);
		memcpy(bad[0], r1, MERKLE_HASH_LEN);
		memcpy(bad + 1, v->h[0], v->n * MERKLE_HASH_LEN);
		assert_int_not_equal(
		    merkle_verify_consistency(v->a, v->b, r1, r2, bad[0], v->n + 1), VAULT_OK);
		for (size_t i = 0; i < v->n; i++) {
			memcpy(bad, v->h[0], sizeof(bad));
			bad[i][0] ^= 16;
			assert_int_not_equal(
			    merkle_verify_consistency(v->a, v->b, r1, r2, bad[0], v->n), VAULT_OK);
		}
	}
	/* The trivial cases of RFC 9162 2.1.4.2 and sumdb/merkle. */
	assert_int_equal(merkle_verify_consistency(0, 5, roots[0], roots[5], proof[0], 0),
			 VAULT_OK);
	assert_int_equal(merkle_verify_consistency(3, 3, roots[3], roots[3], proof[0], 0),
			 VAULT_OK);
	assert_int_not_equal(merkle_verify_consistency(3, 3, roots[3], roots[4], proof[0], 0),
			     VAULT_OK);
	assert_int_not_equal(merkle_verify_consistency(4, 3, roots[4], roots[3], proof[0], 0),
			     VAULT_OK);
}

/* Every inclusion and consistency proof of every tree up to 70 leaves round-trips, and the
 * spans agree with the independent fold of merkle_range. */
static void test_all_small_trees(void **state)
{
	enum { N = 70 };
	uint8_t(*lh)[MERKLE_HASH_LEN] = malloc(N * MERKLE_HASH_LEN);
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], r1[MERKLE_HASH_LEN], r2[MERKLE_HASH_LEN];

	(void)state;
	for (size_t i = 0; i < N; i++)
		merkle_leaf_hash((const uint8_t *)&i, sizeof(i), lh[i]);
	for (uint64_t n = 1; n <= N; n++) {
		root_of(lh, n, r2);
		for (uint64_t m = 0; m < n; m++) {
			size_t k = make_proof(0, m, n, lh, proof);
			assert_int_equal(merkle_verify_inclusion(m, n, lh[m], proof[0], k, r2),
					 VAULT_OK);
			if (n > 1)
				assert_int_not_equal(
				    merkle_verify_inclusion(m, n, lh[(m + 1) % n], proof[0], k, r2),
				    VAULT_OK);
		}
		for (uint64_t m = 0; m <= n; m++) {
			size_t k = make_proof(1, m, n, lh, proof);
			root_of(lh, m, r1);
			assert_int_equal(merkle_verify_consistency(m, n, r1, r2, proof[0], k),
					 VAULT_OK);
			if (m > 0 && m < n)
				assert_int_not_equal(
				    merkle_verify_consistency(m, n, r2, r1, proof[0], k), VAULT_OK);
		}
	}
	free(lh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roots),
	    cmocka_unit_test(test_inclusion_vectors),
	    cmocka_unit_test(test_consistency_vectors),
	    cmocka_unit_test(test_all_small_trees),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, load_vectors, NULL);
}
