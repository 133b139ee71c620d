/* Assisted login, the loop's side. The loop's thread checks the session and the consent, starts
 * the browser itself (browser.h: no client hands it one), and writes "browser_started" and
 * "login_started" before anything reaches the page; a dedicated thread then fills the page
 * (fill.h) so the loop keeps serving, and posts its result through the pool's done list; the
 * loop writes "login_filled" or "login_failed" and replies. Every running login is bound to its
 * session and its connection: a lock, a time-out, a revocation, the client going away or the
 * agent stopping ends it, closes its browser and removes its profile. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "browser.h"
#include "fill.h"
#include "proto.h"

#define LOGIN_KEEP_OPEN_S (12 * 3600) /* a kept browser is closed after a working day */
#define LOGIN_RUNNING_MAX 16	      /* browsers driven at once, kept ones included */
#define LOGIN_PER_WORKER_MAX 4	      /* of which one worker's: the others keep theirs */
#define LOGIN_CANCEL_MAX 24

/* One running login: its page work, its browser, and what binds it to the loop. */
struct login_job {
	struct login_task fill;
	struct browser browser;
	struct browser_display display;
	struct pool *pool;
	unsigned conn_id;
	uid_t worker;
	char worker_login[AGENT_LOGIN_MAX];
	int cancel[2];			  /* a byte on cancel[1] ends the login's waits */
	char cancelled[LOGIN_CANCEL_MAX]; /* why, set before the byte (under running_lock) */
	int posted;			  /* the loop has the result */
	struct job *result;		  /* made before the thread starts: posting cannot fail */
	struct login_job *next;
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_done = PTHREAD_COND_INITIALIZER;
static struct login_job *running; /* under running_lock */
static unsigned nrunning;

/* A copy of a string in guarded memory. */
static char *guarded_dup(const char *s)
{
	size_t len = strlen(s);
	char *d = sodium_malloc(len + 1);

	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

static void job_release(struct login_job *t)
{
	if (t == NULL)
		return;
	sodium_free(t->fill.url);
	sodium_free(t->fill.username);
	sodium_free(t->fill.password);
	free(t->fill.user_sel);
	free(t->fill.pass_sel);
	free(t->fill.submit_sel);
	free(t->fill.before_clicks);
	free(t->fill.res.screenshot);
	browser_end(&t->browser);
	job_free(t->result);
	for (int i = 0; i < 2; i++)
		if (t->cancel[i] >= 0)
			close(t->cancel[i]);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

/* End a running login (under running_lock): its waits return, its browser closes. */
static void cancel_locked(struct login_job *t, const char *why)
{
	if (t->cancelled[0] != '\0')
		return;
	snprintf(t->cancelled, sizeof(t->cancelled), "%s", why);
	(void)!write(t->cancel[1], "x", 1);
}

/* The job that carries the result to the loop, made on the loop's side before the thread starts:
 * a result that could not be posted for want of memory would leave its connection busy. */
static struct job *result_job_new(void)
{
	struct job *j = job_new(JOB_LOGIN);

	if (j != NULL && (j->login = malloc(sizeof(*j->login))) == NULL) {
		job_free(j);
		j = NULL;
	}
	return j;
}

/* Hand the result to the loop, which audits it and replies. */
static void post_result(struct login_job *t)
{
	struct job *j = t->result;

	t->result = NULL;
	*j->login = t->fill.res;
	j->done = agent_login_done;
	t->fill.res.screenshot = NULL; /* the loop's now */
	j->conn_id = t->conn_id;
	j->worker = t->worker;
	snprintf(j->worker_login, sizeof(j->worker_login), "%s", t->worker_login);
	pool_post_done(t->pool, j);
	t->posted = 1;
}

/* The page's outcome, with a cancellation named for what caused it. */
static void result_settle(struct login_job *t)
{
	struct login_result *r = &t->fill.res;

	pthread_mutex_lock(&running_lock);
	if (t->cancelled[0] != '\0' && !r->filled) {
		snprintf(r->reason, sizeof(r->reason), "%s", t->cancelled);
		snprintf(r->detail, sizeof(r->detail), "%s",
			 strcmp(t->cancelled, "interrupted") == 0
			     ? "the login was interrupted before it was sent"
			 : strcmp(t->cancelled, "agent_stopping") == 0
			     ? "the agent stopped during the login"
			     : "the session ended during the login");
	}
	pthread_mutex_unlock(&running_lock);
}

static void *login_thread(void *arg)
{
	struct login_job *t = arg;
	struct cdp c;

	if (cdp_open(&c, t->browser.rfd, t->browser.wfd, t->cancel[0]) == CDP_OK)
		fill_run(&c, &t->fill);
	else
		snprintf(t->fill.res.reason, sizeof(t->fill.res.reason), "browser");
	t->browser.rfd = t->browser.wfd = -1; /* c owns them now */
	/* the secrets go before anything else happens */
	sodium_free(t->fill.password);
	t->fill.password = NULL;
	result_settle(t);
	if (t->fill.keep_open && t->fill.res.filled) {
		fill_release(&c);
		t->fill.res.kept_open = 1;
		post_result(t);
		/* the browser is the worker's for the procedure, until the session ends */
		cdp_drain(&c, proto_now_ms() + (long long)LOGIN_KEEP_OPEN_S * 1000);
		cdp_close(&c);
		browser_end(&t->browser);
	} else {
		cdp_close(&c);
		browser_end(&t->browser); /* closed, profile removed, before the reply */
		post_result(t);
	}
	pthread_mutex_lock(&running_lock);
	for (struct login_job **p = &running; *p != NULL; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	nrunning--;
	pthread_cond_broadcast(&running_done);
	pthread_mutex_unlock(&running_lock);
	job_release(t);
	return NULL;
}

/* The login's audit record, for this worker, user and credential. */
static struct audit_event login_event(struct agent *a, struct conn *c, const char *event,
				      const struct login_result *r, char t[AUDIT_TIME_LEN + 1])
{
	struct audit_event ev = agent_event(a, event, c->uid, c->login, t);

	ev.user = r->user;
	ev.service = r->service;
	ev.credential = r->credential[0] != '\0' ? r->credential : NULL;
	ev.purpose = r->purpose[0] != '\0' ? r->purpose : NULL;
	return ev;
}

static void reply_failed(struct agent *a, struct conn *c, const struct login_result *r)
{
	cJSON *rep = cJSON_CreateObject();

	cJSON_AddFalseToObject(rep, "ok");
	cJSON_AddNumberToObject(rep, "code", PROTO_E_LOGIN);
	cJSON_AddStringToObject(rep, "reason", r->reason);
	cJSON_AddStringToObject(rep, "error", r->detail);
	cJSON_AddBoolToObject(rep, "submitted", r->submitted);
	agent_reply(a, c, rep);
}

/* A refusal before the browser is touched: recorded, then answered. */
static void refuse(struct agent *a, struct conn *c, struct login_result *r, const char *reason,
		   const char *detail, int code)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = login_event(a, c, "login_failed", r, t);

	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	ev.outcome = "refused";
	ev.reason = reason;
	agent_audit(a, &ev); /* nothing is released: a failed record does not change the answer */
	if (code == PROTO_E_LOGIN)
		reply_failed(a, c, r);
	else
		agent_reply_error(a, c, code, detail);
}

/* The request's own fields, before anything is looked up. */
static int request_check(struct agent *a, struct conn *c, const cJSON *req, struct login_job *t)
{
	if (proto_string(req, "user") == NULL || proto_string(req, "service") == NULL ||
	    browser_display_parse(cJSON_GetObjectItemCaseSensitive(req, "display"), &t->display) !=
		0) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "login needs \"user\" and \"service\"; \"display\" is "
				  "{\"x11\", \"xauth\"}");
		return -1;
	}
	if (a->home.system && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "no_submit"))) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "--no-submit is not offered in system mode: the password would "
				  "stay in a page the worker can use");
		return -1;
	}
	return 0;
}

