/* sesame audit report: one self-contained page for a supervisor or a data-protection officer
 * (docs/audit-log.md, "The auditor's report"). Integrity first, then what stands out, each
 * with the records behind it, then the activity. One pass to verify, one to read: memory grows
 * with the people, workers and days met, not with the records. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#include "audit-filter.h"
#include "cli.h"
#include "error.h"
#include "report.h"
#include "sesameconf.h"
#include "words.h"

enum anomaly_kind {
	A_PIN_BURST,
	A_BLOCKED,
	A_LOGIN_REFUSED,
	A_OUTSIDE_HOURS,
	A_MANY_PEOPLE,
	A_LONG_SESSION,
	A_RESTART,
	A_RECOVERED,
	A_EXPORT,
	A_WITHDRAWN,
	A_CONSENT_SOON,
	A_CONSENT_USED,
	A_KINDS,
};

/* One thing that stands out, and the records behind it (the first REPORT_RECORDS_SHOWN). */
struct anomaly {
	struct audit_record first; /* who, whom, when: the first record behind it */
	struct audit_record *recs;
	size_t nrecs;
	uint64_t total; /* records behind it */
	long seconds;	/* A_LONG_SESSION: how long */
	char day[32];	/* A_MANY_PEOPLE: the local day; A_CONSENT_*: the consent's last */
	size_t people;	/* A_MANY_PEOPLE: how many */
};

struct report {
	struct sesame_config cfg;
	struct audit_filter filter;
	struct words_names *names;
	GPtrArray *anomalies[A_KINDS];
	uint64_t more[A_KINDS]; /* anomalies of a kind past REPORT_ANOMALIES_SHOWN */
	GHashTable *bursts;	/* user -> struct anomaly being gathered */
	GHashTable *open;	/* "uid login user" -> struct audit_record of its opening */
	GHashTable *day_worker; /* "day uid login" -> struct day_worker */
	GHashTable *days;	/* "YYYY-MM-DD" -> GHashTable "uid login" -> count */
	GHashTable *workers;	/* "uid login" -> struct worker */
	GHashTable *pairs;	/* "uid login user" -> struct pair */
	GHashTable *people;	/* users met */
	GHashTable *consents;	/* "user\tservice" -> struct consent: ends known, as of now */
	char today[AUDIT_DATE_LEN + 1], soon[AUDIT_DATE_LEN + 1]; /* local dates */
	int agent_running;
	uint64_t records, sessions, logins, wrong_pins;
	char first_time[AUDIT_TIME_LEN + 1], last_time[AUDIT_TIME_LEN + 1];
};

/* A credential's consent with an end, as its last credential_added or credential_changed set it:
 * the record that set it, and the logins asked after its last day. */
struct consent {
	struct audit_record set;
	struct anomaly *used; /* NULL until a login comes after the end */
};

struct day_worker {
	struct anomaly a;
	GHashTable *users;
};

struct worker {
	uint32_t uid;
	char login[AUDIT_FIELD_MAX + 1];
	uint64_t sessions, logins;
	GHashTable *users;
};

struct pair {
	uint32_t uid;
	char login[AUDIT_FIELD_MAX + 1];
	char user[AUDIT_FIELD_MAX + 1];
	uint64_t count;
	GHashTable *purposes; /* purpose -> count, at most REPORT_PURPOSES_SHOWN */
	uint64_t other_purposes;
};

/* --- gathering --- */

static void anomaly_add_record(struct anomaly *a, const struct audit_record *r)
{
	if (a->total++ == 0)
		a->first = *r;
	if (a->nrecs < REPORT_RECORDS_SHOWN) {
		a->recs = g_renew(struct audit_record, a->recs, a->nrecs + 1);
		a->recs[a->nrecs++] = *r;
	}
}

static void anomaly_free(gpointer p)
{
	struct anomaly *a = p;

	g_free(a->recs);
	g_free(a);
}

static struct anomaly *anomaly_new(const struct audit_record *r)
{
	struct anomaly *a = g_new0(struct anomaly, 1);

	if (r != NULL)
		anomaly_add_record(a, r);
	return a;
}

/* Keeps a (taken) under its kind, or counts it past what the page shows. */
static void anomaly_keep(struct report *rp, enum anomaly_kind k, struct anomaly *a)
{
	if (rp->anomalies[k]->len >= REPORT_ANOMALIES_SHOWN) {
		rp->more[k]++;
		anomaly_free(a);
		return;
	}
	g_ptr_array_add(rp->anomalies[k], a);
}

static void count_in(GHashTable *t, const char *key)
{
	gpointer v = g_hash_table_lookup(t, key);

	g_hash_table_insert(t, g_strdup(key), GSIZE_TO_POINTER(GPOINTER_TO_SIZE(v) + 1));
}

/* A burst of wrong PINs ends when none follows within REPORT_BURST_WINDOW. */
static void burst_end(struct report *rp, const char *user)
{
	gpointer key, value;
	struct anomaly *a;

	if (!g_hash_table_steal_extended(rp->bursts, user, &key, &value))
		return;
	g_free(key);
	a = value;
	if (a->total >= REPORT_BURST_COUNT)
		anomaly_keep(rp, A_PIN_BURST, a);
	else
		anomaly_free(a);
}

static void on_pin_wrong(struct report *rp, const struct audit_record *r, time_t t)
{
	struct anomaly *a = g_hash_table_lookup(rp->bursts, r->user);
	time_t last;

	rp->wrong_pins++;
	if (a != NULL) {
		const struct audit_record *prev = a->nrecs > 0 ? &a->recs[a->nrecs - 1] : &a->first;
		if (words_utc(prev->time, &last) != 0 || t - last > REPORT_BURST_WINDOW) {
			burst_end(rp, r->user);
			a = NULL;
		}
	}
	if (a == NULL) {
		g_hash_table_insert(rp->bursts, g_strdup(r->user), anomaly_new(r));
		return;
	}
	anomaly_add_record(a, r);
	/* the shown records are the burst's first; the last one dates the window */
	if (a->nrecs == REPORT_RECORDS_SHOWN)
		a->recs[a->nrecs - 1] = *r;
}

