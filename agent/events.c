/* Audit records as the agent writes them: who (uid and login of the connected worker), where
 * (this host), when (now, UTC). Every guarded action calls agent_audit first and goes ahead
 * only on success. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"

struct audit_event agent_event(struct agent *a, const char *event, uid_t worker, const char *login,
			       char time_buf[AUDIT_TIME_LEN + 1])
{
	return audit_event_now(event, (uint32_t)worker, login, a->host, time_buf);
}

int agent_audit(struct agent *a, struct audit_event *ev)
{
	uint64_t seq;
	int ret = audit_append(a->log, ev, &seq);

	/* the person's receipt at lock lists what was done in their session */
	if (ret == VAULT_OK && ev->user != NULL)
		session_note(a, (uid_t)ev->worker_uid, ev->user, seq);
	return ret;
}

const char *agent_login_of(uid_t uid, char *buf, size_t cap)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, cap, "%s", res->pw_name);
	else
		snprintf(buf, cap, "%u", (unsigned)uid);
	return buf;
}