/* The person's consent, and a login address Sesame fills: refusals are recorded. */
static int credential_check(struct agent *a, struct conn *c, const struct vault_entry *e,
			    struct login_job *t)
{
	if (!e->consent || (e->consent_until != 0 && e->consent_until <= (uint64_t)time(NULL))) {
		refuse(a, c, &t->fill.res, "consent",
		       !e->consent ? "the person has not allowed assisted logins for this service"
				   : "the person's consent for assisted logins has expired",
		       PROTO_E_CONSENT);
		return -1;
	}
	if (cdp_origin_parse(e->url, &t->fill.origin) != 0 ||
	    (strcmp(t->fill.origin.scheme, "https") != 0 &&
	     !(a->home.cfg.allow_http_loopback && cdp_origin_loopback(&t->fill.origin)))) {
		refuse(a, c, &t->fill.res, "insecure_url",
		       "the credential's login address is not https: Sesame fills only https pages",
		       PROTO_E_LOGIN);
		return -1;
	}
	return 0;
}

/* The login thread's own copies: secrets in guarded memory. -2 when memory runs out. */
static int task_copy(struct login_task *f, const struct vault_entry *e)
{
	f->url = guarded_dup(e->url);
	f->username = guarded_dup(e->username);
	f->password = guarded_dup(e->password);
	f->user_sel = strdup(e->username_selector); /* not secret: plain memory */
	f->pass_sel = strdup(e->password_selector);
	f->submit_sel = strdup(e->submit_selector);
	f->before_clicks = strdup(e->before_clicks);
	if (f->url == NULL || f->username == NULL || f->password == NULL || f->user_sel == NULL ||
	    f->pass_sel == NULL || f->submit_sel == NULL || f->before_clicks == NULL)
		return -2;
	return 0;
}

