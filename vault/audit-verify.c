/* The auditor's check of a log: one streaming pass that checks every record's number and link,
 * the roots at the signed and the kept checkpoint, and says what was altered and where: a kind
 * and its numbers, which the command words in the auditor's language. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit-internal.h"
#include "error.h"
#include "fileio.h"

struct verify_state {
	struct audit_reader rd;
	int fd;
	struct merkle_range range;
	struct merkle_prover prover; /* the consistency proof between the two checkpoints */
	size_t nspans;
	uint8_t h1[MERKLE_HASH_LEN], h2[MERKLE_HASH_LEN]; /* leaf hashes of lines p-1, p-2 */
	uint64_t lines;					  /* p: complete lines taken in */
	uint64_t pending;				  /* 1 + j of a broken link, or 0 */
};

int audit_verify_is_read_error(int code)
{
	return code == VAULT_E_IO || code == VAULT_E_NOTFOUND || code == VAULT_E_PERM ||
	       code == VAULT_E_NOMEM || code == VAULT_E_INVAL || code == VAULT_E_BUSY ||
	       code == VAULT_E_ACCESS || code == VAULT_E_SYMLINK || code == VAULT_E_FILETYPE;
}

static int report(struct audit_verify_report *rep, int code, uint64_t line,
		  enum audit_verify_kind kind, uint64_t a, uint64_t b, uint64_t c)
{
	rep->code = code;
	rep->line = line;
	rep->kind = kind;
	rep->n[0] = a;
	rep->n[1] = b;
	rep->n[2] = c;
	return code;
}

/* Record j's link did not match record j-1. If record j+1 links to record j correctly
 * (next > 0), record j is intact and j-1 was altered; if not (next == 0), j itself was. With no
 * usable record j+1 (next < 0) either may be: blame j-1, whose content is the likelier edit. */
static int blame_link(struct audit_verify_report *rep, uint64_t j, int next)
{
	if (next > 0)
		return report(rep, VAULT_E_TAMPERED, j, AUDIT_VERIFY_HASH, j, j + 1, 0);
	if (next < 0)
		return report(rep, VAULT_E_TAMPERED, j, AUDIT_VERIFY_HASH_OR_LINK, j, j + 1, 0);
	return report(rep, VAULT_E_TAMPERED, j + 1, AUDIT_VERIFY_LINK, j + 1, j, 0);
}

/* ---------- one pass over the lines ---------- */

/* Line p + 1 carries sequence number seq, not p. */
static int report_sequence(const struct verify_state *s, struct audit_verify_report *rep,
			   uint64_t seq, const uint8_t *prev)
{
	uint64_t p = s->lines;

	if (s->pending)
		return blame_link(rep, s->pending - 1, -1);
	if (p > 0 && seq == p - 1 && audit_prev_matches(prev, s->h2))
		return report(rep, VAULT_E_LOG_SEQUENCE, p, AUDIT_VERIFY_INSERTED, p, p + 1, p - 1);
	return report(rep, VAULT_E_LOG_SEQUENCE, p + 1,
		      seq > p ? AUDIT_VERIFY_SEQ_DELETED : AUDIT_VERIFY_SEQ_INSERTED, p + 1, seq,
		      p);
}

/* Where the tree reaches the size of the signed or the kept checkpoint, its root must match. */
static int check_roots(const struct verify_state *s, struct audit_verify_report *rep)
{
	const struct checkpoint *latest = &rep->latest, *old = &rep->old;
	uint64_t size = s->range.size; /* the line just taken in is line size */
	int at_latest = size == latest->size, at_old = rep->have_old && size == old->size;
	int bad_latest, bad_old;
	uint8_t root[MERKLE_HASH_LEN];

	if (!at_latest && !at_old)
		return VAULT_OK;
	merkle_range_root(&s->range, root);
	bad_latest = at_latest && sodium_memcmp(root, latest->root, MERKLE_HASH_LEN) != 0;
	bad_old = at_old && sodium_memcmp(root, old->root, MERKLE_HASH_LEN) != 0;
	if ((bad_latest || bad_old) && s->pending)
		return blame_link(rep, s->pending - 1, -1);
	if (bad_latest)
		return report(rep, VAULT_E_TAMPERED, size, AUDIT_VERIFY_SIGNED_ROOT, latest->size,
			      size, 0);
	if (bad_old)
		return report(rep, VAULT_E_INCONSISTENT, size, AUDIT_VERIFY_KEPT_ROOT, old->size, 0,
			      0);
	return VAULT_OK;
}

