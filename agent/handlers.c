/* One handler per request (docs/protocol.md). Handlers that guard an action write its audit
 * record first and act only if the record is durable. Requests that run Argon2id become jobs
 * for the pool; agent_pin_job_done finishes them on the loop's thread. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "build-config.h"
#include "agent.h"
#include "kdbx.h"
#include "passphrase.h"
#include "names.h"
#include "proto.h"
#include "url.h"
#include "users.h"

struct handler {
	const char *op;
	void (*fn)(struct agent *a, struct conn *c, const cJSON *req);
};

static cJSON *reply_ok(void)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddTrueToObject(r, "ok");
	return r;
}

/* An error reply with a reason the command translates, and room for the fields that say what
 * was wrong (docs/protocol.md, "Refusals before the work"). */
static cJSON *refusal(int code, const char *reason, const char *message)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", code);
	cJSON_AddStringToObject(r, "reason", reason);
	cJSON_AddStringToObject(r, "error", message);
	return r;
}

/* A copy of a request's secret field in guarded memory, or NULL. */
static char *secret_field(const cJSON *req, const char *key, size_t max)
{
	const char *v = proto_string(req, key);
	size_t len;
	char *s;

	if (v == NULL || (len = strnlen(v, max + 1)) > max || (s = sodium_malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, v, len + 1);
	return s;
}

/* The request's "user" (id or enrolled name) as an id; replies the error itself on failure. */
static int resolve_user(struct agent *a, struct conn *c, const cJSON *req,
			char id[VAULT_USER_ID_HEX])
{
	const char *user = proto_string(req, "user");
	int ret;

	if (user == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "missing \"user\"");
		return -1;
	}
	if ((ret = vault_user_find(a->store, user, id)) == VAULT_E_NOTFOUND) {
		cJSON *r = refusal(ret, "user_unknown", "no enrolled person of that name");
		cJSON_AddStringToObject(r, "user", user);
		agent_reply(a, c, r);
		return -1;
	}
	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	return 0;
}

/* This worker's open session with the request's user; replies the error itself if none. */
static struct session *need_session(struct agent *a, struct conn *c, const cJSON *req)
{
	char id[VAULT_USER_ID_HEX];
	struct session *s;

	if (resolve_user(a, c, req, id) != 0)
		return NULL;
	if ((s = session_find(a, c->uid, id)) == NULL) {
		agent_reply_error(a, c, PROTO_E_NOSESSION, "no open session for this user");
		return NULL;
	}
	session_touch(s);
	return s;
}

static struct audit_event conn_event(struct agent *a, struct conn *c, const char *event,
				     char t[AUDIT_TIME_LEN + 1])
{
	return agent_event(a, event, c->uid, c->login, t);
}

/* Changes of a vault follow one order (docs/audit-log.md, "Changes and their records"): the
 * intent recorded, the change made, its outcome recorded. A change whose outcome cannot be
 * recorded is undone: the vault file goes back to snap, taken before the change. */
struct change {
	struct audit_event ev;
	char t[AUDIT_TIME_LEN + 1];
	char consent[AUDIT_DATE_LEN + 1];
	uint8_t *snap;
	size_t snap_len;
};

/* The last day of in's consent, as the log writes it (docs/audit-log.md): NULL when the person
 * gave none or gave it without an end. The local date, as the person chose it (sesame add
 * --consent-until ends the consent at the end of that day, local time). */
static const char *consent_date(const struct vault_entry_input *in, char out[AUDIT_DATE_LEN + 1])
{
	time_t t = (time_t)in->consent_until;
	struct tm tm;

	if (!in->consent || in->consent_until == 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(out, AUDIT_DATE_LEN + 1, "%Y-%m-%d", &tm) != AUDIT_DATE_LEN)
		return NULL;
	return out;
}

/* Snapshot the vault and record the intent; replies the error itself on failure. in: the
 * credential as it will be, whose consent's end both records carry (NULL: none). */
