/* The launcher's parsers: a start request (JSON from the agent's socket) and an Xauthority
 * file (the worker's, read by the sesame command). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "launch.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct launch_request r;
	uint8_t cookie[BROWSER_XAUTH_MAX], rec[256];
	cJSON *msg = NULL;
	size_t len;

	if (proto_parse(data, size, &msg) == 0) {
		if (launch_request_parse(msg, &r) == NULL &&
		    (r.program[0] != '/' || r.nflags > BROWSER_FLAGS_MAX))
			abort(); /* accepted, yet not what the parser promises */
		const char *colon = strrchr(r.display.x11, ':');
		char num[BROWSER_DISPLAY_MAX];
		len = xauth_record(&r.display, rec, sizeof(rec));
		if (len > 0) {
			snprintf(num, sizeof(num), "%.*s", (int)strcspn(colon + 1, "."), colon + 1);
			if (xauth_find(rec, len, num, "", cookie) != r.display.cookie_len ||
			    memcmp(cookie, r.display.cookie, r.display.cookie_len) != 0)
				abort(); /* a record we write must read back */
		}
		cJSON_Delete(msg);
	}
	len = xauth_find(data, size, "0", "host", cookie);
	if (len > BROWSER_XAUTH_MAX)
		abort();
	return 0;
}