/* Takes in line p + 1. A broken link is blamed only once the next line shows which side was
 * altered. */
static int verify_line(struct verify_state *s, struct audit_verify_report *rep, const uint8_t *line,
		       size_t len)
{
	const uint8_t *prev;
	uint8_t h[MERKLE_HASH_LEN];
	uint64_t p = s->lines, seq;
	int ret;

	if (audit_line_scan(line, len, &seq, &prev) != 0) {
		if (s->pending)
			return blame_link(rep, s->pending - 1, -1);
		return report(rep, VAULT_E_LOG_RECORD, p + 1, AUDIT_VERIFY_MALFORMED, p + 1, 0, 0);
	}
	if (seq != p)
		return report_sequence(s, rep, seq, prev);
	if (s->pending)
		return blame_link(rep, s->pending - 1, audit_prev_matches(prev, s->h1));
	if (!audit_prev_matches(prev, s->h1)) {
		if (p == 0)
			return report(rep, VAULT_E_TAMPERED, 1, AUDIT_VERIFY_FIRST_LINK, 1, 0, 0);
		s->pending = p + 1;
	}
	merkle_leaf_hash(line, len, h);
	merkle_range_append(&s->range, h);
	if (rep->have_old)
		merkle_prover_leaf(&s->prover, p, h);
	ret = check_roots(s, rep);
	if (ret != VAULT_OK)
		return ret;
	memcpy(s->h2, s->h1, MERKLE_HASH_LEN);
	memcpy(s->h1, h, MERKLE_HASH_LEN);
	s->lines++;
	return VAULT_OK;
}

static int verify_stream(struct verify_state *s, struct audit_verify_report *rep)
{
	const uint8_t *line;
	size_t len, tail;
	uint64_t p;
	int r, ret;

	while ((r = audit_reader_next(&s->rd, &line, &len)) == 1) {
		ret = verify_line(s, rep, line, len);
		if (ret != VAULT_OK)
			return ret;
	}
	if (s->pending)
		return blame_link(rep, s->pending - 1, -1);
	p = rep->records = s->lines;
	if (r == VAULT_E_TOOLONG)
		return report(rep, VAULT_E_LOG_RECORD, p + 1, AUDIT_VERIFY_TOO_LONG, p + 1,
			      AUDIT_LINE_MAX, 0);
	if (r < 0)
		return report(rep, r, 0, AUDIT_VERIFY_READ_LOG, 0, 0, 0);
	tail = audit_reader_tail(&s->rd, NULL);
	if (tail > 0)
		return report(rep, VAULT_E_LOG_TORN, p + 1, AUDIT_VERIFY_TORN, p + 1, tail, 0);
	return VAULT_OK;
}

/* ---------- before and after the pass ---------- */

/* The key to verify with, and the signed and the kept checkpoints it must have signed. */
static int verify_checkpoints(int dirfd, const struct audit_verify_opts *opts,
			      struct audit_verify_report *rep)
{
	struct note_verifier v;
	uint8_t cpbuf[AUDIT_CHECKPOINT_MAX];
	size_t cplen;
	int ret;

	if (opts != NULL && opts->key != NULL)
		v = *opts->key;
	else if ((ret = audit_key_read_at(dirfd, &v)) != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_KEY, 0, 0, 0);
	ret = fileio_read(dirfd, AUDIT_CHECKPOINT_NAME, cpbuf, sizeof(cpbuf), &cplen);
	if (ret == VAULT_E_NOTFOUND || ret == VAULT_E_TOOLONG)
		ret = VAULT_E_CHECKPOINT;
	if (ret == VAULT_OK)
		ret = checkpoint_open(cpbuf, cplen, &v, v.name, &rep->latest);
	if (ret != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_CHECKPOINT, 0, 0, 0);
	if (opts == NULL || opts->old_checkpoint == NULL)
		return VAULT_OK;
	ret = checkpoint_open(opts->old_checkpoint, opts->old_len, &v, v.name, &rep->old);
	if (ret != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_KEPT_CHECKPOINT, 0, 0, 0);
	rep->have_old = 1;
	return VAULT_OK;
}

/* The pass's state, with the log open and, when there is a kept checkpoint, the prover of the
 * consistency proof between it and the signed one. */
