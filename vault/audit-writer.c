/* The one writer of a log: creating it, opening it (from the stored tree in O(log n) reads, or
 * by checking it whole and repairing a torn tail), and appending records durably with one
 * fdatasync per group of concurrent appends (group commit), a checkpoint signed after each. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sodium.h>

#include "audit-internal.h"
#include "error.h"
#include "fileio.h"

#define LINE_SLOT (AUDIT_LINE_MAX + 8) /* room for one formatted line and its '\n' */
#define TORN_NAME_MAX 64
#define AUDIT_TORN_AGAIN_MAX 16 /* audit.torn.N.1 .. .16: recoveries torn at the same offset */
#define PENDING_MAX 1024	/* records written and not yet durable */
#define RESERVE_BYTES (16 * AUDIT_LINE_MAX) /* room checked before an action that must log */

/* Two states of the log: everything written, and what the last fdatasync made durable. The
 * written state runs ahead while a sync is under way; only durable records are acknowledged. */
struct log_state {
	uint64_t offset; /* bytes of complete records */
	struct merkle_range range;
	uint8_t last[MERKLE_HASH_LEN]; /* leaf hash of the last record, zeros for none */
};

struct audit_log {
	int dirfd, fd, lockfd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int broken;	   /* a write or sync failed: the tail past durable is unknown */
	int syncing;	   /* an appender is in fdatasync for everyone */
	uint64_t failures; /* failed writes, syncs and checkpoints so far */
	int fast;
	struct log_state written, durable;
	/* leaves written and not yet durable, and where each record ends */
	uint8_t (*pending)[MERKLE_HASH_LEN];
	uint64_t *pending_end;
	size_t npending;
	struct audit_tree tree;
	int tree_ok; /* the stored tree follows the log; off after a failed write, until reopened */
	int cpfd[2], cp_spare; /* the checkpoint's two files; cpfd[cp_spare] is the spare */
	uint64_t cp_synced;    /* the size of the last checkpoint written durably */
	struct note_verifier v;
	char installation[AUDIT_INSTALLATION_MAX + 1];
	uint8_t *sk; /* sodium_malloc, NOTE_SK_LEN */
	char cp[AUDIT_CHECKPOINT_MAX];
	size_t cplen;
};

/* ---------- checkpoints ---------- */

static void checkpoint_files_close(struct audit_log *log)
{
	for (int i = 0; i < 2; i++) {
		if (log->cpfd[i] >= 0)
			close(log->cpfd[i]);
		log->cpfd[i] = -1;
	}
}

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

/* The spare checkpoint file and the current one, kept open: each new checkpoint is written into
 * the spare, which then trades names with the current one (renameat2 RENAME_EXCHANGE). No inode
 * is made or freed, and no sync is asked: the checkpoint is derived from the log, which is
 * durable, and opening the log signs it again when the file is stale or was emptied by a
 * crash. The log's fdatasync is then the one sync of an append. */
static int checkpoint_files(struct audit_log *log)
{
	if (log->cpfd[0] >= 0)
		return VAULT_OK;
	log->cpfd[0] = openat(log->dirfd, AUDIT_CHECKPOINT_SPARE,
			      O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, FILEIO_FILE_MODE);
	log->cpfd[1] = openat(log->dirfd, AUDIT_CHECKPOINT_NAME, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	log->cp_spare = 0;
	if (log->cpfd[0] >= 0 && log->cpfd[1] >= 0)
		return VAULT_OK;
	checkpoint_files_close(log);
	return VAULT_E_IO;
}

static int checkpoint_replace(struct audit_log *log, const char *text, size_t len)
{
	int fd, ret = checkpoint_files(log);

	if (ret != VAULT_OK)
		return ret;
	fd = log->cpfd[log->cp_spare];
	if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) != 0 ||
	    renameat2(log->dirfd, AUDIT_CHECKPOINT_SPARE, log->dirfd, AUDIT_CHECKPOINT_NAME,
		      RENAME_EXCHANGE) != 0) {
		checkpoint_files_close(log); /* reopened, and so checked, next time */
		return VAULT_E_IO;
	}
	log->cp_spare ^= 1;
	return VAULT_OK;
}

