/* Chrome DevTools Protocol over a pipe pair. Every wait is bounded by a deadline and by the
 * cancel descriptor; the input buffer is wiped as it is consumed, since a page's answers may
 * echo what was typed into it. Commands are printed by cJSON, whose hooks wipe on free. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cdp.h"

int cdp_parse(const uint8_t *buf, size_t len, size_t *used, cJSON **msg)
{
	size_t scan = len < CDP_MESSAGE_MAX + 1 ? len : CDP_MESSAGE_MAX + 1;
	const uint8_t *nul = memchr(buf, '\0', scan);
	const char *end = NULL;
	cJSON *m;

	*msg = NULL;
	*used = 0;
	if (nul == NULL)
		return len > CDP_MESSAGE_MAX ? -1 : 0;
	if (nul == buf)
		return -1;
	m = cJSON_ParseWithLengthOpts((const char *)buf, (size_t)(nul - buf), &end, 0);
	while (m != NULL && end < (const char *)nul && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (m == NULL || !cJSON_IsObject(m) || end != (const char *)nul) { /* no trailing bytes */
		cJSON_Delete(m);
		return -1;
	}
	*msg = m;
	*used = (size_t)(nul - buf) + 1;
	return 1;
}

int cdp_open(struct cdp *c, int rfd, int wfd, int cancel_fd)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd, c->wfd = wfd, c->cancel_fd = cancel_fd;
	c->next_id = 1;
	if (fcntl(rfd, F_SETFL, O_NONBLOCK) != 0 || fcntl(wfd, F_SETFL, O_NONBLOCK) != 0)
		return CDP_E_CLOSED;
	return CDP_OK;
}

void cdp_close(struct cdp *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0)
		close(c->wfd);
	c->rfd = c->wfd = -1;
	if (c->in != NULL) {
		sodium_memzero(c->in, c->in_cap);
		free(c->in);
	}
	c->in = NULL;
	c->in_len = c->in_cap = 0;
}

/* Wait until fd is ready for events, the deadline passes, or cancel. */
static int wait_fd(struct cdp *c, int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pfd[2] = {{fd, events, 0}, {c->cancel_fd, POLLIN, 0}};
		long long left = deadline - proto_now_ms();
		int n;
		if (left <= 0)
			return CDP_E_TIMEOUT;
		n = poll(pfd, c->cancel_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			return CDP_E_CLOSED;
		if (n > 0 && c->cancel_fd >= 0 && pfd[1].revents != 0)
			return CDP_E_CANCELLED;
		if (n > 0 && pfd[0].revents != 0)
			return CDP_OK; /* a hang-up shows as EOF or EPIPE on the next call */
	}
}

/* Not fileio_write_all: the pipe is non-blocking, and a browser that stops reading must not
 * hold the login past its deadline or past a cancel. */
static int write_all(struct cdp *c, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w = write(c->wfd, p, n);
		int ret;
		if (w > 0) {
			p += w, n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return CDP_E_CLOSED;
		if ((ret = wait_fd(c, c->wfd, POLLOUT, deadline)) != CDP_OK)
			return ret;
	}
	return CDP_OK;
}

/* Grow the input buffer by a chunk; the old one is wiped before it is freed. */
static int grow(struct cdp *c)
{
	size_t cap = c->in_cap + CDP_READ_CHUNK;
	uint8_t *n;

	if (cap > CDP_MESSAGE_MAX + 2 * CDP_READ_CHUNK)
		return CDP_E_PROTO;
	if ((n = malloc(cap)) == NULL)
		return CDP_E_NOMEM;
	if (c->in != NULL) {
		memcpy(n, c->in, c->in_len);
		sodium_memzero(c->in, c->in_cap);
		free(c->in);
	}
	c->in = n;
	c->in_cap = cap;
	return CDP_OK;
}

static void consume(struct cdp *c, size_t used)
{
	memmove(c->in, c->in + used, c->in_len - used);
	sodium_memzero(c->in + c->in_len - used, used);
	c->in_len -= used;
}

