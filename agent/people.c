/* The index of people (vault/users.h): built on a thread at start, so that an agent with a
 * hundred thousand vaults answers status at once. Requests that name people wait for it on
 * their connection, and are dispatched as soon as it is there. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "names.h"
#include "proto.h"
#include "users.h"

static void *people_load(void *arg)
{
	struct agent *a = arg;

	/* sorted, searched and compared as a reader compares names (common/names.h) */
	a->people_ret =
	    vault_people_load(a->store, name_key, &a->people_loaded, &a->people_unreadable);
	atomic_store(&a->people_done, 1);
	(void)!write(a->pool.notify[1], "p", 1); /* wakes the loop */
	return NULL;
}

int agent_people_start(struct agent *a)
{
	atomic_store(&a->people_done, 0);
	if (pthread_create(&a->people_thread, NULL, people_load, a) != 0)
		return -1;
	a->people_loading = 1;
	return 0;
}

static void dispatch_deferred(struct agent *a)
{
	for (struct conn *c = a->conns, *next; c != NULL; c = next) {
		cJSON *req = c->deferred;
		unsigned id = c->id;
		next = c->next;
		if (req == NULL)
			continue;
		c->deferred = NULL;
		c->busy = 0;
		agent_dispatch(a, c, req);
		cJSON_Delete(req);
		/* a handler may close connections: start again from the ones still there */
		if (agent_conn_find(a, id) == NULL)
			next = a->conns;
	}
}

void agent_people_poll(struct agent *a)
{
	if (!a->people_loading || !atomic_load(&a->people_done))
		return;
	pthread_join(a->people_thread, NULL);
	a->people_loading = 0;
	if (a->people_ret == VAULT_OK) {
		a->people = a->people_loaded;
		vault_store_set_people(a->store, a->people);
	} else {
		/* names are then found by reading the vaults, as before there was an index */
		fprintf(stderr, "sesame-agent: cannot index the vaults: %s\n",
			vault_strerror(a->people_ret));
	}
	a->people_loaded = NULL;
	dispatch_deferred(a);
}

/* 1 if req waits for the index (kept on c, which reads nothing more meanwhile), else 0. */
int agent_people_defer(struct agent *a, struct conn *c, const cJSON *req)
{
	const char *op = proto_string(req, "op");

	if (!a->people_loading || (op != NULL && strcmp(op, "status") == 0))
		return 0;
	if ((c->deferred = cJSON_Duplicate(req, 1)) == NULL)
		return 0; /* dispatched now: it finds names the slow way */
	c->busy = 1;
	return 1;
}

void agent_people_stop(struct agent *a)
{
	if (a->people_loading)
		pthread_join(a->people_thread, NULL);
	a->people_loading = 0;
	vault_store_set_people(a->store, NULL);
	vault_people_free(a->people);
	vault_people_free(a->people_loaded);
	a->people = a->people_loaded = NULL;
}
