/* Finishing PIN jobs on the loop's thread: record the outcome, and only once the record is
 * durable open the session or hand out the new recovery key. A change of a vault is applied
 * here, between the record of its intent and the record of its outcome. */
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "proto.h"

static cJSON *reply_ok(void)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddTrueToObject(r, "ok");
	return r;
}

static struct audit_event job_event(struct agent *a, const struct job *j, const char *event,
				    char t[AUDIT_TIME_LEN + 1])
{
	struct audit_event ev = agent_event(a, event, j->worker, j->worker_login, t);

	ev.user = j->user;
	if (j->purpose[0] != '\0')
		ev.purpose = j->purpose;
	return ev;
}

/* The job's person, and the new recovery key when the job made one. */
static void reply_user(struct agent *a, struct conn *c, const struct job *j)
{
	cJSON *r;

	if (c == NULL)
		return;
	r = reply_ok();
	cJSON_AddStringToObject(r, "user", j->user);
	if (j->recovery_out != NULL)
		cJSON_AddStringToObject(r, "recovery", j->recovery_out);
	agent_reply(a, c, r);
}

/* The PIN was right and its record is written: the person's records are read on the pool,
 * and the connection waits for them as it waited for the PIN. */
static void history_start(struct agent *a, struct conn *c, const struct job *j)
{
	struct job *h;

	if (c == NULL)
		return;
	if ((h = job_new(JOB_HISTORY)) == NULL) {
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		return;
	}
	h->conn_id = j->conn_id;
	h->worker = j->worker;
	memcpy(h->worker_login, j->worker_login, sizeof(h->worker_login));
	memcpy(h->user, j->user, sizeof(h->user));
	h->audit_dir = a->home.audit;
	h->done = agent_history_done;
	if (pool_submit(&a->pool, h) != 0) {
		job_free(h);
		agent_reply_error(a, c, PROTO_E_BUSY, "too many requests at once; try again");
		return;
	}
	c->busy = 1;
}

/* A wrong PIN or a blocked vault: record it, then say so with the attempts left. */
static void pin_refused(struct agent *a, struct conn *c, struct job *j)
{
	char t1[AUDIT_TIME_LEN + 1], t2[AUDIT_TIME_LEN + 1];
	struct audit_event ev[2];
	size_t n = 0;
	cJSON *r;

	if (j->ret == VAULT_E_BADPIN) {
		ev[n] = job_event(a, j, "pin_wrong", t1);
		ev[n].outcome = "refused";
		ev[n++].attempts_left = (int)j->attempts_left;
	}
	if (j->ret == VAULT_E_BLOCKED || (j->ret == VAULT_E_BADPIN && j->attempts_left == 0)) {
		ev[n] = job_event(a, j, "vault_blocked", t2);
		ev[n++].outcome = "refused";
	}
	audit_append_many(a->log, ev, n, NULL); /* nothing is released, so no refusal on failure */
	if (c == NULL)
		return;
	r = cJSON_CreateObject();
	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", j->ret);
	cJSON_AddStringToObject(r, "error", vault_strerror(j->ret));
	cJSON_AddNumberToObject(r, "attempts_left",
				j->ret == VAULT_E_BLOCKED ? 0 : j->attempts_left);
	agent_reply(a, c, r);
}

static void unlock_done(struct agent *a, struct conn *c, struct job *j)
{
	char t1[AUDIT_TIME_LEN + 1], t2[AUDIT_TIME_LEN + 1];
	struct vault_user_info info;
	struct audit_event ev[2] = {job_event(a, j, "pin_ok", t1),
				    job_event(a, j, "session_opened", t2)};
	uint64_t first;
	cJSON *r;

	if (vault_user_info(a->store, j->user, &info) != VAULT_OK)
		snprintf(info.name, sizeof(info.name), "%s", j->user);
	if (audit_append_many(a->log, ev, 2, &first) != VAULT_OK) {
		if (c != NULL)
			agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return; /* job_free wipes the key: no record, no session */
	}
	if (session_open(a, j->worker, j->user, info.name, j->vault) != VAULT_OK) {
		if (c != NULL)
			agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		return;
	}
	j->vault = NULL; /* the session owns the key now */
	session_note(a, j->worker, j->user, first);
	session_note(a, j->worker, j->user, first + 1);
	if (c == NULL)
		return;
	r = reply_ok();
	cJSON_AddStringToObject(r, "user", j->user);
	cJSON_AddStringToObject(r, "name", info.name);
	cJSON_AddNumberToObject(r, "expires_in",
				a->home.cfg.session_idle_seconds < a->home.cfg.session_max_seconds
				    ? a->home.cfg.session_idle_seconds
				    : a->home.cfg.session_max_seconds);
	agent_reply(a, c, r);
}

