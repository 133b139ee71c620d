/* The log's tree, stored: every node hash of the Merkle tree in audit.tree and where each record
 * ends in audit.index, so that opening the log, a receipt and a consistency proof read O(log n)
 * hashes instead of the whole log. Both files are derived from the log and never synced: after
 * a crash they may be short, and whatever they hold past what the log proves is ignored. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "audit-internal.h"
#include "bytes.h"
#include "error.h"
#include "fileio.h"

/* Nodes of the trees of all perfect subtrees completed by n leaves, in the order they were
 * completed (post-order): 2n - popcount(n). */
uint64_t audit_tree_nodes(uint64_t n)
{
	return 2 * n - (uint64_t)__builtin_popcountll(n);
}

/* Position of the node of level `level` (2^level leaves) number `index` in audit.tree: the
 * nodes completed before its first leaf, then its own subtree less itself. */
static uint64_t node_pos(unsigned level, uint64_t index)
{
	uint64_t first = index << level;

	return audit_tree_nodes(first) + ((uint64_t)2 << level) - 2;
}

static int open_at(int dirfd, const char *name, int writable)
{
	int flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC;

	return openat(dirfd, name, flags, FILEIO_FILE_MODE);
}

static int file_size(int fd, uint64_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return VAULT_E_IO;
	*size = (uint64_t)end;
	return VAULT_OK;
}

/* The most leaves whose nodes all fit in nodes stored hashes. */
static uint64_t leaves_in(uint64_t nodes)
{
	uint64_t n = nodes / 2 + MERKLE_MAX_LEVELS / 2 + 1; /* nodes(n) >= 2n - 64 */

	while (n > 0 && audit_tree_nodes(n) > nodes)
		n--;
	return n;
}

int audit_tree_open(int dirfd, int writable, struct audit_tree *t)
{
	uint64_t tbytes, ibytes;
	int ret = VAULT_OK;

	memset(t, 0, sizeof(*t));
	t->tfd = t->ifd = -1;
	t->tfd = open_at(dirfd, AUDIT_TREE_NAME, writable);
	t->ifd = open_at(dirfd, AUDIT_INDEX_NAME, writable);
	if (t->tfd < 0 || t->ifd < 0)
		ret = errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO;
	if (ret == VAULT_OK && (ret = file_size(t->tfd, &tbytes)) == VAULT_OK &&
	    (ret = file_size(t->ifd, &ibytes)) == VAULT_OK) {
		uint64_t a = leaves_in(tbytes / MERKLE_HASH_LEN), b = ibytes / AUDIT_INDEX_ENTRY;
		t->size = a < b ? a : b;
	}
	if (ret != VAULT_OK)
		audit_tree_close(t);
	return ret;
}

void audit_tree_close(struct audit_tree *t)
{
	if (t->tfd >= 0)
		close(t->tfd);
	if (t->ifd >= 0)
		close(t->ifd);
	t->tfd = t->ifd = -1;
	t->size = 0;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do {
		n = pread(fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? VAULT_OK : VAULT_E_IO;
}

int audit_tree_node(const struct audit_tree *t, unsigned level, uint64_t index,
		    uint8_t out[MERKLE_HASH_LEN])
{
	if (level >= MERKLE_MAX_LEVELS || ((index + 1) << level) > t->size)
		return VAULT_E_INVAL;
	return pread_full(t->tfd, out, MERKLE_HASH_LEN, node_pos(level, index) * MERKLE_HASH_LEN);
}

/* MTH(D[begin:end]) as RFC 9162 splits it: the largest power of two below the span's length at
 * begin, which is a perfect stored subtree, then the rest. In every span a proof or a root asks
 * for, begin is a multiple of that subtree's size. */
int audit_tree_hash(const struct audit_tree *t, uint64_t begin, uint64_t end,
		    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t right[MERKLE_HASH_LEN];
	uint64_t n = end - begin, k;
	unsigned level;
	int ret;

	if (begin >= end || end > t->size)
		return VAULT_E_INVAL;
	if ((n & (n - 1)) == 0) {
		level = (unsigned)__builtin_ctzll(n);
		if (begin & (n - 1))
			return VAULT_E_INVAL;
		return audit_tree_node(t, level, begin >> level, out);
	}
	level = 63u - (unsigned)__builtin_clzll(n);
	k = (uint64_t)1 << level;
	if (begin & (k - 1))
		return VAULT_E_INVAL;
	if ((ret = audit_tree_node(t, level, begin >> level, out)) != VAULT_OK ||
	    (ret = audit_tree_hash(t, begin + k, end, right)) != VAULT_OK)
		return ret;
	merkle_node_hash(out, right, out);
	return VAULT_OK;
}

int audit_tree_range(const struct audit_tree *t, uint64_t size, struct merkle_range *r)
{
	int ret = VAULT_OK;

	if (size > t->size)
		return VAULT_E_INVAL;
	merkle_range_init(r);
	r->size = size;
	for (unsigned l = 0; l < MERKLE_MAX_LEVELS && ret == VAULT_OK; l++)
		if (size & ((uint64_t)1 << l))
			ret = audit_tree_node(t, l, (size >> l) - 1, r->node[l]);
	return ret;
}

int audit_tree_end(const struct audit_tree *t, uint64_t seq, uint64_t *end)
{
	uint8_t b[AUDIT_INDEX_ENTRY];
	int ret;

	if (seq >= t->size)
		return VAULT_E_INVAL;
	ret = pread_full(t->ifd, b, sizeof(b), seq * AUDIT_INDEX_ENTRY);
	if (ret == VAULT_OK)
		*end = load_be64(b);
	return ret;
}

int audit_tree_truncate(struct audit_tree *t, uint64_t leaves)
{
	if (leaves > t->size)
		return VAULT_E_INVAL;
	if (ftruncate(t->tfd, (off_t)(audit_tree_nodes(leaves) * MERKLE_HASH_LEN)) != 0 ||
	    ftruncate(t->ifd, (off_t)(leaves * AUDIT_INDEX_ENTRY)) != 0)
		return VAULT_E_IO;
	t->size = leaves;
	return VAULT_OK;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return VAULT_E_IO;
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
	return VAULT_OK;
}

int audit_tree_append(struct audit_tree *t, const struct merkle_range *before,
		      const uint8_t leaf[MERKLE_HASH_LEN], uint64_t end)
{
	uint8_t nodes[MERKLE_MAX_LEVELS + 1][MERKLE_HASH_LEN], b[AUDIT_INDEX_ENTRY];
	size_t n = 1;
	int ret;

	if (before->size != t->size)
		return VAULT_E_INVAL;
	/* the leaf, then each subtree it completes: the nodes merkle_range_append merges */
	memcpy(nodes[0], leaf, MERKLE_HASH_LEN);
	for (unsigned l = 0; before->size & ((uint64_t)1 << l); l++, n++)
		merkle_node_hash(before->node[l], nodes[n - 1], nodes[n]);
	store_be64(b, end);
	ret = pwrite_full(t->tfd, nodes, n * MERKLE_HASH_LEN,
			  audit_tree_nodes(t->size) * MERKLE_HASH_LEN);
	if (ret == VAULT_OK)
		ret = pwrite_full(t->ifd, b, sizeof(b), t->size * AUDIT_INDEX_ENTRY);
	if (ret == VAULT_OK)
		t->size++;
	return ret;
}
