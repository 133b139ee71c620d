/* What the log tells whom. The auditor's request: people's names for the ids in the log,
 * withdrawn people's included (docs/protocol.md, "names"); in system mode only the agent's own
 * account, root and members of auditor_group are auditors, and a worker reads names through
 * their own sessions only. A person's history, after their PIN ("history"), and a worker's own
 * records ("mine"), each read from the log on the pool. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "proto.h"
#include "users.h"

/* The last AGENT_HISTORY_MAX lines naming one person, or made by one worker, in a ring. */
struct history {
	char *lines[AGENT_HISTORY_MAX];
	size_t next;
	uint64_t seen;
	int mine; /* keep only the records whose worker.uid is worker */
	uid_t worker;
};

static int history_take(void *ctx, const struct audit_record *rec, const uint8_t *line, size_t len)
{
	struct history *h = ctx;
	char *copy;

	if (h->mine && rec->worker_uid != (uint32_t)h->worker)
		return 0;
	if ((copy = malloc(len + 1)) == NULL)
		return 1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	free(h->lines[h->next]);
	h->lines[h->next] = copy;
	h->next = (h->next + 1) % AGENT_HISTORY_MAX;
	h->seen++;
	return 0;
}

int agent_history_build(struct job *j)
{
	/* a worker's own records are told by their uid alone, never by a login name */
	struct audit_filter f = {.user = j->mine ? NULL : j->user};
	struct history *h = calloc(1, sizeof(*h));
	cJSON *list;
	size_t n, start;
	int ret;

	if (h == NULL || (j->records = cJSON_CreateObject()) == NULL ||
	    (list = cJSON_AddArrayToObject(j->records, "records")) == NULL) {
		free(h);
		return VAULT_E_NOMEM;
	}
	h->mine = j->mine;
	h->worker = j->worker;
	/* the whole log is read, on a pool thread: the loop answers the others meanwhile */
	ret = audit_scan(j->audit_dir, &f, history_take, h);
	n = h->seen < AGENT_HISTORY_MAX ? (size_t)h->seen : AGENT_HISTORY_MAX;
	start = h->seen < AGENT_HISTORY_MAX ? 0 : h->next;
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list,
				     cJSON_CreateString(h->lines[(start + i) % AGENT_HISTORY_MAX]));
	cJSON_AddNumberToObject(j->records, "earlier", (double)(h->seen - n));
	for (size_t i = 0; i < AGENT_HISTORY_MAX; i++)
		free(h->lines[i]);
	free(h);
	return ret == VAULT_E_LOG_TORN ? VAULT_OK : ret;
}

/* The records are in: reply with them, and whose they are (a person's, or the asking
 * worker's: then the next such read may start). */
void agent_history_done(struct agent *a, struct conn *c, struct job *j)
{
	struct vault_user_info info;
	cJSON *r;

	if (j->mine)
		a->mine_running = 0;
	if (c == NULL)
		return;
	if (j->ret != VAULT_OK) {
		agent_reply_error(a, c, j->ret, NULL);
		return;
	}
	r = j->records;
	j->records = NULL;
	cJSON_AddTrueToObject(r, "ok");
	if (j->mine) {
		cJSON_AddNumberToObject(r, "worker", (double)j->worker);
	} else {
		cJSON_AddStringToObject(r, "user", j->user);
		if (vault_user_info(a->store, j->user, &info) == VAULT_OK)
			cJSON_AddStringToObject(r, "name", info.name);
	}
	agent_reply(a, c, r);
}

/* A worker's own records need no PIN and name nobody the worker did not act for. They are
 * read on the pool, as a history is, one such read at a time: a whole log's read takes a pool
 * thread that the PIN checks share, and no client may hold more than one. */
