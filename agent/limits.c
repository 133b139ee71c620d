/* What one worker may hold of the agent, so that no worker locks out the others: a share of the
 * connections, and a deadline on every wait for a client (a request arriving, a reply being
 * taken, an idle connection). A connection waiting for its PIN job or its login has no deadline
 * here: those end by their own bounds. */
#include "agent.h"
#include "proto.h"

/* A newly accepted connection: 0 to serve it, -1 when its worker already holds its share, in
 * which case it is answered PROTO_E_LIMIT and closed once the answer is sent. */
int agent_conn_admit(struct agent *a, struct conn *c)
{
	size_t held = 0;

	for (struct conn *o = a->conns; o != NULL; o = o->next)
		if (o != c && o->uid == c->uid)
			held++;
	agent_conn_wait(c);
	if (held < AGENT_CONNS_PER_UID)
		return 0;
	agent_reply_error(a, c, PROTO_E_LIMIT,
			  "this account already holds as many connections as one worker may");
	c->closing = 1;
	return -1;
}

/* A new wait for the client starts now. */
void agent_conn_wait(struct conn *c)
{
	c->deadline_ms = proto_now_ms() + AGENT_CONN_WAIT_MS;
}

static int conn_waits_for_client(const struct conn *c)
{
	return c->deadline_ms != 0 && !c->busy && !c->login_running;
}

/* Close the connections whose wait is over; the milliseconds until the next deadline, or -1. */
int agent_conn_expire(struct agent *a, long long now)
{
	long long soonest = -1;

	for (struct conn *c = a->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (!conn_waits_for_client(c))
			continue;
		if (now >= c->deadline_ms) {
			agent_conn_close(a, c);
			continue;
		}
		if (soonest < 0 || c->deadline_ms - now < soonest)
			soonest = c->deadline_ms - now;
	}
	return (int)soonest;
}