static int change_begin(struct agent *a, struct conn *c, struct change *ch, const char *event,
			const char *user, const char *service, const char *credential,
			const struct vault_entry_input *in)
{
	int ret;

	ch->ev = conn_event(a, c, event, ch->t);
	ch->ev.user = user;
	ch->ev.service = service;
	ch->ev.credential = credential;
	ch->ev.consent_until = in != NULL ? consent_date(in, ch->consent) : NULL;
	ch->ev.outcome = "intent";
	if ((ret = vault_snapshot(a->store, user, &ch->snap, &ch->snap_len)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	if (agent_audit(a, &ch->ev) != VAULT_OK) {
		free(ch->snap);
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return -1;
	}
	return 0;
}

/* The change returned ret: record its outcome. 0 if the caller may reply success; otherwise the
 * error is replied here. VAULT_E_UNSYNCED is a change made (and recorded as such) whose
 * durability the disk did not confirm: the person is told so. */
static int change_end(struct agent *a, struct conn *c, struct change *ch, int ret)
{
	int made = ret == VAULT_OK || ret == VAULT_E_UNSYNCED, r;

	ch->ev.time = NULL;
	audit_time_format((int64_t)time(NULL), ch->t);
	ch->ev.time = ch->t;
	ch->ev.outcome = made ? "ok" : "failed";
	ch->ev.reason = ret == VAULT_OK ? NULL : vault_strerror(ret);
	if (agent_audit(a, &ch->ev) != VAULT_OK && made) {
		r = vault_snapshot_restore(a->store, ch->ev.user, ch->snap, ch->snap_len);
		ret = r == VAULT_OK ? PROTO_E_AUDIT : r;
	}
	free(ch->snap);
	if (ret != VAULT_OK)
		agent_reply_error(a, c, ret, NULL);
	return ret == VAULT_OK ? 0 : -1;
}

static void h_status(struct agent *a, struct conn *c, const cJSON *req)
{
	cJSON *r = reply_ok(), *agent = cJSON_AddObjectToObject(r, "agent");
	cJSON *sessions = cJSON_AddArrayToObject(r, "sessions");
	time_t now = time(NULL);

	(void)req;
	cJSON_AddStringToObject(agent, "version", SESAME_VERSION);
	cJSON_AddStringToObject(agent, "mode", a->home.system ? "system" : "user");
	cJSON_AddNumberToObject(agent, "pid", (double)a->pid);
	cJSON_AddStringToObject(agent, "data_dir", a->home.dir);
	cJSON_AddStringToObject(agent, "config", a->home.config_path);
	/* the rules a new PIN must meet are the agent's, whoever's configuration the client has */
	cJSON_AddNumberToObject(agent, "pin_min_length", a->home.cfg.policy.pin_min_length);
	/* the index of people is read at start while status is answered: say so */
	cJSON_AddBoolToObject(agent, "people_loading", a->people_loading);
	for (struct session *s = a->sessions; s != NULL; s = s->next) {
		cJSON *o;
		long max_left = (long)(s->opened + (time_t)a->home.cfg.session_max_seconds - now);
		long idle_left =
		    (long)(s->last_used + (time_t)a->home.cfg.session_idle_seconds - now);
		if (s->worker != c->uid)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "user", s->user);
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddNumberToObject(o, "expires_in",
					max_left < idle_left ? max_left : idle_left);
		cJSON_AddItemToArray(sessions, o);
	}
	agent_reply(a, c, r);
}

/* A page's limit: absent is the default, beyond the maximum is refused. */
static int page_limit(struct agent *a, struct conn *c, const cJSON *req, size_t def, size_t max,
		      size_t *limit)
{
	long long n = (long long)def;

	if (cJSON_HasObjectItem(req, "limit") &&
	    (proto_int(req, "limit", &n) != 0 || n < 1 || n > (long long)max)) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "\"limit\" is a number from 1 to the page maximum");
		return -1;
	}
	*limit = (size_t)n;
	return 0;
}

/* One person of a page: the counter is the index's, which the store keeps current with every
 * write of the vault, so no file is read on the loop. */
static cJSON *person_json(struct agent *a, struct conn *c, const struct vault_person *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", p->id);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddBoolToObject(o, "blocked", p->failures >= p->retry_limit);
	cJSON_AddNumberToObject(o, "attempts_left", p->retry_limit - p->failures);
	cJSON_AddBoolToObject(o, "session", session_find(a, c->uid, p->id) != NULL);
	return o;
}

/* A page of people sorted by name, from "cursor", whose names start with "search". */
static void h_users(struct agent *a, struct conn *c, const cJSON *req)
{
	char next[VAULT_PEOPLE_CURSOR_MAX];
	struct vault_person *page;
	size_t limit, n;
	int more, ret;
	cJSON *r, *list;

	if (page_limit(a, c, req, AGENT_USERS_PAGE, VAULT_PEOPLE_PAGE_MAX, &limit) != 0)
		return;
	if (a->people == NULL) {
		agent_reply_error(a, c, VAULT_E_IO, "the agent could not index the vaults");
		return;
	}
	if (a->people_page == NULL &&
	    (a->people_page = sodium_malloc(VAULT_PEOPLE_PAGE_MAX * sizeof(*page))) == NULL) {
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		return;
	}
	page = a->people_page;
	r = reply_ok();
	/* a first page reads the damaged files again first, so that a vault put back is on it; the
	 * pages after it read no file */
	agent_people_damaged(a, r, proto_string(req, "cursor") == NULL);
	ret = vault_people_page(a->people, proto_string(req, "cursor"), proto_string(req, "search"),
				limit, page, &n, &more, next);
	if (ret != VAULT_OK) {
		cJSON_Delete(r);
		agent_reply_error(a, c, PROTO_E_REQUEST, "malformed \"cursor\"");
		goto out;
	}
	list = cJSON_AddArrayToObject(r, "users");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, person_json(a, c, &page[i]));
	if (more)
		cJSON_AddStringToObject(r, "next", next);
	cJSON_AddNumberToObject(r, "total", (double)vault_people_count(a->people));
	agent_reply(a, c, r);
out:
	sodium_memzero(next, sizeof(next));
	sodium_memzero(page, n * sizeof(*page));
}

/* One person by id or exact name: what the command needs to ask for a PIN. */
static void h_resolve(struct agent *a, struct conn *c, const cJSON *req)
{
	const char *user = proto_string(req, "user");
	struct vault_person p;
	cJSON *r;
	int ret;

	if (user == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "missing \"user\"");
		return;
	}
	if (a->people == NULL) {
		char id[VAULT_USER_ID_HEX];
		struct vault_user_info info;
		ret = vault_user_find(a->store, user, id);
		if (ret == VAULT_OK && (ret = vault_user_info(a->store, id, &info)) == VAULT_OK) {
			memcpy(p.id, info.id, sizeof(p.id));
			memcpy(p.name, info.name, sizeof(p.name));
			p.failures = info.failures;
			p.retry_limit = info.retry_limit;
		}
		sodium_memzero(&info, sizeof(info));
	} else {
		ret = vault_people_find(a->people, user, &p);
	}
	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return;
	}
	r = person_json(a, c, &p);
	cJSON_AddTrueToObject(r, "ok");
	sodium_memzero(&p, sizeof(p));
	agent_reply(a, c, r);
}

