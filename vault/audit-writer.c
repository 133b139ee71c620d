/* The one writer of a log: creating it, opening it (checking it whole and repairing a torn
 * tail), appending records durably and signing a checkpoint after each append. */
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

#define LINE_SLOT (AUDIT_LINE_MAX + 8) /* room for one formatted line and its '\n' */
#define TORN_NAME_MAX 64

struct audit_log {
	int dirfd, fd, lockfd;
	int broken; /* a write or sync failed: the file's tail is unknown until reopened */
	int fast;
	uint64_t offset; /* bytes of complete records */
	struct merkle_range range;
	uint8_t last[MERKLE_HASH_LEN]; /* leaf hash of the last record, zeros for none */
	struct note_verifier v;
	char installation[AUDIT_INSTALLATION_MAX + 1];
	uint8_t *sk; /* sodium_malloc, NOTE_SK_LEN */
	char cp[AUDIT_CHECKPOINT_MAX];
	size_t cplen;
};

/* ---------- checkpoints ---------- */

static int write_checkpoint(int dirfd, const struct note_verifier *v, const uint8_t *sk,
			    const struct merkle_range *range, char *out, size_t cap, size_t *outlen)
{
	struct checkpoint cp;
	int ret;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, v->name, strlen(v->name));
	cp.size = range->size;
	merkle_range_root(range, cp.root);
	ret = checkpoint_sign(&cp, v->name, sk, out, cap, outlen);
	if (ret == VAULT_OK)
		ret = fileio_write_atomic(dirfd, AUDIT_CHECKPOINT_NAME, out, *outlen);
	return ret;
}

/* Signs and writes the checkpoint of everything the handle has appended. */
static int log_checkpoint(struct audit_log *log)
{
	return write_checkpoint(log->dirfd, &log->v, log->sk, &log->range, log->cp, sizeof(log->cp),
				&log->cplen);
}

/* ---------- init ---------- */

/* An empty log: its O_EXCL creation is what makes a second init fail. */
static int log_create(int dirfd)
{
	int ret = VAULT_OK, fd;

	fd = openat(dirfd, AUDIT_LOG_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    FILEIO_FILE_MODE);
	if (fd < 0)
		return errno == EEXIST ? VAULT_E_EXISTS : VAULT_E_IO;
	if (fsync(fd) != 0)
		ret = VAULT_E_IO;
	close(fd);
	return ret;
}

/* The key file, the verifier key text and the checkpoint of the empty tree. */
static int init_files(int dirfd, const struct note_verifier *v, const uint8_t *sk,
		      const uint8_t file[AUDIT_KEYFILE_LEN])
{
	char vkey[AUDIT_VKEY_MAX + 1], cp[AUDIT_CHECKPOINT_MAX];
	struct merkle_range range;
	size_t vlen, cplen;
	int ret = note_verifier_format(v, vkey, sizeof(vkey) - 1);

	if (ret != VAULT_OK)
		return ret;
	vlen = strlen(vkey); /* formatted into sizeof(vkey) - 1: there is room for the newline */
	vkey[vlen] = '\n';
	vkey[vlen + 1] = '\0';
	ret = fileio_write_atomic(dirfd, AUDIT_KEY_NAME, file, AUDIT_KEYFILE_LEN);
	if (ret == VAULT_OK)
		ret = fileio_write_atomic(dirfd, AUDIT_PUB_NAME, vkey, strlen(vkey));
	merkle_range_init(&range);
	if (ret == VAULT_OK)
		ret = write_checkpoint(dirfd, v, sk, &range, cp, sizeof(cp), &cplen);
	return ret;
}

int audit_init(const char *dir, const char *installation,
	       const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN])
{
	char name[NOTE_NAME_MAX + 1];
	uint8_t file[AUDIT_KEYFILE_LEN];
	uint8_t *sk = NULL;
	struct note_verifier v;
	int dirfd = -1, ret;

	if (!audit_installation_valid(installation))
		return VAULT_E_INVAL;
	snprintf(name, sizeof(name), "%s%s", AUDIT_ORIGIN_PREFIX, installation);
	ret = fileio_dir_open(dir, 1, &dirfd);
	if (ret != VAULT_OK)
		return ret;
	ret = audit_key_create(name, sealing_key, &v, file, &sk);
	if (ret == VAULT_OK)
		ret = log_create(dirfd);
	if (ret == VAULT_OK)
		ret = init_files(dirfd, &v, sk, file);
	sodium_memzero(file, sizeof(file));
	sodium_free(sk);
	fsync(dirfd);
	close(dirfd);
	return ret;
}

/* ---------- appending ---------- */