static char *worker_key(const struct audit_record *r)
{
	return g_strdup_printf("%u %s", (unsigned)r->worker_uid, r->worker_login);
}

static struct worker *worker_of(struct report *rp, const struct audit_record *r)
{
	char *key = worker_key(r);
	struct worker *w = g_hash_table_lookup(rp->workers, key);

	if (w == NULL) {
		w = g_new0(struct worker, 1);
		w->uid = r->worker_uid;
		snprintf(w->login, sizeof(w->login), "%s", r->worker_login);
		w->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(rp->workers, key, w);
	} else {
		g_free(key);
	}
	return w;
}

static void pair_count(struct report *rp, const struct audit_record *r)
{
	char *key = g_strdup_printf("%u %s %s", (unsigned)r->worker_uid, r->worker_login, r->user);
	struct pair *p = g_hash_table_lookup(rp->pairs, key);

	if (p == NULL) {
		p = g_new0(struct pair, 1);
		p->uid = r->worker_uid;
		snprintf(p->login, sizeof(p->login), "%s", r->worker_login);
		snprintf(p->user, sizeof(p->user), "%s", r->user);
		p->purposes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(rp->pairs, key, p);
	} else {
		g_free(key);
	}
	p->count++;
	if (r->purpose[0] == '\0')
		return;
	if (g_hash_table_contains(p->purposes, r->purpose) ||
	    g_hash_table_size(p->purposes) < REPORT_PURPOSES_SHOWN)
		count_in(p->purposes, r->purpose);
	else
		p->other_purposes++;
}

/* Per local day and worker: the chart, and the people opened that day. */
static void day_count(struct report *rp, const struct audit_record *r, const struct tm *tm)
{
	char day[32], *key;
	GHashTable *per_worker;
	struct day_worker *dw;

	snprintf(day, sizeof(day), "%04d-%02d-%02d", tm->tm_year + 1900, tm->tm_mon + 1,
		 tm->tm_mday);
	if ((per_worker = g_hash_table_lookup(rp->days, day)) == NULL) {
		per_worker = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(rp->days, g_strdup(day), per_worker);
	}
	key = worker_key(r);
	count_in(per_worker, key);
	g_free(key);
	key = g_strdup_printf("%s %u %s", day, (unsigned)r->worker_uid, r->worker_login);
	if ((dw = g_hash_table_lookup(rp->day_worker, key)) == NULL) {
		dw = g_new0(struct day_worker, 1);
		dw->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		snprintf(dw->a.day, sizeof(dw->a.day), "%s", day);
		g_hash_table_insert(rp->day_worker, key, dw);
	} else {
		g_free(key);
	}
	if (!g_hash_table_contains(dw->users, r->user)) {
		g_hash_table_add(dw->users, g_strdup(r->user));
		anomaly_add_record(&dw->a, r);
	}
}

static void on_session_opened(struct report *rp, const struct audit_record *r)
{
	struct worker *w = worker_of(rp, r);
	struct tm local, *tm = &local;
	time_t t;
	char *key;

	if (words_local(r->time, tm, &t) != 0)
		return;
	rp->sessions++;
	w->sessions++;
	if (!g_hash_table_contains(w->users, r->user))
		g_hash_table_add(w->users, g_strdup(r->user));
	pair_count(rp, r);
	day_count(rp, r, tm);
	if (!config_hours_open(&rp->cfg.opening_hours, (unsigned)(tm->tm_wday + 6) % 7,
			       (unsigned)(tm->tm_hour * 60 + tm->tm_min)))
		anomaly_keep(rp, A_OUTSIDE_HOURS, anomaly_new(r));
	/* unlocking again renews a session: it is as long as from its first opening */
	key = g_strdup_printf("%u %s %s", (unsigned)r->worker_uid, r->worker_login, r->user);
	if (g_hash_table_contains(rp->open, key))
		g_free(key);
	else
		g_hash_table_insert(rp->open, key, g_memdup2(r, sizeof(*r)));
}

static void on_session_closed(struct report *rp, const struct audit_record *r, time_t t)
{
	char *key = g_strdup_printf("%u %s %s", (unsigned)r->worker_uid, r->worker_login, r->user);
	struct audit_record *opened = g_hash_table_lookup(rp->open, key);
	struct anomaly *a;
	time_t t0;

	if (opened != NULL && words_utc(opened->time, &t0) == 0 &&
	    t - t0 >= (time_t)rp->cfg.audit_long_session_seconds) {
		a = anomaly_new(opened);
		anomaly_add_record(a, r);
		a->seconds = (long)(t - t0);
		anomaly_keep(rp, A_LONG_SESSION, a);
	}
	g_hash_table_remove(rp->open, key);
	g_free(key);
}

/* A login refused for its address, its consent or its origin. */
static int login_refused(const struct audit_record *r)
{
	return strcmp(r->event, "login_failed") == 0 &&
	       (strcmp(r->outcome, "refused") == 0 || strcmp(r->outcome, "anomaly") == 0 ||
		strstr(r->reason, "origin") != NULL) &&
	       strcmp(r->reason, "browser_unavailable") != 0 && strcmp(r->reason, "agent") != 0;
}

static void on_agent(struct report *rp, const struct audit_record *r)
{
	if (strcmp(r->event, "agent_started") == 0) {
		/* the previous agent never recorded its stop: it was killed or the machine fell */
		if (rp->agent_running)
			anomaly_keep(rp, A_RESTART, anomaly_new(r));
		rp->agent_running = 1;
		g_hash_table_remove_all(rp->open); /* its sessions ended with it */
	} else if (strcmp(r->event, "agent_stopped") == 0) {
		rp->agent_running = 0;
	} else if (strcmp(r->event, "log_recovered") == 0) {
		anomaly_keep(rp, A_RECOVERED, anomaly_new(r));
	}
}

