/* Proofs over the log's Merkle tree: receipts (a record's inclusion under the current
 * checkpoint, in C2SP tlog-proof form) and consistency proofs. From the stored tree they read
 * O(log n) hashes and one record; each proof is checked against the signed checkpoint before it
 * is given, and when the stored tree is missing, short or wrong the proof is computed in one
 * streaming pass over the log instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit-internal.h"
#include "error.h"
#include "fileio.h"

#define RECEIPT_HEADER "c2sp.org/tlog-proof@v1"
#define RECEIPT_EXTRA "extra "
#define RECEIPT_INDEX "index "
#define INDEX_DIGITS_MAX 20 /* UINT64_MAX in decimal */
#define PROOF_HEAD_MAX 64   /* room checked for the first lines of a receipt or a proof */

/* The verifier key and current checkpoint of dir, the log opened for reading, and the stored
 * tree when it holds the checkpoint's leaves (else tree->size is 0). */
static int load_for_proof(const char *dir, struct note_verifier *v, struct checkpoint *cp,
			  char *cptext, size_t cpcap, size_t *cplen, int *fd,
			  struct audit_tree *tree)
{
	int dirfd, ret = audit_log_open_read(dir, &dirfd, fd);

	tree->tfd = tree->ifd = -1;
	tree->size = 0;
	if (ret != VAULT_OK)
		return ret;
	ret = audit_key_read_at(dirfd, v);
	if (ret == VAULT_OK)
		ret = fileio_read(dirfd, AUDIT_CHECKPOINT_NAME, (uint8_t *)cptext, cpcap, cplen);
	if (ret == VAULT_OK)
		ret = checkpoint_open((const uint8_t *)cptext, *cplen, v, v->name, cp);
	if (ret == VAULT_OK && audit_tree_open(dirfd, 0, tree) == VAULT_OK && tree->size < cp->size)
		audit_tree_close(tree);
	close(dirfd);
	if (ret != VAULT_OK) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

/* Streams leaves [0, upto) into prover, keeping the root at size1 (if non-zero) and at upto;
 * copies line keep (if < upto) into keepline. */
static int stream_leaves(int fd, struct merkle_prover *prover, uint64_t size1,
			 uint8_t root1[MERKLE_HASH_LEN], uint64_t upto,
			 uint8_t root[MERKLE_HASH_LEN], uint64_t keep, uint8_t *keepline,
			 size_t *keeplen)
{
	struct audit_reader rd;
	struct merkle_range *range = malloc(sizeof(*range));
	const uint8_t *line;
	uint8_t h[MERKLE_HASH_LEN];
	size_t len;
	int ret = audit_reader_init(&rd, fd), r = 0;

	if (range == NULL)
		ret = VAULT_E_NOMEM;
	if (ret != VAULT_OK)
		goto out;
	merkle_range_init(range);
	while (range->size < upto && (r = audit_reader_next(&rd, &line, &len)) == 1) {
		merkle_leaf_hash(line, len, h);
		merkle_prover_leaf(prover, range->size, h);
		if (range->size == keep && keepline != NULL) {
			memcpy(keepline, line, len);
			*keeplen = len;
		}
		merkle_range_append(range, h);
		if (range->size == size1 && root1 != NULL)
			merkle_range_root(range, root1);
	}
	if (r < 0)
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_RECORD : r;
	else if (range->size < upto)
		ret = VAULT_E_INCONSISTENT;
	else
		merkle_range_root(range, root);
out:
	free(range);
	audit_reader_free(&rd);
	return ret;
}

static int append_b64(char *out, size_t cap, size_t *pos, const char *pre, const uint8_t *bin,
		      size_t len)
{
	size_t need = strlen(pre) + sodium_base64_ENCODED_LEN(len, AUDIT_B64) + 1;

	if (*pos + need > cap)
		return VAULT_E_TOOLONG;
	*pos += (size_t)snprintf(out + *pos, cap - *pos, "%s", pre);
	sodium_bin2base64(out + *pos, cap - *pos, bin, len, AUDIT_B64);
	*pos += strlen(out + *pos);
	out[(*pos)++] = '\n';
	out[*pos] = '\0';
	return VAULT_OK;
}

/* ---------- receipts ---------- */

/* The receipt's text: header, the line, its index, the n hashes, a blank line, the checkpoint. */
static int receipt_format(char *out, size_t cap, size_t *len, const uint8_t *line, size_t linelen,
			  uint64_t seq, uint8_t proof[][MERKLE_HASH_LEN], size_t n,
			  const char *cptext, size_t cplen)
{
	size_t pos;
	int ret;

	if (cap < PROOF_HEAD_MAX)
		return VAULT_E_TOOLONG;
	pos = (size_t)snprintf(out, cap, RECEIPT_HEADER "\n");
	ret = append_b64(out, cap, &pos, RECEIPT_EXTRA, line, linelen);
	if (ret == VAULT_OK && pos + 32 < cap)
		pos += (size_t)snprintf(out + pos, cap - pos, RECEIPT_INDEX "%llu\n",
					(unsigned long long)seq);
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = append_b64(out, cap, &pos, "", proof[i], MERKLE_HASH_LEN);
	if (ret == VAULT_OK && pos + 1 + cplen + 1 > cap)
		ret = VAULT_E_TOOLONG;
	if (ret != VAULT_OK)
		return ret;
	out[pos++] = '\n';
	memcpy(out + pos, cptext, cplen);
	pos += cplen;
	out[pos] = '\0';
	*len = pos;
	return VAULT_OK;
}

/* The hashes of spans from the stored tree. */
static int stored_spans(const struct audit_tree *t, const struct merkle_span *spans, size_t n,
			uint8_t proof[][MERKLE_HASH_LEN])
{
	int ret = VAULT_OK;

	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = audit_tree_hash(t, spans[i].begin, spans[i].end, proof[i]);
	return ret;
}

/* Record seq's line through the stored index: one read. */
static int stored_line(const struct audit_tree *t, int fd, uint64_t seq, uint8_t *line, size_t *len)
{
	uint64_t start = 0, end;
	ssize_t got;

	if (audit_tree_end(t, seq, &end) != VAULT_OK ||
	    (seq > 0 && audit_tree_end(t, seq - 1, &start) != VAULT_OK) || end <= start ||
	    end - start > AUDIT_LINE_MAX + 1)
		return VAULT_E_INCONSISTENT;
	got = pread(fd, line, end - start, (off_t)start);
	if (got != (ssize_t)(end - start) || line[end - start - 1] != '\n')
		return VAULT_E_INCONSISTENT;
	*len = end - start - 1;
	return VAULT_OK;
}

/* A receipt's proof from the stored tree, checked against the signed root. */
static int prove_stored(const struct audit_tree *t, int fd, const struct checkpoint *cp,
			uint64_t seq, const struct merkle_span *spans, size_t n,
			uint8_t proof[][MERKLE_HASH_LEN], uint8_t *line, size_t *linelen)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	int ret = stored_spans(t, spans, n, proof);