static int write_once(int fd, const char *buf, size_t len)
{
	ssize_t n;

	/* One write() per record: a short write leaves a torn line that open repairs. */
	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? VAULT_OK : VAULT_E_IO;
}

/* Numbers and links recs as the records after the log's last, formats each into its slot of
 * lines (with its '\n'), and extends range and last over them. */
static int format_records(struct audit_record *recs, size_t n, char *lines, size_t lens[],
			  struct merkle_range *range, uint8_t last[MERKLE_HASH_LEN])
{
	int ret = VAULT_OK;

	for (size_t i = 0; i < n && ret == VAULT_OK; i++) {
		char *l = lines + i * LINE_SLOT;
		recs[i].seq = range->size;
		memcpy(recs[i].prev, last, MERKLE_HASH_LEN);
		ret = audit_record_format(&recs[i], l, LINE_SLOT - 1, &lens[i]);
		if (ret != VAULT_OK)
			break;
		merkle_leaf_hash((const uint8_t *)l, lens[i], last);
		merkle_range_append(range, last);
		l[lens[i]++] = '\n';
	}
	return ret;
}

/* Writes the lines and syncs them. On failure the bytes are taken back if they can be, and in
 * any case the handle, whose idea of the tail is now unsure, refuses further appends. */
static int write_records(struct audit_log *log, const char *lines, const size_t lens[], size_t n,
			 size_t *total)
{
	int ret = VAULT_OK;

	*total = 0;
	for (size_t i = 0; i < n && ret == VAULT_OK; i++) {
		ret = write_once(log->fd, lines + i * LINE_SLOT, lens[i]);
		*total += lens[i];
	}
	if (ret == VAULT_OK && !log->fast && fdatasync(log->fd) != 0)
		ret = VAULT_E_IO;
	if (ret != VAULT_OK) {
		if (ftruncate(log->fd, (off_t)log->offset) == 0)
			fdatasync(log->fd);
		log->broken = 1;
	}
	return ret;
}

static int append_records(struct audit_log *log, struct audit_record *recs, size_t n,
			  uint64_t *first)
{
	struct merkle_range *range = NULL;
	uint8_t last[MERKLE_HASH_LEN];
	char *lines = NULL;
	size_t lens[AUDIT_MAX_GROUP], total = 0;
	int ret;

	if (log->broken)
		return VAULT_E_IO;
	if (n == 0 || n > AUDIT_MAX_GROUP)
		return VAULT_E_INVAL;
	if (log->range.size + n > AUDIT_SEQ_MAX)
		return VAULT_E_FULL;
	range = malloc(sizeof(*range));
	lines = malloc(n * LINE_SLOT);
	ret = range == NULL || lines == NULL ? VAULT_E_NOMEM : VAULT_OK;
	if (ret != VAULT_OK)
		goto out;
	*range = log->range;
	memcpy(last, log->last, sizeof(last));
	ret = format_records(recs, n, lines, lens, range, last);
	if (ret == VAULT_OK)
		ret = write_records(log, lines, lens, n, &total);
	if (ret != VAULT_OK)
		goto out;
	if (first != NULL)
		*first = log->range.size;
	log->range = *range;
	memcpy(log->last, last, sizeof(last));
	log->offset += total;
	/* The records are durable; without a signed checkpoint the caller still refuses. */
	if (!log->fast)
		ret = log_checkpoint(log);
out:
	free(range);
	free(lines);
	return ret;
}

int audit_append_many(struct audit_log *log, const struct audit_event *evs, size_t n,
		      uint64_t *first_seq)
{
	struct audit_record *recs;
	int ret = VAULT_OK;

	if (log == NULL || evs == NULL || n == 0 || n > AUDIT_MAX_GROUP)
		return VAULT_E_INVAL;
	recs = calloc(n, sizeof(*recs));
	if (recs == NULL)
		return VAULT_E_NOMEM;
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = audit_record_from_event(&evs[i], log->installation, &recs[i]);
	if (ret == VAULT_OK)
		ret = append_records(log, recs, n, first_seq);
	free(recs);
	return ret;
}

int audit_append(struct audit_log *log, const struct audit_event *ev, uint64_t *seq)
{
	return audit_append_many(log, ev, 1, seq);
}

uint64_t audit_size(const struct audit_log *log)
{
	return log->range.size;
}

int audit_checkpoint_text(const struct audit_log *log, char *out, size_t cap)
{
	if (log->cplen + 1 > cap)
		return VAULT_E_TOOLONG;
	memcpy(out, log->cp, log->cplen);
	out[log->cplen] = '\0';
	return VAULT_OK;
}