/* Queue a PIN job for this connection, which waits for it. A PIN check moves the failure
 * counter before any record is written: while the log cannot take a record, none starts. */
static void submit(struct agent *a, struct conn *c, struct job *j)
{
	int change = j->kind == JOB_CHANGE_PIN || j->kind == JOB_RECOVER;

	if (audit_writable(a->log) != VAULT_OK) {
		job_free(j);
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return;
	}
	if (change && agent_change_begin(a, j->user) != 0) {
		job_free(j);
		agent_reply_error(a, c, VAULT_E_CHANGING, NULL);
		return;
	}
	j->conn_id = c->id;
	j->worker = c->uid;
	snprintf(j->worker_login, sizeof(j->worker_login), "%s", c->login);
	if (pool_submit(&a->pool, j) != 0) {
		if (change)
			agent_change_end(a, j->user);
		job_free(j);
		agent_reply_error(a, c, PROTO_E_BUSY, "too many PIN checks at once; try again");
		return;
	}
	c->busy = 1;
}

static struct job *job_with_secrets(enum job_kind kind, const cJSON *req, const char *k1,
				    const char *k2)
{
	struct job *j = job_new(kind);

	if (j == NULL)
		return NULL;
	j->done = agent_pin_job_done;
	if (k1 != NULL && strcmp(k1, "recovery") == 0)
		j->recovery = secret_field(req, k1, 128);
	else if (k1 != NULL)
		j->pin = secret_field(req, k1, VAULT_PIN_MAX + 1);
	if (k2 != NULL)
		j->new_pin = secret_field(req, k2, VAULT_PIN_MAX + 1);
	if ((k1 != NULL && j->pin == NULL && j->recovery == NULL) ||
	    (k2 != NULL && j->new_pin == NULL)) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* A name as it will be kept, or a refusal that says what is wrong with it. */
static int name_input(struct agent *a, struct conn *c, const char *what, const char *in, size_t max,
		      char *out, size_t cap)
{
	static const struct {
		int code;
		const char *suffix, *message;
	} why[] = {
	    {VAULT_E_INVAL, "_empty", "the name is empty"},
	    {VAULT_E_TOOLONG, "_too_long", "the name is too long"},
	    {VAULT_E_NOTUTF8, "_invalid", "the name holds invalid or control characters"},
	};
	char reason[32];
	int ret = name_normalise(in, max, out, cap);
	cJSON *r;

	for (size_t i = 0; ret != VAULT_OK && i < sizeof(why) / sizeof(why[0]); i++)
		if (why[i].code == ret) {
			snprintf(reason, sizeof(reason), "%s%s", what, why[i].suffix);
			r = refusal(ret, reason, why[i].message);
			cJSON_AddNumberToObject(r, "max", (double)max);
			agent_reply(a, c, r);
			return -1;
		}
	return ret == VAULT_OK ? 0 : -1;
}

/* Someone enrolled under a name a reader would take for name: refused with their name. The
 * index is keyed the way name_same compares: one lookup. */
static int name_taken_indexed(struct agent *a, struct conn *c, const char *name)
{
	struct vault_person p;
	cJSON *r;

	if (vault_people_find_same(a->people, name, &p) != VAULT_OK)
		return 0;
	r = refusal(VAULT_E_EXISTS, "name_exists", "a person of that name is already enrolled");
	cJSON_AddStringToObject(r, "existing", p.name);
	sodium_memzero(&p, sizeof(p));
	agent_reply(a, c, r);
	return -1;
}

static int name_taken(struct agent *a, struct conn *c, const char *name)
{
	struct vault_user_info *users;
	size_t n, skipped;
	int ret;
	cJSON *r;

	if (a->people != NULL)
		return name_taken_indexed(a, c, name);
	ret = vault_user_list(a->store, &users, &n, &skipped); /* the index could not be read */

	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (name_same(users[i].name, name)) {
			r = refusal(VAULT_E_EXISTS, "name_exists",
				    "a person of that name is already enrolled");
			cJSON_AddStringToObject(r, "existing", users[i].name);
			agent_reply(a, c, r);
			free(users);
			return -1;
		}
	free(users);
	return 0;
}

/* A vault that cannot be read may be this very person's: enrolling them again would hide that
 * vault for good. Refused with the files named, unless the request says "force" (then the
 * enrolment's records say how many there were). */
static int damaged_present(struct agent *a, struct conn *c, const cJSON *req, size_t *damaged)
{
	cJSON *r = refusal(VAULT_E_EXISTS, "damaged_vaults",
			   "vault files cannot be read, and one may be this person's");

	*damaged = agent_people_damaged(a, r, 1);
	if (*damaged == 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "force"))) {
		cJSON_Delete(r);
		return 0;
	}
	agent_reply(a, c, r);
	return -1;
}