static void on_record_kind(struct report *rp, const struct audit_record *r, time_t t)
{
	const char *e = r->event;
	int done = strcmp(r->outcome, "intent") != 0;

	if (strcmp(e, "pin_wrong") == 0)
		on_pin_wrong(rp, r, t);
	else if (strcmp(e, "vault_blocked") == 0)
		anomaly_keep(rp, A_BLOCKED, anomaly_new(r));
	else if (strcmp(e, "session_opened") == 0 && r->user[0])
		on_session_opened(rp, r);
	else if (strcmp(e, "session_closed") == 0)
		on_session_closed(rp, r, t);
	else if (login_refused(r))
		anomaly_keep(rp, A_LOGIN_REFUSED, anomaly_new(r));
	else if (strcmp(e, "login_filled") == 0) {
		rp->logins++;
		worker_of(rp, r)->logins++;
	} else if (strcmp(e, "export") == 0 && done)
		anomaly_keep(rp, A_EXPORT, anomaly_new(r));
	else if (strcmp(e, "user_withdrawn") == 0 && done)
		anomaly_keep(rp, A_WITHDRAWN, anomaly_new(r));
	else
		on_agent(rp, r);
}

static void consent_free(gpointer p)
{
	struct consent *c = p;

	if (c->used != NULL)
		anomaly_free(c->used);
	g_free(c);
}

/* A consent replaced by a new one: the logins after its end stay on the page. */
static void consent_replace(struct report *rp, char *key, const struct audit_record *r)
{
	struct consent *c = g_hash_table_lookup(rp->consents, key);

	if (c != NULL && c->used != NULL) {
		anomaly_keep(rp, A_CONSENT_USED, c->used);
		c->used = NULL;
	}
	if (r->consent_until[0] == '\0') {
		g_hash_table_remove(rp->consents,
				    key); /* no end, or no consent: nothing to expire */
		g_free(key);
		return;
	}
	c = g_new0(struct consent, 1);
	c->set = *r;
	g_hash_table_insert(rp->consents, key, c); /* takes key */
}

/* A person's credentials all gone: their consents with them. */
static void consent_forget_user(struct report *rp, const char *user)
{
	size_t n = strlen(user);
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, rp->consents);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (strncmp(key, user, n) == 0 && ((const char *)key)[n] == '\t')
			g_hash_table_iter_remove(&it);
}

/* A login asked for in the period, after the last day of its consent. */
static void consent_login(struct report *rp, char *key, const struct audit_record *r)
{
	struct consent *c = g_hash_table_lookup(rp->consents, key);
	struct tm tm;
	time_t t;
	char day[AUDIT_DATE_LEN + 1];

	g_free(key);
	if (c == NULL || words_local(r->time, &tm, &t) != 0 ||
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) != AUDIT_DATE_LEN ||
	    strcmp(day, c->set.consent_until) <= 0)
		return;
	if (c->used == NULL)
		c->used = anomaly_new(&c->set);
	anomaly_add_record(c->used, r);
}

/* Consents follow every record up to the end of the period, the period's start aside: a
 * consent given before it may end in it. Only done changes count, not their intents. */
static void on_consent(struct report *rp, const struct audit_record *r, int in_period)
{
	const char *e = r->event;
	int ok = strcmp(r->outcome, "ok") == 0;

	if (r->user[0] == '\0' ||
	    (rp->filter.until != NULL && strcmp(r->time, rp->filter.until) >= 0))
		return;
	if (strcmp(e, "user_withdrawn") == 0 && ok) {
		consent_forget_user(rp, r->user);
		return;
	}
	if (r->service[0] == '\0')
		return;
	if ((strcmp(e, "credential_added") == 0 || strcmp(e, "credential_changed") == 0) && ok)
		consent_replace(rp, g_strdup_printf("%s\t%s", r->user, r->service), r);
	else if ((strcmp(e, "credential_removed") == 0 && ok) ||
		 (strcmp(e, "credential_added") == 0 && strcmp(r->outcome, "undone") == 0)) {
		char *key = g_strdup_printf("%s\t%s", r->user, r->service);
		g_hash_table_remove(rp->consents, key); /* a removed credential is not listed */
		g_free(key);
	} else if (in_period && strncmp(e, "login_", 6) == 0)
		consent_login(rp, g_strdup_printf("%s\t%s", r->user, r->service), r);
}

static int on_record(void *ctx, const struct audit_record *r, const uint8_t *line, size_t len)
{
	struct report *rp = ctx;
	int in_period = audit_filter_match(&rp->filter, r);
	time_t t;

	(void)line, (void)len;
	on_consent(rp, r, in_period);
	if (!in_period || words_utc(r->time, &t) != 0)
		return 0;
	if (rp->records++ == 0)
		memcpy(rp->first_time, r->time, sizeof(rp->first_time));
	memcpy(rp->last_time, r->time, sizeof(rp->last_time));
	if (r->user[0] != '\0' && !g_hash_table_contains(rp->people, r->user)) {
		g_hash_table_add(rp->people, g_strdup(r->user));
		if (rp->names != NULL)
			words_names_want(rp->names, r->user);
	}
	on_record_kind(rp, r, t);
	return 0;
}

static void day_worker_free(gpointer p)
{
	struct day_worker *dw = p;

	g_free(dw->a.recs);
	g_hash_table_destroy(dw->users);
	g_free(dw);
}

static void worker_free(gpointer p)
{
	struct worker *w = p;

	g_hash_table_destroy(w->users);
	g_free(w);
}

static void pair_free(gpointer p)
{
	struct pair *pr = p;

	g_hash_table_destroy(pr->purposes);
	g_free(pr);
}

/* Today's local date, and the last day a consent ending soon may have. */
static void report_today(struct report *rp)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(rp->today, sizeof(rp->today), "%Y-%m-%d", &tm);
	tm.tm_mday += (int)rp->cfg.audit_consent_days;
	tm.tm_hour = 12; /* a day away is a day away, summer time or not */
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(rp->soon, sizeof(rp->soon), "%Y-%m-%d", &tm);
}

static void report_init(struct report *rp)
{
	for (int k = 0; k < A_KINDS; k++)
		rp->anomalies[k] = g_ptr_array_new_with_free_func(anomaly_free);
	rp->bursts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, anomaly_free);
	rp->open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	rp->day_worker = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, day_worker_free);
	rp->days = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 (GDestroyNotify)g_hash_table_destroy);
	rp->workers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, worker_free);
	rp->pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pair_free);
	rp->people = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	rp->consents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, consent_free);
	report_today(rp);
}