int audit_set_unsafe_fast(struct audit_log *log, int on)
{
	int ret = VAULT_OK;

	if (log->fast && !on) {
		if (fdatasync(log->fd) != 0)
			ret = VAULT_E_IO;
		if (ret == VAULT_OK)
			ret = log_checkpoint(log);
	}
	log->fast = on;
	return ret;
}

/* ---------- recovery of a torn tail ---------- */

static void torn_name(char name[TORN_NAME_MAX], uint64_t offset)
{
	snprintf(name, TORN_NAME_MAX, AUDIT_TORN_PREFIX "%llu", (unsigned long long)offset);
}

static int record_recovery(struct audit_log *log, const struct audit_event *ctx,
			   const uint8_t *torn, size_t len, uint64_t offset)
{
	struct audit_event ev;
	struct audit_record rec;
	uint8_t h[crypto_hash_sha256_BYTES];
	int ret;

	if (ctx == NULL)
		return VAULT_E_LOG_TORN;
	ev = *ctx;
	ev.event = "log_recovered";
	ev.outcome = "ok";
	ev.reason = "torn last line kept in " AUDIT_TORN_PREFIX "<torn_offset>";
	ev.user = ev.credential = ev.service = ev.purpose = NULL;
	ev.attempts_left = -1;
	ret = audit_record_from_event(&ev, log->installation, &rec);
	if (ret != VAULT_OK)
		return ret;
	crypto_hash_sha256(h, torn, len);
	sodium_bin2hex(rec.torn_sha256, sizeof(rec.torn_sha256), h, sizeof(h));
	rec.torn_length = (int64_t)len;
	rec.torn_offset = (int64_t)offset;
	return append_records(log, &rec, 1, NULL);
}

/* A torn tail is kept in a side file, and only then cut from the log. */
static int recover_torn(struct audit_log *log, const struct audit_event *ctx, const uint8_t *torn,
			size_t len, uint64_t offset)
{
	char name[TORN_NAME_MAX];
	uint8_t old[AUDIT_LINE_MAX + 1];
	size_t oldlen;
	int ret;

	torn_name(name, offset);
	ret = fileio_create_atomic(log->dirfd, name, torn, len);
	if (ret == VAULT_E_EXISTS) {
		/* A crash after the copy and before the cut: the copy must be these bytes. */
		ret = fileio_read(log->dirfd, name, old, sizeof(old), &oldlen);
		if (ret == VAULT_OK && (oldlen != len || memcmp(old, torn, len) != 0))
			ret = VAULT_E_LOG_TORN;
	}
	if (ret != VAULT_OK)
		return ret;
	if (ftruncate(log->fd, (off_t)offset) != 0 || fdatasync(log->fd) != 0)
		return VAULT_E_IO;
	return record_recovery(log, ctx, torn, len, offset);
}

/* A side file named for the current end of the log was cut but its record never written. */
static int recover_pending(struct audit_log *log, const struct audit_event *ctx)
{
	char name[TORN_NAME_MAX];
	uint8_t torn[AUDIT_LINE_MAX + 1];
	size_t len;
	int ret;

	torn_name(name, log->offset);
	ret = fileio_read(log->dirfd, name, torn, sizeof(torn), &len);
	if (ret == VAULT_E_NOTFOUND)
		return VAULT_OK;
	if (ret != VAULT_OK)
		return ret;
	return record_recovery(log, ctx, torn, len, log->offset);
}

/* ---------- open ---------- */

/* Takes in one record: its sequence number and link must follow, and where the tree reaches
 * the checkpoint's size its root must be the checkpoint's. */
static int load_line(struct audit_log *log, const struct checkpoint *cp, const uint8_t *line,
		     size_t len)
{
	const uint8_t *prev;
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t seq;

	if (audit_line_scan(line, len, &seq, &prev) != 0)
		return VAULT_E_LOG_RECORD;
	if (seq != log->range.size)
		return VAULT_E_LOG_SEQUENCE;
	if (!audit_prev_matches(prev, log->last))
		return VAULT_E_TAMPERED;
	merkle_leaf_hash(line, len, log->last);
	merkle_range_append(&log->range, log->last);
	if (log->range.size == cp->size) {
		merkle_range_root(&log->range, root);
		if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0)
			return VAULT_E_INCONSISTENT;
	}
	return VAULT_OK;
}