static void h_enroll(struct agent *a, struct conn *c, const cJSON *req)
{
	const char *name = proto_string(req, "name");
	char clean[VAULT_NAME_MAX + 1];
	struct job *j;

	if (name == NULL || (j = job_with_secrets(JOB_ENROLL, req, "pin", NULL)) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "enroll needs \"name\" and \"pin\"");
		return;
	}
	if (name_input(a, c, "name", name, VAULT_NAME_MAX, clean, sizeof(clean)) != 0 ||
	    damaged_present(a, c, req, &j->damaged) != 0 || name_taken(a, c, clean) != 0) {
		job_free(j);
		return;
	}
	snprintf(j->name, sizeof(j->name), "%s", clean);
	submit(a, c, j);
}

/* A vault the index shows blocked is refused before its PIN is used, as a client refuses it
 * before asking for one: no attempt, so nothing to record ("Refusals before the work"). */
static int blocked_refused(struct agent *a, struct conn *c, const char *id)
{
	struct vault_person p;
	int blocked;
	cJSON *r;

	if (a->people == NULL || vault_people_find(a->people, id, &p) != VAULT_OK)
		return 0; /* the job reads the file, and says it */
	blocked = p.failures >= p.retry_limit;
	sodium_memzero(&p, sizeof(p));
	if (!blocked)
		return 0;
	r = refusal(VAULT_E_BLOCKED, "blocked", vault_strerror(VAULT_E_BLOCKED));
	cJSON_AddNumberToObject(r, "attempts_left", 0);
	agent_reply(a, c, r);
	return -1;
}

static void h_unlock(struct agent *a, struct conn *c, const cJSON *req)
{
	const char *purpose = proto_string(req, "purpose");
	struct job *j;

	if ((j = job_with_secrets(JOB_UNLOCK, req, "pin", NULL)) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "unlock needs \"user\" and \"pin\"");
		return;
	}
	if (resolve_user(a, c, req, j->user) != 0 || blocked_refused(a, c, j->user) != 0) {
		job_free(j);
		return;
	}
	if (agent_change_pending(a, j->user)) { /* an undo would take back what a session wrote */
		job_free(j);
		agent_reply_error(a, c, VAULT_E_CHANGING, NULL);
		return;
	}
	if (purpose != NULL)
		snprintf(j->purpose, sizeof(j->purpose), "%s", purpose);
	submit(a, c, j);
}

/* The current PIN alone, before the person chooses a new one: counted as an unlock is. */
static void h_pin_check(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *j;

	if ((j = job_with_secrets(JOB_CHECK_PIN, req, "pin", NULL)) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "pin_check needs \"user\" and \"pin\"");
		return;
	}
	if (resolve_user(a, c, req, j->user) != 0) {
		job_free(j);
		return;
	}
	submit(a, c, j);
}

/* The person's history: their PIN, typed for this request, then their records. */
static void h_history(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *j;

	if ((j = job_with_secrets(JOB_CHECK_PIN, req, "pin", NULL)) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "history needs \"user\" and \"pin\"");
		return;
	}
	j->history = 1;
	if (resolve_user(a, c, req, j->user) != 0) {
		job_free(j);
		return;
	}
	submit(a, c, j);
}

static void h_pin(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *j;

	if ((j = job_with_secrets(JOB_CHANGE_PIN, req, "pin", "new_pin")) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "pin needs \"user\", \"pin\", \"new_pin\"");
		return;
	}
	if (resolve_user(a, c, req, j->user) != 0) {
		job_free(j);
		return;
	}
	submit(a, c, j);
}

static void h_recover(struct agent *a, struct conn *c, const cJSON *req)
{
	struct job *j;

	if ((j = job_with_secrets(JOB_RECOVER, req, "recovery", "new_pin")) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "recover needs \"user\", \"recovery\", \"new_pin\"");
		return;
	}
	if (resolve_user(a, c, req, j->user) != 0) {
		job_free(j);
		return;
	}
	submit(a, c, j);
}

static cJSON *entry_json(const struct vault_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "service", e->service);
	cJSON_AddStringToObject(o, "url", e->url);
	cJSON_AddStringToObject(o, "username", e->username);
	cJSON_AddStringToObject(o, "notes", e->notes != NULL ? e->notes : "");
	cJSON_AddStringToObject(o, "username_selector", e->username_selector);
	cJSON_AddStringToObject(o, "password_selector", e->password_selector);
	cJSON_AddStringToObject(o, "submit_selector", e->submit_selector);
	cJSON_AddStringToObject(o, "before_clicks", e->before_clicks);
	cJSON_AddBoolToObject(o, "consent", e->consent);
	cJSON_AddNumberToObject(o, "consent_until", (double)e->consent_until);
	cJSON_AddNumberToObject(o, "updated", (double)e->updated);
	return o;
}

/* A page of the person's credentials, in the vault's order, from the number "cursor". */
static void h_list(struct agent *a, struct conn *c, const cJSON *req)
{
	struct session *s = need_session(a, c, req);
	struct vault_entries *es;
	long long from = 0;
	size_t limit, i;
	cJSON *r, *list;
	int ret;

	if (s == NULL || page_limit(a, c, req, AGENT_LIST_PAGE, AGENT_LIST_PAGE_MAX, &limit) != 0)
		return;
	if (cJSON_HasObjectItem(req, "cursor") &&
	    (proto_int(req, "cursor", &from) != 0 || from < 0)) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "malformed \"cursor\"");
		return;
	}
	if ((ret = vault_entry_list(s->vault, &es)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return;
	}
	r = reply_ok();
	cJSON_AddStringToObject(r, "user", s->user);
	cJSON_AddStringToObject(r, "name", s->name);
	list = cJSON_AddArrayToObject(r, "services");
	for (i = (size_t)from; i < es->n && i < (size_t)from + limit; i++)
		cJSON_AddItemToArray(list, entry_json(&es->entry[i])); /* never the password */
	if (i < es->n)
		cJSON_AddNumberToObject(r, "next", (double)i);
	cJSON_AddNumberToObject(r, "total", (double)es->n);
	vault_entries_free(es);
	agent_reply(a, c, r);
}

