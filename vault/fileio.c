#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "fileio.h"

void (*fileio_before_rename_hook)(void);

static __thread char failed_name[FILEIO_NAME_MAX];

/* Remember which file a failure is about, for the message a person reads. */
static int failed(const char *name, int code)
{
	snprintf(failed_name, sizeof(failed_name), "%s", name);
	return code;
}

const char *fileio_failed_name(void)
{
	return failed_name;
}

static int errno_to_vault(int e)
{
	switch (e) {
	case ENOENT:
		return VAULT_E_NOTFOUND;
	case EEXIST:
		return VAULT_E_EXISTS;
	case ENOMEM:
		return VAULT_E_NOMEM;
	case EACCES:
	case EPERM:
		return VAULT_E_ACCESS;
	case ELOOP: /* O_NOFOLLOW met a symbolic link */
		return VAULT_E_SYMLINK;
	case ENXIO: /* a FIFO without a reader, opened for writing with O_NONBLOCK */
	case ENOTDIR:
		return VAULT_E_FILETYPE;
	default:
		return VAULT_E_IO;
	}
}

/* ENOTDIR from O_DIRECTORY|O_NOFOLLOW: a symbolic link, or something that is no directory. */
static int dir_open_error(const char *path, int e)
{
	struct stat st;

	if (e == ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return VAULT_E_SYMLINK;
	return errno_to_vault(e);
}

int fileio_open(int dirfd, const char *name, int flags, int *fdp)
{
	struct stat st;
	int fd = openat(dirfd, name, flags | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			FILEIO_FILE_MODE);

	*fdp = -1;
	if (fd < 0)
		return failed(name, errno_to_vault(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int code = S_ISREG(st.st_mode) ? VAULT_E_IO : VAULT_E_FILETYPE;
		close(fd);
		return failed(name, code);
	}
	*fdp = fd;
	return VAULT_OK;
}

int fileio_dir_open(const char *path, int create, int *dirfd)
{
	struct stat st;
	int fd;

	*dirfd = -1;
	if (create && mkdir(path, FILEIO_DIR_MODE) != 0 && errno != EEXIST)
		return failed(path, errno_to_vault(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return failed(path, dir_open_error(path, errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return failed(path, VAULT_E_IO);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return failed(path, VAULT_E_PERM);
	}
	*dirfd = fd;
	return VAULT_OK;
}

int fileio_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno == ENOSPC ? VAULT_E_IO : errno_to_vault(errno);
		p += n;
		len -= (size_t)n;
	}
	return VAULT_OK;
}

int fileio_read(int dirfd, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
	return fileio_read_stat(dirfd, name, buf, cap, len, NULL);
}

int fileio_read_stat(int dirfd, const char *name, uint8_t *buf, size_t cap, size_t *len,
		     struct stat *st)
{
	size_t got = 0;
	uint8_t extra;
	int fd, ret = VAULT_OK;

	*len = 0;
	if ((ret = fileio_open(dirfd, name, O_RDONLY, &fd)) != VAULT_OK)
		return ret;
	if (st != NULL && fstat(fd, st) != 0)
		ret = VAULT_E_IO;
	while (ret == VAULT_OK) {
		ssize_t n = read(fd, got < cap ? buf + got : &extra, got < cap ? cap - got : 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = VAULT_E_IO;
			break;
		}
		if (n == 0)
			break;
		if (got >= cap) {
			ret = VAULT_E_TOOLONG;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (ret == VAULT_OK)
		*len = got;
	return ret == VAULT_OK ? ret : failed(name, ret);
}

/* Write buf to a fresh temporary file next to name and make it durable; name the file in tmp. */
static int write_temp(int dirfd, const char *name, const void *buf, size_t len, char *tmp,
		      size_t tmpcap)
{
	uint8_t rnd[8];
	int fd, ret;

	randombytes_buf(rnd, sizeof(rnd));
	if (snprintf(tmp, tmpcap, ".%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", name, rnd[0], rnd[1],
		     rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) >= (int)tmpcap)
		return VAULT_E_INVAL;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    FILEIO_FILE_MODE);
	if (fd < 0)
		return errno_to_vault(errno);
	ret = fileio_write_all(fd, buf, len);
	if (ret == VAULT_OK && fsync(fd) != 0)
		ret = VAULT_E_IO;
	if (close(fd) != 0 && ret == VAULT_OK)
		ret = VAULT_E_IO;
	if (ret != VAULT_OK)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

enum publish_mode { PUBLISH_REPLACE, PUBLISH_CREATE, PUBLISH_REPLACE_LAZY };

static int publish(int dirfd, const char *tmp, const char *name, enum publish_mode mode)
{
	int exclusive = mode == PUBLISH_CREATE;
	int ret;

	if (fileio_before_rename_hook != NULL)
		fileio_before_rename_hook();
	/* linkat fails if name exists, which gives create-only semantics with the same durability.
	 */
	ret = exclusive ? linkat(dirfd, tmp, dirfd, name, 0) : renameat(dirfd, tmp, dirfd, name);
	if (ret != 0) {
		ret = errno_to_vault(errno);
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	if (exclusive)
		unlinkat(dirfd, tmp, 0);
	if (mode == PUBLISH_REPLACE_LAZY)
		return VAULT_OK;
	/* the new file is in place: only its durability is in doubt, and the caller must know */
	return fsync(dirfd) == 0 ? VAULT_OK : VAULT_E_UNSYNCED;
}

static int write_common(int dirfd, const char *name, const void *buf, size_t len,
			enum publish_mode mode)
{
	char tmp[256];
	int ret;

	if (strchr(name, '/') != NULL || strlen(name) > 200)
		return VAULT_E_INVAL;
	ret = write_temp(dirfd, name, buf, len, tmp, sizeof(tmp));
	if (ret != VAULT_OK)
		return ret;
	return publish(dirfd, tmp, name, mode);
}

int fileio_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	return write_common(dirfd, name, buf, len, PUBLISH_REPLACE);
}

int fileio_write_atomic_lazy(int dirfd, const char *name, const void *buf, size_t len)
{
	return write_common(dirfd, name, buf, len, PUBLISH_REPLACE_LAZY);
}

int fileio_create_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	return write_common(dirfd, name, buf, len, PUBLISH_CREATE);
}

int fileio_unlink(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) != 0)
		return errno_to_vault(errno);
	return fsync(dirfd) == 0 ? VAULT_OK : VAULT_E_UNSYNCED;
}

int fileio_lock(int dirfd, const char *name, int *lockfd)
{
	int fd, ret;

	*lockfd = -1;
	if ((ret = fileio_open(dirfd, name, O_RDWR | O_CREAT, &fd)) != VAULT_OK)
		return ret;
	/* Poll rather than block, so a stuck holder turns into VAULT_E_BUSY, not a hang. */
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += FILEIO_LOCK_POLL_MS) {
		int e = errno;
		if ((e != EWOULDBLOCK && e != EINTR) || waited >= FILEIO_LOCK_WAIT_MS) {
			close(fd);
			return e == EWOULDBLOCK ? VAULT_E_BUSY : VAULT_E_IO;
		}
		usleep(FILEIO_LOCK_POLL_MS * 1000);
	}
	*lockfd = fd;
	return VAULT_OK;
}

void fileio_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}
