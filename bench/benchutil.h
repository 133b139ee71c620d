/* What the benches share: a monotonic clock, medians, and a scratch directory removed after. */
#ifndef SESAME_BENCH_BENCHUTIL_H
#define SESAME_BENCH_BENCHUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "audit.h"

static inline double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of n samples (sorts them). */
static inline double bench_median(double *t, size_t n)
{
	qsort(t, n, sizeof(*t), bench_cmp_double);
	return t[n / 2];
}

/* A fresh directory $TMPDIR/sesame-bench-NAME.XXXXXX (else /tmp) into out: 0, or -1. */
static inline int bench_tmpdir(char *out, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	if (snprintf(out, cap, "%s/sesame-bench-%s.XXXXXX", tmp != NULL ? tmp : "/tmp", name) >=
	    (int)cap)
		return -1;
	return mkdtemp(out) != NULL ? 0 : -1;
}

static inline int bench_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Removes path and everything under it, never following a link. */
static inline void bench_rmtree(const char *path)
{
	nftw(path, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The i-th of a synthetic log's records: the events of an appointment in turn, at time, about
 * user; purpose (cap bytes) is the caller's. */
static inline struct audit_event bench_event(uint64_t i, const char *time, const char *user,
					     char *purpose, size_t cap)
{
	static const char *const events[] = {"pin_ok", "session_opened", "login_started",
					     "login_filled", "session_closed"};
	struct audit_event ev = {.event = events[i % 5],
				 .time = time,
				 .worker_uid = 1000,
				 .worker_login = "alice",
				 .host = "poste-3",
				 .user = user,
				 .credential = "c-18",
				 .service = "CAF",
				 .outcome = "ok",
				 .attempts_left = -1};
	snprintf(purpose, cap, "rendez-vous %llu", (unsigned long long)i);
	ev.purpose = purpose;
	return ev;
}

#endif
