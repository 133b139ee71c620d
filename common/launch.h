/* The launcher's protocol, shared by sesame-agent, sesame-browser and the sesame command: the
 * worker's X display and its cookie, the flags a browser may be given, and the start request
 * (docs/protocol.md, "The browser launcher"). Parsers of untrusted bytes: fuzzed. */
#ifndef SESAME_COMMON_LAUNCH_H
#define SESAME_COMMON_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sesameconf.h"

#define BROWSER_DISPLAY_MAX 64
#define BROWSER_XAUTH_MAX 64 /* cookie bytes; MIT-MAGIC-COOKIE-1 has 16 */
#define BROWSER_FLAGS_MAX 24 /* flags from sesame.conf */
#define XAUTH_FILE_MAX 65536
#define XAUTH_FAMILY_LOCAL 256
#define XAUTH_FAMILY_WILD 65535
#define XAUTH_COOKIE_NAME "MIT-MAGIC-COOKIE-1"

/* The worker's X display, handed over with its cookie (headless when x11 is empty). */
struct browser_display {
	char x11[BROWSER_DISPLAY_MAX];
	unsigned char cookie[BROWSER_XAUTH_MAX];
	size_t cookie_len;
};

/* A start request, as the launcher checked it. */
struct launch_request {
	char program[CONFIG_PATH_MAX];
	char flags_buf[CONFIG_BROWSER_FLAGS_MAX];
	const char *flags[BROWSER_FLAGS_MAX];
	int nflags, headless;
	struct browser_display display;
};

/* Is this flag refused? Returns the reason, or NULL for an accepted flag. */
const char *browser_flag_refused(const char *flag);

/* Split sesame.conf's browser_flags into out (pointers into buf, a copy the caller owns).
 * Returns the count, or -1 with *bad naming a refused flag (or too many flags). */
int browser_flags_split(char *buf, const char **out, size_t cap, const char **bad);

/* Parse a display object of a request ({"x11": ":0", "xauth": "hex"}); absent is headless. */
int browser_display_parse(const cJSON *o, struct browser_display *d);

/* Check a start request: NULL, or why it is refused. The program is not looked at on disk. */
const char *launch_request_parse(const cJSON *req, struct launch_request *r);

/* The MIT-MAGIC-COOKIE-1 of display number num in an Xauthority file's bytes: a local entry
 * for host first, else a local or wildcard one. Returns the cookie's length, 0 for none. */
size_t xauth_find(const uint8_t *buf, size_t n, const char *num, const char *host,
		  uint8_t cookie[BROWSER_XAUTH_MAX]);

/* An Xauthority record for display d's number and cookie, for any host (FamilyWild): its length
 * in out (cap bytes), or 0 when d has no cookie or it does not fit. */
size_t xauth_record(const struct browser_display *d, uint8_t *out, size_t cap);

#endif