	if (ret == VAULT_OK)
		ret = stored_line(t, fd, seq, line, linelen);
	if (ret != VAULT_OK)
		return ret;
	merkle_leaf_hash(line, *linelen, leaf);
	return merkle_verify_inclusion(seq, cp->size, leaf, proof[0], n, cp->root);
}

/* A receipt's proof in one pass over the log. */
static int prove_streamed(int fd, const struct checkpoint *cp, uint64_t seq,
			  const struct merkle_span *spans, size_t n,
			  uint8_t proof[][MERKLE_HASH_LEN], uint8_t *line, size_t *linelen)
{
	struct merkle_prover *prover = malloc(sizeof(*prover));
	uint8_t root[MERKLE_HASH_LEN];
	int ret = prover == NULL ? VAULT_E_NOMEM : merkle_prover_init(prover, spans, n);

	if (ret == VAULT_OK)
		ret = stream_leaves(fd, prover, 0, NULL, cp->size, root, seq, line, linelen);
	if (ret == VAULT_OK && sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0)
		ret = VAULT_E_INCONSISTENT;
	if (ret == VAULT_OK)
		ret = merkle_prover_finish(prover, proof);
	free(prover);
	return ret;
}

int audit_prove(const char *dir, uint64_t seq, char *out, size_t cap, size_t *len)
{
	struct note_verifier v;
	struct checkpoint cp;
	struct audit_tree tree;
	struct merkle_span spans[MERKLE_MAX_PROOF];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint8_t *line = malloc(AUDIT_LINE_MAX + 1);
	char cptext[AUDIT_CHECKPOINT_MAX];
	size_t cplen, n = 0, linelen = 0;
	int fd = -1, ret;

	*len = 0;
	ret = line == NULL ? VAULT_E_NOMEM : VAULT_OK;
	if (ret == VAULT_OK)
		ret = load_for_proof(dir, &v, &cp, cptext, sizeof(cptext), &cplen, &fd, &tree);
	if (ret == VAULT_OK && seq >= cp.size)
		ret = VAULT_E_NOTFOUND;
	if (ret == VAULT_OK)
		ret = merkle_inclusion_spans(seq, cp.size, spans, &n);
	if (ret == VAULT_OK && (tree.size == 0 || prove_stored(&tree, fd, &cp, seq, spans, n, proof,
							       line, &linelen) != VAULT_OK))
		ret = prove_streamed(fd, &cp, seq, spans, n, proof, line, &linelen);
	if (ret == VAULT_OK)
		ret = receipt_format(out, cap, len, line, linelen, seq, proof, n, cptext, cplen);
	if (fd >= 0)
		close(fd);
	audit_tree_close(&tree);
	free(line);
	return ret;
}

