/* The browser that receives a secret belongs to the agent: it is started by sesame-browser (the
 * launcher, launcher.c), never by a client. The agent hands the launcher the two ends of
 * Chromium's --remote-debugging-pipe over a Unix socket and keeps that socket: closing it ends
 * the browser and removes its profile. Per-user mode: the user's launcher service if there is
 * one (beside the agent's socket, outside the agent's sandbox), else the agent's own child.
 * System mode: the launcher runs under its own account and accepts only the agent's uid.
 * docs/protocol.md ("The browser launcher") specifies the exchange. */
#ifndef SESAME_AGENT_BROWSER_H
#define SESAME_AGENT_BROWSER_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "home.h"
#include "launch.h"

#define BROWSER_PROGRAM "sesame-browser"
#define BROWSER_ARGS_MAX 48	   /* the whole argument vector */
#define BROWSER_START_MS 10000	   /* the launcher forks, execs and answers */
#define BROWSER_END_MS 15000	   /* the launcher ends the browser and removes its profile */
#define BROWSER_TERM_GRACE_MS 3000 /* a browser's own shutdown before SIGKILL */
#define BROWSER_PROFILE_PREFIX "sesame-browser-"
#define BROWSER_USER_SOCKET "browser.sock" /* per-user launcher, beside the agent's socket */

/* A running browser, as the agent holds it. */
struct browser {
	int rfd, wfd; /* the DevTools pipe: reads the browser's fd 4, writes its fd 3 */
	int ctl;      /* the launcher's connection: closing it ends the browser */
	pid_t pid;
	char program[CONFIG_PATH_MAX];
};

/* Start the configured browser for a login: 0, or -1 with a message for the worker in err. */
int browser_start(const struct sesame_home *h, const struct browser_display *d, int headless,
		  struct browser *b, char *err, size_t cap);

/* Close the DevTools pipe and the launcher's connection, and wait (bounded) until the launcher
 * says the browser is gone and its profile removed. Safe on a browser never started. */
void browser_end(struct browser *b);

#endif
