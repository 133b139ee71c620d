/* A deliberately narrow reading of RFC 3986 for the addresses people record: scheme "://"
 * host [":" port] and then a path, query or fragment; nothing else is an address to fill. */
#include <string.h>
#include <strings.h>

#include "url.h"

#define URL_PORT_MAX 65535

static int is_host_char(unsigned char c)
{
	/* letters, digits, '-', '.', and the bytes of an internationalised name */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c >= 0x80;
}

/* The host at p (a name or a bracketed IPv6 address) and an optional port; *end after them. */
static int host_port(const char *p, const char **host, size_t *host_len, const char **end)
{
	const char *h = p;
	unsigned long port = 0;

	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL || close == p + 1)
			return -1;
		p = close + 1;
	} else {
		while (is_host_char((unsigned char)*p))
			p++;
	}
	if (p == h || h[0] == '.' || h[0] == '-')
		return -1;
	*host = h;
	*host_len = (size_t)(p - h);
	if (*p == ':') {
		const char *digits = ++p;
		while (*p >= '0' && *p <= '9' && p - digits < 6)
			port = port * 10 + (unsigned long)(*p++ - '0');
		if (p == digits || port == 0 || port > URL_PORT_MAX)
			return -1;
	}
	*end = p;
	return 0;
}

static int is_loopback(const char *host, size_t len)
{
	if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0))
		return 1;
	if (len < 7 || strncmp(host, "127.", 4) != 0)
		return 0;
	for (size_t i = 4; i < len; i++)
		if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
			return 0;
	return 1;
}

/* No white space, no control character, anywhere: "https://caf .fr/" is two words. */
static int clean(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

enum url_verdict url_check(const char *url, int allow_http_loopback)
{
	const char *rest, *host, *end;
	size_t host_len;
	int http;

	if (!clean(url))
		return URL_MALFORMED;
	if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8, http = 0;
	else if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7, http = 1;
	else
		return strstr(url, "://") != NULL || strchr(url, ':') != NULL ? URL_SCHEME
									      : URL_MALFORMED;
	if (strpbrk(rest, "@\\") != NULL && strpbrk(rest, "@\\") < rest + strcspn(rest, "/?#"))
		return URL_MALFORMED; /* user:password@host hides the real host */
	if (host_port(rest, &host, &host_len, &end) != 0 ||
	    (*end != '\0' && *end != '/' && *end != '?' && *end != '#'))
		return URL_MALFORMED;
	if (!http)
		return URL_OK;
	if (!is_loopback(host, host_len))
		return URL_HTTP;
	return allow_http_loopback ? URL_OK : URL_HTTP_DISABLED;
}