/* A decimal index without leading zeros. */
static int parse_index(const char *s, size_t len, uint64_t *index)
{
	uint64_t idx = 0;

	if (len == 0 || len > INDEX_DIGITS_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || (i == 0 && s[i] == '0' && len > 1) ||
		    idx > (UINT64_MAX - 9) / 10)
			return -1;
		idx = idx * 10 + (uint64_t)(s[i] - '0');
	}
	*index = idx;
	return 0;
}

struct receipt {
	uint8_t *line; /* AUDIT_LINE_MAX bytes */
	size_t linelen;
	uint64_t index;
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	size_t count;
	size_t checkpoint; /* offset of the signed checkpoint */
};

/* Reads the lines of a receipt before its checkpoint: 0, or -1 if malformed. */
static int receipt_parse(const uint8_t *s, size_t len, struct receipt *rc)
{
	size_t pre = strlen(RECEIPT_EXTRA), ll, pos = 0, got;
	const char *l;

	if (len > AUDIT_PROOF_MAX || !note_next_line(s, len, &pos, &l, &ll) ||
	    ll != strlen(RECEIPT_HEADER) || memcmp(l, RECEIPT_HEADER, ll) != 0)
		return -1;
	if (!note_next_line(s, len, &pos, &l, &ll) || ll < pre ||
	    memcmp(l, RECEIPT_EXTRA, pre) != 0 ||
	    sodium_base642bin(rc->line, AUDIT_LINE_MAX, l + pre, ll - pre, NULL, &rc->linelen, NULL,
			      AUDIT_B64) != 0)
		return -1;
	pre = strlen(RECEIPT_INDEX);
	if (!note_next_line(s, len, &pos, &l, &ll) || ll < pre ||
	    memcmp(l, RECEIPT_INDEX, pre) != 0 || parse_index(l + pre, ll - pre, &rc->index) != 0)
		return -1;
	while (note_next_line(s, len, &pos, &l, &ll) && ll > 0) {
		got = 0;
		if (rc->count >= MERKLE_MAX_PROOF ||
		    sodium_base642bin(rc->proof[rc->count], MERKLE_HASH_LEN, l, ll, NULL, &got,
				      NULL, AUDIT_B64) != 0 ||
		    got != MERKLE_HASH_LEN)
			return -1;
		rc->count++;
	}
	rc->checkpoint = pos;
	return 0;
}

int audit_receipt_verify(const uint8_t *receipt, size_t len, const struct note_verifier *v,
			 uint64_t *index)
{
	struct receipt *rc = calloc(1, sizeof(*rc));
	uint8_t leaf[MERKLE_HASH_LEN];
	struct checkpoint cp;
	const uint8_t *prev;
	uint64_t seq;
	int ret = VAULT_E_PROOF;

	*index = 0;
	if (rc == NULL || (rc->line = malloc(AUDIT_LINE_MAX + 1)) == NULL) {
		free(rc);
		return VAULT_E_NOMEM;
	}
	/* The record itself must say it is number index. */
	if (receipt_parse(receipt, len, rc) != 0 ||
	    audit_line_scan(rc->line, rc->linelen, &seq, &prev) != 0 || seq != rc->index)
		goto out;
	ret = checkpoint_open(receipt + rc->checkpoint, len - rc->checkpoint, v, v->name, &cp);
	if (ret != VAULT_OK)
		goto out;
	merkle_leaf_hash(rc->line, rc->linelen, leaf);
	ret = merkle_verify_inclusion(rc->index, cp.size, leaf, rc->proof[0], rc->count, cp.root);
	if (ret == VAULT_OK)
		*index = rc->index;
out:
	free(rc->line);
	free(rc);
	return ret;
}

/* ---------- consistency ---------- */