static void report_free(struct report *rp)
{
	for (int k = 0; k < A_KINDS; k++)
		g_ptr_array_free(rp->anomalies[k], TRUE);
	g_hash_table_destroy(rp->bursts);
	g_hash_table_destroy(rp->open);
	g_hash_table_destroy(rp->day_worker);
	g_hash_table_destroy(rp->days);
	g_hash_table_destroy(rp->workers);
	g_hash_table_destroy(rp->pairs);
	g_hash_table_destroy(rp->people);
	g_hash_table_destroy(rp->consents);
	words_names_free(rp->names);
}

static gint consent_order(gconstpointer a, gconstpointer b)
{
	const struct consent *x = *(const struct consent *const *)a;
	const struct consent *y = *(const struct consent *const *)b;
	int c = strcmp(x->set.consent_until, y->set.consent_until);

	if (c == 0)
		c = strcmp(x->set.user, y->set.user);
	return c != 0 ? c : strcmp(x->set.service, y->set.service);
}

/* The consents still standing at the end: used after their end, or ending soon. */
static void consents_finish(struct report *rp)
{
	GPtrArray *list = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, rp->consents);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(list, v);
	g_ptr_array_sort(list, consent_order);
	for (guint i = 0; i < list->len; i++) {
		struct consent *c = list->pdata[i];
		struct anomaly *a = c->used;
		enum anomaly_kind k = A_CONSENT_USED;
		if (a == NULL) {
			if (strcmp(c->set.consent_until, rp->today) < 0 ||
			    strcmp(c->set.consent_until, rp->soon) > 0)
				continue;
			a = anomaly_new(&c->set);
			k = A_CONSENT_SOON;
		}
		c->used = NULL;
		anomaly_keep(rp, k, a);
	}
	g_ptr_array_free(list, TRUE);
}

/* What is still open at the end: bursts, workers' days past the threshold, consents. */
static void report_finish(struct report *rp)
{
	GHashTableIter it;
	gpointer key, v;
	GPtrArray *users = g_ptr_array_new_with_free_func(g_free);

	g_hash_table_iter_init(&it, rp->bursts);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(users, g_strdup(key));
	for (guint i = 0; i < users->len; i++)
		burst_end(rp, users->pdata[i]);
	g_ptr_array_free(users, TRUE);
	g_hash_table_iter_init(&it, rp->day_worker);
	while (g_hash_table_iter_next(&it, &key, &v)) {
		struct day_worker *dw = v;
		struct anomaly *a;
		if (g_hash_table_size(dw->users) <= rp->cfg.audit_people_per_day)
			continue;
		a = anomaly_new(NULL);
		*a = dw->a;
		a->people = g_hash_table_size(dw->users);
		a->recs = g_memdup2(dw->a.recs, dw->a.nrecs * sizeof(*a->recs));
		anomaly_keep(rp, A_MANY_PEOPLE, a);
	}
	consents_finish(rp);
}

/* --- the page --- */

static void html_person(FILE *f, const struct report *rp, const char *id)
{
	int withdrawn = 0;
	const char *name = words_names_get(rp->names, id, &withdrawn);

	if (name[0] != '\0') {
		fputs("<b>", f);
		words_html(f, name);
		fputs("</b>", f);
		if (withdrawn) {
			fputs(" <i>(", f);
			words_html(f, _("withdrawn"));
			fputs(")</i>", f);
		}
		fputs(" <code class=\"id\">", f);
		words_html(f, id);
		fputs("</code>", f);
	} else {
		fputs("<code>", f);
		words_html(f, id[0] ? id : "?");
		fputs("</code>", f);
	}
}

static void html_worker(FILE *f, uint32_t uid, const char *login)
{
	char name[256];

	words_worker(uid, login, name, sizeof(name));
	fputs("<b>", f);
	words_html(f, name);
	fputs("</b>", f);
	if (strcmp(name, login) != 0) {
		fputs(" (", f);
		words_html(f, login);
		fputs(")", f);
	}
}