/* The current PIN before a change: recorded as any right PIN is, then the key is wiped. */
static void check_done(struct agent *a, struct conn *c, struct job *j)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = job_event(a, j, "pin_ok", t);

	if (agent_audit(a, &ev) != VAULT_OK) {
		if (c != NULL)
			agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return;
	}
	if (j->history)
		history_start(a, c, j);
	else
		reply_user(a, c, j);
}

/* One record of a change: its intent, then what came of it (docs/audit-log.md, "Changes and
 * their records"). */
static int change_record(struct agent *a, const struct job *j, const char *event,
			 const char *outcome, const char *reason)
{
	char t[AUDIT_TIME_LEN + 1], forced[AUDIT_FIELD_MAX + 1];
	struct audit_event ev = job_event(a, j, event, t);

	/* an enrolment made beside unreadable vaults says so: one of them may be this person's */
	if (reason == NULL && j->damaged > 0) {
		snprintf(forced, sizeof(forced), "forced past %zu unreadable vault files",
			 j->damaged);
		reason = forced;
	}
	ev.outcome = outcome;
	ev.reason = reason;
	return agent_audit(a, &ev);
}

/* Hand the reply to the client's socket now: 0 if all of it went. A reply that cannot go now is
 * dropped, never sent later: the change it reports is about to be undone. */
static int deliver(struct agent *a, struct conn *c, const struct job *j)
{
	reply_user(a, c, j);
	if (c->out != NULL && agent_conn_write(c) == 0 && c->out == NULL)
		return 0;
	if (c->out != NULL) {
		proto_frame_free(c->out, c->out_len);
		c->out = NULL;
	}
	c->closing = 1;
	return -1;
}

/* The change is applied and recorded, but what follows failed: put the vault back. */
static void change_undo(struct agent *a, struct conn *c, struct job *j, const char *event, int code,
			const char *why)
{
	int ret = vault_change_undo(j->change);

	/* best effort: the log may be what failed; the intent record stays either way */
	change_record(a, j, event, ret == VAULT_OK ? "undone" : "failed", why);
	if (!c->closing)
		agent_reply_error(a, c, ret == VAULT_OK ? code : ret, NULL);
}

/* A new recovery key exists on the person's sheet only: its change stays undoable, the undo file
 * kept, until the client says the key is shown (agent_key_shown). The job keeps what the
 * records need; the key itself is wiped now, with the job it came in. */
static int change_hold(struct conn *c, struct job *j)
{
	struct job *p = job_new(j->kind);

	if (p == NULL)
		return -1;
	p->worker = j->worker;
	memcpy(p->worker_login, j->worker_login, sizeof(p->worker_login));
	memcpy(p->user, j->user, sizeof(p->user));
	memcpy(p->purpose, j->purpose, sizeof(p->purpose));
	p->change = j->change;
	j->change = NULL;
	c->pending = p;
	return 0;
}

static const char *change_event(const struct job *j)
{
	return j->kind == JOB_ENROLL	? "user_enrolled"
	       : j->kind == JOB_RECOVER ? "recovery_used"
					: "pin_changed";
}

/* Enrolment, PIN change, recovery: intent recorded, change applied, outcome recorded, the
 * reply delivered, the undo file removed: for a PIN change at once, for a new recovery key once
 * the client says it is shown. A failure at any step leaves the vault as it was. */
static void change_done(struct agent *a, struct conn *c, struct job *j, const char *event)
{
	int ret;

	if (c == NULL) { /* the agent is stopping: nobody could be told, so nothing is changed */
		change_record(a, j, event, "failed", "the client had gone");
		return;
	}
	if (change_record(a, j, event, "intent", NULL) != VAULT_OK) {
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL); /* nothing changed */
		return;
	}
	if ((ret = vault_change_apply(j->change)) != VAULT_OK) {
		change_record(a, j, event, "failed", vault_strerror(ret));
		agent_reply_error(a, c, ret, NULL);
		return;
	}
	if (change_record(a, j, event, "ok", NULL) != VAULT_OK) {
		change_undo(a, c, j, event, PROTO_E_AUDIT, "the outcome could not be recorded");
		return;
	}
	if (j->recovery_out != NULL) {
		if (change_hold(c, j) != 0)
			change_undo(a, c, j, event, VAULT_E_NOMEM, vault_strerror(VAULT_E_NOMEM));
		else if (deliver(a, c, j) != 0)
			agent_key_unshown(a, c, "the recovery key could not be delivered");
		return;
	}
	if ((ret = vault_change_commit(j->change)) != VAULT_OK) {
		change_undo(a, c, j, event, ret, "the change could not be made durable");
		return;
	}
	if (deliver(a, c, j) != 0)
		change_undo(a, c, j, event, PROTO_E_AUDIT, "the reply could not be delivered");
}