/* Signs the checkpoint of range into out. */
static int log_checkpoint_sign(struct audit_log *log, const struct merkle_range *range, char *out,
			       size_t *outlen)
{
	struct checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, log->v.name, strlen(log->v.name));
	cp.size = range->size;
	merkle_range_root(range, cp.root);
	return checkpoint_sign(&cp, log->v.name, log->sk, out, AUDIT_CHECKPOINT_MAX, outlen);
}

/* Signs the checkpoint of range into out and replaces the file (durably when sync). */
static int log_checkpoint_of(struct audit_log *log, const struct merkle_range *range, int sync,
			     char *out, size_t *outlen)
{
	int ret = log_checkpoint_sign(log, range, out, outlen);

	if (ret == VAULT_OK && sync) {
		checkpoint_files_close(log); /* a new current file: open it again next time */
		ret = fileio_write_atomic(log->dirfd, AUDIT_CHECKPOINT_NAME, out, *outlen);
	} else if (ret == VAULT_OK) {
		ret = checkpoint_replace(log, out, *outlen);
	}
	return ret;
}

/* Signs and durably writes the checkpoint of everything durable (open and close). */
static int log_checkpoint(struct audit_log *log)
{
	int ret = log_checkpoint_of(log, &log->durable.range, 1, log->cp, &log->cplen);

	if (ret == VAULT_OK)
		log->cp_synced = log->durable.range.size;
	return ret;
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

/* Numbers and links recs as the records after st's last, formats each into its slot of lines
 * (with its '\n'), and extends st over them; leaves[i] gets each leaf hash. */
static int format_records(struct audit_record *recs, size_t n, char *lines, size_t lens[],
			  struct log_state *st, uint8_t (*leaves)[MERKLE_HASH_LEN])
{
	int ret = VAULT_OK;

	for (size_t i = 0; i < n && ret == VAULT_OK; i++) {
		char *l = lines + i * LINE_SLOT;
		recs[i].seq = st->range.size;
		memcpy(recs[i].prev, st->last, MERKLE_HASH_LEN);
		ret = audit_record_format(&recs[i], l, LINE_SLOT - 1, &lens[i]);
		if (ret != VAULT_OK)
			break;
		merkle_leaf_hash((const uint8_t *)l, lens[i], st->last);
		memcpy(leaves[i], st->last, MERKLE_HASH_LEN);
		merkle_range_append(&st->range, st->last);
		l[lens[i]++] = '\n';
		st->offset += lens[i];
	}
	return ret;
}

/* Stores the durable leaves in the tree files; a failure stops the tree (reopening rebuilds it),
 * never the log. */
static void tree_store(struct audit_log *log, const struct merkle_range *before, size_t k)
{
	struct merkle_range r = *before;

	for (size_t i = 0; i < k && log->tree_ok; i++) {
		if (audit_tree_append(&log->tree, &r, log->pending[i], log->pending_end[i]) !=
		    VAULT_OK)
			log->tree_ok = 0;
		merkle_range_append(&r, log->pending[i]);
	}
}

/* After a failed write or sync: cut the log back to what is durable, once no append is in
 * flight. The writer then works again as soon as the disk takes the bytes. Locked. */
static int repair_locked(struct audit_log *log)
{
	while (log->syncing)
		pthread_cond_wait(&log->cv, &log->mu);
	if (!log->broken)
		return VAULT_OK;
	if (ftruncate(log->fd, (off_t)log->durable.offset) != 0 || fdatasync(log->fd) != 0)
		return VAULT_E_IO;
	log->written = log->durable;
	log->npending = 0;
	log->broken = 0;
	return VAULT_OK;
}

/* Room for the next records and their checkpoint: free space on the file system, and blocks
 * reserved past the log's end without changing its size. A file system that cannot reserve is
 * taken at its word. */
static int reserve_locked(struct audit_log *log)
{
	struct statvfs fs;

	if (fstatvfs(log->dirfd, &fs) == 0 && fs.f_frsize > 0 &&
	    fs.f_bavail < (RESERVE_BYTES + fs.f_frsize - 1) / fs.f_frsize)
		return VAULT_E_IO;
	if (fallocate(log->fd, FALLOC_FL_KEEP_SIZE, (off_t)log->written.offset, RESERVE_BYTES) !=
		0 &&
	    (errno == ENOSPC || errno == EDQUOT || errno == EIO))
		return VAULT_E_IO;
	return VAULT_OK;
}

int audit_writable(struct audit_log *log)
{
	int ret;

	pthread_mutex_lock(&log->mu);
	ret = repair_locked(log);
	if (ret == VAULT_OK)
		ret = reserve_locked(log);
	pthread_mutex_unlock(&log->mu);
	return ret;
}

/* Writes the formatted lines at the end of the log. Locked. */
static int write_lines(struct audit_log *log, const char *lines, const size_t lens[], size_t n)
{
	int ret = VAULT_OK;

	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = write_once(log->fd, lines + i * LINE_SLOT, lens[i]);
	if (ret != VAULT_OK) {
		log->broken = 1; /* the tail is unsure: cut back before the next append */
		log->failures++;
	}
	return ret;
}

/* The leader's turn: one fdatasync for every record written so far, then the tree and the
 * checkpoint. Called and returns locked; unlocked while it syncs. Only the leader changes
 * pending[0..k), so it reads them unlocked while others append after them. */
static void sync_group(struct audit_log *log)
{
	struct log_state target = log->written;
	struct merkle_range before = log->durable.range;
	uint64_t from = log->durable.offset;
	size_t k = log->npending, cplen = 0;
	char cp[AUDIT_CHECKPOINT_MAX];
	int synced, cpret = VAULT_E_IO;

	log->syncing = 1;
	pthread_mutex_unlock(&log->mu);
	/* the records start toward the disk while their checkpoint is signed, so that the
	 * signature costs the append nothing; the checkpoint is written only once they are
	 * durable, and fdatasync alone says whether they are */
	(void)sync_file_range(log->fd, (off_t)from, (off_t)(target.offset - from),
			      SYNC_FILE_RANGE_WRITE);
	cpret = log_checkpoint_sign(log, &target.range, cp, &cplen);
	synced = fdatasync(log->fd) == 0;
	if (synced) {
		tree_store(log, &before, k);
		if (cpret == VAULT_OK)
			cpret = checkpoint_replace(log, cp, cplen);
	}
	pthread_mutex_lock(&log->mu);
	if (synced) {
		log->durable = target;
		memmove(log->pending, log->pending + k, (log->npending - k) * MERKLE_HASH_LEN);
		memmove(log->pending_end, log->pending_end + k,
			(log->npending - k) * sizeof(*log->pending_end));
		log->npending -= k;
		if (cpret == VAULT_OK) {
			memcpy(log->cp, cp, cplen);
			log->cplen = cplen;
		}
	} else {
		log->broken = 1; /* what the failed sync covered may be lost: never acknowledged */
	}
	if (!synced || cpret != VAULT_OK)
		log->failures++;
	log->syncing = 0;
	pthread_cond_broadcast(&log->cv);
}

/* Until the records up to target are durable: lead a sync, or wait for the one under way. Any
 * failure since the records were written refuses them, even one of a later group: refusing
 * is always safe, acknowledging never is. Locked. */
static int wait_durable(struct audit_log *log, uint64_t target, uint64_t epoch)
{
	for (;;) {
		if (log->failures != epoch)
			return VAULT_E_IO;
		if (log->durable.range.size >= target)
			return VAULT_OK;
		if (!log->syncing)
			sync_group(log);
		else
			pthread_cond_wait(&log->cv, &log->mu);
	}
}

/* A working writer with room for n more pending records. Locked. */
static int ready_locked(struct audit_log *log, size_t n)
{
	for (;;) {
		int ret = log->broken ? repair_locked(log) : VAULT_OK;
		if (ret != VAULT_OK)
			return ret;
		if (log->written.range.size + n > AUDIT_SEQ_MAX)
			return VAULT_E_FULL;
		if (!log->broken && log->npending + n <= PENDING_MAX)
			return VAULT_OK;
		if (!log->broken)
			pthread_cond_wait(&log->cv, &log->mu);
	}
}

/* Bench mode: no sync, no checkpoint; the tree follows. Locked. */
static void fast_durable(struct audit_log *log)
{
	tree_store(log, &log->durable.range, log->npending);
	log->durable = log->written;
	log->npending = 0;
}

static int append_locked(struct audit_log *log, struct audit_record *recs, size_t n, char *lines,
			 uint64_t *first)
{
	size_t lens[AUDIT_MAX_GROUP];
	struct log_state *st = malloc(sizeof(*st));
	uint64_t epoch, end;
	int ret = st == NULL ? VAULT_E_NOMEM : ready_locked(log, n);

	if (ret != VAULT_OK)
		goto out;
	*st = log->written;
	ret = format_records(recs, n, lines, lens, st, log->pending + log->npending);
	if (ret == VAULT_OK)
		ret = write_lines(log, lines, lens, n);
	if (ret != VAULT_OK)
		goto out;
	end = log->written.offset;
	for (size_t i = 0; i < n; i++)
		log->pending_end[log->npending + i] = (end += lens[i]);
	log->npending += n;
	if (first != NULL)
		*first = log->written.range.size;
	log->written = *st;
	epoch = log->failures;
	if (log->fast)
		fast_durable(log);
	else
		ret = wait_durable(log, st->range.size, epoch);
out:
	free(st);
	return ret;
}

static int append_records(struct audit_log *log, struct audit_record *recs, size_t n,
			  uint64_t *first)
{
	char *lines;
	int ret;

	if (n == 0 || n > AUDIT_MAX_GROUP)
		return VAULT_E_INVAL;
	if ((lines = malloc(n * LINE_SLOT)) == NULL)
		return VAULT_E_NOMEM;
	pthread_mutex_lock(&log->mu);
	ret = append_locked(log, recs, n, lines, first);
	pthread_mutex_unlock(&log->mu);
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
	return log->durable.range.size;
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

	pthread_mutex_lock(&log->mu);
	if (log->fast && !on) {
		if (fdatasync(log->fd) != 0)
			ret = VAULT_E_IO;
		if (ret == VAULT_OK)
			ret = log_checkpoint(log);
	}
	log->fast = on;
	pthread_mutex_unlock(&log->mu);
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

/* Keeps torn bytes in side file name: 1 if it was already there with these bytes (a crash after
 * the copy and before the cut), 0 if made now, VAULT_E_EXISTS if it holds other bytes. */
static int keep_torn(struct audit_log *log, const char *name, const uint8_t *torn, size_t len)
{
	uint8_t old[AUDIT_LINE_MAX + 1];
	size_t oldlen;
	int ret;

	ret = fileio_create_atomic(log->dirfd, name, torn, len);
	if (ret != VAULT_E_EXISTS)
		return ret;
	ret = fileio_read(log->dirfd, name, old, sizeof(old), &oldlen);
	if (ret != VAULT_OK)
		return ret;
	return oldlen == len && memcmp(old, torn, len) == 0 ? 1 : VAULT_E_EXISTS;
}

static int cut_log(struct audit_log *log, uint64_t offset)
{
	if (ftruncate(log->fd, (off_t)offset) != 0 || fdatasync(log->fd) != 0)
		return VAULT_E_IO;
	return VAULT_OK;
}

/* The side file for this offset holds other bytes: an earlier recovery cut the log here and was
 * killed while appending its own record, which is the torn tail now. Keep this tail under the
 * next free suffix, cut, then record both recoveries: the earlier one never was. */
static int recover_torn_again(struct audit_log *log, const struct audit_event *ctx,
			      const uint8_t *torn, size_t len, uint64_t offset)
{
	char first[TORN_NAME_MAX], name[TORN_NAME_MAX + 16];
	uint8_t old[AUDIT_LINE_MAX + 1];
	size_t oldlen;
	int ret = VAULT_E_EXISTS;

	torn_name(first, offset);
	for (unsigned i = 1; i <= AUDIT_TORN_AGAIN_MAX && ret == VAULT_E_EXISTS; i++) {
		snprintf(name, sizeof(name), "%s.%u", first, i);
		ret = keep_torn(log, name, torn, len);
	}
	if (ret == VAULT_E_EXISTS)
		return VAULT_E_LOG_TORN;
	if (ret < 0 || (ret = cut_log(log, offset)) != VAULT_OK)
		return ret;
	ret = fileio_read(log->dirfd, first, old, sizeof(old), &oldlen);
	if (ret == VAULT_OK)
		ret = record_recovery(log, ctx, old, oldlen, offset);
	sodium_memzero(old, sizeof(old));
	return ret != VAULT_OK ? ret : record_recovery(log, ctx, torn, len, offset);
}

/* A torn tail is kept in a side file, and only then cut from the log. */
static int recover_torn(struct audit_log *log, const struct audit_event *ctx, const uint8_t *torn,
			size_t len, uint64_t offset)
{
	char name[TORN_NAME_MAX];
	int ret;

	torn_name(name, offset);
	ret = keep_torn(log, name, torn, len);
	if (ret == VAULT_E_EXISTS)
		return recover_torn_again(log, ctx, torn, len, offset);
	if (ret < 0 || (ret = cut_log(log, offset)) != VAULT_OK)
		return ret;
	return record_recovery(log, ctx, torn, len, offset);
}

/* A side file named for the current end of the log was cut but its record never written. */
static int recover_pending(struct audit_log *log, const struct audit_event *ctx)
{
	char name[TORN_NAME_MAX];
	uint8_t torn[AUDIT_LINE_MAX + 1];
	size_t len;
	int ret;

	torn_name(name, log->durable.offset);
	ret = fileio_read(log->dirfd, name, torn, sizeof(torn), &len);
	if (ret == VAULT_E_NOTFOUND)
		return VAULT_OK;
	if (ret != VAULT_OK)
		return ret;
	return record_recovery(log, ctx, torn, len, log->durable.offset);
}

/* ---------- open ---------- */

/* Takes in one record ending at log offset end: its sequence number and link must follow, and
 * where the tree reaches the checkpoint's size its root must be the checkpoint's. */
static int load_line(struct audit_log *log, const struct checkpoint *cp, const uint8_t *line,
		     size_t len, uint64_t end)
{
	struct log_state *st = &log->durable;
	const uint8_t *prev;
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t seq;

	if (audit_line_scan(line, len, &seq, &prev) != 0)
		return VAULT_E_LOG_RECORD;
	if (seq != st->range.size)
		return VAULT_E_LOG_SEQUENCE;
	if (!audit_prev_matches(prev, st->last))
		return VAULT_E_TAMPERED;
	merkle_leaf_hash(line, len, st->last);
	if (log->tree_ok && audit_tree_append(&log->tree, &st->range, st->last, end) != VAULT_OK)
		log->tree_ok = 0;
	merkle_range_append(&st->range, st->last);
	st->offset = end;
	if (st->range.size == cp->size) {
		merkle_range_root(&st->range, root);
		if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0)
			return VAULT_E_INCONSISTENT;
	}
	return VAULT_OK;
}

/* Reads the log from the durable state on; copies a torn last line (a crash mid-write) into
 * torn. */
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
	rd.offset = rd.read_off = log->durable.offset;
	if (cp->size == 0) {
		crypto_hash_sha256(root, NULL, 0);
		if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0) {
			ret = VAULT_E_INCONSISTENT;
			goto out;
		}
	}
	while (ret == VAULT_OK && (r = audit_reader_next(&rd, &line, &len)) == 1)
		ret = load_line(log, cp, line, len, rd.offset);
	if (ret != VAULT_OK)
		goto out;
	if (r < 0) {
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_TORN : r;
		goto out;
	}
	*tornlen = audit_reader_tail(&rd, &tail);
	memcpy(torn, tail, *tornlen);
	if (cp->size > log->durable.range.size)
		ret = VAULT_E_INCONSISTENT;