/* Absent is NULL; present, it must be a string (a typo'd type is refused, not ignored). */
static int optional_string(const cJSON *req, const char *key, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(req, key);

	*out = cJSON_IsString(item) ? item->valuestring : NULL;
	return item == NULL || *out != NULL ? 0 : -1;
}

static int entry_input(const cJSON *req, struct vault_entry_input *in, char **password)
{
	long long until = 0;
	const cJSON *consent = cJSON_GetObjectItemCaseSensitive(req, "consent");
	int bad;

	memset(in, 0, sizeof(*in));
	in->service = proto_string(req, "service");
	in->url = proto_string(req, "url");
	in->username = proto_string(req, "username");
	in->notes = proto_string(req, "notes");
	bad = optional_string(req, "username_selector", &in->username_selector) != 0 ||
	      optional_string(req, "password_selector", &in->password_selector) != 0 ||
	      optional_string(req, "submit_selector", &in->submit_selector) != 0 ||
	      optional_string(req, "before_clicks", &in->before_clicks) != 0;
	if (cJSON_GetObjectItemCaseSensitive(req, "consent_until") != NULL &&
	    (proto_int(req, "consent_until", &until) != 0 || until < 0))
		return -1;
	in->consent = cJSON_IsTrue(consent);
	in->consent_until = (uint64_t)until;
	*password = secret_field(req, "password", VAULT_PASSWORD_MAX);
	in->password = *password;
	if (bad || in->service == NULL || in->url == NULL || in->username == NULL)
		return -1;
	return *password != NULL ? 0 : -1;
}

/* The id of service's credential, or "" if it has none. A vault that cannot be read is an
 * error, not "none": replacing must never turn into adding a second credential. */
static int entry_id_of(struct session *s, const char *service, char id[VAULT_ENTRY_ID_HEX])
{
	struct vault_entries *es = NULL;
	const struct vault_entry *e;
	int ret = vault_entry_list(s->vault, &es);

	id[0] = '\0';
	if (ret == VAULT_OK && (e = vault_entries_find(es, service)) != NULL)
		snprintf(id, VAULT_ENTRY_ID_HEX, "%s", e->id);
	vault_entries_free(es);
	return ret;
}

/* A service the person already has under a name a reader would take for service. */
static int service_taken(struct agent *a, struct conn *c, struct session *s, const char *service)
{
	struct vault_entries *es = NULL;
	int ret = vault_entry_list(s->vault, &es);
	cJSON *r;

	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	for (size_t i = 0; i < es->n; i++)
		if (name_same(es->entry[i].service, service)) {
			r = refusal(VAULT_E_EXISTS, "service_exists",
				    "this person already has a credential for that service");
			cJSON_AddStringToObject(r, "existing", es->entry[i].service);
			agent_reply(a, c, r);
			vault_entries_free(es);
			return -1;
		}
	vault_entries_free(es);
	return 0;
}

/* What can be refused before anything is written: the address, the password, a duplicate. */
static int add_checks(struct agent *a, struct conn *c, struct session *s,
		      const struct vault_entry_input *in, int replace)
{
	static const char *const url_reasons[] = {
	    [URL_MALFORMED] = "url_malformed",
	    [URL_SCHEME] = "url_scheme",
	    [URL_HTTP] = "url_http",
	    [URL_HTTP_DISABLED] = "url_http_disabled",
	};
	enum url_verdict v = url_check(in->url, a->home.cfg.allow_http_loopback);
	cJSON *r;

	if (v != URL_OK) {
		r = refusal(VAULT_E_INVAL, url_reasons[v],
			    "the address must be absolute https (or http on loopback when "
			    "allowed)");
		cJSON_AddStringToObject(r, "url", in->url);
		agent_reply(a, c, r);
		return -1;
	}
	if (in->password[0] == '\0') {
		agent_reply(a, c,
			    refusal(VAULT_E_INVAL, "password_empty", "the password is empty"));
		return -1;
	}
	return replace ? 0 : service_taken(a, c, s, in->service);
}

/* Add, or with "replace": true change, a credential; the record comes first. */
static void h_add(struct agent *a, struct conn *c, const cJSON *req)
{
	struct session *s = need_session(a, c, req);
	int replace = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "replace"));
	char id[VAULT_ENTRY_ID_HEX] = "";
	char service[VAULT_SERVICE_MAX + 1];
	struct vault_entry_input in;
	struct change ch;
	char *password = NULL;
	int ret, old;

	if (s == NULL)
		return;
	if (entry_input(req, &in, &password) != 0) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "add needs \"service\", \"url\", \"username\", \"password\"; "
				  "selectors, if any, are strings");
		goto out;
	}
	/* checked before the record (add_checks refuses a service that exists), so that the
	 * record says what happens: a refused add is no credential_added */
	if (name_input(a, c, "service", in.service, VAULT_SERVICE_MAX, service, sizeof(service)) !=
		0 ||
	    add_checks(a, c, s, &in, replace) != 0)
		goto out;
	in.service = service;
	ret = replace ? entry_id_of(s, in.service, id) : VAULT_OK;
	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		goto out;
	}
	old = id[0] != '\0';
	if (change_begin(a, c, &ch, old ? "credential_changed" : "credential_added", s->user,
			 in.service, old ? id : NULL, &in) != 0)
		goto out;
	ret = old ? vault_entry_update(s->vault, id, &in) : vault_entry_add(s->vault, &in, id);
	ch.ev.credential = id;
	if (change_end(a, c, &ch, ret) != 0)
		goto out;
	cJSON *r = reply_ok();
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddBoolToObject(r, "replaced", old);
	agent_reply(a, c, r);