static void html_records(FILE *f, const struct report *rp, const struct anomaly *a)
{
	char when[256], what[WORDS_MAX];

	fprintf(f, "<table class=\"recs\"><tr><th>%s</th><th>", _("record"));
	words_html(f, _("when"));
	fputs("</th><th>", f);
	words_html(f, _("who"));
	fputs("</th><th>", f);
	words_html(f, _("whose vault"));
	fputs("</th><th>", f);
	words_html(f, _("what"));
	fputs("</th><th>", f);
	words_html(f, _("why"));
	fputs("</th></tr>\n", f);
	for (size_t i = 0; i < a->nrecs; i++) {
		const struct audit_record *r = &a->recs[i];
		words_when(r->time, when, sizeof(when));
		words_what(r, what, sizeof(what));
		fprintf(f, "<tr><td>%llu</td><td>", (unsigned long long)r->seq);
		words_html(f, when);
		fputs("</td><td>", f);
		html_worker(f, r->worker_uid, r->worker_login);
		fputs("</td><td>", f);
		if (r->user[0])
			html_person(f, rp, r->user);
		fputs("</td><td>", f);
		words_html(f, what);
		fputs("</td><td>", f);
		words_html(f, r->purpose);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (a->total > a->nrecs) {
		fputs("<p class=\"more\">", f);
		fprintf(f, _("and %llu more records"), (unsigned long long)(a->total - a->nrecs));
		fputs("</p>\n", f);
	}
}

static const char *kind_title(enum anomaly_kind k)
{
	static const char *const titles[A_KINDS] = {
	    [A_PIN_BURST] = N_("Wrong PINs in a row"),
	    [A_BLOCKED] = N_("Blocked vaults"),
	    [A_LOGIN_REFUSED] = N_("Logins refused for their address, consent or origin"),
	    [A_OUTSIDE_HOURS] = N_("Vaults opened outside opening hours"),
	    [A_MANY_PEOPLE] = N_("A worker opening many people's vaults in one day"),
	    [A_LONG_SESSION] = N_("Long sessions"),
	    [A_RESTART] = N_("Sesame restarted without a clean stop"),
	    [A_RECOVERED] = N_("Log repaired after a crash"),
	    [A_EXPORT] = N_("Exports"),
	    [A_WITHDRAWN] = N_("Withdrawals"),
	    [A_CONSENT_SOON] = N_("Consents about to expire"),
	    [A_CONSENT_USED] = N_("Logins asked for after the consent ended"),
	};
	return _(titles[k]);
}

/* "YYYY-MM-DD" written out, as a local day. */
static void date_words(const char *ymd, char *out, size_t cap)
{
	struct tm tm = {0};

	tm.tm_year = atoi(ymd) - 1900;
	tm.tm_mon = atoi(ymd + 5) - 1;
	tm.tm_mday = atoi(ymd + 8);
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	mktime(&tm);
	words_day(&tm, out, cap);
}

/* The sentence above an anomaly's records. */
static void anomaly_sentence(FILE *f, const struct report *rp, enum anomaly_kind k,
			     const struct anomaly *a)
{
	const struct audit_record *r = &a->first;
	char buf[CLI_MESSAGE_MAX], day[128];

	fputs("<p class=\"what\">", f);
	switch (k) {
	case A_PIN_BURST:
		snprintf(buf, sizeof(buf),
			 ngettext("%llu wrong PIN in a row for", "%llu wrong PINs in a row for",
				  (unsigned long)a->total),
			 (unsigned long long)a->total);
		break;
	case A_MANY_PEOPLE:
		date_words(a->day, day, sizeof(day));
		snprintf(buf, sizeof(buf),
			 _("%zu people's vaults opened on %s by one worker (more than %u):"),
			 a->people, day, (unsigned)rp->cfg.audit_people_per_day);
		break;
	case A_LONG_SESSION:
		snprintf(buf, sizeof(buf), _("a session of %ld minutes:"), a->seconds / 60);
		break;
	case A_CONSENT_SOON:
		date_words(r->consent_until, day, sizeof(day));
		/* TRANSLATORS: the audit report; a person's name follows */
		snprintf(buf, sizeof(buf), _("consent to assisted logins to %s ends on %s for"),
			 r->service, day);
		break;
	case A_CONSENT_USED:
		date_words(r->consent_until, day, sizeof(day));
		/* TRANSLATORS: the audit report; a person's name follows */
		snprintf(buf, sizeof(buf),
			 ngettext("consent to assisted logins to %s ended on %s, %llu login asked "
				  "for after it, for",
				  "consent to assisted logins to %s ended on %s, %llu logins asked "
				  "for after it, for",
				  (unsigned long)(a->total - 1)),
			 r->service, day, (unsigned long long)(a->total - 1));
		break;
	default:
		buf[0] = '\0';
	}
	words_html(f, buf);
	if (k == A_PIN_BURST || k == A_CONSENT_SOON || k == A_CONSENT_USED) {
		fputs(" ", f);
		html_person(f, rp, r->user);
	} else if (k == A_MANY_PEOPLE || k == A_LONG_SESSION) {
		fputs(" ", f);
		html_worker(f, r->worker_uid, r->worker_login);
	}
	fputs("</p>\n", f);
}

static void html_anomalies(FILE *f, const struct report *rp)
{
	int any = 0;

	fputs("<section><h2>", f);
	words_html(f, _("What stands out"));
	fputs("</h2>\n", f);
	for (int k = 0; k < A_KINDS; k++) {
		GPtrArray *list = rp->anomalies[k];
		if (list->len == 0)
			continue;
		any = 1;
		fprintf(f, "<div class=\"kind\" id=\"kind-%d\"><h3>", k);
		words_html(f, kind_title((enum anomaly_kind)k));
		fprintf(f, " <span class=\"count\">%llu</span></h3>\n",
			(unsigned long long)(list->len + rp->more[k]));
		for (guint i = 0; i < list->len; i++) {
			fputs("<div class=\"anomaly\">", f);
			anomaly_sentence(f, rp, (enum anomaly_kind)k, list->pdata[i]);
			html_records(f, rp, list->pdata[i]);
			fputs("</div>\n", f);
		}
		if (rp->more[k] > 0) {
			fputs("<p class=\"more\">", f);
			fprintf(f, _("and %llu more of this kind"),
				(unsigned long long)rp->more[k]);
			fputs("</p>\n", f);
		}
		fputs("</div>\n", f);
	}
	if (!any) {
		fputs("<p>", f);
		words_html(f, _("Nothing stands out in this period."));
		fputs("</p>\n", f);
	}
	fputs("</section>\n", f);
}

static gint by_string(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A table's keys, sorted (the table keeps them). */
static GPtrArray *keys_sorted(GHashTable *t)
{
	GPtrArray *keys = g_ptr_array_sized_new(g_hash_table_size(t));
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(keys, k);
	g_ptr_array_sort(keys, by_string);
	return keys;
}

static gint worker_by_sessions(gconstpointer a, gconstpointer b)
{
	const struct worker *x = *(const struct worker *const *)a;
	const struct worker *y = *(const struct worker *const *)b;

	if (x->sessions != y->sessions)
		return x->sessions < y->sessions ? 1 : -1;
	return strcmp(x->login, y->login);
}

/* Workers, most sessions first. */
static GPtrArray *workers_sorted(const struct report *rp)
{
	GPtrArray *list = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, rp->workers);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(list, v);
	g_ptr_array_sort(list, worker_by_sessions);
	return list;
}

static const char *const chart_colours[REPORT_CHART_WORKERS + 1] = {
    "#1f5fa8", "#d0661b", "#2f8f46", "#b3283a", "#7453a6",
    "#8a5a2b", "#c2478f", "#5f6b73", "#b0b0b0",
};

/* Sessions per day, a bar per day, a colour per worker (the first REPORT_CHART_WORKERS, then
 * the others together). */
static void html_chart(FILE *f, const struct report *rp, GPtrArray *workers)
{
	GPtrArray *days = keys_sorted(rp->days);
	guint n = days->len,
	      top = workers->len < REPORT_CHART_WORKERS ? workers->len : REPORT_CHART_WORKERS;
	double width = 900, height = 220, bar, scale;
	uint64_t most = 1;

	for (guint i = 0; i < n; i++) {
		GHashTable *pw = g_hash_table_lookup(rp->days, days->pdata[i]);
		GHashTableIter it;
		gpointer v;
		uint64_t sum = 0;
		g_hash_table_iter_init(&it, pw);
		while (g_hash_table_iter_next(&it, NULL, &v))
			sum += GPOINTER_TO_SIZE(v);
		most = sum > most ? sum : most;
	}
	bar = n > 0 ? width / n : width;
	scale = (height - 20) / (double)most;
	fprintf(f,
		"<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"xmlns=\"http://www.w3.org/2000/svg\"><title>",
		width, height + 24);
	words_html(f, _("Vaults opened per day and per worker"));
	fputs("</title>\n", f);
	fprintf(f, "<line x1=\"0\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#000\"/>\n", height,
		width, height);
	fprintf(f, "<text x=\"2\" y=\"12\" font-size=\"11\">%llu</text>\n",
		(unsigned long long)most);
	for (guint i = 0; i < n; i++) {
		GHashTable *pw = g_hash_table_lookup(rp->days, days->pdata[i]);
		double y = height;
		for (guint w = 0; w <= top; w++) {
			uint64_t c = 0;
			if (w < top) {
				const struct worker *wk = workers->pdata[w];
				char *key = g_strdup_printf("%u %s", (unsigned)wk->uid, wk->login);
				c = GPOINTER_TO_SIZE(g_hash_table_lookup(pw, key));
				g_free(key);
			} else {
				GHashTableIter it;
				gpointer v;
				g_hash_table_iter_init(&it, pw);
				while (g_hash_table_iter_next(&it, NULL, &v))
					c += GPOINTER_TO_SIZE(v);
				for (guint k = 0; k < top; k++) {
					const struct worker *wk = workers->pdata[k];
					char *key =
					    g_strdup_printf("%u %s", (unsigned)wk->uid, wk->login);
					c -= GPOINTER_TO_SIZE(g_hash_table_lookup(pw, key));
					g_free(key);
				}
			}
			if (c == 0)
				continue;
			y -= (double)c * scale;
			fprintf(f,
				"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				"fill=\"%s\"/>\n",
				i * bar + bar * 0.1, y, bar * 0.8 > 0.5 ? bar * 0.8 : 0.5,
				(double)c * scale, chart_colours[w]);
		}
		if (n <= 31 || i % (n / 15 + 1) == 0)
			fprintf(f,
				"<text x=\"%.2f\" y=\"%.0f\" font-size=\"10\" "
				"text-anchor=\"middle\">%s</text>\n",
				i * bar + bar / 2, height + 14, (const char *)days->pdata[i] + 5);
	}
	fputs("</svg>\n<p class=\"legend\">", f);
	for (guint w = 0; w <= top && w < workers->len + 1; w++) {
		if (w == top && workers->len <= top)
			break;
		fprintf(f, "<span><i style=\"background:%s\"></i>", chart_colours[w]);
		if (w < top) {
			const struct worker *wk = workers->pdata[w];
			html_worker(f, wk->uid, wk->login);
		} else {
			words_html(f, _("the other workers"));
		}
		fputs("</span> ", f);
	}
	fputs("</p>\n", f);
	g_ptr_array_free(days, TRUE);
}

static void html_workers(FILE *f, GPtrArray *workers)
{
	fputs("<table><tr><th>", f);
	words_html(f, _("worker"));
	fputs("</th><th>", f);
	words_html(f, _("vaults opened"));
	fputs("</th><th>", f);
	words_html(f, _("different people"));
	fputs("</th><th>", f);
	words_html(f, _("assisted logins"));
	fputs("</th></tr>\n", f);
	for (guint i = 0; i < workers->len; i++) {
		const struct worker *w = workers->pdata[i];
		fputs("<tr><td>", f);
		html_worker(f, w->uid, w->login);
		fprintf(f, "</td><td>%llu</td><td>%u</td><td>%llu</td></tr>\n",
			(unsigned long long)w->sessions, g_hash_table_size(w->users),
			(unsigned long long)w->logins);
	}
	fputs("</table>\n", f);
}

static gint pair_order(gconstpointer a, gconstpointer b)
{
	const struct pair *x = *(const struct pair *const *)a;
	const struct pair *y = *(const struct pair *const *)b;
	int c = strcmp(x->login, y->login);

	if (c != 0)
		return c;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->user, y->user);
}