/* Reads the whole log; copies a torn last line (a crash mid-write) into torn. */
static int load_log(struct audit_log *log, const struct checkpoint *cp, uint8_t *torn,
		    size_t *tornlen)
{
	struct audit_reader rd;
	const uint8_t *line, *tail;
	size_t len;
	uint8_t root[MERKLE_HASH_LEN];
	int ret, r = 0;

	*tornlen = 0;
	ret = audit_reader_init(&rd, log->fd);
	if (ret != VAULT_OK)
		return ret;
	if (cp->size == 0) {
		merkle_range_root(&log->range, root);
		if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0) {
			ret = VAULT_E_INCONSISTENT;
			goto out;
		}
	}
	while (ret == VAULT_OK && (r = audit_reader_next(&rd, &line, &len)) == 1)
		ret = load_line(log, cp, line, len);
	if (ret != VAULT_OK)
		goto out;
	if (r < 0) {
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_TORN : r;
		goto out;
	}
	log->offset = rd.offset;
	*tornlen = audit_reader_tail(&rd, &tail);
	memcpy(torn, tail, *tornlen);
	if (cp->size > log->range.size)
		ret = VAULT_E_INCONSISTENT;
out:
	audit_reader_free(&rd);
	return ret;
}

/* The verifier key and its installation name, and the sealed signing key. */
static int open_keys(struct audit_log *log, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN])
{
	size_t plen = strlen(AUDIT_ORIGIN_PREFIX);
	int ret = audit_key_read_at(log->dirfd, &log->v);

	if (ret != VAULT_OK)
		return ret;
	if (strncmp(log->v.name, AUDIT_ORIGIN_PREFIX, plen) != 0 ||
	    !audit_installation_valid(log->v.name + plen))
		return VAULT_E_KEY;
	snprintf(log->installation, sizeof(log->installation), "%s", log->v.name + plen);
	return audit_key_unseal(log->dirfd, sealing_key, &log->v, &log->sk);
}

/* The signed checkpoint, or (*have_cp = 0) the empty tree's when the file is gone. */
static int open_checkpoint(struct audit_log *log, struct checkpoint *cp, int *have_cp)
{
	int ret = fileio_read(log->dirfd, AUDIT_CHECKPOINT_NAME, (uint8_t *)log->cp,
			      sizeof(log->cp), &log->cplen);

	*have_cp = 1;
	if (ret == VAULT_E_NOTFOUND) {
		/* Whoever could delete it could also have rolled it back: auditors' kept
		 * checkpoints, not this file, are the defence. Start from an empty claim. */
		*have_cp = 0;
		memset(cp, 0, sizeof(*cp));
		crypto_hash_sha256(cp->root, NULL, 0);
		return VAULT_OK;
	}
	if (ret == VAULT_OK)
		ret =
		    checkpoint_open((const uint8_t *)log->cp, log->cplen, &log->v, log->v.name, cp);
	return ret;
}

/* Loads the log against cp, repairs a torn tail, and signs a checkpoint if cp is stale. */
static int open_log(struct audit_log *log, const struct audit_event *ctx,
		    const struct checkpoint *cp, int have_cp)
{
	uint8_t *torn = malloc(AUDIT_LINE_MAX + 1);
	size_t tornlen = 0;
	int ret;

	if (torn == NULL)
		return VAULT_E_NOMEM;
	ret = fileio_open(log->dirfd, AUDIT_LOG_NAME, O_RDWR | O_APPEND, &log->fd);
	if (ret == VAULT_OK)
		ret = load_log(log, cp, torn, &tornlen);
	if (ret == VAULT_OK && tornlen > 0)
		ret = recover_torn(log, ctx, torn, tornlen, log->offset);
	else if (ret == VAULT_OK)
		ret = recover_pending(log, ctx);
	if (ret == VAULT_OK && (!have_cp || log->range.size != cp->size))
		ret = log_checkpoint(log);
	free(torn);
	return ret;
}

int audit_open(const char *dir, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
	       const struct audit_event *ctx, struct audit_log **out)
{
	struct audit_log *log;
	struct checkpoint cp;
	int ret, have_cp = 0;

	*out = NULL;
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return VAULT_E_NOMEM;
	log->dirfd = log->fd = log->lockfd = -1;
	merkle_range_init(&log->range);
	ret = fileio_dir_open(dir, 0, &log->dirfd);
	if (ret == VAULT_OK)
		ret = fileio_lock(log->dirfd, AUDIT_LOCK_NAME, &log->lockfd);
	if (ret == VAULT_OK)
		ret = open_keys(log, sealing_key);
	if (ret == VAULT_OK)
		ret = open_checkpoint(log, &cp, &have_cp);
	if (ret == VAULT_OK)
		ret = open_log(log, ctx, &cp, have_cp);
	if (ret != VAULT_OK) {
		audit_close(log);
		return ret;
	}
	*out = log;
	return VAULT_OK;
}

void audit_close(struct audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fast && !log->broken)
		audit_set_unsafe_fast(log, 0);
	sodium_free(log->sk);
	if (log->fd >= 0)
		close(log->fd);
	fileio_unlock(log->lockfd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	sodium_memzero(log, sizeof(*log));
	free(log);
}
