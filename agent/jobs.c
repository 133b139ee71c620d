/* Finishing PIN jobs on the loop's thread: record the outcome, and only once the record is
 * durable open the session or hand out the new recovery key. */
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
	cJSON *r;

	if (vault_user_info(a->store, j->user, &info) != VAULT_OK)
		snprintf(info.name, sizeof(info.name), "%s", j->user);
	if (audit_append_many(a->log, ev, 2, NULL) != VAULT_OK) {
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
	reply_user(a, c, j);
}

static void enroll_done(struct agent *a, struct conn *c, struct job *j)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = job_event(a, j, "user_enrolled", t);

	if (agent_audit(a, &ev) != VAULT_OK) {
		vault_user_destroy(a->store, j->user); /* no record, no vault */
		if (c != NULL)
			agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return;
	}
	reply_user(a, c, j);
}

/* A PIN change or a recovery: the vault changed; record it before saying so. */
static void changed_done(struct agent *a, struct conn *c, struct job *j, const char *event)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = job_event(a, j, event, t);

	if (agent_audit(a, &ev) != VAULT_OK) {
		if (c != NULL)
			agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return;
	}
	reply_user(a, c, j);
}

void agent_pin_job_done(struct agent *a, struct conn *c, struct job *j)
{
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
		enroll_done(a, c, j);
		break;
	case JOB_CHANGE_PIN:
		changed_done(a, c, j, "pin_changed");
		break;
	case JOB_RECOVER:
		changed_done(a, c, j, "recovery_used");
		break;
	case JOB_LOGIN: /* ends through agent_login_done */
		break;
	}
}
