/* An LD_PRELOAD shim that makes the Nth call of one kind fail, for the fault sweep (README).
 * Read from the environment of the process under test only:
 *   SESAME_FAULT_OP     write, fsync, fdatasync, rename, link, unlink or open
 *   SESAME_FAULT_N      which call of that kind fails (1 is the first; 0 or absent: none)
 *   SESAME_FAULT_ERRNO  ENOSPC (default) or EIO
 *   SESAME_FAULT_ARM    a path: calls are counted only while it exists (absent: always)
 *   SESAME_FAULT_LOG    a path: every counted call appends "KIND" and a line feed to it
 * Counted are the calls that change files: write() to a regular file, fsync and fdatasync,
 * rename, link and unlink in all their forms, and opens that create or write. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { K_WRITE, K_FSYNC, K_FDATASYNC, K_RENAME, K_LINK, K_UNLINK, K_OPEN, K_COUNT };

static const char *const kind_names[K_COUNT] = {"write", "fsync",  "fdatasync", "rename",
						"link",	 "unlink", "open"};

static int target = -1; /* the kind that fails, or -1 */
static long target_n;
static int fail_errno = ENOSPC;
static const char *arm_path, *log_path;
static long counts[K_COUNT];

/* The next definition of each function. dlsym returns an object pointer; copying it into a
 * function pointer is what POSIX allows and what ISO C's pedantic mode does not see as a cast. */
#define RESOLVE(var, name)                                                                         \
	do {                                                                                       \
		if ((var) == NULL) {                                                               \
			void *p_ = dlsym(RTLD_NEXT, name);                                         \
			memcpy(&(var), &p_, sizeof(p_));                                           \
		}                                                                                  \
	} while (0)

static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);
static int (*real_link)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

__attribute__((constructor)) static void fault_init(void)
{
	const char *op = getenv("SESAME_FAULT_OP"), *n = getenv("SESAME_FAULT_N");
	const char *e = getenv("SESAME_FAULT_ERRNO");

	RESOLVE(real_openat, "openat");
	RESOLVE(real_write, "write");
	for (int k = 0; op != NULL && k < K_COUNT; k++)
		if (strcmp(op, kind_names[k]) == 0)
			target = k;
	target_n = n != NULL ? strtol(n, NULL, 10) : 0;
	if (e != NULL && strcmp(e, "EIO") == 0)
		fail_errno = EIO;
	arm_path = getenv("SESAME_FAULT_ARM");
	log_path = getenv("SESAME_FAULT_LOG");
}

static void log_call(enum kind k)
{
	char line[32];
	int fd, len;

	if (log_path == NULL || real_openat == NULL || real_write == NULL)
		return;
	fd = real_openat(AT_FDCWD, log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%s\n", kind_names[k]);
	(void)!real_write(fd, line, (size_t)len);
	close(fd);
}

/* Count the call; 1 if it is the one to fail (errno is then set). */
static int should_fail(enum kind k)
{
	long n;
	int saved = errno;

	if (arm_path != NULL && access(arm_path, F_OK) != 0) {
		errno = saved;
		return 0;
	}
	n = __atomic_add_fetch(&counts[k], 1, __ATOMIC_SEQ_CST);
	log_call(k);
	errno = saved;
	if ((int)k != target || n != target_n)
		return 0;
	errno = fail_errno;
	return 1;
}

static int is_regular(int fd)
{
	struct stat st;
	int saved = errno, r = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

	errno = saved;
	return r;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	RESOLVE(real_write, "write");
	if (is_regular(fd) && should_fail(K_WRITE))
		return -1;
	return real_write(fd, buf, len);
}

int fsync(int fd)
{
	RESOLVE(real_fsync, "fsync");
	return should_fail(K_FSYNC) ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
	RESOLVE(real_fdatasync, "fdatasync");
	return should_fail(K_FDATASYNC) ? -1 : real_fdatasync(fd);
}

int rename(const char *a, const char *b)
{
	RESOLVE(real_rename, "rename");
	return should_fail(K_RENAME) ? -1 : real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	RESOLVE(real_renameat, "renameat");
	return should_fail(K_RENAME) ? -1 : real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	RESOLVE(real_renameat2, "renameat2");
	return should_fail(K_RENAME) ? -1 : real_renameat2(da, a, db, b, flags);
}

int link(const char *a, const char *b)
{
	RESOLVE(real_link, "link");
	return should_fail(K_LINK) ? -1 : real_link(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
	RESOLVE(real_linkat, "linkat");
	return should_fail(K_LINK) ? -1 : real_linkat(da, a, db, b, flags);
}

int unlink(const char *p)
{
	RESOLVE(real_unlink, "unlink");
	return should_fail(K_UNLINK) ? -1 : real_unlink(p);
}

int unlinkat(int d, const char *p, int flags)
{
	RESOLVE(real_unlinkat, "unlinkat");
	return should_fail(K_UNLINK) ? -1 : real_unlinkat(d, p, flags);
}

static int writes(int flags)
{
	return (flags & (O_CREAT | O_WRONLY | O_RDWR | O_TRUNC)) != 0;
}

static int open_common(int big, int dirfd, const char *path, int flags, mode_t mode)
{
	RESOLVE(real_openat, "openat");
	RESOLVE(real_openat64, "openat64");
	if (writes(flags) && should_fail(K_OPEN))
		return -1;
	return (big ? real_openat64 : real_openat)(dirfd, path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) != 0 ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(fn, big, dirfd_expr, ...)                                                     \
	int fn(__VA_ARGS__, int flags, ...)                                                        \
	{                                                                                          \
		va_list ap;                                                                        \
		mode_t mode;                                                                       \
		va_start(ap, flags);                                                               \
		mode = mode_arg(flags, ap);                                                        \
		va_end(ap);                                                                        \
		return open_common(big, dirfd_expr, path, flags, mode);                            \
	}

OPEN_WRAPPER(openat, 0, dirfd, int dirfd, const char *path)
OPEN_WRAPPER(openat64, 1, dirfd, int dirfd, const char *path)
OPEN_WRAPPER(open, 0, AT_FDCWD, const char *path)
OPEN_WRAPPER(open64, 1, AT_FDCWD, const char *path)