/* This worker's session with the request's user, the credential, and its consent. Replies
 * itself and returns -1 when the login cannot go on. */
static int login_check(struct agent *a, struct conn *c, const cJSON *req, struct login_job *t,
		       struct vault_entries **es)
{
	const char *user = proto_string(req, "user"), *service = proto_string(req, "service");
	const char *purpose = proto_string(req, "purpose");
	char id[VAULT_USER_ID_HEX];
	const struct vault_entry *e;
	struct session *s;
	int ret;

	if (request_check(a, c, req, t) != 0)
		return -1;
	if ((ret = vault_user_find(a->store, user, id)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	if ((s = session_find(a, c->uid, id)) == NULL) {
		agent_reply_error(a, c, PROTO_E_NOSESSION, "no open session for this user");
		return -1;
	}
	session_touch(s);
	snprintf(t->fill.res.user, sizeof(t->fill.res.user), "%s", id);
	snprintf(t->fill.res.service, sizeof(t->fill.res.service), "%s", service);
	snprintf(t->fill.res.purpose, sizeof(t->fill.res.purpose), "%s",
		 purpose != NULL ? purpose : "");
	if ((ret = vault_entry_list(s->vault, es)) != VAULT_OK ||
	    (e = vault_entries_find(*es, service)) == NULL) {
		agent_reply_error(a, c, ret != VAULT_OK ? ret : VAULT_E_NOTFOUND,
				  ret != VAULT_OK ? NULL : "no such service");
		return -1;
	}
	snprintf(t->fill.res.service, sizeof(t->fill.res.service), "%s", e->service);
	snprintf(t->fill.res.credential, sizeof(t->fill.res.credential), "%s", e->id);
	if (credential_check(a, c, e, t) != 0)
		return -1;
	return task_copy(&t->fill, e);
}

static int thread_start(struct login_job *t)
{
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all); /* signals belong to the loop's thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&running_lock);
	if ((ret = pthread_create(&th, &attr, login_thread, t)) == 0) {
		t->next = running;
		running = t;
		nrunning++;
	}
	pthread_mutex_unlock(&running_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret == 0 ? 0 : -1;
}

/* Start the configured browser and record which program and pid receive the login; a browser
 * that cannot be recorded is closed at once. Replies itself on failure. */
static int browser_open(struct agent *a, struct conn *c, struct login_job *t, const cJSON *req)
{
	char err[LOGIN_DETAIL_MAX], tm[AUDIT_TIME_LEN + 1], what[AUDIT_FIELD_MAX + 1];
	int headless = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "headless"));
	struct audit_event ev;