/* The next message from the browser, whatever it is. */
static int next_message(struct cdp *c, long long deadline, cJSON **msg)
{
	for (;;) {
		size_t used;
		ssize_t n;
		int ret =
		    cdp_parse(c->in != NULL ? c->in : (const uint8_t *)"", c->in_len, &used, msg);
		if (ret < 0)
			return CDP_E_PROTO;
		if (ret > 0) {
			consume(c, used);
			return CDP_OK;
		}
		if (c->in_cap - c->in_len < CDP_READ_CHUNK && (ret = grow(c)) != CDP_OK)
			return ret;
		n = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return CDP_E_CLOSED;
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if ((ret = wait_fd(c, c->rfd, POLLIN, deadline)) != CDP_OK)
			return ret;
	}
}

static int is_ours(const struct cdp *c, const cJSON *msg)
{
	const char *sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "sessionId"));

	return sid == NULL ? c->session[0] == '\0' : strcmp(sid, c->session) == 0;
}

/* Events that end the conversation with the page. */
static int is_fatal_event(const struct cdp *c, const char *method, const cJSON *msg)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const char *sid;

	if (strcmp(method, "Inspector.targetCrashed") == 0 ||
	    strcmp(method, "Inspector.detached") == 0)
		return is_ours(c, msg);
	if (strcmp(method, "Target.detachedFromTarget") == 0 && c->session[0] != '\0') {
		sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "sessionId"));
		return sid != NULL && strcmp(sid, c->session) == 0;
	}
	return 0;
}

/* What an event read while waiting means: the page is gone, the hook objects, or nothing. */
static int event_verdict(struct cdp *c, const char *method, const cJSON *msg)
{
	if (method == NULL)
		return CDP_OK;
	if (is_fatal_event(c, method, msg))
		return CDP_E_CLOSED;
	if (c->hook != NULL)
		switch (c->hook(c->hook_ctx, method, msg)) {
		case CDP_HOOK_STOP:
			return CDP_E_EVENT;
		case CDP_HOOK_WAKE:
			return CDP_HOOK_WAKE; /* positive: not an error */
		}
	return CDP_OK;
}

static int send_command(struct cdp *c, const char *method, cJSON *params, int session, long id,
			long long deadline)
{
	cJSON *cmd = cJSON_CreateObject();
	char *text = NULL;
	int ret = CDP_E_NOMEM;

	if (cmd == NULL) {
		cJSON_Delete(params);
		return CDP_E_NOMEM;
	}
	cJSON_AddNumberToObject(cmd, "id", (double)id);
	cJSON_AddStringToObject(cmd, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(cmd, "params", params);
	if (session && c->session[0] != '\0')
		cJSON_AddStringToObject(cmd, "sessionId", c->session);
	if ((text = cJSON_PrintUnformatted(cmd)) != NULL) /* the NUL is the separator */
		ret = write_all(c, text, strlen(text) + 1, deadline);
	if (text != NULL)
		cJSON_free(text); /* wiped by the hooks: it may hold the password */
	cJSON_Delete(cmd);
	return ret;
}

int cdp_call(struct cdp *c, const char *method, cJSON *params, int session, long long deadline,
	     cJSON **result)
{
	long id = c->next_id++;
	int ret;

	if (result != NULL)
		*result = NULL;
	if ((ret = send_command(c, method, params, session, id, deadline)) != CDP_OK)
		return ret;
	for (;;) {
		cJSON *msg, *idv;
		const char *ev;
		if ((ret = next_message(c, deadline, &msg)) != CDP_OK)
			return ret;
		idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
		ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "method"));
		if (cJSON_IsNumber(idv) && idv->valuedouble == (double)id) {
			ret = cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL ? CDP_E_COMMAND
										     : CDP_OK;
			if (ret == CDP_OK && result != NULL)
				*result = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
			cJSON_Delete(msg);
			return ret;
		}
		ret = event_verdict(c, ev, msg);
		cJSON_Delete(msg);
		if (ret < 0)
			return ret;
	}
}

