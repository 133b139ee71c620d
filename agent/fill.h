/* Filling one login page over the DevTools pipe of a browser the agent started (browser.h).
 * Runs on a login's own thread (login.c); touches neither the session nor the vault. */
#ifndef SESAME_AGENT_FILL_H
#define SESAME_AGENT_FILL_H

#include <sys/types.h>

#include "browser.h"
#include "audit.h"
#include "cdp.h"
#include "vault.h"

#define LOGIN_REASON_MAX 32
#define LOGIN_DETAIL_MAX 160

/* What a login thread reports to the loop: no secret in here. */
struct login_result {
	int filled, submitted, by_selector, anomaly, kept_open;
	unsigned steps;
	char reason[LOGIN_REASON_MAX];
	char detail[LOGIN_DETAIL_MAX];
	char user[VAULT_USER_ID_HEX];
	char service[VAULT_NAME_MAX + 1];
	char credential[VAULT_ENTRY_ID_HEX];
	char purpose[AUDIT_PURPOSE_MAX + 1]; /* as the log keeps it */
	char *screenshot; /* base64 PNG taken with no secret in the page, or NULL; malloc */
	long browser_pid; /* the browser the agent started, for the reply */
};

/* A login's own copy of what it needs. */
struct login_task {
	char *url, *username, *password; /* sodium_malloc */
	char *user_sel, *pass_sel;	 /* the credential's field selectors, "" for none */
	struct cdp_origin origin;
	int no_submit, keep_open, want_screenshot;
	volatile int secret_in_page;   /* set before the first value, cleared once wiped */
	int foreign_target;	       /* a cross-site frame's target appeared */
	int submitting, left, settled; /* seen by the event hook, whatever call was waiting */
	struct login_result res;
};

/* Drive the page: attach, load the login URL, fill each step, submit, make sure no secret
 * stays in the page. The outcome is in t->res (filled, or reason and detail). */
void fill_run(struct cdp *c, struct login_task *t);

/* Once the worker may use a kept browser: its input back on. */
void fill_release(struct cdp *c);

#endif
