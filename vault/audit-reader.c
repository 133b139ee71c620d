/* Reading the log: a streaming line reader with bounded memory, and the filtered scan that
 * shows and exports records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit-internal.h"
#include "error.h"
#include "fileio.h"

int audit_reader_init(struct audit_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = 2 * AUDIT_READ_CHUNK;
	r->buf = malloc(r->cap);
	return r->buf == NULL ? VAULT_E_NOMEM : VAULT_OK;
}

void audit_reader_free(struct audit_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

int audit_reader_next(struct audit_reader *r, const uint8_t **line, size_t *len)
{
	for (;;) {
		const uint8_t *nl =
		    r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		ssize_t n;
		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			if (*len > AUDIT_LINE_MAX)
				return VAULT_E_TOOLONG;
			r->start += *len + 1;
			r->offset += *len + 1;
			return 1;
		}
		if (r->end - r->start > AUDIT_LINE_MAX)
			return VAULT_E_TOOLONG;
		if (r->eof)
			return 0;
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		n = pread(r->fd, r->buf + r->end, r->cap - r->end, (off_t)r->read_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VAULT_E_IO;
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
		r->read_off += (uint64_t)n;
	}
}

size_t audit_reader_tail(const struct audit_reader *r, const uint8_t **tail)
{
	if (tail != NULL)
		*tail = r->buf + r->start;
	return r->end - r->start;
}

int audit_log_open_read(const char *dir, int *dirfd, int *fd)
{
	int ret = fileio_dir_open(dir, 0, dirfd);

	*fd = -1;
	if (ret != VAULT_OK)
		return ret;
	if ((ret = fileio_open(*dirfd, AUDIT_LOG_NAME, O_RDONLY, fd)) != VAULT_OK) {
		close(*dirfd);
		*dirfd = -1;
	}
	return ret;
}

int audit_filter_match(const struct audit_filter *f, const struct audit_record *r)
{
	char uid[16];

	if (f == NULL)
		return 1;
	if (f->user != NULL && strcmp(f->user, r->user) != 0)
		return 0;
	if (f->event != NULL && strcmp(f->event, r->event) != 0)
		return 0;
	if (f->worker != NULL) {
		snprintf(uid, sizeof(uid), "%u", (unsigned)r->worker_uid);
		if (strcmp(f->worker, r->worker_login) != 0 && strcmp(f->worker, uid) != 0)
			return 0;
	}
	if (f->since != NULL && strcmp(r->time, f->since) < 0)
		return 0;
	if (f->until != NULL && strcmp(r->time, f->until) >= 0)
		return 0;
	return 1;
}

typedef int (*scan_cb)(void *ctx, const struct audit_record *rec, const uint8_t *line, size_t len);

static int scan(const char *dir, const struct audit_filter *f, scan_cb cb, void *ctx,
		int (*parse)(const uint8_t *, size_t, struct audit_record *))
{
	struct audit_reader rd;
	struct audit_record *rec = NULL;
	const uint8_t *line;
	size_t len;
	int dirfd, fd, ret, r;

	ret = audit_log_open_read(dir, &dirfd, &fd);
	if (ret != VAULT_OK)
		return ret;
	ret = audit_reader_init(&rd, fd);
	rec = malloc(sizeof(*rec));
	if (ret == VAULT_OK && rec == NULL)
		ret = VAULT_E_NOMEM;
	while (ret == VAULT_OK && (r = audit_reader_next(&rd, &line, &len)) == 1) {
		ret = parse(line, len, rec);
		if (ret == VAULT_OK && audit_filter_match(f, rec) && cb(ctx, rec, line, len) != 0)
			break;
	}
	if (ret == VAULT_OK && r < 0)
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_RECORD : r;
	else if (ret == VAULT_OK && r == 0 && audit_reader_tail(&rd, NULL) > 0)
		ret = VAULT_E_LOG_TORN;
	free(rec);
	audit_reader_free(&rd);
	close(fd);
	close(dirfd);
	return ret;
}

int audit_scan(const char *dir, const struct audit_filter *f, scan_cb cb, void *ctx)
{
	return scan(dir, f, cb, ctx, audit_record_parse);
}

int audit_scan_verified(const char *dir, const struct audit_filter *f, scan_cb cb, void *ctx)
{
	return scan(dir, f, cb, ctx, audit_record_parse_verified);
}
