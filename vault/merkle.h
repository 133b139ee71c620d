/* RFC 9162 section 2.1 Merkle tree over SHA-256: hashing, compact ranges, proofs. */
#ifndef SESAME_VAULT_MERKLE_H
#define SESAME_VAULT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/* A tree of 2^64 - 1 leaves has at most 64 levels, so proofs have at most 64 hashes. */
#define MERKLE_MAX_LEVELS 64
#define MERKLE_MAX_PROOF 64

/* SHA-256(0x00 || data) and SHA-256(0x01 || left || right). */
void merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);
void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN]);

/* The right edge of a tree of size leaves: for every bit i set in size, the root of the
 * perfect subtree of 2^i leaves it stands for. O(log n) memory, O(1) amortised append. */
struct merkle_range {
	uint64_t size;
	uint8_t node[MERKLE_MAX_LEVELS][MERKLE_HASH_LEN];
};

void merkle_range_init(struct merkle_range *r);
/* VAULT_E_FULL once the tree holds 2^64 - 1 leaves. */
int merkle_range_append(struct merkle_range *r, const uint8_t leaf[MERKLE_HASH_LEN]);
/* MTH of the leaves so far; SHA-256("") for the empty tree. */
void merkle_range_root(const struct merkle_range *r, uint8_t out[MERKLE_HASH_LEN]);

/* A half-open run of leaves [begin, end) whose subtree hash MTH(D[begin:end]) is one element of
 * a proof. Proofs are computed by listing their spans, then streaming the leaves once. */
struct merkle_span {
	uint64_t begin, end;
};

/* Spans of PATH(index, D[0:size]) (RFC 9162 2.1.3.1), in proof order. */
int merkle_inclusion_spans(uint64_t index, uint64_t size, struct merkle_span *spans, size_t *count);
/* Spans of PROOF(size1, D[0:size2]) (RFC 9162 2.1.4.1), in proof order; empty when
 * size1 == 0 or size1 == size2. */
int merkle_consistency_spans(uint64_t size1, uint64_t size2, struct merkle_span *spans,
			     size_t *count);

/* Computes the hashes of up to MERKLE_MAX_PROOF disjoint spans from leaves fed in index order.
 * Only one span is open at a time, so memory does not depend on the tree size. */
struct merkle_prover {
	size_t count, next; /* spans, and the index (in order[]) of the open one */
	struct merkle_span spans[MERKLE_MAX_PROOF];
	uint8_t order[MERKLE_MAX_PROOF]; /* span indices sorted by begin */
	uint8_t hashes[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	struct merkle_range acc;
};

int merkle_prover_init(struct merkle_prover *p, const struct merkle_span *spans, size_t count);
/* Feed leaf number index; leaves must come in increasing order (gaps allowed outside spans). */
void merkle_prover_leaf(struct merkle_prover *p, uint64_t index,
			const uint8_t leaf[MERKLE_HASH_LEN]);
/* VAULT_E_INVAL if a span did not receive all its leaves. */
int merkle_prover_finish(struct merkle_prover *p, uint8_t out[][MERKLE_HASH_LEN]);

/* Proofs are count hashes of MERKLE_HASH_LEN bytes, one after the other.
 * RFC 9162 2.1.3.2: VAULT_OK, or VAULT_E_PROOF. */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[MERKLE_HASH_LEN],
			    const uint8_t *proof, size_t count,
			    const uint8_t root[MERKLE_HASH_LEN]);
/* RFC 9162 2.1.4.2, plus the trivial cases: size1 == size2 needs an empty proof and equal
 * roots, size1 == 0 an empty proof. VAULT_OK, or VAULT_E_PROOF. */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_LEN],
			      const uint8_t root2[MERKLE_HASH_LEN], const uint8_t *proof,
			      size_t count);

#endif
