/* Filling one login page over the DevTools pipe of a browser the agent started (browser.h).
 * Runs on a login's own thread (login.c); touches neither the session nor the vault. */
#ifndef SESAME_AGENT_FILL_H
#define SESAME_AGENT_FILL_H

#include <sys/types.h>

#include "audit.h"
#include "bounds.h"
#include "browser.h"
#include "cdp.h"
#include "vault.h"

#define LOGIN_REASON_MAX 32
#define LOGIN_DETAIL_MAX 160

/* Time limits of one login, from measured costs of a page on this class of machine: the finder
 * and a submission take tens of milliseconds, so each bound is many times what a working page
 * needs while a page where nothing happens fails quickly. The browser's start (bounds.h), each
 * command to the page and the page's load follow what they cost on this machine now. */
#define LOGIN_LOAD_MS 20000	     /* a login page loads, idle: times the slowness */
#define LOGIN_FIND_MS 2500	     /* after the load, scripts render the form */
#define LOGIN_OPENER_AFTER_MS 500    /* no field this long: look for a "Se connecter" control */
#define LOGIN_OPENERS_MAX 2	     /* opener clicks per login */
#define LOGIN_STEP_MS 5000	     /* one command to the page, idle: times the slowness */
#define LOGIN_POLL_MS 100	     /* between two looks at the page */
#define LOGIN_SELECTOR_GRACE_MS 1500 /* a recorded selector's field may render late */
#define LOGIN_VALIDATION_MS 1500     /* the page's validation enables its submit button */
#define LOGIN_EFFECT_MS 2000	     /* one way of submitting shows its effect */
#define LOGIN_NAV_START_MS 400	     /* a click that navigates starts to within this */
#define LOGIN_ANSWER_MS 8000	     /* the submission's answer arrives */
#define LOGIN_FRAMES_MAX 32
#define LOGIN_CLOSED_ROOTS_MAX 32		/* closed shadow roots handed to the finder */
#define LOGIN_SCREENSHOT_MAX (6u * 1024 * 1024) /* base64, within a reply */

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
	char *submit_sel;		 /* its submit control's selector, "" for none */
	char *before_clicks;		 /* selectors clicked before filling, one a line */
	struct cdp_origin origin;
	int no_submit, keep_open, want_screenshot;
	volatile int secret_in_page; /* set before the first value, cleared once wiped */
	int foreign_target;	     /* a cross-site frame's target appeared */
	/* seen by the event hook, whatever call was waiting: a submission leaving the page (its
	 * request's id, "" for a navigation) and its answer; a navigation starting, the page's
	 * load event, any frame stopping loading */
	int submitting, left, settled;
	char request[64];
	int nav_started, loaded, stopped;
	struct login_result res;
};

/* Drive the page: attach, load the login URL, fill each step, submit, make sure no secret
 * stays in the page. The outcome is in t->res (filled, or reason and detail). */
void fill_run(struct cdp *c, struct login_task *t);

/* Once the worker may use a kept browser: its input back on. */
void fill_release(struct cdp *c);

#endif
