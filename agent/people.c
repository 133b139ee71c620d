/* The index of people (vault/users.h): built on a thread at start, so that an agent with a
 * hundred thousand vaults answers status at once. Requests that name people wait for it on
 * their connection, and are dispatched as soon as it is there. */
#include <libintl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "errtext.h"
#include "names.h"
#include "proto.h"
#include "users.h"

#define _(s) gettext(s)

static void *people_load(void *arg)
{
	struct agent *a = arg;

	/* sorted, searched and compared as a reader compares names (common/names.h) */
	a->people_ret = vault_people_start(a->store, name_key, &a->people_loaded, &a->people_start);
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

/* A cache that could not be used or written costs only time: said once, never fatal. A missing
 * cache is the first start's, said by nobody. */
static void cache_report(struct agent *a)
{
	const struct vault_people_start *st = &a->people_start;

	if (st->cache_read != VAULT_OK && st->cache_read != VAULT_E_NOTFOUND)
		fprintf(
		    stderr,
		    _("sesame-agent: the people cache %s/%s cannot be used (%s): every vault file "
		      "was read instead, and the cache is written again\n"),
		    a->home.vaults, VAULT_PEOPLE_CACHE_FILE, sesame_strerror(st->cache_read));
	if (st->cache_written && st->cache_write != VAULT_OK)
		fprintf(stderr,
			_("sesame-agent: cannot write the people cache %s/%s (%s): the next start "
			  "reads every vault file again; make room on the disk\n"),
			a->home.vaults, VAULT_PEOPLE_CACHE_FILE, sesame_strerror(st->cache_write));
}

void agent_people_poll(struct agent *a)
{
	if (!a->people_loading || !atomic_load(&a->people_done))
		return;
	pthread_join(a->people_thread, NULL);
	a->people_loading = 0;
	if (a->people_ret == VAULT_OK) {
		cache_report(a);
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
	sodium_free(a->people_page);
	a->people_page = NULL;
}

/* One damaged vault file: its id, its path, and why it cannot be read. */
static cJSON *damaged_json(struct agent *a, const struct vault_damaged *d)
{
	char path[PATH_MAX + VAULT_USER_ID_HEX + 16];
	cJSON *o = cJSON_CreateObject();

	snprintf(path, sizeof(path), "%s/%.*s%s", a->home.vaults, VAULT_USER_ID_HEX - 1, d->id,
		 VAULT_FILE_SUFFIX);
	cJSON_AddStringToObject(o, "user", d->id);
	cJSON_AddStringToObject(o, "file", path);
	cJSON_AddNumberToObject(o, "code", d->code);
	cJSON_AddStringToObject(o, "error",
				d->code == VAULT_E_EXISTS ? "it holds a name another vault holds"
							  : vault_strerror(d->code));
	return o;
}

size_t agent_people_damaged(struct agent *a, cJSON *r, int recheck)
{
	struct vault_damaged d[AGENT_DAMAGED_LISTED];
	cJSON *list;
	size_t n;

	if (a->people == NULL)
		return 0;
	/* a file restored from a backup, or moved away, counts at once, without a restart */
	if (recheck)
		(void)vault_people_recheck(a->people, a->store);
	n = vault_people_damaged(a->people, d, AGENT_DAMAGED_LISTED);
	cJSON_AddNumberToObject(r, "unreadable", (double)n);
	list = cJSON_AddArrayToObject(r, "damaged");
	for (size_t i = 0; i < n && i < AGENT_DAMAGED_LISTED; i++)
		cJSON_AddItemToArray(list, damaged_json(a, &d[i]));
	return n;
}
