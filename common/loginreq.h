/* The assisted login's request and reply (docs/protocol.md, "login"), shared by the sesame
 * command and sesame-gtk: both hand the agent the worker's X display and its cookie, nothing
 * more, and read the same outcome from the reply. */
#ifndef SESAME_COMMON_LOGINREQ_H
#define SESAME_COMMON_LOGINREQ_H

#include <cjson/cJSON.h>

/* What the worker asks for. */
struct login_ask {
	const char *user, *service;
	const char *purpose; /* NULL or empty: none */
	int headless;	     /* no window, even with a display */
	int no_submit, keep_open, screenshot;
};

/* What the agent answered. Strings are borrowed from the reply. */
struct login_outcome {
	int ok;		    /* the page was filled in */
	int submitted;	    /* and sent */
	int kept_open;	    /* the browser stays open until the session ends */
	long long code;	    /* when not ok: PROTO_E_LOGIN for a page that could not be filled */
	const char *reason; /* why not, for the advice; may be NULL */
	const char *detail; /* the agent's English words, for people who read English */
	const char *screenshot_png; /* base64, when asked for */
};

/* {"x11": DISPLAY, "xauth": hex cookie}: what any X client of the worker's has, nothing more.
 * Without a cookie the display is still named: a server without access control needs none.
 * NULL without a display. The cookie is wiped from the tree when it is freed (proto_init). */
cJSON *login_display(void);

/* The login request, with the worker's display unless headless (a login without a display is
 * headless; with one, the browser is the worker's for the procedure and stays open). */
cJSON *login_request(const struct login_ask *ask);

/* Read a login reply; NULL (no reply) reads as a failure with VAULT_E_IO. */
void login_outcome_read(const cJSON *reply, struct login_outcome *out);

#endif
