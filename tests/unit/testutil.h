/* Small helpers shared by the unit tests: throw-away directories and fast test policies. */
#ifndef SESAME_TESTS_TESTUTIL_H
#define SESAME_TESTS_TESTUTIL_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "vault.h"

static inline int testutil_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* A fresh 0700 directory under $TMPDIR (or /tmp); the path is static storage per call site. */
static inline char *testutil_tmpdir(char buf[PATH_MAX])
{
	const char *base = getenv("TMPDIR");

	snprintf(buf, PATH_MAX, "%s/sesame-test.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return buf;
}

static inline void testutil_rmtree(const char *path)
{
	nftw(path, testutil_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The cheapest KDF the format allows, so tests run in milliseconds. */
static inline void testutil_fast_policy(struct vault_policy *p)
{
	vault_policy_default(p);
	p->kdf_ops = VAULT_KDF_OPS_MIN;
	p->kdf_mem_kib = VAULT_KDF_MEM_KIB_MIN;
}

#endif
