/* A Chrome DevTools Protocol client over the pipe pair of --remote-debugging-pipe: the agent
 * writes commands to the browser's fd 3 and reads its answers and events from fd 4. Each message
 * is one JSON object followed by a NUL byte. docs/protocol.md ("login") says how it is used. */
#ifndef SESAME_AGENT_CDP_H
#define SESAME_AGENT_CDP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#include <cjson/cJSON.h>

#define CDP_MESSAGE_MAX (16u * 1024 * 1024) /* a screenshot fits; anything longer is an attack */
#define CDP_READ_CHUNK 65536
#define CDP_SESSION_MAX 64 /* flattened session ids are 32 hex digits */
#define CDP_HOST_MAX 256

struct cdp;
/* Called with every event read while waiting: CDP_HOOK_STOP ends the wait with CDP_E_EVENT,
 * CDP_HOOK_WAKE ends a cdp_wait_any (as if its event had come, *which set to n), 0 goes on. */
#define CDP_HOOK_STOP 1
#define CDP_HOOK_WAKE 2
typedef int (*cdp_event_hook)(void *ctx, const char *method, const cJSON *msg);

struct cdp {
	int rfd, wfd;  /* the browser's fd 4 and fd 3, ours to close */
	int cancel_fd; /* readable when waits must end (agent stop), or -1 */
	uint8_t *in;   /* bytes read and not yet parsed; wiped as they are consumed */
	size_t in_len, in_cap;
	long next_id;
	char session[CDP_SESSION_MAX]; /* the attached page's session, "" for the browser */
	cdp_event_hook hook;
	void *hook_ctx;
};

/* The first message in buf: 1 and *msg (free with cJSON_Delete) with *used bytes consumed,
 * 0 when buf holds no complete message yet, -1 when buf is malformed (an empty message, a
 * message that is not a JSON object, or CDP_MESSAGE_MAX bytes without a terminator). */
int cdp_parse(const uint8_t *buf, size_t len, size_t *used, cJSON **msg);

/* Take ownership of the two descriptors (made non-blocking). */
int cdp_open(struct cdp *c, int rfd, int wfd, int cancel_fd);
/* Close the pipe (the browser exits unless it was told otherwise) and wipe the buffers. Errors
 * are the CDP_E_* codes of vault/error.h. */
void cdp_close(struct cdp *c);

/* Send method(params) (params taken, may be NULL) to the browser (session 0) or the attached
 * page (session 1), and wait until deadline (proto_now_ms() scale) for its answer. *result, if
 * not NULL, receives the result object to free with cJSON_Delete. Events seen meanwhile are
 * dropped, except those saying the page crashed or detached. */
int cdp_call(struct cdp *c, const char *method, cJSON *params, int session, long long deadline,
	     cJSON **result);

/* Wait for the event method of the attached page; *event (may be NULL) gets its params. */
int cdp_wait_event(struct cdp *c, const char *method, long long deadline, cJSON **event);

/* The same for the first of n methods; *which gets its index. */
int cdp_wait_any(struct cdp *c, const char *const *methods, size_t n, long long deadline,
		 size_t *which, cJSON **event);

/* Read and drop everything until the browser closes the pipe, or cancel. */
int cdp_drain(struct cdp *c, long long deadline);

/* An http or https URL's origin: scheme and host lower-cased, the default port when none. */
struct cdp_origin {
	char scheme[8];
	char host[CDP_HOST_MAX];
	unsigned port;
};

/* 0, or -1 for anything but scheme://[userinfo@]host[:port][/?#...] with http or https. */
int cdp_origin_parse(const char *url, struct cdp_origin *o);
/* Is url (a page's URL or a frame's security origin) of origin a? */
int cdp_origin_same(const struct cdp_origin *a, const char *url);
/* 127.0.0.0/8, localhost, [::1] */
int cdp_origin_loopback(const struct cdp_origin *o);

#endif
