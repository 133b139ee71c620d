/* The assisted login's request and reply (loginreq.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "launch.h"
#include "loginreq.h"
#include "proto.h"

/* The worker's cookie for display number num, from $XAUTHORITY or ~/.Xauthority. */
static size_t xauth_cookie(const char *num, uint8_t cookie[BROWSER_XAUTH_MAX])
{
	const char *file = getenv("XAUTHORITY"), *home = getenv("HOME");
	uint8_t *buf = sodium_malloc(XAUTH_FILE_MAX);
	char path[PATH_MAX], host[256] = "";
	size_t n = 0, len = 0;
	ssize_t r;
	int fd;

	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/.Xauthority", home != NULL ? home : "");
	if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		sodium_free(buf);
		return 0;
	}
	while (n < XAUTH_FILE_MAX && (r = read(fd, buf + n, XAUTH_FILE_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	gethostname(host, sizeof(host) - 1);
	len = xauth_find(buf, n, num, host, cookie);
	sodium_free(buf); /* wiped: it held every cookie of the worker's */
	return len;
}

cJSON *login_display(void)
{
	const char *display = getenv("DISPLAY"), *colon;
	char num[16], hex[2 * BROWSER_XAUTH_MAX + 1];
	uint8_t cookie[BROWSER_XAUTH_MAX];
	size_t clen;
	cJSON *d;

	if (display == NULL || (colon = strrchr(display, ':')) == NULL)
		return NULL;
	snprintf(num, sizeof(num), "%.*s", (int)strcspn(colon + 1, "."), colon + 1);
	clen = xauth_cookie(num, cookie);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "x11", display);
	if (clen > 0) {
		sodium_bin2hex(hex, sizeof(hex), cookie, clen);
		cJSON_AddStringToObject(d, "xauth", hex); /* the hooks wipe the tree */
	}
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(hex, sizeof(hex));
	return d;
}

cJSON *login_request(const struct login_ask *ask)
{
	cJSON *req = cJSON_CreateObject(), *display = ask->headless ? NULL : login_display();

	cJSON_AddStringToObject(req, "op", "login");
	cJSON_AddStringToObject(req, "user", ask->user);
	cJSON_AddStringToObject(req, "service", ask->service);
	if (ask->purpose != NULL && ask->purpose[0] != '\0')
		cJSON_AddStringToObject(req, "purpose", ask->purpose);
	cJSON_AddBoolToObject(req, "headless", display == NULL);
	cJSON_AddBoolToObject(req, "no_submit", ask->no_submit);
	cJSON_AddBoolToObject(req, "keep_open", ask->keep_open || display != NULL);
	cJSON_AddBoolToObject(req, "screenshot", ask->screenshot);
	if (display != NULL)
		cJSON_AddItemToObject(req, "display", display);
	return req;
}

void login_outcome_read(const cJSON *reply, struct login_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->code = VAULT_E_IO;
	if (reply == NULL)
		return;
	out->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
	out->submitted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "submitted"));
	out->kept_open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "kept_open"));
	if (out->ok)
		out->code = VAULT_OK;
	else
		proto_int(reply, "code", &out->code);
	out->reason = proto_string(reply, "reason");
	out->detail = proto_string(reply, "error");
	out->screenshot_png = proto_string(reply, "screenshot_png");
}