out:
	sodium_free(password);
}

static void h_remove(struct agent *a, struct conn *c, const cJSON *req)
{
	struct session *s = need_session(a, c, req);
	const char *service = proto_string(req, "service");
	const struct vault_entry *e;
	struct vault_entries *es;
	char id[VAULT_ENTRY_ID_HEX];
	struct change ch;
	int ret;

	if (s == NULL)
		return;
	if (service == NULL || (ret = vault_entry_list(s->vault, &es)) != VAULT_OK) {
		agent_reply_error(a, c, service == NULL ? PROTO_E_REQUEST : ret, NULL);
		return;
	}
	e = vault_entries_find(es, service);
	if (e != NULL)
		snprintf(id, sizeof(id), "%s", e->id);
	vault_entries_free(es);
	if (e == NULL) {
		cJSON *r = refusal(VAULT_E_NOTFOUND, "service_unknown", "no such service");
		cJSON_AddStringToObject(r, "service", service);
		agent_reply(a, c, r);
		return;
	}
	if (change_begin(a, c, &ch, "credential_removed", s->user, service, id, NULL) == 0 &&
	    change_end(a, c, &ch, vault_entry_remove(s->vault, id)) == 0)
		agent_reply(a, c, reply_ok());
}

/* The person's receipt: each record of the session with its inclusion proof against the
 * checkpoint that now covers it (docs/protocol.md, "lock"). */
static void receipt_add(struct agent *a, cJSON *r, struct session *s, const char *login)
{
	uint64_t seqs[AGENT_RECEIPT_MAX];
	size_t n = 0, len, more = s->receipt_more;
	cJSON *list = cJSON_AddArrayToObject(r, "receipt");
	char *proof = malloc(AUDIT_PROOF_MAX);

	cJSON_AddStringToObject(r, "name", s->name);
	session_close_receipt(a, s, "lock", login, seqs, &n);
	for (size_t i = 0; i < n; i++)
		if (proof != NULL && audit_prove(a->home.audit, seqs[i], proof, AUDIT_PROOF_MAX - 1,
						 &len) == VAULT_OK) {
			proof[len] = '\0';
			cJSON_AddItemToArray(list, cJSON_CreateString(proof));
		} else {
			more++;
		}
	cJSON_AddNumberToObject(r, "receipt_missing", (double)more);
	free(proof);
}

static void h_lock(struct agent *a, struct conn *c, const cJSON *req)
{
	char id[VAULT_USER_ID_HEX] = "";
	struct session *s, *next;
	int closed = 0;
	cJSON *r;

	if (proto_string(req, "user") != NULL && resolve_user(a, c, req, id) != 0)
		return;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "receipt"))) {
		if (id[0] == '\0') {
			agent_reply_error(a, c, PROTO_E_REQUEST, "a receipt needs \"user\"");
			return;
		}
		r = reply_ok();
		if ((s = session_find(a, c->uid, id)) != NULL)
			receipt_add(a, r, s, c->login);
		cJSON_AddNumberToObject(r, "closed", s != NULL);
		agent_reply(a, c, r);
		return;
	}
	for (s = a->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->worker == c->uid && (id[0] == '\0' || strcmp(s->user, id) == 0)) {
			session_close(a, s, "lock", c->login);
			closed++;
		}
	}
	r = reply_ok();
	cJSON_AddNumberToObject(r, "closed", closed);
	agent_reply(a, c, r);
}

/* Withdrawal: needs the user's own session (their PIN), then destroys their vault. */
static void h_revoke(struct agent *a, struct conn *c, const cJSON *req)
{
	struct session *s = need_session(a, c, req);
	char id[VAULT_USER_ID_HEX];
	struct change ch;
	int ret;

	if (s == NULL)
		return;
	snprintf(id, sizeof(id), "%s", s->user);
	/* the name outlives the vault, sealed, so that the records stay attributable; no name
	 * kept, no withdrawal (docs/format.md, "Withdrawn names") */
	if ((ret = vault_withdrawn_write(a->store, id, s->name)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return;
	}
	if (change_begin(a, c, &ch, "user_withdrawn", id, NULL, NULL, NULL) != 0)
		return;
	session_close(a, s, "withdrawn", c->login);
	if (change_end(a, c, &ch, vault_user_destroy(a->store, id)) == 0)
		agent_reply(a, c, reply_ok());
}

/* The import's rows, checked before anything is written: names, addresses, passwords. */
struct import {
	size_t n;
	struct vault_entry_input in[VAULT_ENTRIES_MAX];
	char *password[VAULT_ENTRIES_MAX];
	char service[VAULT_ENTRIES_MAX][VAULT_SERVICE_MAX + 1];
	char id[VAULT_ENTRIES_MAX][VAULT_ENTRY_ID_HEX];
};

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->n; i++)
		sodium_free(im->password[i]);
	sodium_memzero(im, sizeof(*im));
	free(im);
}

