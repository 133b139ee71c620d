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
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	if (audit_time_format((int64_t)time(NULL), time_buf) != VAULT_OK)
		time_buf[0] = '\0';
	ev.event = event;
	ev.time = time_buf;
	ev.worker_uid = (uint32_t)worker;
	ev.worker_login = login;
	ev.host = a->host;
	ev.outcome = "ok";
	ev.attempts_left = -1;
	return ev;
}

int agent_audit(struct agent *a, struct audit_event *ev)
{
	return audit_append(a->log, ev, NULL);
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