static int verify_start(int dirfd, struct audit_verify_report *rep, struct verify_state **out)
{
	struct merkle_span spans[MERKLE_MAX_PROOF];
	struct verify_state *s = calloc(1, sizeof(*s));
	int ret;

	*out = s;
	if (s == NULL)
		return report(rep, VAULT_E_NOMEM, 0, AUDIT_VERIFY_NOMEM, 0, 0, 0);
	s->fd = -1;
	merkle_range_init(&s->range);
	if (rep->have_old && rep->old.size <= rep->latest.size) {
		merkle_consistency_spans(rep->old.size, rep->latest.size, spans, &s->nspans);
		merkle_prover_init(&s->prover, spans, s->nspans);
	}
	if ((ret = fileio_open(dirfd, AUDIT_LOG_NAME, O_RDONLY, &s->fd)) != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_OPEN_LOG, 0, 0, 0);
	ret = audit_reader_init(&s->rd, s->fd);
	if (ret != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_NOMEM, 0, 0, 0);
	if (rep->latest.size == 0) {
		merkle_range_root(&s->range, rep->root);
		if (sodium_memcmp(rep->root, rep->latest.root, MERKLE_HASH_LEN) != 0)
			return report(rep, VAULT_E_CHECKPOINT, 0, AUDIT_VERIFY_EMPTY_ROOT, 0, 0, 0);
	}
	return VAULT_OK;
}

/* The log must hold everything both checkpoints cover, and the kept one must be the older. */
static int verify_sizes(struct audit_verify_report *rep)
{
	if (rep->records < rep->latest.size)
		return report(rep, VAULT_E_INCONSISTENT, rep->records + 1, AUDIT_VERIFY_MISSING,
			      rep->records + 1, rep->records, rep->latest.size);
	if (rep->have_old && rep->records < rep->old.size)
		return report(rep, VAULT_E_INCONSISTENT, rep->records + 1,
			      AUDIT_VERIFY_MISSING_KEPT, rep->records + 1, rep->records,
			      rep->old.size);
	if (rep->have_old && rep->old.size > rep->latest.size)
		return report(rep, VAULT_E_INCONSISTENT, 0, AUDIT_VERIFY_ROLLED_BACK,
			      rep->latest.size, rep->old.size, 0);
	return VAULT_OK;
}

/* Belt and braces: the RFC 9162 consistency proof between the two checkpoints, computed from
 * the log, verifies against their signed roots. */
static int verify_consistency(struct verify_state *s, struct audit_verify_report *rep)
{
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	int ret;

	if (!rep->have_old)
		return VAULT_OK;
	ret = merkle_prover_finish(&s->prover, proof);
	if (ret == VAULT_OK)
		ret = merkle_verify_consistency(rep->old.size, rep->latest.size, rep->old.root,
						rep->latest.root, proof[0], s->nspans);
	if (ret != VAULT_OK)
		return report(rep, VAULT_E_PROOF, 0, AUDIT_VERIFY_PROOF, 0, 0, 0);
	return VAULT_OK;
}

int audit_verify(const char *dir, const struct audit_verify_opts *opts,
		 struct audit_verify_report *rep)
{
	struct verify_state *s = NULL;
	int dirfd = -1, ret;

	memset(rep, 0, sizeof(*rep));
	ret = fileio_dir_open(dir, 0, &dirfd);
	if (ret != VAULT_OK)
		return report(rep, ret, 0, AUDIT_VERIFY_OPEN_DIR, 0, 0, 0);
	ret = verify_checkpoints(dirfd, opts, rep);
	if (ret == VAULT_OK)
		ret = verify_start(dirfd, rep, &s);
	if (ret == VAULT_OK)
		ret = verify_stream(s, rep);
	if (ret == VAULT_OK) {
		merkle_range_root(&s->range, rep->root);
		ret = verify_sizes(rep);
	}
	if (ret == VAULT_OK)
		ret = verify_consistency(s, rep);
	if (ret == VAULT_OK) {
		rep->uncovered = rep->records - rep->latest.size;
		ret = report(rep, VAULT_OK, 0, AUDIT_VERIFY_INTACT, 0, 0, 0);
	}
	if (s != NULL) {
		audit_reader_free(&s->rd);
		if (s->fd >= 0)
			close(s->fd);
	}
	free(s);
	close(dirfd);
	return ret;
}