static cJSON *service_refusal(int ret)
{
	cJSON *r;

	if (ret == VAULT_E_TOOLONG) {
		r = refusal(ret, "service_too_long", "the service name is too long");
		cJSON_AddNumberToObject(r, "max", VAULT_SERVICE_MAX);
		return r;
	}
	return ret == VAULT_E_INVAL
		   ? refusal(ret, "service_empty", "the service name is empty")
		   : refusal(ret, "service_invalid", "the service name holds invalid characters");
}

/* What is wrong with row i, as a refusal, or NULL. */
static cJSON *import_row_check(struct agent *a, const struct vault_entries *es, struct import *im,
			       size_t i)
{
	static const char *const url_reasons[] = {
	    [URL_MALFORMED] = "url_malformed",
	    [URL_SCHEME] = "url_scheme",
	    [URL_HTTP] = "url_http",
	    [URL_HTTP_DISABLED] = "url_http_disabled",
	};
	const struct vault_entry_input *in = &im->in[i];
	enum url_verdict v = url_check(in->url, a->home.cfg.allow_http_loopback);
	int ret =
	    name_normalise(in->service, VAULT_SERVICE_MAX, im->service[i], sizeof(im->service[i]));
	cJSON *r = NULL;

	if (ret != VAULT_OK)
		return service_refusal(ret);
	if (v != URL_OK) {
		r = refusal(VAULT_E_INVAL, url_reasons[v], "the address must be absolute https");
		cJSON_AddStringToObject(r, "url", in->url);
	} else if (in->password[0] == '\0') {
		r = refusal(VAULT_E_INVAL, "password_empty", "the password is empty");
	}
	for (size_t k = 0; r == NULL && k < es->n; k++)
		if (name_same(es->entry[k].service, im->service[i])) {
			r = refusal(VAULT_E_EXISTS, "service_exists", "already recorded");
			cJSON_AddStringToObject(r, "existing", es->entry[k].service);
		}
	for (size_t k = 0; r == NULL && k < i; k++)
		if (name_same(im->service[k], im->service[i])) {
			r = refusal(VAULT_E_EXISTS, "service_twice", "the file names it twice");
			cJSON_AddStringToObject(r, "existing", im->service[k]);
		}
	return r;
}

/* Every row read and checked; replies the refusal (with the row's index) itself. */
static int import_read(struct agent *a, struct conn *c, struct session *s, const cJSON *rows,
		       struct import *im)
{
	struct vault_entries *es;
	const cJSON *row;
	cJSON *r = NULL;
	int ret, n = cJSON_GetArraySize(rows);