static void html_purposes(FILE *f, const struct pair *p)
{
	GPtrArray *keys = keys_sorted(p->purposes);

	for (guint i = 0; i < keys->len; i++) {
		const char *k = keys->pdata[i];
		fputs(i ? ", " : "", f);
		fputs("« ", f);
		words_html(f, k);
		fprintf(f, " » (%zu)", GPOINTER_TO_SIZE(g_hash_table_lookup(p->purposes, k)));
	}
	if (p->other_purposes > 0) {
		fputs(keys->len ? ", " : "", f);
		fprintf(f, _("%llu with other purposes"), (unsigned long long)p->other_purposes);
	}
	g_ptr_array_free(keys, TRUE);
}

static void html_pairs(FILE *f, const struct report *rp)
{
	GPtrArray *list = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, rp->pairs);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(list, v);
	g_ptr_array_sort(list, pair_order);
	fputs("<section><h2>", f);
	words_html(f, _("Who opened whose vault"));
	fputs("</h2>\n<table><tr><th>", f);
	words_html(f, _("worker"));
	fputs("</th><th>", f);
	words_html(f, _("person"));
	fputs("</th><th>", f);
	words_html(f, _("times"));
	fputs("</th><th>", f);
	words_html(f, _("purposes"));
	fputs("</th></tr>\n", f);
	for (guint i = 0; i < list->len && i < REPORT_PAIRS_SHOWN; i++) {
		const struct pair *p = list->pdata[i];
		fputs("<tr><td>", f);
		html_worker(f, p->uid, p->login);
		fputs("</td><td>", f);
		html_person(f, rp, p->user);
		fprintf(f, "</td><td>%llu</td><td>", (unsigned long long)p->count);
		html_purposes(f, p);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (list->len > REPORT_PAIRS_SHOWN) {
		fputs("<p class=\"more\">", f);
		fprintf(f, _("and %u more rows"), list->len - REPORT_PAIRS_SHOWN);
		fputs("</p>\n", f);
	}
	fputs("</section>\n", f);
	g_ptr_array_free(list, TRUE);
}