void agent_mine(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *j;

	(void)req;
	if (a->mine_running) {
		agent_reply_error(a, c, PROTO_E_BUSY,
				  "another worker's records are being read; try again");
		return;
	}
	if ((j = job_new(JOB_HISTORY)) == NULL) {
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		return;
	}
	j->mine = 1;
	j->conn_id = c->id;
	j->worker = c->uid;
	memcpy(j->worker_login, c->login, sizeof(j->worker_login));
	j->audit_dir = a->home.audit;
	j->done = agent_history_done;
	if (pool_submit(&a->pool, j) != 0) {
		job_free(j);
		agent_reply_error(a, c, PROTO_E_BUSY, "too many requests at once; try again");
		return;
	}
	a->mine_running = 1;
	c->busy = 1;
}

int agent_peer_auditor(const struct agent *a, uid_t uid, gid_t gid, const gid_t *groups,
		       size_t ngroups)
{
	if (!a->home.system || uid == 0 || uid == getuid())
		return 1;
	if (!a->have_auditor_gid)
		return 0;
	if (gid == a->auditor_gid)
		return 1;
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i] == a->auditor_gid)
			return 1;
	return 0;
}

/* The name of an enrolled person, else of a withdrawn one; VAULT_E_NOTFOUND for neither. */
static int name_of(struct agent *a, const char *id, char name[VAULT_NAME_MAX + 1], int *withdrawn)
{
	struct vault_user_info info;
	struct vault_person p;
	int ret;

	*withdrawn = 0;
	if (a->people != NULL)
		ret = vault_people_find(a->people, id, &p);
	else if ((ret = vault_user_info(a->store, id, &info)) == VAULT_OK)
		memcpy(p.name, info.name, sizeof(p.name));
	if (ret == VAULT_OK) {
		memcpy(name, p.name, VAULT_NAME_MAX + 1);
		sodium_memzero(&p, sizeof(p));
		return VAULT_OK;
	}
	*withdrawn = 1;
	return vault_withdrawn_read(a->store, id, name);
}

/* Adds ids[i]'s name to list when there is one; an id that is malformed is the request's fault. */
static int add_name(struct agent *a, cJSON *list, const char *id)
{
	char name[VAULT_NAME_MAX + 1];
	int withdrawn, ret;
	cJSON *o;

	if (strlen(id) != VAULT_USER_ID_HEX - 1 || strspn(id, "0123456789abcdef") != strlen(id))
		return -1;
	ret = name_of(a, id, name, &withdrawn);
	if (ret == VAULT_OK && (o = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(o, "user", id);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddBoolToObject(o, "withdrawn", withdrawn);
		cJSON_AddItemToArray(list, o);
	}
	sodium_memzero(name, sizeof(name));
	return 0;
}

void agent_names(struct agent *a, struct conn *c, const cJSON *req)
{
	const cJSON *users = cJSON_GetObjectItemCaseSensitive(req, "users"), *u;
	cJSON *r, *list;
	cJSON_bool ok = cJSON_IsArray(users) && cJSON_GetArraySize(users) >= 1 &&
			cJSON_GetArraySize(users) <= AGENT_NAMES_MAX;

	if (!c->auditor) {
		r = cJSON_CreateObject();
		cJSON_AddFalseToObject(r, "ok");
		cJSON_AddNumberToObject(r, "code", PROTO_E_REQUEST);
		cJSON_AddStringToObject(r, "reason", "not_auditor");
		cJSON_AddStringToObject(r, "error", "only members of auditor_group read names");
		agent_reply(a, c, r);
		return;
	}
	if (!ok) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "names needs \"users\": 1 to 200 ids");
		return;
	}
	r = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(r, "names");
	cJSON_ArrayForEach(u, users)
	{
		if (!cJSON_IsString(u) || add_name(a, list, u->valuestring) != 0) {
			cJSON_Delete(r);
			agent_reply_error(a, c, PROTO_E_REQUEST, "\"users\" holds person ids");
			return;
		}
	}
	cJSON_AddTrueToObject(r, "ok");
	agent_reply(a, c, r);
}