out:
	audit_reader_free(&rd);
	return ret;
}

/* The last stored record must be in the log where the index says, with the stored hash. */
static int stored_tail_matches(struct audit_log *log, uint64_t n, uint64_t *end)
{
	uint8_t line[AUDIT_LINE_MAX + 1], h[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	uint64_t start = 0, seq, size;
	const uint8_t *prev;
	off_t eof = lseek(log->fd, 0, SEEK_END);
	ssize_t got;

	if (audit_tree_end(&log->tree, n - 1, end) != VAULT_OK ||
	    (n >= 2 && audit_tree_end(&log->tree, n - 2, &start) != VAULT_OK) || *end <= start ||
	    (size = *end - start) > sizeof(line) || eof < 0 || (uint64_t)eof < *end)
		return 0;
	got = pread(log->fd, line, size, (off_t)start);
	if (got != (ssize_t)size || line[size - 1] != '\n' ||
	    audit_line_scan(line, size - 1, &seq, &prev) != 0 || seq != n - 1)
		return 0;
	merkle_leaf_hash(line, size - 1, h);
	return audit_tree_node(&log->tree, 0, n - 1, leaf) == VAULT_OK &&
	       sodium_memcmp(h, leaf, MERKLE_HASH_LEN) == 0;
}

/* Starts from the stored tree: the checkpoint's root computed from O(log n) stored hashes, the
 * right edge, and the last stored record checked in the log. 0 when it cannot be used. */
static int load_stored(struct audit_log *log, const struct checkpoint *cp)
{
	struct log_state *st = &log->durable;
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t n = log->tree.size, end;

	if (n == 0 || n < cp->size || !stored_tail_matches(log, n, &end))
		return 0;
	if (cp->size > 0 && (audit_tree_hash(&log->tree, 0, cp->size, root) != VAULT_OK ||
			     sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0))
		return 0;
	if (audit_tree_range(&log->tree, n, &st->range) != VAULT_OK ||
	    audit_tree_node(&log->tree, 0, n - 1, st->last) != VAULT_OK ||
	    audit_tree_truncate(&log->tree, n) != VAULT_OK)
		return 0;
	st->offset = end;
	return 1;
}

/* The stored tree, or a full pass that rebuilds it. */
static void load_start(struct audit_log *log, const struct checkpoint *cp)
{
	log->tree_ok = audit_tree_open(log->dirfd, 1, &log->tree) == VAULT_OK;
	if (log->tree_ok && load_stored(log, cp))
		return;
	memset(&log->durable, 0, sizeof(log->durable));
	merkle_range_init(&log->durable.range);
	if (log->tree_ok && audit_tree_truncate(&log->tree, 0) != VAULT_OK)
		log->tree_ok = 0;
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

/* The signed checkpoint, or (*have_cp = 0) the empty tree's when the file is gone or empty:
 * appends replace it without a sync, so a crash may leave it empty, and the log re-derives it. */
static int open_checkpoint(struct audit_log *log, struct checkpoint *cp, int *have_cp)
{
	int ret = fileio_read(log->dirfd, AUDIT_CHECKPOINT_NAME, (uint8_t *)log->cp,
			      sizeof(log->cp), &log->cplen);

	*have_cp = 1;
	if (ret == VAULT_E_NOTFOUND || (ret == VAULT_OK && log->cplen == 0)) {
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
	if (ret == VAULT_OK) {
		load_start(log, cp);
		ret = load_log(log, cp, torn, &tornlen);
	}
	log->written = log->durable;
	if (ret == VAULT_OK && tornlen > 0)
		ret = recover_torn(log, ctx, torn, tornlen, log->durable.offset);
	else if (ret == VAULT_OK)
		ret = recover_pending(log, ctx);
	if (ret == VAULT_OK && (!have_cp || log->durable.range.size != cp->size))
		ret = log_checkpoint(log);
	else if (ret == VAULT_OK)
		log->cp_synced = cp->size; /* found current: close has nothing to add */
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
	log->dirfd = log->fd = log->lockfd = log->tree.tfd = log->tree.ifd = -1;
	log->cpfd[0] = log->cpfd[1] = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	merkle_range_init(&log->durable.range);
	log->written = log->durable;
	log->pending = malloc(PENDING_MAX * MERKLE_HASH_LEN);
	log->pending_end = malloc(PENDING_MAX * sizeof(*log->pending_end));
	ret = log->pending == NULL || log->pending_end == NULL ? VAULT_E_NOMEM : VAULT_OK;
	if (ret == VAULT_OK)
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
		log->broken = 1; /* nothing to sign at close */
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
	else if (!log->broken && log->sk != NULL && log->cp_synced != log->durable.range.size)
		log_checkpoint(log); /* a clean stop leaves a durable checkpoint of everything */
	sodium_free(log->sk);
	if (log->fd >= 0)
		close(log->fd);
	checkpoint_files_close(log);
	audit_tree_close(&log->tree);
	fileio_unlock(log->lockfd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	free(log->pending);
	free(log->pending_end);
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv);
	sodium_memzero(log, sizeof(*log));
	free(log);
}