int cdp_wait_any(struct cdp *c, const char *const *methods, size_t n, long long deadline,
		 size_t *which, cJSON **event)
{
	for (;;) {
		cJSON *msg;
		const char *ev;
		int ret = next_message(c, deadline, &msg);
		if (ret != CDP_OK)
			return ret;
		ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "method"));
		ret = event_verdict(c, ev, msg);
		if (ret == CDP_HOOK_WAKE) {
			if (which != NULL)
				*which = n;
			cJSON_Delete(msg);
			return CDP_OK;
		}
		for (size_t i = 0; ret == CDP_OK && ev != NULL && i < n; i++) {
			if (strcmp(ev, methods[i]) != 0 || !is_ours(c, msg))
				continue;
			if (which != NULL)
				*which = i;
			if (event != NULL)
				*event = cJSON_DetachItemFromObjectCaseSensitive(msg, "params");
			cJSON_Delete(msg);
			return CDP_OK;
		}
		cJSON_Delete(msg);
		if (ret != CDP_OK)
			return ret;
	}
}

int cdp_wait_event(struct cdp *c, const char *method, long long deadline, cJSON **event)
{
	return cdp_wait_any(c, &method, 1, deadline, NULL, event);
}

int cdp_drain(struct cdp *c, long long deadline)
{
	for (;;) {
		uint8_t junk[4096];
		ssize_t n = read(c->rfd, junk, sizeof(junk));
		int ret;
		sodium_memzero(junk, sizeof(junk));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return CDP_E_CLOSED;
		if (n < 0 && (ret = wait_fd(c, c->rfd, POLLIN, deadline)) != CDP_OK)
			return ret;
	}
}

/* scheme://[userinfo@]host[:port]/...: http and https only, lower-cased, default ports. */
int cdp_origin_parse(const char *url, struct cdp_origin *o)
{
	const char *sep = strstr(url, "://"), *h, *end, *hend;
	size_t n;

	memset(o, 0, sizeof(*o));
	if (sep == NULL || (n = (size_t)(sep - url)) == 0 || n >= sizeof(o->scheme))
		return -1;
	for (size_t i = 0; i < n; i++)
		o->scheme[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] + 32 : url[i]);
	if (strcmp(o->scheme, "https") != 0 && strcmp(o->scheme, "http") != 0)
		return -1;
	h = sep + 3;
	end = h + strcspn(h, "/?#\\");
	for (const char *q = h; q < end; q++)
		if (*q == '@')
			h = q + 1;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		hend++;
	} else {
		for (hend = h; hend < end && *hend != ':'; hend++)
			;
	}
	if ((n = (size_t)(hend - h)) == 0 || n >= sizeof(o->host))
		return -1;
	for (size_t i = 0; i < n; i++)
		o->host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	o->port = strcmp(o->scheme, "https") == 0 ? 443 : 80;
	if (hend < end) { /* ":digits" */
		unsigned long port = 0;
		if (*hend != ':' || end - hend > 6)
			return -1;
		for (const char *q = hend + 1; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			port = port * 10 + (unsigned long)(*q - '0');
		}
		if (end - hend > 1) {
			if (port == 0 || port > 65535)
				return -1;
			o->port = (unsigned)port;
		}
	}
	return 0;
}

int cdp_origin_same(const struct cdp_origin *a, const char *url)
{
	struct cdp_origin b;

	return url != NULL && cdp_origin_parse(url, &b) == 0 && strcmp(a->scheme, b.scheme) == 0 &&
	       strcmp(a->host, b.host) == 0 && a->port == b.port;
}

int cdp_origin_loopback(const struct cdp_origin *o)
{
	if (strcmp(o->host, "localhost") == 0 || strcmp(o->host, "[::1]") == 0)
		return 1;
	if (strncmp(o->host, "127.", 4) != 0)
		return 0;
	return strspn(o->host, "0123456789.") == strlen(o->host);
}
