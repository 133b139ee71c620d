/* Helpers shared by the audit tests: data files, throw-away directories, whole-file edits. */
#ifndef SESAME_TESTS_AUDIT_TESTUTIL_H
#define SESAME_TESTS_AUDIT_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int atu_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void atu_tmpdir(char buf[PATH_MAX])
{
	const char *base = getenv("TMPDIR");

	snprintf(buf, PATH_MAX, "%s/sesame-audit-test.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

/* dir/name into out, which holds PATH_MAX bytes. */
static inline void atu_join(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
}

static inline void atu_rmtree(const char *path)
{
	nftw(path, atu_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file (malloc'd, NUL-terminated); NULL if absent. */
static inline char *atu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (len != NULL)
		*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static inline void atu_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static inline void atu_path(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
}

static inline char *atu_data(const char *name, size_t *len)
{
	char path[PATH_MAX];
	const char *base = getenv("SESAME_TEST_DATA");

	if (snprintf(path, sizeof(path), "%s/audit/%s", base != NULL ? base : "tests/data", name) >=
	    (int)sizeof(path))
		abort();
	return atu_read(path, len);
}

#endif
