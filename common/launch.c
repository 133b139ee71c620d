/* The launcher's protocol (launch.h). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "launch.h"
#include "proto.h"

/* Flags that would let another process drive or read the browser, or change whose browser it
 * is. The launcher sets the pipe, the profile and headless mode itself. */
static const struct {
	const char *prefix, *why;
} refused_flags[] = {
    {"--remote-debugging-port", "opens a DevTools port that any local process can use"},
    {"--remote-debugging-address", "opens a DevTools port that any local process can use"},
    {"--remote-debugging-pipe", "the agent alone holds the DevTools pipe"},
    {"--remote-allow-origins", "lets web pages reach the DevTools endpoint"},
    {"--load-extension", "an extension can read every page and field"},
    {"--disable-extensions-except", "an extension can read every page and field"},
    {"--user-data-dir", "the agent gives each login a fresh private profile"},
    {"--profile-directory", "the agent gives each login a fresh private profile"},
    {"--headless", "the agent decides on headless mode"},
    {"--enable-automation", "the agent decides how the browser is driven"},
    {"--auto-open-devtools-for-tabs", "DevTools could read the password field"},
};

const char *browser_flag_refused(const char *flag)
{
	if (strncmp(flag, "--", 2) != 0 || flag[2] == '\0')
		return "only --flags are accepted, no address or program argument";
	for (size_t i = 0; i < sizeof(refused_flags) / sizeof(refused_flags[0]); i++) {
		size_t n = strlen(refused_flags[i].prefix);
		if (strncmp(flag, refused_flags[i].prefix, n) == 0 &&
		    (flag[n] == '\0' || flag[n] == '='))
			return refused_flags[i].why;
	}
	return NULL;
}

int browser_flags_split(char *buf, const char **out, size_t cap, const char **bad)
{
	size_t n = 0;

	*bad = NULL;
	for (char *save = NULL, *f = strtok_r(buf, " \t", &save); f != NULL;
	     f = strtok_r(NULL, " \t", &save)) {
		if (n == cap || browser_flag_refused(f) != NULL) {
			*bad = f;
			return -1;
		}
		out[n++] = f;
	}
	return (int)n;
}

int browser_display_parse(const cJSON *o, struct browser_display *d)
{
	const char *x11 = proto_string(o, "x11"), *hex = proto_string(o, "xauth");
	size_t len;

	memset(d, 0, sizeof(*d));
	if (o == NULL || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o) || x11 == NULL || (len = strlen(x11)) == 0 ||
	    len >= sizeof(d->x11) || strspn(x11, "0123456789.:abcdefghijklmnopqrstuvwxyz-_") != len)
		return -1;
	memcpy(d->x11, x11, len + 1);
	if (hex != NULL && sodium_hex2bin(d->cookie, sizeof(d->cookie), hex, strlen(hex), NULL,
					  &d->cookie_len, NULL) != 0)
		return -1;
	return 0;
}

const char *launch_request_parse(const cJSON *req, struct launch_request *s)
{
	const char *op = proto_string(req, "op"), *program = proto_string(req, "program"), *bad;
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(req, "flags"), *f;
	size_t used = 0;

	if (op == NULL || strcmp(op, "start") != 0)
		return "unknown request";
	memset(s, 0, sizeof(*s));
	if (program == NULL || program[0] != '/' || strlen(program) >= sizeof(s->program))
		return "the browser program is not an absolute path";
	snprintf(s->program, sizeof(s->program), "%s", program);
	s->headless = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "headless"));
	if (browser_display_parse(cJSON_GetObjectItemCaseSensitive(req, "display"), &s->display) !=
	    0)
		return "bad display";
	if (flags != NULL && !cJSON_IsArray(flags))
		return "bad flags";
	cJSON_ArrayForEach(f, flags)
	{
		const char *v = cJSON_GetStringValue(f);
		size_t len = v != NULL ? strlen(v) : 0;
		if (v == NULL || s->nflags == BROWSER_FLAGS_MAX ||
		    used + len + 1 > sizeof(s->flags_buf))
			return "bad flags";
		if ((bad = browser_flag_refused(v)) != NULL)
			return bad;
		memcpy(s->flags_buf + used, v, len + 1);
		s->flags[s->nflags++] = s->flags_buf + used;
		used += len + 1;
	}
	return NULL;
}

/* One field of an Xauthority record: a 16-bit length and its bytes. */
static const uint8_t *xauth_field(const uint8_t *p, const uint8_t *end, size_t *len)
{
	if (end - p < 2 || (size_t)(end - p - 2) < load_be16(p))
		return NULL;
	*len = load_be16(p);
	return p + 2;
}

size_t xauth_find(const uint8_t *buf, size_t n, const char *num, const char *host,
		  uint8_t cookie[BROWSER_XAUTH_MAX])
{
	const uint8_t *p = buf, *end = buf + n;
	size_t found = 0;

	while (p < end) {
		const uint8_t *f[4];
		size_t len[4];
		unsigned family;
		if (end - p < 2)
			break;
		family = load_be16(p), p += 2;
		for (int i = 0; i < 4; i++) {
			if ((f[i] = xauth_field(p, end, &len[i])) == NULL)
				return found;
			p = f[i] + len[i];
		}
		if ((family != XAUTH_FAMILY_LOCAL && family != XAUTH_FAMILY_WILD) ||
		    len[1] != strlen(num) || memcmp(f[1], num, len[1]) != 0 ||
		    len[2] != strlen(XAUTH_COOKIE_NAME) ||
		    memcmp(f[2], XAUTH_COOKIE_NAME, len[2]) != 0 || len[3] == 0 ||
		    len[3] > BROWSER_XAUTH_MAX)
			continue;
		if (found == 0 || (len[0] == strlen(host) && memcmp(f[0], host, len[0]) == 0)) {
			memcpy(cookie, f[3], len[3]);
			found = len[3];
		}
	}
	return found;
}

size_t xauth_record(const struct browser_display *d, uint8_t *out, size_t cap)
{
	const char *num = strrchr(d->x11, ':');
	size_t off = 0, nlen, name = strlen(XAUTH_COOKIE_NAME);

	if (num == NULL || d->cookie_len == 0)
		return 0;
	num++;
	nlen = strcspn(num, ".");
	if (cap < 2 + 2 + 2 + nlen + 2 + name + 2 + d->cookie_len)
		return 0;
	store_be16(out, XAUTH_FAMILY_WILD), off = 2;
	store_be16(out + off, 0), off += 2; /* no address */
	store_be16(out + off, (uint16_t)nlen), off += 2;
	memcpy(out + off, num, nlen), off += nlen;
	store_be16(out + off, (uint16_t)name), off += 2;
	memcpy(out + off, XAUTH_COOKIE_NAME, name), off += name;
	store_be16(out + off, (uint16_t)d->cookie_len), off += 2;
	memcpy(out + off, d->cookie, d->cookie_len), off += d->cookie_len;
	return off;
}