	if (browser_start(&a->home, &t->display, headless, &t->browser, err, sizeof(err)) != 0) {
		refuse(a, c, &t->fill.res,
		       strncmp(err, "sesame.conf: browser_flags", 26) == 0 ? "browser_flags"
									   : "browser_unavailable",
		       err, PROTO_E_LOGIN);
		return -1;
	}
	t->fill.res.browser_pid = (long)t->browser.pid;
	snprintf(what, sizeof(what), "pid %ld %.100s", (long)t->browser.pid, t->browser.program);
	ev = login_event(a, c, "browser_started", &t->fill.res, tm);
	ev.reason = what;
	if (agent_audit(a, &ev) != VAULT_OK) { /* no record, no login */
		browser_end(&t->browser);
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return -1;
	}
	return 0;
}

static struct login_job *job_alloc(void)
{
	struct login_job *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->browser.rfd = t->browser.wfd = t->browser.ctl = -1;
	t->result = result_job_new();
	if (t->result == NULL || pipe2(t->cancel, O_CLOEXEC | O_NONBLOCK) != 0) {
		t->cancel[0] = t->cancel[1] = -1;
		job_release(t);
		return NULL;
	}
	return t;
}

/* 0 if one more login may start for this worker: within the agent's and the worker's budget. */
static int login_budget(uid_t worker)
{
	unsigned mine = 0, all;

	pthread_mutex_lock(&running_lock);
	all = nrunning;
	for (struct login_job *t = running; t != NULL; t = t->next)
		if (t->worker == worker)
			mine++;
	pthread_mutex_unlock(&running_lock);
	if (mine >= LOGIN_PER_WORKER_MAX)
		return PROTO_E_LIMIT;
	return all >= LOGIN_RUNNING_MAX ? PROTO_E_BUSY : 0;
}

void agent_login(struct agent *a, struct conn *c, const cJSON *req)
{
	struct login_job *t = job_alloc();
	struct vault_entries *es = NULL;
	char tm[AUDIT_TIME_LEN + 1];
	struct audit_event ev;
	int ret;

	if (t == NULL) {
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		goto out;
	}
	if ((ret = login_budget(c->uid)) != 0) {
		agent_reply_error(a, c, ret,
				  ret == PROTO_E_LIMIT
				      ? "this account already runs as many assisted logins as one "
					"worker may (kept browsers included)"
				      : "too many assisted logins at once");
		goto out;
	}
	if ((ret = login_check(a, c, req, t, &es)) != 0) {
		if (ret == -2)
			agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		goto out;
	}
	vault_entries_free(es); /* the thread has its own copies */
	es = NULL;
	ev = login_event(a, c, "login_started", &t->fill.res, tm);
	if (agent_audit(a, &ev) != VAULT_OK) { /* no record, no login */
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		goto out;
	}
	if (browser_open(a, c, t, req) != 0)
		goto out;
	t->pool = &a->pool;
	t->conn_id = c->id;
	t->worker = c->uid;
	snprintf(t->worker_login, sizeof(t->worker_login), "%s", c->login);
	t->fill.no_submit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "no_submit"));
	t->fill.keep_open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "keep_open"));
	t->fill.want_screenshot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "screenshot"));
	if (thread_start(t) != 0) {
		refuse(a, c, &t->fill.res, "agent", "the agent could not start the login",
		       PROTO_E_LOGIN);
		goto out;
	}
	c->busy = 1;
	c->login_running = 1;
	t = NULL; /* the thread owns it */