/* "recovery_shown": the client has the key on its screen or its sheet, so the change stands. */
void agent_key_shown(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *p = c->pending;
	int ret;

	(void)req;
	if (p == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "recovery_shown follows an enroll or recover reply");
		return;
	}
	c->pending = NULL;
	if ((ret = vault_change_commit(p->change)) != VAULT_OK)
		change_undo(a, c, p, change_event(p), ret, "the change could not be made durable");
	else
		agent_reply(a, c, reply_ok());
	job_free(p);
}

/* The client went away, or asked something else, before it said the key was shown: nobody may
 * have seen it, so the change is undone (for a recovery the old sheet works again). */
void agent_key_unshown(struct agent *a, struct conn *c, const char *why)
{
	struct job *p = c->pending;
	int ret;

	if (p == NULL)
		return;
	c->pending = NULL;
	ret = vault_change_undo(p->change);
	change_record(a, p, change_event(p), ret == VAULT_OK ? "undone" : "failed", why);
	job_free(p);
}

/* A change of user waits for its client to say the recovery key is shown. */
int agent_change_pending(const struct agent *a, const char *user)
{
	for (const struct conn *c = a->conns; c != NULL; c = c->next)
		if (c->pending != NULL && strcmp(c->pending->user, user) == 0)
			return 1;
	return 0;
}

void agent_pin_job_done(struct agent *a, struct conn *c, struct job *j)
{
	if (j->kind == JOB_CHANGE_PIN || j->kind == JOB_RECOVER)
		agent_change_end(a, j->user);
	if (j->ret == VAULT_E_BADPIN || j->ret == VAULT_E_BLOCKED) {
		pin_refused(a, c, j);
		return;
	}
	if (j->ret != VAULT_OK) {
		if (j->kind == JOB_RECOVER && j->ret == VAULT_E_BADRECOVERY) {
			char t[AUDIT_TIME_LEN + 1];
			struct audit_event ev = job_event(a, j, "recovery_used", t);
			ev.outcome = "refused";
			ev.reason = "wrong recovery key";
			agent_audit(a, &ev);
		}
		if (c != NULL)
			agent_reply_error(a, c, j->ret, NULL);
		return;
	}
	switch (j->kind) {
	case JOB_UNLOCK:
		unlock_done(a, c, j);
		break;
	case JOB_CHECK_PIN:
		check_done(a, c, j);
		break;
	case JOB_ENROLL:
		change_done(a, c, j, "user_enrolled");
		break;
	case JOB_CHANGE_PIN:
		change_done(a, c, j, "pin_changed");
		break;
	case JOB_RECOVER:
		change_done(a, c, j, "recovery_used");
		break;
	case JOB_EXPORT:
		agent_export_done(a, c, j);
		break;
	case JOB_LOGIN:	  /* ends through agent_login_done */
	case JOB_HISTORY: /* ends through agent_history_done */
		break;
	}
}

/* One PIN change or recovery per person at a time: the second would be acknowledged too, and
 * the last writer would win over a person told their PIN had changed. */
int agent_change_begin(struct agent *a, const char *user)
{
	int free_slot = -1;

	if (agent_change_pending(a, user))
		return -1;
	for (int i = 0; i < AGENT_CHANGES_MAX; i++) {
		if (strcmp(a->changing[i], user) == 0)
			return -1;
		if (free_slot < 0 && a->changing[i][0] == '\0')
			free_slot = i;
	}
	if (free_slot < 0)
		return -1;
	snprintf(a->changing[free_slot], sizeof(a->changing[free_slot]), "%s", user);
	return 0;
}

void agent_change_end(struct agent *a, const char *user)
{
	for (int i = 0; i < AGENT_CHANGES_MAX; i++)
		if (strcmp(a->changing[i], user) == 0)
			a->changing[i][0] = '\0';
}
