/* The origin check of an assisted login: a password is filled only into a page whose origin is
 * the credential's. Whatever the URL, cdp_origin_parse accepts only http(s) with a plain
 * lower-case host and a real port, says the same of its own rebuilt origin, and
 * cdp_origin_same tells that origin from one a scheme, a port or a host away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "fuzz.h"

#define URL_MAX 4096
/* "https://" host ":65535/" and its NUL */
#define REBUILT_MAX (sizeof("https://:65535/") + CDP_HOST_MAX)

static void check(int ok)
{
	if (!ok)
		abort();
}

static void origin_url(char *out, const char *scheme, const char *host, unsigned port)
{
	int n = snprintf(out, REBUILT_MAX, "%s://%s:%u/", scheme, host, port);

	check(n > 0 && (size_t)n < REBUILT_MAX);
}

static int origin_equal(const struct cdp_origin *a, const struct cdp_origin *b)
{
	return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port;
}

static void check_fields(const struct cdp_origin *o)
{
	check(strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0);
	check(o->host[0] != '\0' && strlen(o->host) < CDP_HOST_MAX);
	/* a host is where userinfo, a port, a path, a query or a fragment cannot hide */
	check(strpbrk(o->host, "@/?#\\") == NULL);
	check(o->host[0] == '[' ? o->host[strlen(o->host) - 1] == ']' : !strchr(o->host, ':'));
	for (const char *p = o->host; *p != '\0'; p++)
		check(*p < 'A' || *p > 'Z');
	check(o->port >= 1 && o->port <= 65535);
	if (cdp_origin_loopback(o))
		check(strcmp(o->host, "localhost") == 0 || strcmp(o->host, "[::1]") == 0 ||
		      (strncmp(o->host, "127.", 4) == 0 &&
		       strspn(o->host, "0123456789.") == strlen(o->host)));
}

/* The origin rebuilt as scheme://host:port/ parses to itself, even written in capitals or behind
 * userinfo, and differs from the same URL with another scheme or port. */
static void check_rebuilt(const struct cdp_origin *o)
{
	const char *other = strcmp(o->scheme, "https") == 0 ? "http" : "https";
	char url[2 * REBUILT_MAX], host[CDP_HOST_MAX];
	struct cdp_origin again;

	origin_url(url, o->scheme, o->host, o->port);
	check(cdp_origin_parse(url, &again) == 0 && origin_equal(o, &again));
	check(cdp_origin_loopback(o) == cdp_origin_loopback(&again));
	check(cdp_origin_same(o, url));
	for (size_t i = 0; i < sizeof(host) && (host[i] = o->host[i]) != '\0'; i++)
		if (host[i] >= 'a' && host[i] <= 'z')
			host[i] = (char)(host[i] - 32);
	origin_url(url, strcmp(o->scheme, "https") == 0 ? "HTTPS" : "HTTP", host, o->port);
	check(cdp_origin_same(o, url));
	snprintf(url, sizeof(url), "%s://user:pass@%s:%u/@x", o->scheme, o->host, o->port);
	check(cdp_origin_same(o, url));
	origin_url(url, other, o->host, o->port);
	check(!cdp_origin_same(o, url));
	origin_url(url, o->scheme, o->host, o->port == 65535 ? 1 : o->port + 1);
	check(!cdp_origin_same(o, url));
	origin_url(url, o->scheme, "x", o->port);
	check(strcmp(o->host, "x") == 0 || !cdp_origin_same(o, url));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[URL_MAX + 1];
	struct cdp_origin o;

	if (size > URL_MAX)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0'; /* the URL ends at its first NUL, as a C string does */
	if (cdp_origin_parse(url, &o) != 0) {
		check(!cdp_origin_same(&o, url)); /* a refused URL is of no origin at all */
		return 0;
	}
	check_fields(&o);
	check(cdp_origin_same(&o, url));
	check_rebuilt(&o);
	return 0;
}