out:
	vault_entries_free(es);
	job_release(t);
}

void agent_login_done(struct agent *a, struct conn *c, struct job *j)
{
	struct login_result *r = j->login;
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = agent_event(a, r->filled ? "login_filled" : "login_failed",
					    j->worker, j->worker_login, t);
	cJSON *rep, *browser;

	ev.user = r->user;
	ev.service = r->service;
	ev.credential = r->credential;
	ev.purpose = r->purpose[0] != '\0' ? r->purpose : NULL;
	if (!r->filled) {
		ev.outcome =
		    r->anomaly ? "anomaly"
		    : strcmp(r->reason, "origin") == 0 || strcmp(r->reason, "foreign_frame") == 0
			? "refused"
			: "failed";
		ev.reason = r->reason;
	}
	agent_audit(a, &ev); /* login_started is durable; this records how it ended */
	if (c != NULL)
		c->login_running = 0;
	if (c == NULL) {
		free(r->screenshot);
		r->screenshot = NULL;
		return;
	}
	if (!r->filled) {
		reply_failed(a, c, r);
		free(r->screenshot);
		r->screenshot = NULL;
		return;
	}
	rep = cJSON_CreateObject();
	cJSON_AddTrueToObject(rep, "ok");
	cJSON_AddStringToObject(rep, "user", r->user);
	cJSON_AddStringToObject(rep, "service", r->service);
	cJSON_AddBoolToObject(rep, "submitted", r->submitted);
	cJSON_AddNumberToObject(rep, "steps", r->steps);
	cJSON_AddBoolToObject(rep, "by_selector", r->by_selector);
	cJSON_AddBoolToObject(rep, "screenshot", r->screenshot != NULL);
	cJSON_AddBoolToObject(rep, "kept_open", r->kept_open);
	browser = cJSON_AddObjectToObject(rep, "browser");
	cJSON_AddNumberToObject(browser, "pid", (double)r->browser_pid);
	cJSON_AddStringToObject(browser, "program", a->home.cfg.browser);
	if (r->screenshot != NULL)
		cJSON_AddStringToObject(rep, "screenshot_png", r->screenshot);
	free(r->screenshot);
	r->screenshot = NULL;
	agent_reply(a, c, rep);
}

/* The client of a running login went away (Ctrl-C of sesame login). */
void agent_login_interrupted(unsigned conn_id)
{
	pthread_mutex_lock(&running_lock);
	for (struct login_job *t = running; t != NULL; t = t->next)
		if (t->conn_id == conn_id && !t->posted)
			cancel_locked(t, "interrupted");
	pthread_mutex_unlock(&running_lock);
}

/* A session ends: its logins end with it, kept browsers included. */
void agent_login_session_end(uid_t worker, const char *user)
{
	pthread_mutex_lock(&running_lock);
	for (struct login_job *t = running; t != NULL; t = t->next)
		if (t->worker == worker && strcmp(t->fill.res.user, user) == 0)
			cancel_locked(t, "session_closed");
	pthread_mutex_unlock(&running_lock);
}

int agent_login_stop(int wait_s)
{
	struct timespec until;
	unsigned left;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_s;
	pthread_mutex_lock(&running_lock);
	for (struct login_job *t = running; t != NULL; t = t->next)
		cancel_locked(t, "agent_stopping");
	while (nrunning > 0)
		if (pthread_cond_timedwait(&running_done, &running_lock, &until) == ETIMEDOUT)
			break;
	left = nrunning;
	pthread_mutex_unlock(&running_lock);
	return (int)left;
}