	if (n < 1 || n > VAULT_ENTRIES_MAX) {
		agent_reply_error(a, c, PROTO_E_REQUEST, "\"rows\" holds 1 to 256 credentials");
		return -1;
	}
	if ((ret = vault_entry_list(s->vault, &es)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	if (es->n + (size_t)n > VAULT_ENTRIES_MAX)
		r = refusal(VAULT_E_FULL, "vault_full", "the vault cannot hold that many more");
	cJSON_ArrayForEach(row, rows)
	{
		if (r != NULL)
			break;
		if (entry_input(row, &im->in[im->n], &im->password[im->n]) != 0) {
			im->n++;
			vault_entries_free(es);
			agent_reply_error(a, c, PROTO_E_REQUEST,
					  "each row needs \"service\", \"url\", \"username\", "
					  "\"password\"");
			return -1;
		}
		if ((r = import_row_check(a, es, im, im->n)) != NULL)
			cJSON_AddNumberToObject(r, "row", (double)im->n);
		im->in[im->n].service = im->service[im->n];
		im->n++;
	}
	vault_entries_free(es);
	if (r != NULL)
		agent_reply(a, c, r);
	return r != NULL ? -1 : 0;
}

/* Rows 0..done were added and recorded, and something failed: the vault as it was before. */
static int import_undo(struct agent *a, struct conn *c, struct session *s, struct import *im,
		       size_t done, const uint8_t *snap, size_t len)
{
	char t[AUDIT_TIME_LEN + 1];
	int ret = vault_snapshot_restore(a->store, s->user, snap, len);

	char consent[AUDIT_DATE_LEN + 1];

	for (size_t i = 0; i < done; i++) {
		struct audit_event ev = conn_event(a, c, "credential_added", t);
		ev.user = s->user, ev.service = im->service[i], ev.credential = im->id[i];
		ev.consent_until = consent_date(&im->in[i], consent);
		ev.outcome = ret == VAULT_OK ? "undone" : "failed";
		ev.reason = "the import was undone";
		agent_audit(a, &ev); /* best effort: the log may be what failed */
	}
	return ret;
}

/* Row i: the intent recorded, the credential added, the outcome recorded. */
static int import_one(struct agent *a, struct conn *c, struct session *s, struct import *im,
		      size_t i)
{
	char t[AUDIT_TIME_LEN + 1], consent[AUDIT_DATE_LEN + 1];
	struct audit_event ev = conn_event(a, c, "credential_added", t);
	int ret;

	ev.user = s->user, ev.service = im->service[i], ev.outcome = "intent";
	ev.consent_until = consent_date(&im->in[i], consent);
	if (agent_audit(a, &ev) != VAULT_OK)
		return PROTO_E_AUDIT;
	ret = vault_entry_add(s->vault, &im->in[i], im->id[i]);
	if (ret != VAULT_OK && ret != VAULT_E_UNSYNCED) {
		ev.outcome = "failed", ev.reason = vault_strerror(ret);
		agent_audit(a, &ev);
		return ret;
	}
	audit_time_format((int64_t)time(NULL), t);
	ev.credential = im->id[i], ev.outcome = "ok";
	return agent_audit(a, &ev) == VAULT_OK ? VAULT_OK : PROTO_E_AUDIT;
}

/* A worker's spreadsheet brought in, all or nothing: one credential_added per row. */
static void h_import(struct agent *a, struct conn *c, const cJSON *req)
{
	struct session *s = need_session(a, c, req);
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(req, "rows");
	struct import *im;
	uint8_t *snap = NULL;
	size_t snap_len, i = 0;
	int ret;
	cJSON *r;

	if (s == NULL)
		return;
	if (!cJSON_IsArray(rows) || (im = calloc(1, sizeof(*im))) == NULL) {
		agent_reply_error(a, c, cJSON_IsArray(rows) ? VAULT_E_NOMEM : PROTO_E_REQUEST,
				  "import needs \"rows\"");
		return;
	}
	if (import_read(a, c, s, rows, im) != 0)
		goto out;
	if ((ret = vault_snapshot(a->store, s->user, &snap, &snap_len)) == VAULT_OK)
		for (i = 0; i < im->n && (ret = import_one(a, c, s, im, i)) == VAULT_OK; i++)
			;
	if (ret != VAULT_OK) {
		/* row i counts as done when it was added and only its outcome went unrecorded */
		size_t done = i + (i < im->n && im->id[i][0] != '\0');
		if (snap != NULL && done > 0 &&
		    import_undo(a, c, s, im, done, snap, snap_len) != VAULT_OK)
			ret = VAULT_E_IO;
		agent_reply_error(a, c, ret, NULL);
		goto out;
	}
	r = reply_ok();
	cJSON_AddNumberToObject(r, "count", (double)im->n);
	agent_reply(a, c, r);
out:
	free(snap);
	import_free(im);
}

/* The person takes their logins away: the PIN typed for it, the file handed as a descriptor
 * (docs/protocol.md, "export"). */
static void h_export(struct agent *a, struct conn *c, const cJSON *req)
{
	const char *format = proto_string(req, "format");
	int csv = format != NULL && strcmp(format, "csv") == 0;
	struct vault_user_info info;
	struct job *j;

	if ((format == NULL || (!csv && strcmp(format, "kdbx") != 0)) ||
	    (j = job_with_secrets(JOB_EXPORT, req, "pin", NULL)) == NULL) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "export needs \"user\", \"pin\", \"format\" (kdbx or csv)");
		return;
	}
	j->file_fd = c->file_fd, c->file_fd = -1;
	j->export_csv = csv;
	j->generated = !csv && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "generate"));
	if (j->generated && passphrase_generate(&j->passphrase) != VAULT_OK)
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
	else if (!csv && j->passphrase == NULL &&
		 (j->passphrase = secret_field(req, "passphrase", KDBX_PASSPHRASE_MAX)) == NULL)
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "a KDBX export needs \"passphrase\" or \"generate\"");
	else if (!csv && strlen(j->passphrase) < AGENT_PASSPHRASE_MIN)
		agent_reply(
		    a, c,
		    refusal(VAULT_E_INVAL, "passphrase_short", "the passphrase is too short"));
	else if (j->file_fd < 0 || !agent_export_file_ok(j->file_fd))
		agent_reply(a, c,
			    refusal(VAULT_E_FILETYPE, "export_file",
				    "the export needs its file, new and empty, as a descriptor"));
	else if (resolve_user(a, c, req, j->user) == 0) {
		if (vault_user_info(a->store, j->user, &info) == VAULT_OK)
			snprintf(j->name, sizeof(j->name), "%s", info.name);
		submit(a, c, j);
		return;
	}
	job_free(j);
}

static const struct handler handlers[] = {
    {"status", h_status},
    {"users", h_users},
    {"enroll", h_enroll},
    {"unlock", h_unlock},
    {"list", h_list},
    {"add", h_add},
    {"remove", h_remove},
    {"lock", h_lock},
    {"pin", h_pin},
    {"recover", h_recover},
    {"revoke", h_revoke},
    {"login", agent_login},
    {"pin_check", h_pin_check},
    {"resolve", h_resolve},
    {"export", h_export},
    {"import", h_import},
    {"names", agent_names},
    {"mine", agent_mine},
    {"history", h_history},
    {"recovery_shown", agent_key_shown},
};

void agent_dispatch(struct agent *a, struct conn *c, cJSON *req)
{
	const char *op = proto_string(req, "op");

	if (c->pending != NULL && (op == NULL || strcmp(op, "recovery_shown") != 0)) {
		agent_key_unshown(a, c, "another request came before the recovery key was shown");
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "recovery_shown was expected: the change is undone");
		c->closing = 1;
		return;
	}
	for (size_t i = 0; op != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(op, handlers[i].op) == 0) {
			handlers[i].fn(a, c, req);
			return;
		}
	agent_reply_error(a, c, PROTO_E_UNKNOWN_OP, "unknown request");
}
