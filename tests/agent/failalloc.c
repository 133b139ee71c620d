/* An allocation-failure injector for the agent scenarios, loaded with LD_PRELOAD: while the file
 * named by $SESAME_FAILALLOC_WHEN exists, one malloc, calloc or realloc in every
 * $SESAME_FAILALLOC_EVERY returns NULL with ENOMEM. While off, the file is looked at every
 * FAILALLOC_CHECK_EVERY calls only, so the shim costs little; while on, at every call. Not for
 * sanitizer builds, which own malloc. Allocations GLib asks for are never failed: GLib aborts
 * on a failed allocation by design, so the agent's own handling is what is tested. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FAILALLOC_CHECK_EVERY 64

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

static atomic_ulong calls;
static atomic_int on;

/* 1 when this call must fail. getenv and stat allocate nothing. */
static int fail_now(void)
{
	static unsigned long every;
	const char *when = getenv("SESAME_FAILALLOC_WHEN");
	unsigned long n = atomic_fetch_add(&calls, 1);
	struct stat st;

	if (when == NULL)
		return 0;
	if (every == 0) {
		const char *e = getenv("SESAME_FAILALLOC_EVERY");
		every = e != NULL && strtoul(e, NULL, 10) > 0 ? strtoul(e, NULL, 10) : 7;
	}
	if (atomic_load(&on) || n % FAILALLOC_CHECK_EVERY == 0) /* off at once, on soon */
		atomic_store(&on, stat(when, &st) == 0);
	if (!atomic_load(&on) || n % every != 0)
		return 0;
	errno = ENOMEM;
	return 1;
}

/* 1 when the allocation was asked for by code in GLib (g_malloc and friends abort on NULL). */
static int from_glib(void *caller)
{
	Dl_info info;

	return dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
	       strstr(info.dli_fname, "libglib-2.0") != NULL;
}

void *malloc(size_t n)
{
	if (fail_now() && !from_glib(__builtin_return_address(0)))
		return NULL;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (fail_now() && !from_glib(__builtin_return_address(0)))
		return NULL;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (fail_now() && !from_glib(__builtin_return_address(0)))
		return NULL;
	return __libc_realloc(p, n);
}