static void html_activity(FILE *f, const struct report *rp)
{
	GPtrArray *workers = workers_sorted(rp);

	fputs("<section><h2>", f);
	words_html(f, _("Activity"));
	fputs("</h2>\n", f);
	html_chart(f, rp, workers);
	html_workers(f, workers);
	fputs("</section>\n", f);
	g_ptr_array_free(workers, TRUE);
}

/* What the integrity check found, first and in plain words. It runs on a thread of its own
 * while the records are read: both passes read the log, each at its own pace. */
struct integrity {
	const char *dir;
	struct audit_verify_opts check;
	struct note_verifier key;
	char *kept; /* the kept checkpoint, malloc'd */
	int code;
	struct audit_verify_report rep;
	int have_key, have_checkpoint;
};

static void html_integrity(FILE *f, const struct integrity *in)
{
	char what[CLI_MESSAGE_MAX], line[CLI_MESSAGE_MAX];

	cli_audit_verify_sentence(&in->rep, what, sizeof(what));
	fprintf(f, "<section class=\"integrity %s\"><h2>", in->code == VAULT_OK ? "ok" : "bad");
	words_html(f, in->code == VAULT_OK		     ? _("The log is intact")
		      : audit_verify_is_read_error(in->code) ? _("The log could not be read")
							     : _("WARNING: the log was altered"));
	fputs("</h2>\n<p>", f);
	if (in->code == VAULT_OK)
		snprintf(line, sizeof(line),
			 _("All %llu records were checked: none was changed, removed or added "
			   "since they were written."),
			 (unsigned long long)in->rep.records);
	else
		snprintf(line, sizeof(line),
			 _("%s. Do not rely on this report; keep the log "
			   "as it is and ask for help."),
			 what);
	words_html(f, line);
	fputs("</p>\n<p>", f);
	words_html(f, in->have_key ? _("Checked against the key you kept.")
				   : _("Checked with the log's own key only: give the key you "
				       "kept (--key) to rule out a log rewritten with its key."));
	if (in->have_checkpoint && in->rep.have_old) {
		fputs(" ", f);
		snprintf(line, sizeof(line),
			 _("Consistent with the checkpoint you kept (%llu records)."),
			 (unsigned long long)in->rep.old.size);
		words_html(f, line);
	}
	fputs("</p>\n</section>\n", f);
}

static void html_head(FILE *f)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n<title>",
		words_lang());
	words_html(f, _("Sesame audit report"));
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1.5cm;color:#111;font-size:11pt}\n"
	      "h1{font-size:20pt;margin-bottom:0}h2{font-size:15pt;border-bottom:1px solid #888}\n"
	      "h3{font-size:12pt}.meta{color:#444}\n"
	      ".integrity{border:3px solid;padding:0 12pt;margin:12pt 0}\n"
	      ".integrity.ok{border-color:#2f8f46}.integrity.bad{border-color:#b3283a;"
	      "background:#fbeaea}\n"
	      "table{border-collapse:collapse;margin:6pt 0;width:100%}\n"
	      "th,td{border:1px solid #bbb;padding:2pt 5pt;text-align:left;vertical-align:top;"
	      "overflow-wrap:break-word}\n"
	      "th{background:#eee;white-space:nowrap}code{word-break:break-all}"
	      ".id{font-size:8pt;color:#666}.count{color:#b3283a}\n"
	      ".anomaly{margin-left:8pt;page-break-inside:avoid}.more{font-style:italic}\n"
	      ".chart{width:100%;height:auto;border:1px solid #ddd}\n"
	      ".legend span{margin-right:12pt}.legend i{display:inline-block;width:10pt;"
	      "height:10pt;margin-right:3pt}\n"
	      "@media print{body{margin:1cm}section{page-break-inside:auto}"
	      "h2,h3{page-break-after:avoid}}\n"
	      "</style></head><body>\n",
	      f);
}

static void html_title(FILE *f, const struct report *rp, const char *installation)
{
	char from[256], to[256], line[CLI_MESSAGE_MAX];

	fputs("<h1>", f);
	words_html(f, _("Sesame audit report"));
	fputs("</h1>\n<p class=\"meta\">", f);
	words_html(f, installation);
	fputs("<br>", f);
	if (rp->records > 0) {
		words_when(rp->first_time, from, sizeof(from));
		words_when(rp->last_time, to, sizeof(to));
		snprintf(line, sizeof(line), _("%llu records, from %s to %s"),
			 (unsigned long long)rp->records, from, to);
	} else {
		snprintf(line, sizeof(line), "%s", _("No record in this period."));
	}
	words_html(f, line);
	fputs("</p>\n", f);
}

static void html_summary(FILE *f, const struct report *rp, const char *names_why)
{
	char line[CLI_MESSAGE_MAX];

	fputs("<section><h2>", f);
	words_html(f, _("In short"));
	fputs("</h2>\n<ul><li>", f);
	snprintf(line, sizeof(line), _("%llu vaults opened by %u workers for %u people"),
		 (unsigned long long)rp->sessions, g_hash_table_size(rp->workers),
		 g_hash_table_size(rp->people));
	words_html(f, line);
	fputs("</li><li>", f);
	snprintf(line, sizeof(line), _("%llu assisted logins, %llu wrong PINs"),
		 (unsigned long long)rp->logins, (unsigned long long)rp->wrong_pins);
	words_html(f, line);
	fputs("</li>", f);
	if (names_why != NULL && names_why[0] != '\0') {
		fputs("<li>", f);
		snprintf(line, sizeof(line), _("People are shown by their id: %s."), names_why);
		words_html(f, line);
		fputs("</li>", f);
	}
	fputs("</ul>\n</section>\n", f);
}

static void html_footer(FILE *f)
{
	fputs("<footer><p class=\"meta\">", f);
	words_html(f, _("Each record's number lets anyone prove it is in the log: sesame audit "
			"prove NUMBER gives a receipt that sesame audit check-receipt verifies. "
			"Times are local times of this computer."));
	fputs("</p></footer>\n</body></html>\n", f);
}

