/* Appointment sessions: one per (worker, user), holding the user's data key until lock, idle
 * time-out, the session's maximum length, or agent stop. Closing wipes the key; the close is
 * recorded first, but a failed record never keeps a key alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct session *session_find(struct agent *a, uid_t worker, const char *user)
{
	for (struct session *s = a->sessions; s != NULL; s = s->next)
		if (s->worker == worker && strcmp(s->user, user) == 0)
			return s;
	return NULL;
}

int session_open(struct agent *a, uid_t worker, const char *user, const char *name,
		 struct vault *vault)
{
	struct session *s = session_find(a, worker, user);

	if (s != NULL) { /* unlocking again renews the session with the fresh key */
		vault_close(s->vault);
	} else {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return VAULT_E_NOMEM;
		s->worker = worker;
		snprintf(s->user, sizeof(s->user), "%s", user);
		s->next = a->sessions;
		a->sessions = s;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->vault = vault;
	s->opened = s->last_used = time(NULL);
	return VAULT_OK;
}

void session_touch(struct session *s)
{
	s->last_used = time(NULL);
}

static void unlink_session(struct agent *a, struct session *s)
{
	for (struct session **p = &a->sessions; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	agent_login_session_end(s->worker, s->user); /* its browsers close with it */
	vault_close(s->vault);
	memset(s, 0, sizeof(*s));
	free(s);
}

void session_note(struct agent *a, uid_t worker, const char *user, uint64_t seq)
{
	struct session *s = session_find(a, worker, user);

	if (s == NULL)
		return;
	if (s->nreceipt < AGENT_RECEIPT_MAX)
		s->receipt[s->nreceipt++] = seq;
	else
		s->receipt_more++;
}

void session_close_receipt(struct agent *a, struct session *s, const char *reason,
			   const char *login, uint64_t out[AGENT_RECEIPT_MAX], size_t *n)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = agent_event(a, "session_closed", s->worker, login, t);

	ev.user = s->user;
	ev.reason = reason;
	agent_audit(a, &ev); /* noted in s when written */
	if (out != NULL) {
		memcpy(out, s->receipt, s->nreceipt * sizeof(out[0]));
		*n = s->nreceipt;
	}
	unlink_session(a, s);
}

void session_close(struct agent *a, struct session *s, const char *reason, const char *login)
{
	session_close_receipt(a, s, reason, login, NULL, NULL);
}

/* Close the sessions past their time; returns seconds until the next deadline (or -1). */
int session_expire(struct agent *a, time_t now)
{
	uint32_t max = a->home.cfg.session_max_seconds, idle = a->home.cfg.session_idle_seconds;
	struct session *s = a->sessions, *next;
	time_t soonest = -1;
	char login[AGENT_LOGIN_MAX];

	for (; s != NULL; s = next) {
		time_t end_max = s->opened + (time_t)max, end_idle = s->last_used + (time_t)idle;
		time_t end = end_max < end_idle ? end_max : end_idle;
		next = s->next;
		if (now >= end) {
			session_close(a, s, now >= end_max ? "timeout" : "idle",
				      agent_login_of(s->worker, login, sizeof(login)));
			continue;
		}
		if (soonest < 0 || end - now < soonest)
			soonest = end - now;
	}
	return (int)soonest;
}

void session_close_all(struct agent *a, const char *reason)
{
	char login[AGENT_LOGIN_MAX];

	while (a->sessions != NULL)
		session_close(a, a->sessions, reason,
			      agent_login_of(a->sessions->worker, login, sizeof(login)));
}
