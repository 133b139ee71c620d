/* The agent's poll loop, in the manner of ssh-agent: the listening socket, every connection
 * (conn.c), and the pipe on which finished jobs are announced. Each job ends through its own
 * completion function: the loop knows no kind of request. */
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "agent.h"
#include "proto.h"

volatile sig_atomic_t agent_quit;
volatile sig_atomic_t agent_reload;

void agent_jobs_finish(struct agent *a)
{
	struct job *j = pool_take_done(&a->pool), *next;

	for (; j != NULL; j = next) {
		struct conn *c = agent_conn_find(a, j->conn_id); /* it may have gone */
		next = j->next;
		if (c != NULL)
			c->busy = 0;
		j->done(a, c, j);
		job_free(j);
	}
}

/* The poll's time-out: the next session deadline or connection deadline, whichever is first. */
static int loop_timeout(struct agent *a)
{
	int session_s = session_expire(a, time(NULL));
	int conn_ms = agent_conn_expire(a, proto_now_ms());
	int session_ms = session_s < 0 ? -1 : session_s * 1000 + 50;

	if (session_ms < 0 || (conn_ms >= 0 && conn_ms < session_ms))
		return conn_ms;
	return session_ms;
}

/* A reply made while reading its request goes out at once rather than at the next round: under
 * many clients each round serves every one of them, so a request would otherwise wait for two.
 * The connection is looked up again, in case its handler closed it. */
static int conn_reply_now(struct agent *a, unsigned id)
{
	struct conn *c = agent_conn_find(a, id);

	return c != NULL && c->out != NULL ? agent_conn_write(c) : 0;
}

void agent_queue_add(struct agent *a, struct conn *c, cJSON *req)
{
	c->queued = req;
	c->queue_next = NULL;
	c->busy = 1; /* nothing more is read from it until it is answered */
	if (a->queue_tail != NULL)
		a->queue_tail->queue_next = c;
	else
		a->queue_head = c;
	a->queue_tail = c;
}

/* c leaves the queue (it is being closed), its request with it. */
void agent_queue_drop(struct agent *a, struct conn *c)
{
	struct conn *prev = NULL;

	for (struct conn *q = a->queue_head; q != NULL; prev = q, q = q->queue_next) {
		if (q != c)
			continue;
		if (prev != NULL)
			prev->queue_next = c->queue_next;
		else
			a->queue_head = c->queue_next;
		if (a->queue_tail == c)
			a->queue_tail = prev;
		break;
	}
	cJSON_Delete(c->queued);
	c->queued = NULL;
	c->queue_next = NULL;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Run queued requests in turn, for one slice at most (at least one request): then the loop
 * polls again, and a status request that came meanwhile is answered before the rest. */
static void queue_run(struct agent *a)
{
	long long start = now_us();

	while (a->queue_head != NULL) {
		struct conn *c = a->queue_head;
		cJSON *req = c->queued;
		unsigned id = c->id;

		a->queue_head = c->queue_next;
		if (a->queue_head == NULL)
			a->queue_tail = NULL;
		c->queued = NULL;
		c->queue_next = NULL;
		c->busy = 0;
		agent_dispatch(a, c, req);
		cJSON_Delete(req);
		if (conn_reply_now(a, id) != 0 && (c = agent_conn_find(a, id)) != NULL)
			agent_conn_close(a, c);
		if (now_us() - start >= AGENT_SLICE_US)
			break;
	}
}

/* One round of poll over everything, then a slice of the queue; the time-out wakes the loop for
 * deadlines, and is zero while requests wait in the queue. ids[i] names the connection of
 * pfd[i]: a handler may close any connection during the round, so each is looked up again by
 * id, never reached through a pointer kept from before. */
static void loop_once(struct agent *a, struct pollfd *pfd, unsigned *ids)
{
	int timeout = loop_timeout(a), n = 2, ready; /* which also ends what is overdue */

	if (a->queue_head != NULL)
		timeout = 0;

	pfd[0] = (struct pollfd){a->listen_fd, POLLIN, 0};
	pfd[1] = (struct pollfd){a->pool.notify[0], POLLIN, 0};
	for (struct conn *c = a->conns; c != NULL; c = c->next, n++) {
		short ev = c->out != NULL ? POLLOUT : (c->busy || c->closing) ? 0 : POLLIN;
		/* a connection waiting for its PIN job is not polled at all: a hang-up would
		 * otherwise wake the loop again and again until the job ends; one waiting for its
		 * login is, once, so that the client going away ends the login */
		if (ev == 0 && c->login_running && !c->interrupted)
			ev = POLLRDHUP;
		pfd[n] = (struct pollfd){ev != 0 ? c->fd : -1, ev, 0};
		ids[n] = c->id;
	}
	ready = poll(pfd, (nfds_t)n, timeout);
	if (ready < 0)
		return;
	if (pfd[1].revents & POLLIN) {
		agent_jobs_finish(a);
		agent_people_poll(a);
	}
	for (int i = 2; i < n; i++) {
		struct conn *c = agent_conn_find(a, ids[i]);
		int bad = 0;
		if (c == NULL)
			continue;
		if (c->login_running && !c->interrupted && pfd[i].revents != 0) {
			c->interrupted = 1; /* nothing may come during a login but a hang-up */
			agent_login_interrupted(c->id);
		} else if (pfd[i].revents & POLLOUT)
			bad = agent_conn_write(c);
		else if (pfd[i].revents & POLLIN)
			bad = agent_conn_read(a, c) || conn_reply_now(a, ids[i]);
		else if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			bad = !c->busy; /* a busy connection is closed when its job ends */
		if (bad)
			agent_conn_close(a, c);
	}
	if (pfd[0].revents & POLLIN)
		agent_conn_accept(a);
	for (struct conn *c = a->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->closing && c->out == NULL && !c->busy)
			agent_conn_close(a, c);
	}
	queue_run(a);
}

int agent_loop(struct agent *a)
{
	struct pollfd *pfd = calloc(AGENT_MAX_CONNS + 2, sizeof(*pfd));
	unsigned *ids = calloc(AGENT_MAX_CONNS + 2, sizeof(*ids));
	int ret = -1;

	if (pfd == NULL || ids == NULL)
		goto out;
	while (!agent_quit) {
		if (agent_reload) {
			agent_reload = 0;
			agent_reload_config(a);
		}
		loop_once(a, pfd, ids);
	}
	for (struct conn *c = a->conns; c != NULL; c = c->next)
		agent_key_unshown(a, c, "the agent stopped before the recovery key was shown");
	while (a->conns != NULL)
		agent_conn_close(a, a->conns);
	ret = 0;
out:
	free(pfd);
	free(ids);
	return ret;
}
