#include <string.h>

#include <sodium.h>

#include "error.h"
#include "merkle.h"

void merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

void merkle_range_init(struct merkle_range *r)
{
	memset(r, 0, sizeof(*r));
}

int merkle_range_append(struct merkle_range *r, const uint8_t leaf[MERKLE_HASH_LEN])
{
	uint8_t carry[MERKLE_HASH_LEN];
	unsigned level = 0;

	if (r->size == UINT64_MAX)
		return VAULT_E_FULL;
	memcpy(carry, leaf, MERKLE_HASH_LEN);
	/* Adding one to size merges the perfect subtrees of its trailing one bits. */
	while (r->size & ((uint64_t)1 << level)) {
		merkle_node_hash(r->node[level], carry, carry);
		level++;
	}
	memcpy(r->node[level], carry, MERKLE_HASH_LEN);
	r->size++;
	return VAULT_OK;
}

void merkle_range_root(const struct merkle_range *r, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t acc[MERKLE_HASH_LEN];
	int have = 0;

	if (r->size == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	/* Fold the right edge from the smallest subtree up: each larger one is a left sibling. */
	for (unsigned level = 0; level < MERKLE_MAX_LEVELS; level++) {
		if (!(r->size & ((uint64_t)1 << level)))
			continue;
		if (!have) {
			memcpy(acc, r->node[level], MERKLE_HASH_LEN);
			have = 1;
		} else {
			merkle_node_hash(r->node[level], acc, acc);
		}
	}
	memcpy(out, acc, MERKLE_HASH_LEN);
}

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static void reverse_spans(struct merkle_span *s, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		struct merkle_span t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
}

int merkle_inclusion_spans(uint64_t index, uint64_t size, struct merkle_span *spans, size_t *count)
{
	uint64_t lo = 0, hi = size;
	size_t n = 0;

	*count = 0;
	if (index >= size)
		return VAULT_E_INVAL;
	/* Walk down from the root; the proof lists the siblings from the leaf up. */
	while (hi - lo > 1) {
		uint64_t k = split_point(hi - lo);
		if (n >= MERKLE_MAX_PROOF)
			return VAULT_E_INVAL;
		if (index - lo < k) {
			spans[n++] = (struct merkle_span){lo + k, hi};
			hi = lo + k;
		} else {
			spans[n++] = (struct merkle_span){lo, lo + k};
			lo += k;
		}
	}
	reverse_spans(spans, n);
	*count = n;
	return VAULT_OK;
}

int merkle_consistency_spans(uint64_t size1, uint64_t size2, struct merkle_span *spans,
			     size_t *count)
{
	uint64_t lo = 0, hi = size2;
	int whole = 1; /* b in RFC 9162 SUBPROOF: still on the left edge of the tree */
	size_t n = 0;

	*count = 0;
	if (size1 > size2)
		return VAULT_E_INVAL;
	if (size1 == 0 || size1 == size2)
		return VAULT_OK;
	for (;;) {
		uint64_t k;
		if (n >= MERKLE_MAX_PROOF)
			return VAULT_E_INVAL;
		if (size1 == hi) {
			if (!whole)
				spans[n++] = (struct merkle_span){lo, hi};
			break;
		}
		k = split_point(hi - lo);
		if (size1 - lo <= k) {
			spans[n++] = (struct merkle_span){lo + k, hi};
			hi = lo + k;
		} else {
			spans[n++] = (struct merkle_span){lo, lo + k};
			lo += k;
			whole = 0;
		}
	}
	reverse_spans(spans, n);
	*count = n;
	return VAULT_OK;
}

int merkle_prover_init(struct merkle_prover *p, const struct merkle_span *spans, size_t count)
{
	memset(p, 0, sizeof(*p));
	if (count > MERKLE_MAX_PROOF)
		return VAULT_E_INVAL;
	p->count = count;
	for (size_t i = 0; i < count; i++) {
		if (spans[i].begin >= spans[i].end)
			return VAULT_E_INVAL;
		p->spans[i] = spans[i];
		p->order[i] = (uint8_t)i;
	}
	/* Insertion sort: at most 64 spans. */
	for (size_t i = 1; i < count; i++) {
		uint8_t v = p->order[i];
		size_t j = i;
		while (j > 0 && p->spans[p->order[j - 1]].begin > p->spans[v].begin) {
			p->order[j] = p->order[j - 1];
			j--;
		}
		p->order[j] = v;
	}
	for (size_t i = 1; i < count; i++)
		if (p->spans[p->order[i - 1]].end > p->spans[p->order[i]].begin)
			return VAULT_E_INVAL;
	merkle_range_init(&p->acc);
	return VAULT_OK;
}

void merkle_prover_leaf(struct merkle_prover *p, uint64_t index,
			const uint8_t leaf[MERKLE_HASH_LEN])
{
	const struct merkle_span *s;

	if (p->next >= p->count)
		return;
	s = &p->spans[p->order[p->next]];
	if (index < s->begin || index != s->begin + p->acc.size)
		return;
	merkle_range_append(&p->acc, leaf);
	if (p->acc.size == s->end - s->begin) {
		merkle_range_root(&p->acc, p->hashes[p->order[p->next]]);
		merkle_range_init(&p->acc);
		p->next++;
	}
}

int merkle_prover_finish(struct merkle_prover *p, uint8_t out[][MERKLE_HASH_LEN])
{
	if (p->next != p->count)
		return VAULT_E_INVAL;
	for (size_t i = 0; i < p->count; i++)
		memcpy(out[i], p->hashes[i], MERKLE_HASH_LEN);
	return VAULT_OK;
}

int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[MERKLE_HASH_LEN],
			    const uint8_t *proof, size_t count, const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn = index, sn;

	if (index >= size || count > MERKLE_MAX_PROOF)
		return VAULT_E_PROOF;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return VAULT_E_PROOF;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof + i * MERKLE_HASH_LEN, r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof + i * MERKLE_HASH_LEN, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(r, root, MERKLE_HASH_LEN) != 0)
		return VAULT_E_PROOF;
	return VAULT_OK;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_LEN],
			      const uint8_t root2[MERKLE_HASH_LEN], const uint8_t *proof,
			      size_t count)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i = 0;
	int pow2;

	if (size1 > size2 || count > MERKLE_MAX_PROOF)
		return VAULT_E_PROOF;
	if (size1 == size2)
		return count == 0 && sodium_memcmp(root1, root2, MERKLE_HASH_LEN) == 0
			   ? VAULT_OK
			   : VAULT_E_PROOF;
	if (size1 == 0)
		return count == 0 ? VAULT_OK : VAULT_E_PROOF;
	if (count == 0)
		return VAULT_E_PROOF;
	/* Step 2: a power-of-two first tree is its own first proof element (root1). */
	pow2 = (size1 & (size1 - 1)) == 0;
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	c = pow2 ? root1 : proof + MERKLE_HASH_LEN * i++;
	memcpy(fr, c, MERKLE_HASH_LEN);
	memcpy(sr, c, MERKLE_HASH_LEN);
	for (; i < count; i++) {
		c = proof + i * MERKLE_HASH_LEN;
		if (sn == 0)
			return VAULT_E_PROOF;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(fr, root1, MERKLE_HASH_LEN) != 0 ||
	    sodium_memcmp(sr, root2, MERKLE_HASH_LEN) != 0)
		return VAULT_E_PROOF;
	return VAULT_OK;
}