/* "size1 N\nsize2 M\nroot1 b64\nroot2 b64\n" then one base64 hash per line. */
static int consistency_format(char *out, size_t cap, size_t *len, uint64_t size1, uint64_t size2,
			      const uint8_t root1[MERKLE_HASH_LEN],
			      const uint8_t root2[MERKLE_HASH_LEN],
			      uint8_t proof[][MERKLE_HASH_LEN], size_t n)
{
	size_t pos;
	int ret;

	if (cap <= PROOF_HEAD_MAX)
		return VAULT_E_TOOLONG;
	pos = (size_t)snprintf(out, cap, "size1 %llu\nsize2 %llu\n", (unsigned long long)size1,
			       (unsigned long long)size2);
	ret = append_b64(out, cap, &pos, "root1 ", root1, MERKLE_HASH_LEN);
	if (ret == VAULT_OK)
		ret = append_b64(out, cap, &pos, "root2 ", root2, MERKLE_HASH_LEN);
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = append_b64(out, cap, &pos, "", proof[i], MERKLE_HASH_LEN);
	if (ret == VAULT_OK)
		*len = pos;
	return ret;
}

/* A consistency proof and both roots from the stored tree, checked against each other. */
static int consistency_stored(const struct audit_tree *t, uint64_t size1, uint64_t size2,
			      const struct merkle_span *spans, size_t n,
			      uint8_t proof[][MERKLE_HASH_LEN], uint8_t root1[MERKLE_HASH_LEN],
			      uint8_t root2[MERKLE_HASH_LEN])
{
	int ret = stored_spans(t, spans, n, proof);

	if (ret == VAULT_OK && size1 > 0)
		ret = audit_tree_hash(t, 0, size1, root1);
	if (ret == VAULT_OK && size2 > 0)
		ret = audit_tree_hash(t, 0, size2, root2);
	if (ret == VAULT_OK)
		ret = merkle_verify_consistency(size1, size2, root1, root2, proof[0], n);
	return ret;
}

static int consistency_streamed(int fd, uint64_t size1, uint64_t size2,
				const struct merkle_span *spans, size_t n,
				uint8_t proof[][MERKLE_HASH_LEN], uint8_t root1[MERKLE_HASH_LEN],
				uint8_t root2[MERKLE_HASH_LEN])
{
	struct merkle_prover *prover = malloc(sizeof(*prover));
	int ret = prover == NULL ? VAULT_E_NOMEM : merkle_prover_init(prover, spans, n);

	crypto_hash_sha256(root1, NULL, 0);
	if (ret == VAULT_OK)
		ret = stream_leaves(fd, prover, size1, root1, size2, root2, UINT64_MAX, NULL, NULL);
	if (ret == VAULT_OK)
		ret = merkle_prover_finish(prover, proof);
	free(prover);
	return ret;
}

int audit_consistency(const char *dir, uint64_t size1, uint64_t size2, char *out, size_t cap,
		      size_t *len)
{
	struct note_verifier v;
	struct checkpoint cp;
	struct audit_tree tree;
	struct merkle_span spans[MERKLE_MAX_PROOF];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], root1[MERKLE_HASH_LEN],
	    root2[MERKLE_HASH_LEN];
	char cptext[AUDIT_CHECKPOINT_MAX];
	size_t cplen, n = 0;
	int fd = -1, ret;

	*len = 0;
	ret = load_for_proof(dir, &v, &cp, cptext, sizeof(cptext), &cplen, &fd, &tree);
	if (ret == VAULT_OK && size2 == 0)
		size2 = cp.size;
	if (ret == VAULT_OK && (size1 > size2 || size2 > cp.size))
		ret = VAULT_E_INVAL;
	if (ret == VAULT_OK)
		ret = merkle_consistency_spans(size1, size2, spans, &n);
	crypto_hash_sha256(root1, NULL, 0);
	crypto_hash_sha256(root2, NULL, 0);
	if (ret == VAULT_OK &&
	    (tree.size == 0 ||
	     consistency_stored(&tree, size1, size2, spans, n, proof, root1, root2) != VAULT_OK))
		ret = consistency_streamed(fd, size1, size2, spans, n, proof, root1, root2);
	if (ret == VAULT_OK && size2 == cp.size &&
	    sodium_memcmp(root2, cp.root, MERKLE_HASH_LEN) != 0)
		ret = VAULT_E_INCONSISTENT;
	if (ret == VAULT_OK)
		ret = consistency_format(out, cap, len, size1, size2, root1, root2, proof, n);
	if (fd >= 0)
		close(fd);
	audit_tree_close(&tree);
	return ret;
}