static int report_write(int fd, const struct report *rp, const struct integrity *in,
			const char *installation, const char *names_why)
{
	FILE *f = fdopen(fd, "w");

	if (f == NULL) {
		close(fd);
		return -1;
	}
	html_head(f);
	html_title(f, rp, installation);
	html_integrity(f, in);
	html_summary(f, rp, names_why);
	html_anomalies(f, rp);
	html_activity(f, rp);
	html_pairs(f, rp);
	html_footer(f);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* --- the command --- */

struct report_options {
	const char *html, *key, *checkpoint;
	int names;
	char since[AUDIT_TIME_LEN + 1], until[AUDIT_TIME_LEN + 1];
};

static int report_usage(FILE *to)
{
	fputs(
	    _("Usage: sesame audit [--dir DIR] report --html FILE [--since T] [--until T]\n"
	      "         [--lang fr|en] [--key KEY|FILE] [--checkpoint FILE] [--no-names]\n"
	      "Write the auditor's report: the log's integrity, what stands out, the activity.\n"),
	    to);
	return to == stdout ? EXIT_OK : EXIT_USAGE;
}

static int report_parse(int argc, char **argv, struct report_options *o, struct audit_filter *f)
{
	static const struct option opts[] = {
	    {"html", required_argument, NULL, 'h'},  {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'}, {"lang", required_argument, NULL, 'l'},
	    {"key", required_argument, NULL, 'k'},   {"checkpoint", required_argument, NULL, 'c'},
	    {"no-names", no_argument, NULL, 'n'},    {NULL, 0, NULL, 0}};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'h')
			o->html = optarg;
		else if (opt == 'k')
			o->key = optarg;
		else if (opt == 'c')
			o->checkpoint = optarg;
		else if (opt == 'n')
			o->names = 0;
		else if (opt == 'l' && words_lang_set(optarg) != 0)
			return EXIT_USAGE;
		else if (opt == 's' && audit_filter_time("--since", optarg, 0, o->since) != 0)
			return EXIT_USAGE;
		else if (opt == 'u' && audit_filter_time("--until", optarg, 1, o->until) != 0)
			return EXIT_USAGE;
		else if (opt == '?')
			return report_usage(stderr);
	}
	f->since = o->since[0] ? o->since : NULL;
	f->until = o->until[0] ? o->until : NULL;
	if (o->html == NULL || optind != argc)
		return report_usage(stderr);
	return EXIT_OK;
}

/* What the auditor kept, to verify the log against: -1 once a wrong one is said. */
static int report_verify_opts(const char *dir, const struct report_options *o, struct integrity *in)
{
	size_t len = 0;

	in->dir = dir;
	if (o->key != NULL) {
		if (cli_audit_load_key(o->key, &in->key) != VAULT_OK) {
			cli_error(_("--key %s: not a verifier key, nor a file holding one"),
				  o->key);
			return -1;
		}
		in->check.key = &in->key;
		in->have_key = 1;
	}
	if (o->checkpoint != NULL) {
		if ((in->kept = cli_audit_read_file(o->checkpoint, &len)) == NULL) {
			cli_error(_("--checkpoint %s: cannot read it"), o->checkpoint);
			return -1;
		}
		in->check.old_checkpoint = (const uint8_t *)in->kept;
		in->check.old_len = len;
		in->have_checkpoint = 1;
	}
	return 0;
}

/* The log verified as verify does. */
static void *report_verify(void *arg)
{
	struct integrity *in = arg;

	in->code = audit_verify(in->dir, &in->check, &in->rep);
	return NULL;
}

/* The report's file, made before the long work: a path that cannot take it is said at once. */
static int report_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		cli_error(_("cannot create the report %s: %s; choose a file that does not exist"),
			  path, strerror(errno));
	return fd;
}

static void report_config(struct report *rp)
{
	struct sesame_home h;

	/* the installation's settings when there is one here; a copy read elsewhere takes the
	 * defaults */
	if (home_resolve(&h, 0) == VAULT_OK)
		rp->cfg = h.cfg;
	else
		config_default(&rp->cfg);
}

static int report_run(const char *dir, const struct report_options *o, struct report *rp, int fd)
{
	char names_why[CLI_MESSAGE_MAX] = "";
	struct integrity in = {0};
	pthread_t verifier;
	int ret, threaded;

	if (report_verify_opts(dir, o, &in) != 0) {
		free(in.kept);
		close(fd);
		return EXIT_USAGE;
	}
	threaded = pthread_create(&verifier, NULL, report_verify, &in) == 0;
	if (!threaded)
		report_verify(&in);
	/* the verdict is the full verify's: the reader need not check each line again */
	ret = audit_scan_verified(dir, NULL, on_record, rp);
	if (threaded)
		pthread_join(verifier, NULL);
	free(in.kept);
	if (ret != VAULT_OK && ret != VAULT_E_LOG_TORN && in.code == VAULT_OK)
		in.code = ret;
	report_finish(rp);
	if (!o->names)
		snprintf(names_why, sizeof(names_why), "%s", _("names were not asked for"));
	else if (words_names_fetch(rp->names, names_why, sizeof(names_why)) == 0)
		names_why[0] = '\0';
	if (report_write(fd, rp, &in, in.rep.latest.origin, names_why) != 0) {
		cli_error(_("cannot write the report %s: %s"), o->html, strerror(errno));
		return EXIT_FAIL;
	}
	if (in.code != VAULT_OK)
		fprintf(stderr, _("sesame audit: the report %s says the log cannot be trusted\n"),
			o->html);
	return in.code == VAULT_OK		     ? EXIT_OK
	       : audit_verify_is_read_error(in.code) ? EXIT_UNREADABLE
						     : EXIT_TAMPERED;
}

int cli_audit_report(const char *dir, int argc, char **argv)
{
	struct report_options o = {.names = 1};
	struct report rp = {0};
	int ret, fd;

	if ((ret = report_parse(argc, argv, &o, &rp.filter)) != EXIT_OK)
		return ret;
	if ((fd = report_open(o.html)) < 0)
		return EXIT_FAIL;
	report_config(&rp);
	report_init(&rp);
	if (o.names)
		rp.names = words_names_new();
	ret = report_run(dir, &o, &rp, fd);
	if (ret == EXIT_FAIL || ret == EXIT_USAGE)
		unlink(o.html); /* ours, made above: no half page left behind */
	report_free(&rp);
	return ret;
}
