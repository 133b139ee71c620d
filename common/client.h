/* One request to sesame-agent and its reply, shared by the sesame command and sesame-gtk: connect
 * to the agent's socket (a structure's shared agent, else the per-user one, started on demand as
 * gpg starts gpg-agent), send the request, wait for the reply. Every wait has a bound; a failure
 * comes back as a struct client_error that each program words for its people. */
#ifndef SESAME_COMMON_CLIENT_H
#define SESAME_COMMON_CLIENT_H

#include <limits.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "home.h"

#define CLIENT_CONNECT_WAIT_MS 5000 /* a live agent accepts at once; a full backlog is retried */
#define CLIENT_START_WAIT_MS 10000  /* an agent started on demand opens its socket */
#define CLIENT_ANSWER_WAIT_MS 15000 /* a request the agent's loop answers by itself */
#define CLIENT_PIN_WAIT_MS 120000   /* a PIN check, which may wait behind others */
#define CLIENT_LOGIN_WAIT_MS 300000 /* an assisted login: the agent's own waits end first */
#define CLIENT_REFUSAL_WAIT_MS 1000 /* an answer already sent, read after a failed send */
#define CLIENT_RETRY_MS 20
#define CLIENT_START_MESSAGE_MAX 1024 /* what a failing agent says on standard error */

enum client_failure {
	CLIENT_FAIL_NONE,
	CLIENT_FAIL_NOT_INSTALLED, /* no installation in home->dir: sesame init first */
	CLIENT_FAIL_UNSAFE,	   /* path is a link, another account's, or open to others */
	CLIENT_FAIL_BACKLOG,	   /* the agent accepted nothing within CLIENT_CONNECT_WAIT_MS */
	CLIENT_FAIL_UNREACHABLE,   /* no agent, and none could be started: err */
	CLIENT_FAIL_START,	   /* the agent started on demand ended: said, status */
	CLIENT_FAIL_START_WAIT,	   /* the agent started (pid) opened no socket in time */
	CLIENT_FAIL_SILENT,	   /* no reply within wait_ms; pid: the agent's, 0 if unknown */
	CLIENT_FAIL_HUNG_UP,	   /* the agent refused the connection, or stopped */
	CLIENT_FAIL_EXCHANGE,	   /* another failure of the exchange: err */
};

struct client_error {
	enum client_failure what;
	int err;    /* errno, for UNREACHABLE and EXCHANGE */
	long pid;   /* START_WAIT, SILENT */
	int status; /* START: the wait status of the agent that ended */
	int wait_ms;
	char path[PATH_MAX];		     /* UNSAFE */
	char said[CLIENT_START_MESSAGE_MAX]; /* START: its first line of standard error */
};

/* How long the reply to req may take: PIN checks queue behind each other, and a login waits for
 * the browser. */
int client_reply_wait(const cJSON *req);

/* A socket to the agent, starting one when none listens, or -1 with e filled. *started is the
 * pid of an agent started here (0 if none), for a program that reaps its children itself.
 * Callers on several threads may connect at once: one starts the agent, the others wait for it,
 * so that two agents never race for one socket. */
int client_connect(const struct sesame_home *home, pid_t *started, struct client_error *e);

/* Send req (with the descriptor file beside it, unless -1) and wait for the reply, each within
 * wait_ms: 0 and *reply to free with cJSON_Delete, or -1 with e filled. */
int client_exchange(int fd, const cJSON *req, cJSON **reply, int wait_ms, int file,
		    struct client_error *e);

/* Both, then close: req gets the protocol version "v" (it is not consumed). wait_ms < 0 takes
 * client_reply_wait's. */
int client_request(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms, int file,
		   pid_t *started, struct client_error *e);

#endif
